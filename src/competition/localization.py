"""Dates and numbers as people in Germany read them: Europe/Berlin, German formats first."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_format_datetime

BERLIN = ZoneInfo("Europe/Berlin")


def format_datetime(moment: datetime, locale: str) -> str:
    """'21.11.2026, 14:30 Uhr' in German, '21 Nov 2026, 14:30 (Berlin time)' in English."""
    if locale == "en":
        text = babel_format_datetime(moment, "d MMM yyyy, HH:mm", tzinfo=BERLIN, locale="en_GB")
        return f"{text} (Berlin time)"
    return (
        babel_format_datetime(moment, "dd.MM.yyyy, HH:mm", tzinfo=BERLIN, locale="de_DE") + " Uhr"
    )


def berlin(moment: datetime) -> datetime:
    """Times without an offset are meant in Germany; all are returned in Europe/Berlin."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=BERLIN)
    return moment.astimezone(BERLIN)
