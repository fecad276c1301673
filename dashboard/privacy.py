"""Masking of personal data (个人信息): reporter names and phones, staff ID numbers."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\d")


def mask_name(name: str | None) -> str | None:
    """张三 → 张*, 欧阳娜娜 → 欧***; a Latin name keeps its first letter."""
    if not name:
        return name
    name = name.strip()
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str | None) -> str | None:
    """13812345678 → 138****5678; shorter numbers keep at most their last two digits."""
    if not phone:
        return phone
    digits = "".join(_DIGITS.findall(phone))
    if len(digits) >= 11:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) >= 7:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * max(0, len(digits) - 2) + digits[-2:]


def mask_id_number(value: str | None) -> str | None:
    """110101199003071234 → 110***********1234."""
    if not value:
        return value
    value = value.strip()
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
