"""In-process seat map for one running event (one worker per event)."""

from __future__ import annotations

from dataclasses import dataclass, field


class SeatTaken(Exception):
    pass


@dataclass
class SeatMap:
    event_id: str
    reserved: dict[str, str] = field(default_factory=dict)  # seat -> user id

    def is_free(self, seat: str) -> bool:
        return seat not in self.reserved
