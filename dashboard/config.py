"""Settings read once from the environment — the only module that looks at os.environ."""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from dashboard import staffing
from dashboard.repeats import DEFAULT_DISTANCE_M, MAX_DISTANCE_M
from dashboard.workcalendar import DEFAULT_HOURS, WorkCalendar, parse_hours


def parse_boolean(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def parse_number(value: str | None, default: float, kind: type = float) -> float:
    if value is None or value.strip() == "":
        return default
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"not a number: {value!r}") from None


@dataclass(frozen=True)
class Settings:
    """Typed settings; documented in README.md and docs/configuration.md."""

    host: str = "127.0.0.1"
    port: int = 8050
    var_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str = ""
    secret_key: str = ""
    city_name: str = "云州市"
    tz: str = "Asia/Shanghai"
    lang: str = "zh"
    demo: bool = True
    simulator_rate: float = 3.0
    scheduler: bool = True
    secure_cookies: bool = False  # SECURE_COOKIES=1 behind TLS: cookies only over HTTPS, HSTS
    session_hours: float = 12.0  # a person's session ends after this long; displays never
    pii_key: str = ""  # PII_KEY: encrypts reporter name/phone at rest when set
    proxies: int = 0  # PROXIES: reverse proxies in front (their X-Forwarded-For is trusted)
    work_hours: str = DEFAULT_HOURS  # WORK_HOURS: the working day of 工作时/工作日 time limits
    repeat_distance_m: float = DEFAULT_DISTANCE_M  # REPEAT_DISTANCE_M: 重复诉求 "same place"
    staffing_file: str = ""  # STAFFING_FILE: the staffing standard (dashboard/staffing.toml)
    report_font: str = ""  # REPORT_FONT: a CJK font for PDF reports (default: Noto Sans CJK SC)
    # Not environment settings: limits of the ingest contract (docs/api.md).
    max_body_bytes: int = 4 * 1024 * 1024
    max_batch: int = 1000
    redis_prefix: str = "cc"
    extra: dict = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def calendar(self) -> WorkCalendar:
        return _calendar(self.work_hours)

    @property
    def staffing(self) -> staffing.Standards:
        return _staffing(self.staffing_file)

    @property
    def sqlite_path(self) -> Path:
        return self.var_dir / "dashboard.sqlite3"

    @property
    def serving_file(self) -> Path:
        """Where a running `make run` writes the address it serves on (create-display reads it)."""
        return self.var_dir / "serving.url"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path.resolve()}"

    def with_overrides(self, **changes) -> Settings:
        return replace(self, **changes)


def _secret_key(var_dir: Path, given: str | None) -> str:
    if given:
        return given
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from the environment (or a given mapping, for tests)."""
    env = os.environ if env is None else env
    var_dir = Path(env.get("VAR_DIR") or "var")
    lang = (env.get("LANG") or "zh").strip().lower()
    # A POSIX locale such as zh_CN.UTF-8 or C.UTF-8 also arrives in LANG.
    lang = "en" if lang.startswith("en") else "zh"
    tz = env.get("TZ") or "Asia/Shanghai"
    ZoneInfo(tz)  # fail early on an unknown zone
    work_hours = env.get("WORK_HOURS") or DEFAULT_HOURS
    parse_hours(work_hours)  # fail early on working hours that do not parse
    distance = parse_number(env.get("REPEAT_DISTANCE_M"), DEFAULT_DISTANCE_M)
    if not 0 <= distance <= MAX_DISTANCE_M:
        raise ValueError(f"REPEAT_DISTANCE_M must be between 0 and {MAX_DISTANCE_M:g}")
    staffing_file = env.get("STAFFING_FILE") or ""
    _staffing(staffing_file)  # fail early on a staffing standard that does not parse
    rate = parse_number(env.get("SIMULATOR_RATE"), 3.0)
    if rate < 0:
        raise ValueError("SIMULATOR_RATE must be >= 0")
    return Settings(
        host=env.get("HOST") or "127.0.0.1",
        port=int(parse_number(env.get("PORT"), 8050, int)),
        var_dir=var_dir,
        database_url=env.get("DATABASE_URL") or "",
        redis_url=env.get("REDIS_URL") or "",
        secret_key=_secret_key(var_dir, env.get("SECRET_KEY")),
        city_name=env.get("CITY_NAME") or "云州市",
        tz=tz,
        lang=lang,
        demo=parse_boolean(env.get("DEMO"), True),
        simulator_rate=rate,
        scheduler=parse_boolean(env.get("SCHEDULER"), True),
        secure_cookies=parse_boolean(env.get("SECURE_COOKIES"), False),
        session_hours=parse_number(env.get("SESSION_HOURS"), 12.0),
        pii_key=env.get("PII_KEY") or "",
        proxies=int(parse_number(env.get("PROXIES"), 0, int)),
        work_hours=work_hours,
        repeat_distance_m=distance,
        staffing_file=staffing_file,
        report_font=env.get("REPORT_FONT") or "",
    )


@functools.cache
def _staffing(path: str) -> staffing.Standards:
    return staffing.load(path or None)


@functools.cache
def _calendar(work_hours: str) -> WorkCalendar:
    return WorkCalendar.load(work_hours)
