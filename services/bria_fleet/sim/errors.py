"""Domain errors of the simulator; each API family renders them in its own shape."""

from typing import ClassVar


class SimError(Exception):
    """A refusal by the simulated API; ``status`` is the HTTP status it answers with."""

    status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequestError(SimError):
    """The request is malformed or breaks a documented field rule."""

    status = 400


class NotFoundError(SimError):
    """An id names nothing."""

    status = 404


class ConflictError(SimError):
    """The object's state forbids the operation."""

    status = 409


class PreconditionFailedError(SimError):
    """A documented precondition does not hold (e.g. training on a draft dataset)."""

    status = 412


class UnsupportedMediaError(SimError):
    """The file type is not one of jpeg, jpg, png, webp."""

    status = 415


class UnprocessableError(SimError):
    """The input cannot be used (unreadable image, blocked by content moderation)."""

    status = 422


class ServerError(SimError):
    """The simulated service failed (an injected generation failure)."""

    status = 500
