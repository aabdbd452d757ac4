"""Keep the API token out of log output, whatever a library decides to log.

Nothing in the client logs headers; this filter is the second line of defence. Logger
filters only see records of their own logger, so it is added to each logger that handles
requests (ours, httpx's, aiohttp's that carries them, and httpcore's for injected clients).
"""

from __future__ import annotations

import logging

__all__ = ["REDACTED", "protect_secret", "redact"]

REDACTED = "[redacted]"

_LOGGERS = (
    "bria_fleet.api",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "hpack",
    "hpack.hpack",
    "aiohttp",
    "aiohttp.client",
    "aiohttp.internal",
)


class _SecretFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__("bria-fleet-secrets")
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True


_FILTER = _SecretFilter()


def redact(text: str, secrets: set[str] | frozenset[str]) -> str:
    """``text`` with every secret replaced by ``[redacted]``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def protect_secret(secret: str) -> None:
    """Redact ``secret`` from every record of the loggers that handle API requests."""
    if not secret:
        return
    _FILTER.secrets.add(secret)
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
