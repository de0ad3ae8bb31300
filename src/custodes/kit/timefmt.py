"""Time formats: RFC 3339 UTC for records, Europe/London for people."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def rfc3339(moment: datetime) -> str:
    """UTC with microseconds and Z, as ledger entries carry it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def london(moment: datetime | None, with_seconds: bool = False) -> str:
    """How a time is shown on screens and reports."""
    if moment is None:
        return ""
    fmt = "%d %b %Y %H:%M:%S" if with_seconds else "%d %b %Y %H:%M"
    return moment.astimezone(LONDON).strftime(fmt)


def london_day(moment: datetime) -> date:
    """The calendar day in London at that moment (review dates, reference years, retention)."""
    return moment.astimezone(LONDON).date()


MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def month_title(month: str | None) -> str:
    """ "2018-04" → "April 2018"; anything else as it is."""
    if not month or len(month) != 7 or not month[5:7].isdigit() or not 1 <= int(month[5:7]) <= 12:
        return month or ""
    return f"{MONTH_NAMES[int(month[5:7]) - 1]} {month[:4]}"
