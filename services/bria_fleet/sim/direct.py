"""Routes the simulator's ASGI layer answers itself, ahead of the framework's routing."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.responses import Response
from starlette.routing import compile_path


@dataclass(frozen=True)
class DirectRoute:
    """A hot read: ``answer`` builds the response from the path parameters, exactly as the
    route of the same ``method`` and ``template`` does (and raises the same ``SimError``s)."""

    method: str
    template: str
    answer: Callable[[dict[str, str]], Response]
    regex: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", compile_path(self.template)[0])

    def params(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters if this route serves ``method`` ``path``, else ``None``."""
        if method != self.method:
            return None
        found = self.regex.match(path)
        return found.groupdict() if found is not None else None
