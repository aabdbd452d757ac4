"""``SimServer``: the simulator served by uvicorn in a background thread."""

import socket
import threading
import time
from types import TracebackType

import httpx
import uvicorn

from bria_fleet.errors import BriaFleetError
from bria_fleet.sim.asgi_app import create_app
from bria_fleet.sim.config import SimConfig
from bria_fleet.sim.simulator import Simulator

_START_TIMEOUT_SECONDS = 10.0


class SimServer:
    """Serve a simulator on 127.0.0.1 (a free port unless ``config.port`` is set).

    Use it as a context manager, or call ``start()`` and ``stop()``. ``base_url`` is the
    host root (``http://127.0.0.1:PORT``); clients append ``/v1``, ``/v2`` or ``/api/v1``.
    """

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.simulator = Simulator(self.config)
        self.app = create_app(simulator=self.simulator)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    @property
    def token(self) -> str:
        """The token the simulator accepts."""
        return self.config.token

    @property
    def port(self) -> int:
        """The port it listens on (after ``start``)."""
        return self._port

    @property
    def base_url(self) -> str:
        """The host root, ``http://127.0.0.1:PORT``."""
        if not self._port:
            raise BriaFleetError("The simulator is not running; call start() first.")
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> "SimServer":
        """Bind, serve in a daemon thread and return once it accepts connections."""
        if self._thread is not None:
            return self
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only for that proto.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", self.config.port))
        except OSError as error:
            sock.close()
            raise BriaFleetError(
                f"Cannot listen on 127.0.0.1:{self.config.port} ({error}); choose another port."
            ) from error
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="bria-sim", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise BriaFleetError("The simulator did not start; see the log above.")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=_START_TIMEOUT_SECONDS)
        self._server = None
        self._thread = None

    def reset(self, empty: bool | None = None) -> None:
        """Reset through the admin route (so it runs on the server's own thread)."""
        body = {} if empty is None else {"empty": empty}
        httpx.post(f"{self.base_url}/_sim/reset", json=body, timeout=10).raise_for_status()

    def __enter__(self) -> "SimServer":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
