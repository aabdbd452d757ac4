"""The simulator's parts, wired together; every route module works through one of these."""

import itertools
import random

from fastapi import Request

from bria_fleet.sim.assets import AssetStore
from bria_fleet.sim.async_jobs import JobStore
from bria_fleet.sim.clock import Clock
from bria_fleet.sim.config import FaultConfig, SimConfig, TimingConfig
from bria_fleet.sim.counters import EffectCounters
from bria_fleet.sim.faults import FaultEngine
from bria_fleet.sim.recorder import Recorder
from bria_fleet.sim.seed import seed_state
from bria_fleet.sim.state import FIRST_NEW_ID, Knobs, State
from bria_fleet.sim.views import asset_url
from bria_fleet.sim.webhooks import WebhookSender


class Simulator:
    """State, jobs, assets, faults, clock and records of one simulated API."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.clock = Clock()
        self.assets = AssetStore()
        self.jobs = JobStore()
        self.recorder = Recorder(config.call_log_limit)
        self.counters = EffectCounters()
        self.rng = random.Random(config.seed)
        self.knobs = self._initial_knobs()
        self.faults = FaultEngine(self.clock, self.knobs.faults, config.seed)
        self.webhooks = WebhookSender(
            self.clock, config.token, self.knobs.faults.webhooks, random.Random(config.seed)
        )
        # Like a real API, ids are never handed out twice, not even across resets: a client
        # (or a message still in a topic) holding an old id must not reach a new object.
        self._ids = itertools.count(FIRST_NEW_ID)
        self.state = self._new_state(config.empty)

    def _initial_knobs(self) -> Knobs:
        return Knobs(
            timing=self.config.timing.model_copy(),
            faults=self.config.faults.model_copy(deep=True),
            max_dataset_images=self.config.max_dataset_images,
            max_bulk_images=self.config.max_bulk_images,
        )

    def _new_state(self, empty: bool) -> State:
        state = State(self.clock, self.knobs, self.assets, self.counters, self.rng, self._ids)
        if not empty:
            seed_state(state)
        return state

    def reset(self, empty: bool | None = None) -> None:
        """Back to the start: seeded (or empty), configured faults and timing, clean records."""
        self.clock.offset = 0.0
        self.assets.clear()
        self.jobs.clear()
        self.recorder.clear()
        self.counters = EffectCounters()
        self.rng.seed(self.config.seed)
        self.knobs = self._initial_knobs()
        self.faults.default_seed = self.config.seed
        self.faults.apply(self.knobs.faults)
        self.webhooks.clear()
        self.webhooks.faults = self.knobs.faults.webhooks
        self.webhooks.rng.seed(self.config.seed)
        self.state = self._new_state(self.config.empty if empty is None else empty)

    def set_faults(self, faults: FaultConfig) -> None:
        """Replace the faults; their windows start now."""
        self.knobs.faults = faults
        self.faults.apply(faults)
        self.webhooks.faults = faults.webhooks
        if faults.seed is not None:
            self.webhooks.rng.seed(faults.seed)

    def set_timing(self, timing: TimingConfig) -> None:
        """Replace the timing of work started from now on."""
        self.knobs.timing = timing

    def base_url(self, request: Request) -> str:
        """The host root to put in returned URLs."""
        return self.config.public_base_url or str(request.base_url).rstrip("/")

    def url_of(self, request: Request, asset_id: str) -> str:
        """The URL of an asset, as seen by the caller of ``request``."""
        return asset_url(self.base_url(request), self.assets, asset_id)

    def own_asset(self, url: str) -> bytes | None:
        """The bytes behind a URL of this simulator's assets, else ``None``."""
        marker = "/_sim/assets/"
        if marker not in url:
            return None
        asset = self.assets.find(url.split(marker, 1)[1].split("?")[0], self.clock.now())
        return asset.content() if asset is not None else None
