"""Numbers and times formatted for the people at the wall (Chinese readers first)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

WEEKDAYS_ZH = "一二三四五六日"


def count(n: int | float | None, lang: str = "zh") -> str:
    """12,345 → 1.23万 (zh) or 12.3k (en) from ten thousand up; None → —."""
    if n is None:
        return "—"
    if abs(n) >= 10_000:
        return f"{n / 10_000:.2f}万" if lang == "zh" else f"{n / 1000:.1f}k"
    return f"{int(n):,}"


def rate(value: float | None, digits: int = 1) -> str:
    """0.9834 → 98.3%; a rate without a denominator is shown as — (never 0 % or 100 %)."""
    if value is None:
        return "—"
    if round(value * 100, digits) >= 100:
        return "100%"  # fits the tile at 1080p; nothing to round up to
    return f"{value * 100:.{digits}f}%"


def delta(now: float | None, before: float | None, is_rate: bool = False) -> tuple[str, str]:
    """Change against the same time yesterday: (text, direction 'up'|'down'|'flat'|'none')."""
    if now is None or before is None:
        return "—", "none"
    diff = now - before
    text = f"{diff * 100:+.1f}pp" if is_rate else f"{diff:+,.0f}"
    return text, "up" if diff > 0 else "down" if diff < 0 else "flat"


def duration(hours: float | None, lang: str = "zh") -> str:
    """0.06 → 4 分钟 (4 min); 2.5 → 2.5 小时 (2.5 h); None → —."""
    if hours is None:
        return "—"
    if hours < 1:
        return f"{hours * 60:.0f} 分钟" if lang == "zh" else f"{hours * 60:.0f} min"
    return f"{hours:.1f} 小时" if lang == "zh" else f"{hours:.1f} h"


def clock(at_utc: datetime, zone: ZoneInfo, lang: str = "zh") -> str:
    local = at_utc.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
    if lang == "zh":
        return f"{local:%Y年%m月%d日} 星期{WEEKDAYS_ZH[local.weekday()]} {local:%H:%M}"
    return f"{local:%a %d %b %Y %H:%M}"


def time_of_day(at_utc: datetime, zone: ZoneInfo) -> str:
    return f"{at_utc.replace(tzinfo=ZoneInfo('UTC')).astimezone(zone):%H:%M:%S}"
