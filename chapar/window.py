"""Sending windows: advertising SMS go out only inside daily hours (Asia/Tehran)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def parse_window(text: str) -> tuple[time, time] | None:
    """``"08:00-21:00"``; ``"always"`` (or empty) means no window."""
    text = text.strip().lower()
    if text in {"", "always", "00:00-24:00"}:
        return None
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"{text!r} is not a window")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def next_opening(now: datetime, window: tuple[time, time] | None, tz: str) -> datetime | None:
    """None if ``now`` is inside the window, else when it next opens (aware datetime)."""
    if window is None:
        return None
    start, end = window
    local = now.astimezone(ZoneInfo(tz))
    t = local.time()
    inside = start <= t < end if start < end else (t >= start or t < end)
    if inside:
        return None
    opening = local.replace(
        hour=start.hour, minute=start.minute, second=start.second, microsecond=0
    )
    if opening <= local:
        opening += timedelta(days=1)
    return opening
