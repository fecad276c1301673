"""SQLAlchemy 2 models: the system of record (DESIGN §2–3). All datetimes are naive UTC."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Area(Base):
    """行政区划/网格: city › district › street › community › grid."""

    __tablename__ = "areas"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    # The chain above the area (itself included at its own level), for scoped queries without recursion.
    district_id: Mapped[int | None] = mapped_column(Integer, index=True)
    street_id: Mapped[int | None] = mapped_column(Integer)
    community_id: Mapped[int | None] = mapped_column(Integer)
    population: Mapped[int] = mapped_column(Integer, default=0)
    households: Mapped[int] = mapped_column(Integer, default=0)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    boundary: Mapped[str | None] = mapped_column(Text)  # GeoJSON geometry (districts, streets)


class Department(Base):
    """职能部门: a city bureau, or a handling unit below one (承办单位: its branch in a district,
    `parent_id` the bureau). Cases are counted by bureau; a unit is who handles them there."""

    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    parent_id: Mapped[int | None] = mapped_column(Integer)  # a unit's bureau
    district_id: Mapped[int | None] = mapped_column(Integer)  # a unit's district


class Category(Base):
    """Event category (parent_id NULL) or subcategory."""

    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    is_dispute: Mapped[bool] = mapped_column(Boolean, default=False)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    default_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))


class TimeLimit(Base):
    """时限 of one step (立案 accept, 派遣 dispatch, 处置 handle, 结案 close) for a subcategory or
    a category at a severity: an amount in a unit (自然时 hours, 工作时 work_hours, 工作日
    work_days) counted from a start event (reported, accepted or dispatched). dashboard.workcalendar
    turns it into a deadline."""

    __tablename__ = "time_limits"
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), primary_key=True)
    severity: Mapped[int] = mapped_column(Integer, primary_key=True)
    step: Mapped[str] = mapped_column(String(16), primary_key=True)
    amount: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16), default="hours")
    start: Mapped[str] = mapped_column(String(16))


# What 超期未办结 reads of an event (deadline, 立案, its groups): the covering indexes hold them.
_OVERDUE_COLUMNS = ("close_deadline", "accepted_at", "district_id", "department_id", "category_id")


class Event(Base):
    """事件/案件. Lifecycle facts are denormalised from the transitions for KPI queries."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_events_source_external_id"),
        Index("ix_events_accepted_at", "accepted_at"),
        Index("ix_events_reported_at", "reported_at"),
        # Events by closing time (kpi.relevant), covering 超期未办结's columns.
        Index("ix_events_closed_late", "closed_at", *_OVERDUE_COLUMNS),
        # 超期未办结 at a past moment, closed after it: among the late closures only.
        Index(
            "ix_events_late_closures",
            "closed_at",
            *_OVERDUE_COLUMNS,
            postgresql_where=text("closed_at > close_deadline"),
            sqlite_where=text("closed_at > close_deadline"),
        ),
        Index("ix_events_first_resolved_at", "first_resolved_at", "dispatched_at"),
        # Open cases by deadline; covers 超期未办结 (still open) and its groups.
        Index("ix_events_open", "is_open", *_OVERDUE_COLUMNS),
        Index("ix_events_grid_sub_reported", "grid_id", "subcategory_id", "reported_at"),
        # 重复诉求: the same matter at the same address, near the same point, or from the same
        # reporter (dashboard/repeats.py).
        Index("ix_events_sub_place", "subcategory_id", "place_key", "reported_at"),
        Index("ix_events_sub_cell", "subcategory_id", "cell", "reported_at"),
        Index("ix_events_reporter", "reporter_key", "reported_at"),
        # the event list sorted by severity or closing deadline, the time range checked in the
        # index (migration 0009)
        Index("ix_events_list_severity", "severity", "id", "reported_at"),
        Index("ix_events_list_deadline", "close_deadline", "id", "reported_at"),
        Index(
            "ix_events_backlog",
            "status",
            "department_id",
            "reported_at",
            "close_deadline",
            "district_id",
            postgresql_where=text("is_open"),
            sqlite_where=text("is_open"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    subcategory_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    is_dispute: Mapped[bool] = mapped_column(Boolean, default=False)
    severity: Mapped[int] = mapped_column(Integer, default=1)
    grid_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    community_id: Mapped[int] = mapped_column(Integer)
    street_id: Mapped[int] = mapped_column(Integer)
    district_id: Mapped[int] = mapped_column(Integer, index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    point_given: Mapped[bool] = mapped_column(Boolean, default=False)  # lat/lon sent, not a grid's
    cell: Mapped[int | None] = mapped_column(Integer)  # ~1 km square of a given point
    address: Mapped[str | None] = mapped_column(String(200))
    place_key: Mapped[str | None] = mapped_column(String(16))  # of the normalised address
    reporter_key: Mapped[str | None] = mapped_column(String(24))  # keyed hash of the phone
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    reporter_name: Mapped[str | None] = mapped_column(String(400))  # sealed: PII_KEY
    reporter_phone: Mapped[str | None] = mapped_column(String(400))
    reported_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16))
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    level: Mapped[str] = mapped_column(String(16), default="grid")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    # the handling unit below the bureau (its branch in the event's district), when it has one
    unit_id: Mapped[int | None] = mapped_column(Integer)
    # the residential compound of the address (repeats.compound_key): 激增 by compound
    compound_key: Mapped[str | None] = mapped_column(String(16))
    # Deadlines are set when their start event happens (DESIGN §5); an approved 延期 moves them.
    accept_deadline: Mapped[datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)  # 立案 or 不予受理
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)
    dispatch_deadline: Mapped[datetime | None] = mapped_column(DateTime)
    handle_deadline: Mapped[datetime | None] = mapped_column(DateTime)
    close_deadline: Mapped[datetime | None] = mapped_column(DateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime)
    first_resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)  # the resolution that stands
    extended: Mapped[bool] = mapped_column(Boolean, default=False)  # an approved 延期
    supervised_at: Mapped[datetime | None] = mapped_column(DateTime)  # the last 督办
    urged_at: Mapped[datetime | None] = mapped_column(DateTime)  # the last 催办
    # When the case falls due for each step: the earlier of meeting it and its deadline (KPIs
    # count a step in the period that holds this moment; DESIGN §5). Kept by lifecycle.py.
    accept_due_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    dispatch_due_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    handle_due_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    close_due_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    first_returned_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    return_count: Mapped[int] = mapped_column(Integer, default=0)
    escalation_count: Mapped[int] = mapped_column(Integer, default=0)
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    resolved_level: Mapped[str | None] = mapped_column(String(16))
    mediation_result: Mapped[str | None] = mapped_column(String(16))
    mediation_type: Mapped[str | None] = mapped_column(String(16))  # 人民/行政/司法调解
    is_repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    last_transition_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Transition(Base):
    """One status change of an event: the timeline every KPI derives from."""

    __tablename__ = "transitions"
    __table_args__ = (
        Index("ix_transitions_event", "event_id", "at"),
        Index("ix_transitions_created", "created_at"),
        Index("ix_transitions_at", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str | None] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)


# 督办 only, not 催办: written out (not bound) so that the partial index ix_supervisions_at serves.
SUPERVISE_ONLY = text("kind = 'supervise'")


class Supervision(Base):
    """督办: the center presses a department on a case; the department replies by a deadline."""

    __tablename__ = "supervisions"
    # By time, covering the counts per department, district and category.
    __table_args__ = (
        Index(
            "ix_supervisions_at",
            "at",
            "department_id",
            "district_id",
            "category_id",
            postgresql_where=SUPERVISE_ONLY,
            sqlite_where=SUPERVISE_ONLY,
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    # supervise (督办, counted in the KPIs) | urge (催办: a reminder, counted on its own)
    kind: Mapped[str] = mapped_column(String(16), default="supervise", server_default="supervise")
    # The department pressed (the case's at the time) and the case's district and category:
    # 督办件数 by department, district or category are counted from this table alone.
    department_id: Mapped[int | None] = mapped_column(Integer)
    district_id: Mapped[int] = mapped_column(Integer)
    category_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(500), default="")
    reply_due_at: Mapped[datetime] = mapped_column(DateTime)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime)
    reply: Mapped[str | None] = mapped_column(String(2000))
    batch: Mapped[str | None] = mapped_column(String(32))  # one 督办 sent to many cases


class Extension(Base):
    """延期: a department asks for a later closing deadline; the center approves or refuses."""

    __tablename__ = "extensions"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(DateTime)
    requested_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500))
    old_deadline: Mapped[datetime] = mapped_column(DateTime)
    requested_deadline: Mapped[datetime] = mapped_column(DateTime)
    state: Mapped[str] = mapped_column(String(16), default="requested")  # approved | refused
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))


class EventNote(Base):
    """A duty note on a case (值班备注): shown on its timeline, changes nothing else."""

    __tablename__ = "event_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(String(1000))


class KpiSetting(Base):
    """Versioned KPI configuration (综合指标值 weights, 五治 targets and weights): a version is in
    force from `effective_from` until the next, so that a past period recomputes as it was."""

    __tablename__ = "kpi_settings"
    __table_args__ = (Index("ix_kpi_settings_kind", "kind", "effective_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    effective_from: Mapped[datetime] = mapped_column(DateTime)
    value: Mapped[str] = mapped_column(Text)  # JSON
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Staff(Base):
    """人才队伍: grid workers, social workers, mediators … The ID number and phone are sealed
    (PII_KEY) and shown masked; `id_key` (a keyed hash of the ID number) finds one person on two
    staff numbers without opening either. `status` is the employment status (在岗/请假/离岗);
    who is on duty at a moment comes from the duty roster and check-ins (dashboard.duty)."""

    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    id_number: Mapped[str | None] = mapped_column(String(400))  # sealed: PII_KEY
    id_key: Mapped[str | None] = mapped_column(String(24), index=True)
    phone: Mapped[str | None] = mapped_column(String(400))  # sealed: PII_KEY
    role: Mapped[str] = mapped_column(String(32), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    district_id: Mapped[int] = mapped_column(Integer, index=True)
    street_id: Mapped[int | None] = mapped_column(Integer)
    party_member: Mapped[bool] = mapped_column(Boolean, default=False)
    certifications: Mapped[str] = mapped_column(String(200), default="")
    hire_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="on_duty")


class DutyShift(Base):
    """排班: one person's shift, [starts_at, ends_at) in UTC; a night shift runs past midnight."""

    __tablename__ = "duty_shifts"
    __table_args__ = (
        UniqueConstraint("staff_id", "starts_at", name="uq_duty_shifts_staff_start"),
        Index("ix_duty_shifts_time", "starts_at", "ends_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(16), default="day")  # day | night | on_call


class CheckIn(Base):
    """签到 (`in`) and 签退 (`out`) from the grid app or the duty desk."""

    __tablename__ = "check_ins"
    __table_args__ = (
        UniqueConstraint("staff_id", "at", "kind", name="uq_check_ins_staff_at_kind"),
        Index("ix_check_ins_at", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(32), default="app")
    created_at: Mapped[datetime] = mapped_column(DateTime)


class TrainingRecord(Base):
    """培训: a course a person completed, its hours, and the certificate it gave (if any)."""

    __tablename__ = "training_records"
    __table_args__ = (
        UniqueConstraint("staff_id", "course", "date", name="uq_training_staff_course_date"),
        Index("ix_training_records_date", "date"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    course: Mapped[str] = mapped_column(String(100))
    hours: Mapped[float] = mapped_column(Float)
    date: Mapped[date] = mapped_column(Date)
    certificate: Mapped[str | None] = mapped_column(String(100))


class WeeklyBulletin(Base):
    """周例会: the 通报 of an ISO week as edited before it is issued, beside the text generated
    from the figures when the edit was made."""

    __tablename__ = "weekly_bulletins"
    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(8), unique=True)  # 2026-W47
    generated: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    edited_by: Mapped[str] = mapped_column(String(100))
    edited_at: Mapped[datetime] = mapped_column(DateTime)


class WeeklyReport(Base):
    """周例会: a week's report as the Monday job generated it and kept it — its figures (JSON),
    its 通报, the workbook and the PDF (None where the server had no CJK font)."""

    __tablename__ = "weekly_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(8), unique=True)
    generated_at: Mapped[datetime] = mapped_column(DateTime)
    figures: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    xlsx: Mapped[bytes] = mapped_column(LargeBinary)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)


class Activity(Base):
    """Community activities, the 五治 inputs (协商议事, 道德讲堂, 普法宣传, 志愿服务, 模范评选)."""

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_date", "date", "district_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    district_id: Mapped[int] = mapped_column(Integer)
    street_id: Mapped[int | None] = mapped_column(Integer)
    date: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200), default="")
    participants: Mapped[int] = mapped_column(Integer, default=0)
    volunteer_hours: Mapped[float] = mapped_column(Float, default=0)
    party_led: Mapped[bool] = mapped_column(Boolean, default=False)


class Alert(Base):
    """预警: level 1 (红) … 4 (蓝)."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_state", "state", "level"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(32))
    level: Mapped[int] = mapped_column(Integer)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    district_id: Mapped[int | None] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200))
    evidence: Mapped[str] = mapped_column(Text, default="{}")
    state: Mapped[str] = mapped_column(String(16), default="active")
    assignee: Mapped[str | None] = mapped_column(String(100))
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # how often its rule found it, and when last: it clears itself once not seen for a while
    hits: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    # who is to act on it, when someone first took it up, when it ended, when it was escalated
    department_id: Mapped[int | None] = mapped_column(Integer)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)


class RiskRule(Base):
    """A risk rule (DESIGN §6) as data: shipped in dashboard/rules.toml, kept and edited here."""

    __tablename__ = "risk_rules"
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    family: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    params: Mapped[str] = mapped_column(Text, default="{}")  # JSON: thresholds, levels …
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[str] = mapped_column(String(100), default="rules.toml")


class AlertEvent(Base):
    """The events an alert was raised on (its evidence), so an incident lists its alerts."""

    __tablename__ = "alert_events"
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True, index=True)


class WorkNotice(Base):
    """工作提示单: one notice to a department or a street about a whole class of complaints (解决
    一类事), from an alert or from events picked on 事件流转; its own deadline, reply and outcome."""

    __tablename__ = "work_notices"
    __table_args__ = (Index("ix_work_notices_issued", "issued_at", "district_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # 2026-0001
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    district_id: Mapped[int | None] = mapped_column(Integer)  # for district scope
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    # issued (已下发) → replied (已回复) → done (已办结); a reply sent back returns it to issued
    status: Mapped[str] = mapped_column(String(16), default="issued")
    deadline: Mapped[datetime] = mapped_column(DateTime)
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    issued_by: Mapped[str] = mapped_column(String(100))
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime)
    replied_by: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str | None] = mapped_column(Text)
    events_resolved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class WorkNoticeEvent(Base):
    """The events a work notice covers."""

    __tablename__ = "work_notice_events"
    notice_id: Mapped[int] = mapped_column(ForeignKey("work_notices.id"), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True, index=True)


class AlertHistory(Base):
    __tablename__ = "alert_history"
    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class AuditLog(Base):
    """Append-only audit trail: logins, reveals, exports, actions, configuration changes."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(64))


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class UserSession(Base):
    """A person's signed-in session, so that the server can end it: signing out, a changed or
    reset password and deactivation end it for every copy of its cookie."""

    __tablename__ = "user_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # random, in the cookie
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_why: Mapped[str | None] = mapped_column(String(32))


class ApiToken(Base):
    """Bearer tokens (only a SHA-256 hash is stored). kind: ingest | display."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), default="ingest")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)


class RollupHourly(Base):
    """Transitions per hour × district × category × source × status, for the recent days only
    (HOURLY_RETENTION_DAYS in jobs.py); older hours live on in the daily rollup."""

    __tablename__ = "rollup_hourly"
    __table_args__ = (
        Index("ix_rollup_hourly_feed", "source", "status", "hour"),  # feed uptime
        Index(
            "ix_rollup_hourly_key",
            "hour",
            "district_id",
            "category_id",
            "source",
            "status",
            unique=True,
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    hour: Mapped[datetime] = mapped_column(DateTime)
    district_id: Mapped[int] = mapped_column(Integer)
    category_id: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer)


class RollupDaily(Base):
    """Transitions per local calendar day × district × category × source × department × status."""

    __tablename__ = "rollup_daily"
    __table_args__ = (
        Index(
            "ix_rollup_daily_key",
            "day",
            "district_id",
            "category_id",
            "source",
            "department_id",
            "status",
            unique=True,
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    district_id: Mapped[int] = mapped_column(Integer)
    category_id: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int] = mapped_column(Integer)  # 0 = not yet assigned
    status: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer)


class JobState(Base):
    """Watermarks and small persistent facts of the scheduled jobs."""

    __tablename__ = "job_state"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
