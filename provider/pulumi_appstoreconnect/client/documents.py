"""Helpers for values inside App Store Connect documents."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

__all__ = ["parse_timestamp"]

_TIMESTAMP = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d+))?"
    r"(?P<tz>Z|z|[+-]\d{2}:?\d{2})$"
)


def parse_timestamp(value: str) -> datetime:
    """An aware UTC datetime from any timestamp form Apple sends.

    Accepts ``2018-04-15T18:13:40Z``, ``…40.000Z``, ``…26.0Z``, ``…26+0000``,
    ``…26.000+0000``, ``…21-07:00`` and ``…18.921-08:00``; raises ValueError otherwise.
    """
    match = _TIMESTAMP.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"not an App Store Connect timestamp: {value!r}")
    micro = int((match["frac"] or "0")[:6].ljust(6, "0"))
    tz = match["tz"]
    if tz in ("Z", "z"):
        offset = timedelta(0)
    else:
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    local = datetime.fromisoformat(f"{match['date']}T{match['time']}").replace(microsecond=micro)
    return local.replace(tzinfo=timezone(offset)).astimezone(timezone.utc)
