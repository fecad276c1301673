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


# --- encryption at rest (PII_KEY) -----------------------------------------------------------
# Reporter names and phones are sealed with Fernet (AES-128-CBC + HMAC-SHA256) when PII_KEY is
# set. PII_KEY may list several keys separated by commas: the first seals, all of them open
# (key rotation). Values stored before a key was set stay readable as they are.
SEALED = "enc1:"
_vault = None


def _fernet_key(secret: str) -> bytes:
    import base64
    import hashlib

    return base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())


def configure(pii_key: str | None) -> None:
    """Set (or clear) the process's key; called when the runtime is created."""
    global _vault
    if not pii_key:
        _vault = None
        return
    from cryptography.fernet import Fernet, MultiFernet

    keys = [k.strip() for k in pii_key.split(",") if k.strip()]
    _vault = MultiFernet([Fernet(_fernet_key(k)) for k in keys])


def sealing() -> bool:
    return _vault is not None


def seal(value: str | None) -> str | None:
    if value is None or _vault is None or value.startswith(SEALED):
        return value
    return SEALED + _vault.encrypt(value.encode()).decode()


def unseal(value: str | None) -> str | None:
    """The plain value. A sealed value without the right key stays hidden (never shown)."""
    if value is None or not value.startswith(SEALED):
        return value
    if _vault is None:
        return None
    from cryptography.fernet import InvalidToken

    try:
        return _vault.decrypt(value[len(SEALED) :].encode()).decode()
    except InvalidToken:
        return None


_PHONE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_ID_IN_TEXT = re.compile(r"(?<![\dXx])(\d{3})\d{11}(\d{3}[\dXx])(?![\dXx])")


def mask_text(text: str | None) -> str | None:
    """Free text (titles, descriptions, notes) with mobile numbers and ID numbers masked."""
    if not text:
        return text
    text = _ID_IN_TEXT.sub(lambda m: m.group(1) + "*" * 11 + m.group(2), text)
    return _PHONE_IN_TEXT.sub(lambda m: m.group(1) + "****" + m.group(3), text)
