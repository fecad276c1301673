"""周例会: the figures of one ISO week against the week before (环比) and the same week a year
before (同比, where the history reaches it), and the 通报 bulletin written from them.

Every figure comes from the KPI functions (dashboard.queries.kpi_report, DESIGN §5) or from a
count of the records behind a section (alerts, work notices, staff); the bulletin only puts
those numbers into sentences, so each number in it can be traced to a key of `figures`."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from dashboard import kpi, staffing
from dashboard.auth import audit
from dashboard.clock import day_bounds, local_day, utcnow
from dashboard.domain import SOURCE_LABELS
from dashboard.exports import cell
from dashboard.models import (
    Alert,
    Category,
    Event,
    TrainingRecord,
    WeeklyBulletin,
    WorkNotice,
)
from dashboard.queries import kpi_report
from dashboard.schemas import InputError, text_problem

WEEK_TEXT = re.compile(r"^(\d{4})-W(\d{1,2})$")
TOP = 3  # 高发问题前三位, the first and last three of a 红黑榜
ALERT_LEVEL_NAMES = {1: "红色", 2: "橙色", 3: "黄色", 4: "蓝色"}


@dataclass(frozen=True)
class Week:
    """An ISO week: Monday to Sunday, local days; start and end as naive UTC."""

    year: int
    number: int
    monday: date
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def shifted(self, weeks: int, zone: ZoneInfo) -> Week:
        return containing(self.monday + timedelta(weeks=weeks), zone)


def containing(day: date, zone: ZoneInfo) -> Week:
    year, number, weekday = day.isocalendar()
    monday = day - timedelta(days=weekday - 1)
    start = day_bounds(monday, zone)[0]
    return Week(year, number, monday, start, day_bounds(monday + timedelta(days=6), zone)[1])


def parse(text, zone: ZoneInfo) -> Week:
    """ "2026-W47" → that week; InputError naming `week` for anything else."""
    m = WEEK_TEXT.match(text) if isinstance(text, str) else None
    if not m:
        raise InputError({"week": "an ISO week such as 2026-W47"})
    try:
        monday = date.fromisocalendar(int(m[1]), int(m[2]), 1)
    except ValueError:
        raise InputError({"week": f"{text} is not a week of that year"}) from None
    return containing(monday, zone)


def last_week(now: datetime, zone: ZoneInfo) -> Week:
    return containing(local_day(now, zone) - timedelta(days=7), zone)


def same_week_last_year(week: Week, zone: ZoneInfo) -> Week | None:
    """Week N of the year before (None when that year has no week 53)."""
    try:
        return containing(date.fromisocalendar(week.year - 1, week.number, 1), zone)
    except ValueError:
        return None


# --- the figures ----------------------------------------------------------------------------
HEADLINE = (
    "received",
    "accepted",
    "due_closing",
    "closed",
    "closing_rate",
    "closed_on_time",
    "on_time_closing_rate",
    "satisfaction_rate",
    "composite_score",
    "overdue_open",
    "repeats",
    "repeat_rate",
    "disputes_closed",
    "grassroots_resolution_rate",
    "mediated",
    "mediation_success_rate",
    "wuzhi_index",
)


def _headline(report: dict) -> dict:
    """The figures of a report the meeting compares (the 五治 index as its total)."""
    out = {k: report.get(k) for k in HEADLINE}
    out["wuzhi_index"] = (report.get("wuzhi_index") or {}).get("total")
    return out


def _board(rows: list[dict]) -> list[dict]:
    """Ranked rows of a 红黑榜: those with a score, best first (few cases: not ranked)."""
    scored = [r for r in rows if r.get("composite_score") is not None and r.get("rank")]
    return [
        {"name": r["name"], "code": r.get("code"), "score": r["composite_score"], "rank": r["rank"]}
        for r in sorted(scored, key=lambda r: r["rank"])
    ]


def _sources(session: Session, week: Week) -> list[dict]:
    rows = session.execute(
        select(Event.source, func.count())
        .where(Event.reported_at >= week.start, Event.reported_at < week.end)
        .group_by(Event.source)
    ).all()
    total = sum(n for _s, n in rows) or 1
    return [
        {"source": s, "name": SOURCE_LABELS.get(s, (s, s))[0], "n": n, "share": n / total}
        for s, n in sorted(rows, key=lambda r: (-r[1], r[0]))
    ]


def _subcategories(session: Session, week: Week) -> list[dict]:
    rows = session.execute(
        select(Category.name, func.count())
        .select_from(Event)
        .join(Category, Category.id == Event.subcategory_id)
        .where(Event.reported_at >= week.start, Event.reported_at < week.end)
        .group_by(Category.name)
        .order_by(func.count().desc(), Category.name)
        .limit(TOP)
    ).all()
    return [{"name": name, "n": n} for name, n in rows]


def _alerts(session: Session, week: Week) -> dict:
    raised = session.execute(
        select(Alert.level, func.count())
        .where(Alert.created_at >= week.start, Alert.created_at < week.end)
        .group_by(Alert.level)
    ).all()
    handled = session.execute(
        select(func.count()).where(
            Alert.created_at >= week.start,
            Alert.created_at < week.end,
            Alert.closed_at.is_not(None),
            Alert.closed_at < week.end,
        )
    ).scalar_one()
    by_level = {level: 0 for level in ALERT_LEVEL_NAMES} | dict(raised)
    return {"raised": sum(by_level.values()), "by_level": by_level, "handled": handled}


def _notices(session: Session, week: Week) -> dict:
    """工作提示单 issued in the week, and how many of them were closed by the week's end, and
    by their deadline."""
    in_week = (WorkNotice.issued_at >= week.start, WorkNotice.issued_at < week.end)
    closed = (WorkNotice.closed_at.is_not(None), WorkNotice.closed_at < week.end)
    issued, done, on_time = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((and_(*closed), 1), else_=0)), 0),
            func.coalesce(
                func.sum(
                    case((and_(*closed, WorkNotice.closed_at <= WorkNotice.deadline), 1), else_=0)
                ),
                0,
            ),
        ).where(*in_week)
    ).one()
    return {"issued": issued, "closed": int(done), "closed_on_time": int(on_time)}


def _staff(session: Session, week: Week, standards: staffing.Standards) -> dict:
    posts = staffing.against_standard(session, standards)
    hours = session.execute(
        select(func.coalesce(func.sum(TrainingRecord.hours), 0)).where(
            TrainingRecord.date >= week.monday, TrainingRecord.date <= week.sunday
        )
    ).scalar_one()
    return {
        "in_post": sum(p["headcount"] for p in posts),
        "required": sum(p["required"] or 0 for p in posts),
        "shortfall": staffing.shortfall(posts),
        "training_hours": float(hours or 0),
    }


def _earliest(session: Session) -> datetime | None:
    return session.execute(select(func.min(Event.reported_at))).scalar()


def figures(
    session: Session,
    week: Week,
    now: datetime,
    zone: ZoneInfo,
    standards: staffing.Standards,
) -> dict:
    """Everything the 周例会 shows of a week, for the city."""

    def report(w: Week, **kw) -> dict:
        return kpi_report(session, w.start, w.end, now, zone=zone, **kw)

    if week.start > now:
        raise InputError({"week": f"{week.label} has not begun"})
    here = report(week)
    before = week.shifted(-1, zone)
    here_before = report(before)
    year_ago = same_week_last_year(week, zone)
    earliest = _earliest(session)
    has_year_ago = year_ago is not None and earliest is not None and earliest <= year_ago.start
    return {
        "week": week.label,
        "first_day": week.monday.isoformat(),
        "last_day": week.sunday.isoformat(),
        "running": now < week.end,
        "settings_versions": here["settings_versions"],
        "here": _headline(here),
        "previous": {"week": before.label, **_headline(here_before)},
        "year_ago": (
            {"week": year_ago.label, **_headline(report(year_ago))} if has_year_ago else None
        ),
        "sources": _sources(session, week),
        "top_subcategories": _subcategories(session, week),
        "departments": _board(report(week, by="department", wuzhi=False)["breakdown"]),
        "districts": _board(report(week, by="district", wuzhi=False)["breakdown"]),
        "alerts": _alerts(session, week),
        "notices": _notices(session, week),
        "staff": _staff(session, week, standards),
        "carried_over": _carried_over(session, week, now),
        "repeat_problems": _repeat_problems(session, week),
        "mediation": _mediation(session, week, now, zone),
        "wuzhi": [
            {
                "dimension": d,
                "name": zh,
                "here": (here.get("wuzhi_index") or {}).get(d),
                "previous": (here_before.get("wuzhi_index") or {}).get(d),
            }
            for d, (zh, _en) in kpi.WUZHI_DIMENSIONS.items()
        ],
    }


CARRIED = 10  # the oldest overdue cases listed


def _carried_over(session: Session, week: Week, now: datetime) -> dict:
    """超期未办结 carried into the next week: at the week's end (or now, while it runs), by
    department, and the oldest cases (titles masked)."""
    from dashboard.queries import area_scope
    from dashboard.views.supervision import overdue_by_department

    at = min(now, week.end)
    late = overdue_by_department(session, at, area_scope(session, None))
    return {
        "total": late["total"],
        "by_department": [
            {"department": d["department"], "n": d["n"], "oldest_days": round(d["oldest_days"], 1)}
            for d in late["by_department"]
        ],
        "cases": [
            {
                k: c[k]
                for k in ("case", "title", "category", "district", "department", "overdue_days")
            }
            for c in late["cases"][:CARRIED]
        ],
    }


def _repeat_problems(session: Session, week: Week) -> list[dict]:
    """重复诉求 of the week by subcategory, the most first."""
    rows = session.execute(
        select(Category.name, func.count())
        .select_from(Event)
        .join(Category, Category.id == Event.subcategory_id)
        .where(Event.reported_at >= week.start, Event.reported_at < week.end, Event.is_repeat)
        .group_by(Category.name)
        .order_by(func.count().desc(), Category.name)
        .limit(TOP)
    ).all()
    return [{"name": name, "n": n} for name, n in rows]


def _mediation(session: Session, week: Week, now: datetime, zone: ZoneInfo) -> list[dict]:
    """三调联动: the week's mediated disputes by kind (as 督办考核 counts them)."""
    from dashboard.queries import area_scope
    from dashboard.views import supervision

    w = supervision.window(
        "custom", week.monday.isoformat(), week.sunday.isoformat(), max(now, week.start), zone
    )
    return [
        {"type": k["type"], "name": k["name"], "n": k["n"], "success_rate": k["success_rate"]}
        for k in supervision.mediation(session, w, area_scope(session, None))
    ]


# --- the 通报 -------------------------------------------------------------------------------
def pct(value: float | None) -> str:
    """92.6%; a rate without a denominator is 无 (never 0 % or 100 %)."""
    return "无" if value is None else f"{value * 100:.1f}%"


POINTS = frozenset({"composite_score", "wuzhi_index"})  # scores: their change is in points


def change(
    now: float | None, before: float | None, rate: bool = False, points: bool = False
) -> str:
    """增长/下降 by how much: a rate in percentage points, a score in points, a count in per
    cent of before."""
    if now is None or before is None:
        return "无可比数据"
    if rate or points:
        diff = (now - before) * (100 if rate else 1)
        if abs(diff) < 0.05:
            return "持平"
        unit = "个百分点" if rate else ""
        return f"{'上升' if diff > 0 else '下降'}{abs(diff):.1f}{unit}"
    if not before:
        return "无可比数据"
    diff = (now - before) / before * 100
    if abs(diff) < 0.05:
        return "持平"
    return f"{'增长' if diff > 0 else '下降'}{abs(diff):.1f}%"


def _day(d: str) -> str:
    x = date.fromisoformat(d)
    return f"{x.month}月{x.day}日"


def _zh(n: int) -> str:
    """前三位, not 前3位: the small counts of a bulletin's ranks in Chinese numerals."""
    return "零一二三四五六七八九十"[n] if 0 <= n <= 10 else str(n)


def _names(rows: list[dict]) -> str:
    return "、".join(f"{r['name']}（{r['score']:.1f}）" for r in rows) or "无"


def bulletin(f: dict, city: str = "") -> str:
    """The 通报 of a week, in the register of a center's weekly bulletin: every number is a
    figure of `f` (dashboard.weekly.figures)."""
    h, p, y = f["here"], f["previous"], f["year_ago"]
    year, number = f["week"].split("-W")
    lines = [
        f"{city}市域社会治理综合指挥中心{year}年第{int(number)}周工作通报",
        f"（{_day(f['first_day'])}至{_day(f['last_day'])}）",
        "",
        "一、总体情况",
        (
            f"本周共受理各类案件{h['received']}件，其中立案{h['accepted']}件，应结案"
            f"{h['due_closing']}件，结案{h['closed']}件，结案率{pct(h['closing_rate'])}，"
            f"按期结案{h['closed_on_time']}件，按期结案率{pct(h['on_time_closing_rate'])}，"
            f"满意率{pct(h['satisfaction_rate'])}。"
            f"受理量环比{change(h['received'], p['received'])}，"
            f"按期结案率环比{change(h['on_time_closing_rate'], p['on_time_closing_rate'], True)}"
            + (
                f"；受理量同比{change(h['received'], y['received'])}，"
                f"按期结案率同比{change(h['on_time_closing_rate'], y['on_time_closing_rate'], True)}。"
                if y
                else "。"
            )
        ),
        "",
        "二、案件来源",
        "按来源分："
        + "，".join(f"{s['name']}{s['n']}件（占{pct(s['share'])}）" for s in f["sources"])
        + "。"
        if f["sources"]
        else "本周无受理案件。",
        "",
        "三、高发问题",
        (
            "高发问题："
            if len(f["top_subcategories"]) == 1
            else f"高发问题前{_zh(len(f['top_subcategories']))}位："
        )
        + "、".join(f"{c['name']}（{c['n']}件）" for c in f["top_subcategories"])
        + "。"
        if f["top_subcategories"]
        else "本周无高发问题。",
        "",
        "四、综合指标值排名",
        f"职能部门综合指标值前{_zh(min(TOP, len(f['departments'])))}位：{_names(f['departments'][:TOP])}；"
        f"后{_zh(min(TOP, len(f['departments'])))}位：{_names(f['departments'][-TOP:][::-1])}。"
        if f["departments"]
        else "本周到期案件较少，职能部门暂不排名。",
        f"各区县综合指标值依次为：{_names(f['districts'])}。"
        if f["districts"]
        else "本周到期案件较少，各区县暂不排名。",
        "",
        "五、超期与重复诉求",
        f"截至本周末，超期未办结案件{h['overdue_open']}件，较上周"
        f"{change(h['overdue_open'], p['overdue_open'])}"
        + (
            "，其中"
            + "、".join(
                f"{d['department']}{d['n']}件" for d in f["carried_over"]["by_department"][:TOP]
            )
            if f["carried_over"]["by_department"]
            else ""
        )
        + f"；重复诉求{h['repeats']}件，重复诉求率{pct(h['repeat_rate'])}"
        + (
            "，主要为" + "、".join(f"{r['name']}（{r['n']}件）" for r in f["repeat_problems"])
            if f["repeat_problems"]
            else ""
        )
        + "。",
        "",
        "六、风险预警与工作提示",
        f"本周产生风险预警{f['alerts']['raised']}条（"
        + "、".join(
            f"{ALERT_LEVEL_NAMES[level]}{n}条" for level, n in f["alerts"]["by_level"].items()
        )
        + f"），已处置{f['alerts']['handled']}条；发出工作提示单{f['notices']['issued']}份，"
        f"已办结{f['notices']['closed']}份，其中按期办结{f['notices']['closed_on_time']}份。",
        "",
        "七、矛盾纠纷化解",
        f"本周化解矛盾纠纷{h['disputes_closed']}件，就地化解率{pct(h['grassroots_resolution_rate'])}；"
        f"调解{h['mediated']}件，调解成功率{pct(h['mediation_success_rate'])}"
        + (
            "。其中"
            + "、".join(
                f"{m['name']}{m['n']}件（成功率{pct(m['success_rate'])}）"
                for m in f["mediation"]
                if m["n"]
            )
            + "。"
            if any(m["n"] for m in f["mediation"])
            else "。"
        ),
        "",
        "八、队伍建设",
        f"全市在编网格员、社工、调解员等{f['staff']['in_post']}人，按配备标准应配"
        f"{f['staff']['required']}人，缺编{f['staff']['shortfall']}人；"
        f"本周完成培训{f['staff']['training_hours']:g}学时。",
        "",
        "九、五治融合指数",
        f"本周五治融合指数{_points(h['wuzhi_index'])}，环比{change(h['wuzhi_index'], p['wuzhi_index'], points=True)}"
        + (
            "；其中"
            + "、".join(
                f"{d['name']}{_points(d['here'])}" for d in f["wuzhi"] if d["here"] is not None
            )
            + "。"
            if any(d["here"] is not None for d in f["wuzhi"])
            else "。"
        ),
    ]
    return "\n".join(lines)


def _points(value: float | None) -> str:
    return "无" if value is None else f"{value:.1f}"


# --- the edited 通报 ------------------------------------------------------------------------
BULLETIN_MAX = 20_000  # characters


def saved_bulletin(session: Session, week: Week) -> WeeklyBulletin | None:
    return session.execute(
        select(WeeklyBulletin).where(WeeklyBulletin.week == week.label)
    ).scalar_one_or_none()


def bulletin_text(session: Session, week: Week, generated: str) -> tuple[str, bool]:
    """The 通报 to show: the edited one when someone has edited it, else the generated one;
    and whether it is the edited one."""
    saved = saved_bulletin(session, week)
    return (saved.text, True) if saved is not None else (generated, False)


def save_bulletin(
    session: Session, week: Week, text, generated: str, actor: str, address: str | None
) -> WeeklyBulletin:
    """Keep an edited 通报 (and the generated text it was edited from); InputError for text
    that is empty, too long or holds NUL characters. Audit-logged."""
    if not isinstance(text, str):
        raise InputError({"text": "must be text"})
    problem = "must not be empty" if not text.strip() else text_problem(text, BULLETIN_MAX, 1)
    if problem:
        raise InputError({"text": problem})
    row = saved_bulletin(session, week)
    now = utcnow()
    if row is None:
        row = WeeklyBulletin(week=week.label)
        session.add(row)
    row.generated, row.text, row.edited_by, row.edited_at = generated, text, actor, now
    audit(session, actor, "weekly.bulletin_edit", week.label, f"{len(text)} characters", address)
    return row


# --- the workbook -----------------------------------------------------------------------------
HEADLINE_NAMES = {
    "received": "受理",
    "accepted": "立案",
    "due_closing": "应结案",
    "closed": "结案",
    "closing_rate": "结案率",
    "closed_on_time": "按期结案",
    "on_time_closing_rate": "按期结案率",
    "satisfaction_rate": "满意率",
    "composite_score": "综合指标值",
    "overdue_open": "超期未办结",
    "repeats": "重复诉求",
    "repeat_rate": "重复诉求率",
    "disputes_closed": "矛盾纠纷化解",
    "grassroots_resolution_rate": "就地化解率",
    "mediated": "调解",
    "mediation_success_rate": "调解成功率",
    "wuzhi_index": "五治融合指数",
}


def to_xlsx(f: dict, text: str) -> bytes:
    """The week as a workbook: a sheet per section, numbers as numbers (rates as fractions
    shown as per cent), the 通报 on its own sheet."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "总体情况"
    sheet.append(
        [
            "指标",
            f["week"],
            f"环比 {f['previous']['week']}",
            "同比" + (f" {f['year_ago']['week']}" if f["year_ago"] else ""),
        ]
    )
    for key, name in HEADLINE_NAMES.items():
        row = [name, f["here"][key], f["previous"][key], (f["year_ago"] or {}).get(key)]
        sheet.append(row)
        if key.endswith("_rate"):
            for c in sheet[sheet.max_row][1:]:
                c.number_format = "0.0%"
    sections = (
        (
            "案件来源",
            ["来源", "件数", "占比"],
            [[s["name"], s["n"], s["share"]] for s in f["sources"]],
            {3},
        ),
        (
            "高发问题",
            ["问题", "件数"],
            [[c["name"], c["n"]] for c in f["top_subcategories"]],
            set(),
        ),
        (
            "部门排名",
            ["排名", "部门", "综合指标值"],
            [[r["rank"], r["name"], r["score"]] for r in f["departments"]],
            set(),
        ),
        (
            "区县排名",
            ["排名", "区县", "综合指标值"],
            [[r["rank"], r["name"], r["score"]] for r in f["districts"]],
            set(),
        ),
        (
            "风险预警",
            ["项目", "数量"],
            [
                ["预警", f["alerts"]["raised"]],
                *[[f"{ALERT_LEVEL_NAMES[k]}预警", v] for k, v in f["alerts"]["by_level"].items()],
                ["已处置", f["alerts"]["handled"]],
                ["工作提示单", f["notices"]["issued"]],
                ["已办结", f["notices"]["closed"]],
                ["按期办结", f["notices"]["closed_on_time"]],
            ],
            set(),
        ),
        (
            "队伍建设",
            ["项目", "数量"],
            [
                ["在编", f["staff"]["in_post"]],
                ["应配", f["staff"]["required"]],
                ["缺编", f["staff"]["shortfall"]],
                ["本周培训学时", f["staff"]["training_hours"]],
            ],
            set(),
        ),
    )
    carried = f.get("carried_over") or {"cases": []}
    sections += (
        (
            "超期案件",
            ["案件", "标题", "问题", "区县", "部门", "超期天数"],
            [
                [
                    c["case"],
                    c["title"],
                    c["category"],
                    c["district"],
                    c["department"],
                    c["overdue_days"],
                ]
                for c in carried["cases"]
            ],
            set(),
        ),
        (
            "三调联动",
            ["调解类型", "件数", "成功率"],
            [[m["name"], m["n"], m["success_rate"]] for m in f.get("mediation", [])],
            {3},
        ),
        (
            "五治融合",
            ["维度", "本周", "上周"],
            [[d["name"], d["here"], d["previous"]] for d in f.get("wuzhi", [])],
            set(),
        ),
    )
    for title, header, rows, percent_columns in sections:
        ws = book.create_sheet(title)
        ws.append(header)
        for r in rows:
            ws.append([cell(v) for v in r])
            for col in percent_columns:
                ws.cell(ws.max_row, col).number_format = "0.0%"
    ws = book.create_sheet("通报")
    for line in text.split("\n"):
        ws.append([cell(line)])
    ws.column_dimensions["A"].width = 120
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
