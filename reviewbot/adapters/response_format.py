"""The response-format ladder: which kind of structured output a server accepts, found by stepping down.

Real servers differ in what they accept (docs/offline.md). `auto` asks for json_schema, then json_object, then
nothing, stepping down when a server rejects a format: with a 4xx, or with a 5xx whose body names the format
(llama-cpp-python answers json_schema with a 500 "Input should be 'text' or 'json_object'"). The rung that works is
remembered per endpoint for the run (one FormatLadder shared by every model of the run) and reported with each
answer. A fixed setting (json_schema, json_object, none) is a ladder of one rung.
"""

from __future__ import annotations

import re
import threading

from reviewbot.core.errors import ConfigError

RESPONSE_FORMATS = ("auto", "json_schema", "json_object", "none")
_RUNGS = {"auto": ("json_schema", "json_object", "none"), "json_schema": ("json_schema",),
          "json_object": ("json_object",), "none": ("none",)}

# What servers say when they do not support a response_format (a 5xx must say so to count as a rejection).
_FORMAT_REJECTED = re.compile(
    r"response_format|json_schema|json_object|input should be 'text'|structured output|guided_json|grammar",
    re.IGNORECASE,
)


class FormatLadder:
    """The response formats still to try with one endpoint, best first; shared by every model of a run."""

    def __init__(self, setting: str = "auto") -> None:
        if setting not in RESPONSE_FORMATS:
            raise ConfigError(f"response_format must be one of {', '.join(RESPONSE_FORMATS)}, not {setting!r}")
        self.setting = setting
        self._rungs = list(_RUNGS[setting])
        self._lock = threading.Lock()
        self.rejections: list[str] = []  # why each rung was left, for the user

    @property
    def current(self) -> str:
        with self._lock:
            return self._rungs[0]

    def step_down(self, rejected: str, reason: str) -> bool:
        """Leave `rejected` for the next rung; False when there is none. Another thread may have stepped already."""
        with self._lock:
            if self._rungs[0] != rejected:
                return True
            if len(self._rungs) == 1:
                return False
            self._rungs.pop(0)
            self.rejections.append(f"{rejected}: {reason}")
            return True

    def hint(self, rung: str) -> str:
        """What to add to the error when a fixed format was refused: `auto` would have stepped down instead."""
        if self.setting == "auto":
            return ""
        return f" (response_format = {rung} is set; try response_format = \"auto\")"


def rejects_format(status: int, rung: str, reason: str) -> bool:
    """A server saying no to the response_format: any 4xx but those about the key, model, path or rate, or a 5xx
    whose body names the format. Nothing is rejected when no format was asked for."""
    if rung == "none":
        return False
    if 400 <= status < 500 and status not in (401, 403, 404, 408, 409, 429):
        return True
    return status >= 500 and bool(_FORMAT_REJECTED.search(reason))


def format_request(rung: str, schema: dict[str, object] | None, schema_name: str) -> dict[str, object] | None:
    """The request's `response_format` field on this rung, or None to send none. json_schema without a schema
    asks for json_object."""
    if rung == "json_schema" and schema is not None:
        return {"type": "json_schema", "json_schema": {"name": schema_name, "strict": True, "schema": schema}}
    if rung in ("json_schema", "json_object"):
        return {"type": "json_object"}
    return None


def format_used(rung: str, schema: dict[str, object] | None) -> str:
    """The format an answer asked for on this rung was asked with (what format_request sent)."""
    request = format_request(rung, schema, "")
    return "none" if request is None else str(request["type"])
