"""The personnel office's files: the roster (花名册), the duty roster (排班表) and the training
records (培训记录), from CSV (UTF-8 or GBK) or XLSX, with Chinese or English column names.

Each file is imported all or nothing: every row is checked first, and one bad row (or a column
the file should not have, or one it lacks) stops the file with row-level errors and nothing
written. A dry run checks the same way and reports what would be created and updated, then
writes nothing. The roster is upserted by 工号 (staff_no); the ID number and phone are sealed
(PII_KEY) and kept with a keyed hash of the ID number, so one person on two staff numbers is
found without opening either; every preview and error shows them masked.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from hashlib import sha256
from pathlib import Path

from pydantic import ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard import privacy
from dashboard.auth import audit
from dashboard.clock import local_day, to_utc_naive, utcnow
from dashboard.domain import STAFF_ROLE_LABELS, STAFF_STATUS_LABELS
from dashboard.importer import ImportFailed, ImportReport, read_rows, write_errors
from dashboard.models import Area, DutyShift, Staff, TrainingRecord
from dashboard.runtime import Runtime
from dashboard.schemas import Input, pydantic_errors

PREVIEW_ROWS = 200  # rows a dry run lists (the counts cover the whole file)
_TRUE = {"1", "true", "yes", "y", "是", "党员", "中共党员", "中共预备党员"}
_FALSE = {"0", "false", "no", "n", "否", "群众", "共青团员", "民主党派", ""}
_ROLE_BY_NAME = {zh: code for code, (zh, _en) in STAFF_ROLE_LABELS.items()} | {
    "网格员": "grid_fulltime",
    "社会工作者": "social_worker",
    "调解员": "mediator",
    "网络管理员": "it_admin",
}
_STATUS_BY_NAME = {zh: code for code, (zh, _en) in STAFF_STATUS_LABELS.items()} | {
    "在岗": "on_duty",
    "在职": "on_duty",
    "休假": "leave",
    "离职": "off",
}
_SHIFT_BY_NAME = {"白班": "day", "夜班": "night", "值班": "on_call", "备勤": "on_call"}
SHIFT_KINDS = ("day", "night", "on_call")

# Column names as personnel offices write them → the field each fills. Columns that carry
# nothing we keep (序号, 备注 …) are let through; any other unknown column stops the file, so a
# misspelt 身份证号 is not silently dropped.
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "staff": {
        "staff_no": ("工号", "人员编号", "编号"),
        "name": ("姓名",),
        "id_number": ("身份证号", "身份证号码", "公民身份号码"),
        "phone": ("手机号", "手机号码", "联系电话", "电话"),
        "role": ("岗位", "人员类别", "角色", "队伍类别"),
        "area_code": ("区域编码", "网格编码", "所属区域编码", "所属网格编码"),
        "party_member": ("政治面貌", "是否党员", "党员"),
        "certifications": ("证书", "持证情况", "资格证书"),
        "hire_date": ("入职日期", "入职时间", "参加工作时间"),
        "status": ("状态", "在职状态", "人员状态"),
    },
    "shifts": {
        "staff_no": ("工号", "人员编号", "编号"),
        "date": ("日期", "值班日期", "排班日期"),
        "start": ("开始时间", "上班时间", "开始"),
        "end": ("结束时间", "下班时间", "结束"),
        "kind": ("班次", "班别"),
    },
    "training": {
        "staff_no": ("工号", "人员编号", "编号"),
        "course": ("课程", "课程名称", "培训内容", "培训项目"),
        "hours": ("学时", "培训学时", "时长"),
        "date": ("日期", "培训日期", "完成日期"),
        "certificate": ("证书", "获得证书", "取得证书"),
    },
}
REQUIRED = {
    "staff": ("staff_no", "name", "role", "area_code"),
    "shifts": ("staff_no", "date", "start", "end"),
    "training": ("staff_no", "course", "hours", "date"),
}
IGNORED_COLUMNS = frozenset({"序号", "备注", "说明", "no", "remark", "remarks", "note"})
# Columns of the roster that earlier versions wrote and that are now kept elsewhere.
_RETIRED = {"staff": frozenset({"training_hours", "shift", "培训学时", "班次"})}


def normalise_columns(kind: str, rows: list[dict]) -> list[dict]:
    """Rows keyed by field name whatever the file called its columns; ImportFailed naming the
    columns that are missing or not understood."""
    spec = COLUMNS[kind]
    by_name = {f: f for f in spec} | {alias: f for f, aliases in spec.items() for alias in aliases}
    header = list(rows[0]) if rows else []
    unknown = [
        h
        for h in header
        if h not in by_name and h.lower() not in IGNORED_COLUMNS and h not in _RETIRED.get(kind, ())
    ]
    if unknown:
        accepted = "; ".join(f"{f} ({'/'.join(a)})" for f, a in spec.items())
        raise ImportFailed(
            f"columns not understood: {', '.join(unknown)} — the columns are: {accepted}"
        )
    present = {by_name[h] for h in header if h in by_name}
    mapped = [by_name[h] for h in header if h in by_name]
    twice = sorted({f for f in mapped if mapped.count(f) > 1})
    if twice:
        raise ImportFailed(f"more than one column gives {', '.join(twice)}")
    missing = [f for f in REQUIRED[kind] if f not in present]
    if rows and missing:
        raise ImportFailed(
            "missing columns: " + ", ".join(f"{f} ({'/'.join(spec[f])})" for f in missing)
        )
    return [{by_name[k]: v for k, v in r.items() if k in by_name} for r in rows]


# --- the ID number (GB 11643) -------------------------------------------------------------
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_digit(body: str) -> str:
    """The 18th character of an ID number whose first 17 digits are `body`."""
    return _CHECK[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def id_number_problem(value: str) -> str | None:
    """What is wrong with an 18-character resident ID number, or None."""
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return "must be 18 characters: 17 digits and a check digit (0-9 or X)"
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "its date of birth (characters 7-14) is not a date"
    if not date(1900, 1, 1) <= born <= utcnow().date():
        return "its date of birth (characters 7-14) is out of range"
    if check_digit(value[:17]) != value[17]:
        return "its check digit does not match (a digit mistyped?)"
    return None


def id_key(value: str, secret: str) -> str:
    return hmac.new(secret.encode(), value.encode(), sha256).hexdigest()[:24]


def _nfkc(v):
    return unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else v


def _day(v) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    text = _nfkc(str(v)).replace("/", "-").replace(".", "-")
    m = re.fullmatch(r"(\d{4})[-年](\d{1,2})[-月](\d{1,2})日?", text)
    if not m:
        raise ValueError("must be a date such as 2026-11-28")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise ValueError("is not a date in the calendar") from None


def _clock(v) -> time:
    if isinstance(v, time):
        return v
    if isinstance(v, datetime):
        return v.time()
    text = _nfkc(str(v)).replace("：", ":")
    m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::00)?", text)
    if not m or int(m[1]) > 24 or int(m[2]) > 59 or (int(m[1]) == 24 and int(m[2])):
        raise ValueError("must be a time of day such as 08:30")
    return time(0, int(m[2])) if int(m[1]) == 24 else time(int(m[1]), int(m[2]))


class _Row(Input):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, coerce_numbers_to_str=True)

    staff_no: str = Field(min_length=1, max_length=32)

    @field_validator("staff_no", mode="before")
    @classmethod
    def _staff_no(cls, v):
        return _nfkc(v)


class StaffIn(_Row):
    name: str = Field(min_length=1, max_length=100)
    id_number: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=40)
    role: str
    area_code: str = Field(min_length=1, max_length=32)
    party_member: bool | str | None = None
    certifications: str | None = Field(default=None, max_length=200)
    hire_date: date | None = None
    status: str = "on_duty"

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = _nfkc(v).upper().replace(" ", "")
        problem = id_number_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        if v is None:
            return None
        canonical = privacy.canonical_phone(v)
        if canonical is None or not 7 <= len(canonical) <= 12:
            raise ValueError("must be a mobile (11 digits) or a landline with its area code")
        return canonical

    @field_validator("hire_date", mode="before")
    @classmethod
    def _hire(cls, v):
        return None if v is None else _day(v)

    @field_validator("role")
    @classmethod
    def _role(cls, v: str) -> str:
        v = _ROLE_BY_NAME.get(v, v)
        if v not in STAFF_ROLE_LABELS:
            names = "、".join(zh for zh, _en in STAFF_ROLE_LABELS.values())
            raise ValueError(f"must be one of {names} (or {', '.join(STAFF_ROLE_LABELS)})")
        return v

    @field_validator("status")
    @classmethod
    def _status(cls, v: str) -> str:
        v = _STATUS_BY_NAME.get(v, v)
        if v not in STAFF_STATUS_LABELS:
            raise ValueError("must be 在职/请假/离岗 (on_duty/leave/off)")
        return v

    @field_validator("party_member")
    @classmethod
    def _party(cls, v) -> bool:
        if isinstance(v, bool) or v is None:
            return bool(v)
        key = str(v).strip().lower()
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
        raise ValueError("must be 是/否, 中共党员/群众 (yes/no)")

    @field_validator("certifications")
    @classmethod
    def _certs(cls, v: str | None) -> str:
        parts = re.split(r"[,，、;；/\s]+", v or "")
        return ",".join(dict.fromkeys(p for p in parts if p))


class ShiftIn(_Row):
    date: date
    start: time
    end: time
    kind: str | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, v):
        return _day(v)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _times(cls, v):
        return _clock(v)

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = _SHIFT_BY_NAME.get(v, v)
        if v not in SHIFT_KINDS:
            raise ValueError("must be 白班/夜班/值班 (day/night/on_call)")
        return v


class TrainingIn(_Row):
    course: str = Field(min_length=1, max_length=100)
    hours: float = Field(gt=0, le=500)
    date: date
    certificate: str | None = Field(default=None, max_length=100)

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, v):
        return _day(v)


@dataclass
class Preview:
    """What a file would do: one line per row (masked), for a dry run's table."""

    rows: list[dict] = field(default_factory=list)

    def add(self, line: int, action: str, **values) -> None:
        if len(self.rows) < PREVIEW_ROWS:
            self.rows.append({"row": line, "action": action, **values})


@dataclass
class RosterReport(ImportReport):
    dry_run: bool = False
    preview: Preview = field(default_factory=Preview)

    def summary(self) -> str:
        text = super().summary()
        return f"dry run — {text}" if self.dry_run else text


def _validate(model, rows: list[dict], report: RosterReport) -> list[tuple[int, object]]:
    out = []
    for i, raw in enumerate(rows):
        try:
            # an empty cell is a missing value: "required" where one must be given
            present = {k: v for k, v in raw.items() if v is not None}
            out.append((i + 2, model.model_validate(present)))  # 1-based, after the header
        except ValidationError as exc:
            report.errors.append({"row": i + 2, "errors": pydantic_errors(exc)})
    return out


def _staff_by_no(session: Session) -> dict[str, Staff]:
    return {s.staff_no: s for s in session.execute(select(Staff)).scalars()}


def _finish(session: Session, report: RosterReport, dry_run: bool) -> RosterReport:
    """Errors or a dry run: nothing stays written (the counts say what would have been)."""
    report.dry_run = dry_run
    if report.errors:
        report.created = report.updated = 0
    if report.errors or dry_run:
        report.written = False
        session.rollback()
    return report


# --- the roster ---------------------------------------------------------------------------
def import_staff(rt: Runtime, rows: list[dict], progress, dry_run: bool = False) -> RosterReport:
    rows = normalise_columns("staff", rows)
    report = RosterReport("staff", rows=len(rows))
    secret = rt.settings.secret_key
    with rt.sessions() as session, session.begin():
        areas = {a.code: a for a in session.execute(select(Area)).scalars()}
        existing = _staff_by_no(session)
        keyed: dict[str, str] = {}  # id_key → the staff number that holds it
        for s in existing.values():
            if s.id_key is None and s.id_number:  # kept before keys: key it now
                plain = privacy.unseal(s.id_number)
                s.id_key = id_key(plain.upper(), secret) if plain else None
            if s.id_key:
                keyed[s.id_key] = s.staff_no
        seen: dict[str, int] = {}
        seen_keys: dict[str, int] = {}
        for line, s in _validate(StaffIn, rows, report):
            errs = {}
            area = areas.get(s.area_code)
            if area is None:
                errs["area_code"] = "unknown area"
            elif area.level == "city":
                errs["area_code"] = "must be a district, street, community or grid"
            if s.staff_no in seen:
                errs["staff_no"] = f"appears twice in the file (row {seen[s.staff_no]})"
            seen.setdefault(s.staff_no, line)
            key = id_key(s.id_number, secret) if s.id_number else None
            if key and key in seen_keys:
                errs["id_number"] = f"the same ID number as row {seen_keys[key]}"
            elif key and keyed.get(key, s.staff_no) != s.staff_no:
                errs["id_number"] = f"already on the roster under staff number {keyed[key]}"
            if key:
                seen_keys.setdefault(key, line)
            if errs:
                report.errors.append({"row": line, "errors": errs})
                continue
            values = {
                "name": s.name,
                "id_number": privacy.seal(s.id_number),
                "id_key": key,
                "phone": privacy.seal(s.phone),
                "role": s.role,
                "area_id": area.id,
                "district_id": area.district_id or area.id,
                "street_id": area.street_id,
                "party_member": bool(s.party_member),
                "certifications": s.certifications or "",
                "hire_date": s.hire_date,
                "status": s.status,
            }
            row = existing.get(s.staff_no)
            if row is None:
                session.add(Staff(staff_no=s.staff_no, **values))
                report.created += 1
                changed = ["new"]
            else:
                changed = [k for k, v in values.items() if _differs(getattr(row, k), v)]
                for k, v in values.items():
                    setattr(row, k, v)
                report.updated += 1
            report.preview.add(
                line,
                "create" if row is None else ("update" if changed else "same"),
                staff_no=s.staff_no,
                name=privacy.mask_name(s.name),
                id_number=privacy.mask_id_number(s.id_number),
                phone=privacy.mask_phone(s.phone),
                role=s.role,
                area=s.area_code,
                status=s.status,
                changes=",".join(c for c in changed if c not in ("id_key",)),
            )
        if not dry_run and not report.errors:
            session.flush()
            progress(f"staff: {report.created + report.updated:,} rows written")
        return _finish(session, report, dry_run)


def _differs(old, new) -> bool:
    if isinstance(old, str) and isinstance(new, str) and privacy.SEALED in (old[:5], new[:5]):
        return privacy.unseal(old) != privacy.unseal(new)
    return old != new


# --- the duty roster ----------------------------------------------------------------------
def shift_bounds(s: ShiftIn, zone) -> tuple[datetime, datetime]:
    """A shift's UTC instants; an end at or before the start is on the next day (a night
    shift), and 24:00 is the next midnight."""
    start = datetime.combine(s.date, s.start)
    end = datetime.combine(s.date, s.end)
    if end <= start:
        end += timedelta(days=1)
    return to_utc_naive(start, zone), to_utc_naive(end, zone)


def import_shifts(rt: Runtime, rows: list[dict], progress, dry_run: bool = False) -> RosterReport:
    rows = normalise_columns("shifts", rows)
    report = RosterReport("shifts", rows=len(rows))
    zone = rt.settings.zone
    with rt.sessions() as session, session.begin():
        staff = _staff_by_no(session)
        mine: dict[int, list[tuple[datetime, datetime, int]]] = {}
        valid = []
        for line, s in _validate(ShiftIn, rows, report):
            person = staff.get(s.staff_no)
            if person is None:
                report.errors.append({"row": line, "errors": {"staff_no": "not on the roster"}})
                continue
            start, end = shift_bounds(s, zone)
            clash = next((n for a, b, n in mine.get(person.id, ()) if a < end and start < b), None)
            if clash is not None:
                report.errors.append(
                    {"row": line, "errors": {"start": f"overlaps the shift of row {clash}"}}
                )
                continue
            mine.setdefault(person.id, []).append((start, end, line))
            kind = s.kind or ("day" if 6 <= s.start.hour < 18 else "night")
            valid.append((line, s, person, start, end, kind))
        if not report.errors:
            ids = list(mine)
            stored = (
                {
                    (r.staff_id, r.starts_at): r
                    for r in session.execute(
                        select(DutyShift).where(
                            DutyShift.staff_id.in_(ids),
                            DutyShift.starts_at
                            >= min(a for v in mine.values() for a, _b, _n in v) - timedelta(days=1),
                        )
                    ).scalars()
                }
                if ids
                else {}
            )
            for line, s, person, start, end, kind in valid:
                row = stored.get((person.id, start))
                if row is None:
                    session.add(
                        DutyShift(staff_id=person.id, starts_at=start, ends_at=end, kind=kind)
                    )
                    report.created += 1
                else:
                    row.ends_at, row.kind = end, kind
                    report.updated += 1
                report.preview.add(
                    line,
                    "create" if row is None else "update",
                    staff_no=s.staff_no,
                    name=privacy.mask_name(person.name),
                    date=s.date.isoformat(),
                    start=s.start.strftime("%H:%M"),
                    end=s.end.strftime("%H:%M"),
                    kind=kind,
                )
            if not dry_run:
                session.flush()
                progress(f"shifts: {len(valid):,} rows written")
        return _finish(session, report, dry_run)


# --- training records ---------------------------------------------------------------------
def import_training(rt: Runtime, rows: list[dict], progress, dry_run: bool = False) -> RosterReport:
    rows = normalise_columns("training", rows)
    report = RosterReport("training", rows=len(rows))
    with rt.sessions() as session, session.begin():
        staff = _staff_by_no(session)
        seen: dict[tuple, int] = {}
        valid = []
        for line, s in _validate(TrainingIn, rows, report):
            person = staff.get(s.staff_no)
            errs = {}
            if person is None:
                errs["staff_no"] = "not on the roster"
            key = (s.staff_no, s.course, s.date)
            if key in seen:
                errs["course"] = f"the same course on the same day as row {seen[key]}"
            seen.setdefault(key, line)
            if s.date > local_day(utcnow(), rt.settings.zone):
                errs["date"] = "is in the future"
            if errs:
                report.errors.append({"row": line, "errors": errs})
            else:
                valid.append((line, s, person))
        if not report.errors:
            stored = {
                (r.staff_id, r.course, r.date): r
                for r in session.execute(
                    select(TrainingRecord).where(
                        TrainingRecord.staff_id.in_({p.id for _l, _s, p in valid})
                    )
                ).scalars()
            }
            for line, s, person in valid:
                row = stored.get((person.id, s.course, s.date))
                if row is None:
                    session.add(
                        TrainingRecord(
                            staff_id=person.id,
                            course=s.course,
                            hours=s.hours,
                            date=s.date,
                            certificate=s.certificate,
                        )
                    )
                    report.created += 1
                else:
                    row.hours, row.certificate = s.hours, s.certificate
                    report.updated += 1
                report.preview.add(
                    line,
                    "create" if row is None else "update",
                    staff_no=s.staff_no,
                    name=privacy.mask_name(person.name),
                    course=s.course,
                    hours=s.hours,
                    date=s.date.isoformat(),
                    certificate=s.certificate or "",
                )
            if not dry_run:
                session.flush()
                progress(f"training: {len(valid):,} rows written")
        return _finish(session, report, dry_run)


IMPORTERS = {"staff": import_staff, "shifts": import_shifts, "training": import_training}


def import_file(
    rt: Runtime,
    kind: str,
    path: str,
    progress: Callable[[str], None] = print,
    dry_run: bool = False,
) -> RosterReport:
    """Import (or with `dry_run` only check) a roster, duty roster or training file."""
    if kind not in IMPORTERS:
        raise ImportFailed(f"unknown kind {kind!r}")
    report = IMPORTERS[kind](rt, read_rows(Path(path)), progress, dry_run=dry_run)
    report.error_file = write_errors(rt, kind, report.errors)
    return report


def import_upload(
    rt: Runtime,
    kind: str,
    filename: str,
    contents: str,
    actor: str,
    address: str | None,
    dry_run: bool = True,
) -> RosterReport:
    """A file uploaded from the page (a data URL, as the browser sends it): checked, or
    imported — an import that writes is recorded in the audit log."""
    suffix = Path(filename).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ImportFailed("use a .csv or .xlsx file")
    head, _, body = contents.partition(",")
    if not head.startswith("data:") or not head.endswith(";base64"):
        raise ImportFailed("the upload did not arrive as a file")
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise ImportFailed("the upload did not arrive as a file") from None
    folder = rt.settings.var_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, suffix=suffix) as fh:
        fh.write(raw)
        fh.flush()
        rows = read_rows(Path(fh.name))
    report = IMPORTERS[kind](rt, rows, lambda _m: None, dry_run=dry_run)
    if report.written:
        with rt.sessions() as session, session.begin():
            audit(session, actor, f"import.{kind}", filename[:200], report.summary(), address)
    return report
