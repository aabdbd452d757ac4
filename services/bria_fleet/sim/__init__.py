"""An in-memory simulator of the Bria engine (v1, v2) and Vision Studio APIs."""

from bria_fleet.sim.asgi_app import create_app
from bria_fleet.sim.config import (
    ErrorFault,
    FaultConfig,
    LatencyFault,
    RateLimitFault,
    SimConfig,
    TimingConfig,
)
from bria_fleet.sim.server import SimServer
from bria_fleet.sim.simulator import Simulator

__all__ = [
    "ErrorFault",
    "FaultConfig",
    "LatencyFault",
    "RateLimitFault",
    "SimConfig",
    "SimServer",
    "Simulator",
    "TimingConfig",
    "create_app",
]
