"""What upstream systems send (docs/api.md) and how bad input is answered: the pydantic input
models of an event and a status change, per-item results, and the errors the API maps to 400,
404 and 409."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dashboard.domain import (
    LEVELS,
    MEDIATION_RESULTS,
    MEDIATION_TYPES,
    SATISFACTION_LABELS,
    SEVERITY_LABELS,
    STATUSES,
)

_SEVERITY_BY_NAME = {zh: n for n, (zh, _en) in SEVERITY_LABELS.items()} | {
    en.lower(): n for n, (_zh, en) in SEVERITY_LABELS.items()
}
_SATISFACTION_BY_NAME = {zh: code for code, (zh, _en) in SATISFACTION_LABELS.items()}
_PHONE = re.compile(r"^\+?[0-9][0-9\- ]{2,19}$")


NUL_MESSAGE = "must not contain NUL characters (\\u0000)"


def has_nul(value) -> bool:
    """A NUL character anywhere in a value (text, or inside lists and objects, keys too):
    PostgreSQL refuses to store one, so it is refused as input everywhere."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


def one_of(value, allowed):
    """A code from a closed list (None passes: the field is optional), for field validators."""
    if value is not None and value not in allowed:
        raise ValueError(f"must be one of {', '.join(allowed)}")
    return value


def text_problem(value, max_length: int, min_length: int = 0) -> str | None:
    """What is wrong with an optional text field read outside the input models, or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        return "must be text"
    if has_nul(value):
        return NUL_MESSAGE
    if not min_length <= len(value.strip()) <= max_length:
        return f"{min_length}–{max_length} characters"
    return None


class Input(BaseModel):
    """An input record: unknown fields refused, text trimmed, NUL characters refused (each a
    field error for this record alone)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, v):
        if has_nul(v):
            raise ValueError(NUL_MESSAGE)
        return v


class EventIn(Input):
    """One event as upstream systems send it (docs/api.md)."""

    external_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-/]+$")
    source: str | None = None
    category: str | None = Field(default=None, max_length=100)
    subcategory: str = Field(min_length=1, max_length=100)
    severity: Any = 1  # 1–4 or a name; checked below, so one clear message whatever is sent
    grid_code: str | None = Field(default=None, max_length=32)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    address: str | None = Field(default=None, max_length=200)
    reported_at: datetime | None = None
    reporter_name: str | None = Field(default=None, max_length=50)
    reporter_phone: str | None = Field(default=None, max_length=20)

    @field_validator("severity")
    @classmethod
    def _severity(cls, v: Any) -> int:
        if isinstance(v, str):
            key = v.strip().lower()
            v = _SEVERITY_BY_NAME.get(key, int(key) if key.isdigit() else 0)
        if isinstance(v, bool) or not isinstance(v, int) or v not in SEVERITY_LABELS:
            raise ValueError("must be 1–4 or one of 一般/较大/重大/特别重大")
        return v

    @field_validator("reporter_phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        if v and not _PHONE.match(v):
            raise ValueError("must be a telephone number (digits, spaces, '-' and a leading '+')")
        return v or None


class TransitionIn(Input):
    """One status change (docs/api.md)."""

    status: str
    at: datetime | None = None
    department: str | None = Field(default=None, max_length=100)
    actor: str | None = Field(default=None, max_length=100)
    note: str | None = Field(default=None, max_length=4000)
    satisfaction: str | None = None
    resolved_level: str | None = None
    mediation_result: str | None = None
    mediation_type: str | None = None

    @field_validator("status")
    @classmethod
    def _status(cls, v: str) -> str:
        return one_of(v, STATUSES)

    @field_validator("satisfaction")
    @classmethod
    def _satisfaction(cls, v: str | None) -> str | None:
        return one_of(_SATISFACTION_BY_NAME.get(v, v) if v else None, SATISFACTION_LABELS)

    @field_validator("resolved_level")
    @classmethod
    def _level(cls, v: str | None) -> str | None:
        return one_of(v, LEVELS)

    @field_validator("mediation_result")
    @classmethod
    def _mediation(cls, v: str | None) -> str | None:
        return one_of(v, MEDIATION_RESULTS)

    @field_validator("mediation_type")
    @classmethod
    def _mediation_type(cls, v: str | None) -> str | None:
        return one_of(v, MEDIATION_TYPES)


class InputError(Exception):
    """Bad input: maps to HTTP 400 with field-level messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class ConflictError(Exception):
    """An impossible transition or an unknown event: maps to HTTP 409 (or 404)."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class ItemResult:
    index: int
    external_id: str | None
    status: str  # created | duplicate | rejected
    id: int | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "index": self.index,
            "external_id": self.external_id,
            "status": self.status,
        }
        if self.id is not None:
            d["id"] = self.id
        if self.errors:
            d["errors"] = self.errors
        return d


# pydantic's wording for a wrong type, said as what is allowed.
_TYPE_MESSAGES = {
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "dict_type": "must be an object",
    "bool_parsing": "must be true or false",
    "datetime_type": "must be an ISO 8601 date-time",
    "datetime_parsing": "must be an ISO 8601 date-time",
    "datetime_from_date_parsing": "must be an ISO 8601 date-time",
    "missing": "required",
    "extra_forbidden": "unknown field",
}


def pydantic_errors(exc: ValidationError) -> dict[str, str]:
    """{field: message}, one message per field, named by the field alone (the input models are
    flat), in the shape of every other error of the API."""
    out: dict[str, str] = {}
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else "_"
        msg = _TYPE_MESSAGES.get(err["type"]) or err["msg"].removeprefix("Value error, ")
        out.setdefault(name, msg)
    return out
