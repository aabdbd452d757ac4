"""Serving a worker's ASGI app in the foreground with a graceful, zero-exit shutdown."""

import signal
from types import FrameType

import uvicorn
from faststream.asgi import AsgiFastStream


class _GracefulServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM after shutting down, which ends the process with -15.

    A worker that drained and committed has done what was asked of it, so it exits 0;
    a second SIGINT still forces an immediate exit.
    """

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True


def serve(app: AsgiFastStream, host: str, port: int, graceful_timeout: float) -> int:
    """Run ``app`` until SIGTERM or SIGINT; the exit code for the process."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=int(graceful_timeout) + 5,
    )
    server = _GracefulServer(config)
    server.run()
    return 0 if server.started else 3
