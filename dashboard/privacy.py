"""Masking of personal data (个人信息): reporter names and phones, staff ID numbers."""

from __future__ import annotations

import logging
import re
import unicodedata

_DIGITS = re.compile(r"[0-9]")
# Full-width digits and signs as people type them on a Chinese keyboard (one character each, so
# positions in the text stay where they are).
_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋－（）　．", "0123456789+-() .")


def _ascii(text: str) -> str:
    return text.translate(_FULL_WIDTH)


def mask_name(name: str | None) -> str | None:
    """张三 → 张*, 欧阳娜娜 → 欧***; a Latin name keeps its first letter."""
    if not name:
        return name
    name = name.strip()
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str | None) -> str | None:
    """13812345678 (also +86 138 1234 5678, 013812345678, full-width) → 138****5678; a landline
    keeps its last four digits; short numbers at most their last two."""
    if not phone:
        return phone
    digits = "".join(_DIGITS.findall(_ascii(phone)))
    mobile = _MOBILE_DIGITS.search(digits)
    if mobile:
        return mobile.group(1)[:3] + "****" + mobile.group(1)[-4:]
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


# In free text. Separators between the groups of a number: a space, a hyphen or a dot.
_SEP = r"[-\s.]?"
# An 18-character resident ID number (17 digits and a check digit), or an old 15-digit one with
# its birth date; after letters too ("x110101199003071234").
_ID18 = re.compile(r"(?<![0-9])[0-9]{6}" + _SEP + r"[0-9]{8}" + _SEP + r"[0-9]{3}[0-9Xx](?![0-9])")
_ID15 = re.compile(
    r"(?<![0-9])[0-9]{6}[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}(?![0-9])"
)
# A mobile number, with +86 / 0086 / 86 / (+86) or a trunk 0 before it.
_MOBILE = re.compile(
    r"(?<![0-9])(?:(?:\+|00)?86" + _SEP + r"|\(\+?86\)" + _SEP + r"|0)?"
    r"(1[3-9][0-9])" + _SEP + r"([0-9]{4})" + _SEP + r"([0-9]{4})(?![0-9])"
)
_MOBILE_DIGITS = re.compile(r"^(?:0086|86|0)?(1[3-9][0-9]{9})$")
# A landline: an area code (010, (0571), or after +86 without its 0) and 7–8 digits.
_LANDLINE = re.compile(
    r"(?<![0-9])(?:(?:\+|00)86"
    + _SEP
    + r"\(?0?[1-9][0-9]{1,2}\)?|\(?0[1-9][0-9]{1,2}\)?)"
    + _SEP
    + r"(?P<local>[1-9][0-9]{2,3})"
    + _SEP
    + r"(?P<last>[0-9]{4})(?![0-9])"
)


def canonical_phone(phone: str | None) -> str | None:
    """One spelling of a telephone number, whatever way it was written (+86, 0086, full-width
    digits, separators): a mobile's 11 digits, or a landline's digits with its trunk 0."""
    digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", phone or ""))
    if not digits:
        return None
    m = _MOBILE_DIGITS.match(digits)
    if m:
        return m.group(1)
    return re.sub(r"^(?:0086|86)", "0", digits)


def _keep_ends(m: re.Match) -> str:
    """An ID number: its first three and last four characters, the rest starred."""
    chars = re.sub(r"[-\s.]", "", m.group(0))
    return chars[:3] + "*" * (len(chars) - 7) + chars[-4:]


def _landline(m: re.Match) -> str:
    """The area code as written; of the local number only its last four digits."""
    return m.string[m.start() : m.start("local")] + "****" + m.group("last")


_IN_TEXT = (
    (_ID18, _keep_ends),
    (_ID15, _keep_ends),
    (_MOBILE, lambda m: m.group(1) + "****" + m.group(3)),
    (_LANDLINE, _landline),
)


def mask_text(text: str | None) -> str | None:
    """Free text (titles, descriptions, notes, reasons, log lines) with every mobile, landline
    and ID number masked, in the forms people write them: +86, separators, full-width digits,
    next to letters."""
    if not text:
        return text
    for pattern, masked in _IN_TEXT:
        found = list(pattern.finditer(_ascii(text)))  # same positions as in `text`
        for m in reversed(found):
            text = text[: m.start()] + masked(m) + text[m.end() :]
    return text


def mask_all(value):
    """Text inside any JSON-like value (an alert's evidence …) masked with mask_text."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_all(v) for v in value]
    return value


# --- logs -------------------------------------------------------------------------------------
def _mask_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # arguments that do not fit the format: left to logging
        return
    masked = mask_text(message)
    if masked != message:
        record.msg, record.args = masked, ()
    if record.exc_info and not record.exc_text:
        record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)


def mask_logs() -> None:
    """Every log record of the process, from any logger to any handler, with phone and ID
    numbers masked in its message, traceback and stack — done where records are made, so no
    handler added later can miss it. Idempotent."""
    make = logging.getLogRecordFactory()
    if getattr(make, "masks_personal_data", False):
        return

    def masked_record(*args, **kwargs) -> logging.LogRecord:
        record = make(*args, **kwargs)
        _mask_record(record)
        return record

    masked_record.masks_personal_data = True
    logging.setLogRecordFactory(masked_record)
