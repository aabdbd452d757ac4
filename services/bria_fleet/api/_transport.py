"""One HTTP transport per process: auth, retries, the shared budget, metrics, error mapping."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from functools import partial
from typing import Any
from urllib.parse import quote

import httpx
from httpx_aiohttp import AiohttpTransport
from pydantic import SecretStr
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from bria_fleet import __version__, tracing
from bria_fleet.api._errors import (
    ApiConnectionError,
    ApiStatusError,
    ApiTimeout,
    BriaApiError,
    InvalidResponse,
    OutcomeUnknown,
    RateLimited,
    error_for_status,
    map_exceptions,
)
from bria_fleet.api._paid_calls import announce_paid_call
from bria_fleet.api._redact import redact
from bria_fleet.api._retry import Repeat, RetryPolicy, parse_retry_after
from bria_fleet.api._throttle import Throttle
from bria_fleet.metrics import (
    API_BUDGET_WAIT,
    API_OUTCOME_UNKNOWN,
    API_REQUEST_DURATION,
    API_REQUESTS,
    API_RETRIES,
)
from bria_fleet.settings import ApiSettings

__all__ = ["USER_AGENT", "HeaderAuth", "Transport"]

logger = logging.getLogger("bria_fleet.api")

USER_AGENT = f"bria-fleet/{__version__} httpx/{httpx.__version__}"
"""How the fleet names itself to the API, as the vendor's SDK does with its own name."""


class HeaderAuth(httpx.Auth):
    """Adds the token header to each request; the token never appears in its repr."""

    def __init__(self, header: str, token: SecretStr) -> None:
        self.header = header
        self._token = token

    def __repr__(self) -> str:
        return f"HeaderAuth(header={self.header!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.header] = self._token.get_secret_value()
        yield request


class _NoCookies(httpx.Cookies):
    """A cookie store that keeps none: the API authenticates by header, not by cookie."""

    def extract_cookies(self, response: httpx.Response) -> None:
        """Ignore ``Set-Cookie``."""

    def __bool__(self) -> bool:
        return False


class _CookielessClient(httpx.AsyncClient):
    """httpx's client, without reading cookies from every response.

    httpx builds a urllib request copy of each answered request to let ``http.cookiejar``
    look for cookies: 3.6 % of a generation worker's CPU at zero latency (py-spy), for
    cookies the API never relies on.
    """

    _none = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        """Always empty."""
        return self._none

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        """Cookies are not kept."""


def _pooled_client(settings: ApiSettings) -> httpx.AsyncClient:
    """An httpx client whose connections aiohttp manages.

    httpcore's own pool does work quadratic in the requests in flight: at 64 concurrent
    calls the client spent ~13 ms of CPU per request against ~1.2 ms with aiohttp's pool
    (measured against the simulator); the fleet runs many calls at once by design.
    """
    limits = httpx.Limits(
        max_connections=settings.max_connections,
        max_keepalive_connections=settings.max_keepalive_connections,
    )
    return _CookielessClient(
        transport=AiohttpTransport(limits=limits),
        timeout=httpx.Timeout(settings.timeout_seconds, connect=settings.connect_timeout_seconds),
        limits=limits,
    )


class Transport:
    """Sends one logical API call: waits for the process budget, retries retriable failures
    (backoff with full jitter, ``Retry-After`` honoured, bounded by attempts and budget),
    records metrics by route template, and raises the most specific ``BriaApiError``.
    """

    def __init__(
        self,
        settings: ApiSettings,
        *,
        auth: HeaderAuth,
        throttle: Throttle,
        client: httpx.AsyncClient | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.base_url = settings.base_url.rstrip("/")
        self.policy = policy or RetryPolicy.from_settings(settings)
        self.repeat_uncertain_generations = settings.repeat_uncertain_generations
        self.throttle = throttle
        self._secrets = frozenset(
            [settings.token.get_secret_value()] if settings.token is not None else []
        )
        self._client = client or _pooled_client(settings)
        self._client.auth = auth
        self._client.headers["User-Agent"] = USER_AGENT
        self._sleep = sleep
        self._clock = clock
        self._rng = rng

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r})"

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def call(
        self,
        method: str,
        route: str,
        *,
        path: Mapping[str, str] | None = None,
        json: Any = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        params: Mapping[str, str] | None = None,
        repeat: Repeat = Repeat.IF_NOT_DONE,
    ) -> httpx.Response:
        """Send ``method route`` (a route template, filled from ``path``) until it succeeds
        or fails for good; return the successful response.

        ``repeat`` says when a POST may be sent again in process (see :class:`Repeat`).
        A generation whose outcome is left unknown raises :class:`OutcomeUnknown`.
        """
        if repeat is Repeat.GENERATION:
            if await announce_paid_call() and not self.repeat_uncertain_generations:
                API_OUTCOME_UNKNOWN.labels(route=route).inc()
                raise OutcomeUnknown(
                    f"{method} {route}: an earlier attempt of this job stopped (its worker"
                    " died or was cut off) while it may have been sending this generation;"
                    " not sent again, so it is not paid twice",
                    method=method,
                    route=route,
                )
            if self.repeat_uncertain_generations:
                repeat = Repeat.ALWAYS
        try:
            return await self._call(method, route, path, json, files, params, repeat)
        except BriaApiError as error:
            if repeat is Repeat.GENERATION and error.retriable and not _surely_not_done(error):
                API_OUTCOME_UNKNOWN.labels(route=route).inc()
                raise OutcomeUnknown(
                    f"{method} {route} may have started a generation, and its answer was lost "
                    f"({error.code}); not repeated, so it is not paid twice",
                    http_status=error.http_status,
                    method=method,
                    route=route,
                    api_message=error.api_message,
                ) from error
            raise

    async def _call(
        self,
        method: str,
        route: str,
        path: Mapping[str, str] | None,
        json: Any,
        files: Mapping[str, tuple[str, bytes, str]] | None,
        params: Mapping[str, str] | None,
        repeat: Repeat,
    ) -> httpx.Response:
        url = self.base_url + route.format_map(
            {key: quote(str(value), safe="") for key, value in (path or {}).items()}
        )
        started = self._clock()
        attempt = partial(self._attempt, method, route, url, json=json, files=files, params=params)

        def may_retry(error: BaseException) -> bool:
            return (
                isinstance(error, BriaApiError)
                and error.retriable
                and (repeat is Repeat.ALWAYS or _safe_to_repeat(method, error))
            )

        try:
            return await attempt()
        except BriaApiError as error:
            if not may_retry(error):
                raise
            first_failure: BriaApiError | None = error

        # Most calls succeed at once, and building a retry loop costs more CPU than the call
        # itself, so tenacity takes over only now. It is handed the failure as its own first
        # attempt, so waits, Retry-After, the budget and the logs are as if it had run it.
        async def replay_then_attempt() -> httpx.Response:
            nonlocal first_failure
            if first_failure is not None:
                failure, first_failure = first_failure, None
                raise failure
            API_RETRIES.labels(route).inc()
            return await attempt()

        def stop(state: RetryCallState) -> bool:
            if state.attempt_number >= self.policy.attempts:
                return True
            elapsed = self._clock() - started
            wait = max(state.upcoming_sleep, self.throttle.backing_off_for)
            return elapsed + wait > self.policy.budget_seconds

        retrying = AsyncRetrying(
            retry=retry_if_exception(may_retry),
            wait=self._wait,
            stop=stop,
            sleep=self._sleep,
            before_sleep=_log_retry,
            reraise=True,
        )
        response: httpx.Response = await retrying(replay_then_attempt)
        return response

    async def call_json(self, method: str, route: str, **kwargs: Any) -> Any:
        """Like ``call``, returning the decoded JSON body (``None`` when there is none)."""
        response = await self.call(method, route, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise InvalidResponse(
                f"{method} {route} answered {response.status_code} with a body that is not JSON",
                method=method,
                route=route,
                http_status=response.status_code,
            ) from exc

    async def _attempt(
        self,
        method: str,
        route: str,
        url: str,
        *,
        json: Any,
        files: Mapping[str, tuple[str, bytes, str]] | None,
        params: Mapping[str, str] | None,
    ) -> httpx.Response:
        waiting = time.perf_counter()
        await self.throttle.acquire()
        started = time.perf_counter()
        API_BUDGET_WAIT.inc(started - waiting)
        with tracing.api_span(method, route) as span:
            try:
                with map_exceptions(method, route):
                    response = await self._client.request(
                        method, url, json=json, files=files, params=params
                    )
            except BriaApiError as error:
                self._record(route, method, _failure_label(error), started)
                span.set_attribute("error.type", _failure_label(error))
                raise
            span.set_attribute("http.response.status_code", response.status_code)
        self._record(route, method, str(response.status_code), started)
        logger.debug("%s %s answered %s", method, route, response.status_code)
        if response.is_success:
            return response
        raise self._error(response, method, route)

    def _record(self, route: str, method: str, status: str, started: float) -> None:
        API_REQUESTS.labels(route=route, method=method, status=status).inc()
        API_REQUEST_DURATION.labels(route=route).observe(time.perf_counter() - started)

    def _error(self, response: httpx.Response, method: str, route: str) -> BriaApiError:
        api_message = api_message_of(response)
        if api_message is not None:
            api_message = redact(api_message, self._secrets)
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return error_for_status(
            response.status_code,
            method=method,
            route=route,
            api_message=api_message,
            retry_after=retry_after,
        )

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        asked = error.retry_after if isinstance(error, ApiStatusError) else None
        if asked is not None:
            # The throttle holds every call of the process, this one included, and releases
            # them spread out; waiting here as well would release them all at one instant.
            self.throttle.back_off(asked)
            return 0.0
        delay = self.policy.backoff(state.attempt_number, self._rng)
        if isinstance(error, RateLimited):
            self.throttle.back_off(delay)
        return delay


def _failure_label(error: BriaApiError) -> str:
    if isinstance(error, ApiTimeout):
        return "timeout"
    if isinstance(error, ApiConnectionError):
        return "connection_error"
    return error.code


_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _safe_to_repeat(method: str, error: BriaApiError) -> bool:
    """Whether calling again cannot do the work twice.

    Idempotent methods can always be repeated. A POST (a create, an upload, a generation)
    only when the API surely did nothing (see :func:`_surely_not_done`). After a timeout,
    500, 502 or 504 the first call may have taken effect, so the error goes up: a create
    or upload is retried with its job, whose logic first looks at what already exists
    (find-or-create, skip uploaded images); a generation ends in ``OutcomeUnknown``.
    """
    return method.upper() in _IDEMPOTENT_METHODS or _surely_not_done(error)


def _surely_not_done(error: BriaApiError) -> bool:
    """Whether the API surely did not act on the request: it refused it (429, or 503, which
    says the service could not take it) or the connection never opened."""
    if isinstance(error, RateLimited) or error.http_status == 503:
        return True
    return isinstance(error.__cause__, _NEVER_SENT)


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    if isinstance(error, BriaApiError):
        logger.info(
            "retrying %s %s in %.2fs after %s (attempt %d)",
            error.method,
            error.route,
            state.upcoming_sleep,
            error.code,
            state.attempt_number,
        )


def api_message_of(response: httpx.Response) -> str | None:
    """The API's own explanation in an error body, in any of the documented shapes."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:500] or None
    return _message_in(body)


def _message_in(body: Any) -> str | None:
    if isinstance(body, str):
        return body or None
    if isinstance(body, list):
        parts = [m for m in (_message_in(item) for item in body) if m]
        return "; ".join(parts) or None
    if not isinstance(body, dict):
        return None
    for key in ("error", "detail", "message", "msg", "errors"):
        value = body.get(key)
        if isinstance(value, dict):
            message = _message_in(value)
            code = value.get("code")
            if message and code is not None and str(code) not in message:
                return f"{message} (code {code})"
            if message:
                return message
        elif isinstance(value, list | str) and (message := _message_in(value)):
            location = body.get("loc")
            if key == "msg" and isinstance(location, list):
                return f"{'.'.join(str(p) for p in location)}: {message}"
            return message
    return None
