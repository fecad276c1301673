"""人才队伍: the staffing standard and its gaps, 在岗 from the rota and check-ins (across shift
boundaries and midnight), the personnel office's imports (good and bad files, all or nothing,
a dry run), the read model of the page, a person and the audited reveal, check-ins by API."""

from __future__ import annotations

import base64
import csv
import io
from datetime import datetime, timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from dashboard import duty, privacy, roster, staffing, wall
from dashboard.importer import ImportFailed
from dashboard.models import AuditLog, CheckIn, DutyShift, Staff, TrainingRecord
from dashboard.schemas import InputError
from dashboard.views import talent as view
from tests.conftest import as_role, rt_client
from tests.dash_requests import call, route
from tests.factories import T0, event, h, shift, staff

STANDARDS = staffing.load()
EARLY = timedelta(minutes=STANDARDS.check_in_early_minutes)
# Valid ID numbers (GB 11643 check digits), and one with its check digit wrong.
ID_A, ID_B, ID_BAD = "110101199003071233", "330102198501010022", "110101199003071234"


def _count(rt, model) -> int:
    with rt.sessions() as session:
        return session.execute(select(func.count()).select_from(model)).scalar()


def _csv(path, header: list[str], rows: list[list], encoding: str = "utf-8-sig"):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return str(path)


def _quiet(_message: str) -> None:
    pass


# --- the standard -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, message",
    [
        ({"standard": {"chef": {"per": "grid"}}}, "unknown role 'chef'"),
        ({"standard": {"mediator": {"per": "planet"}}}, "standard.mediator.per"),
        ({"standard": {"mediator": {"per": "grid", "per_residents": 5}}}, "either `per`"),
        ({"standard": {"mediator": {"per": "grid", "count": -1}}}, "standard.mediator.count"),
        ({"training": {"hours_per_year": "many"}}, "training.hours_per_year"),
        ({"training": {"certificates": {"mediator": {"name": "证", "target": 2}}}}, "target"),
        (
            {"training": {"certificates": {"mediator": {"target": 0.5}}}},
            "certificates.mediator.name",
        ),
        ({"duty": {"grid_roles": ["grid_fulltime", "boss"]}}, "duty.grid_roles"),
    ],
)
def test_a_bad_standard_is_named(raw, message):
    with pytest.raises(ValueError, match=message):
        staffing.parse(raw)


def test_the_standard_file_is_read_at_start(tmp_path):
    from dashboard.config import load_settings

    bad = tmp_path / "staffing.toml"
    bad.write_text("[standard.grid_fulltime]\nper = 'grid'\ncount = 'one'\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"standard\.grid_fulltime\.count"):
        load_settings({"VAR_DIR": str(tmp_path), "STAFFING_FILE": str(bad)})
    with pytest.raises(ValueError, match="cannot read"):
        load_settings({"VAR_DIR": str(tmp_path), "STAFFING_FILE": str(tmp_path / "none.toml")})
    good = tmp_path / "good.toml"
    good.write_text("[standard.mediator]\nper = 'community'\ncount = 2\n", encoding="utf-8")
    s = load_settings({"VAR_DIR": str(tmp_path), "STAFFING_FILE": str(good)})
    assert (
        list(s.staffing.standards) == ["mediator"] and s.staffing.standards["mediator"].count == 2
    )


def _roster(session):
    """District 339001 (grids G11, G12; 20,000 residents): one full-time grid worker on G11 and
    one who has left on G12, three social workers, no mediator. District 339002: G21 and G22
    both covered, two social workers, one mediator."""
    ids = {
        "A": staff(session, "A", "G11"),
        "gone": staff(session, "GONE", "G12", status="off"),
        "B": staff(session, "B", "G21"),
        "C": staff(session, "C", "G22", status="leave"),
    }
    for i in range(3):
        staff(session, f"SW{i}", "C1", "social_worker")
    for i in range(2):
        staff(session, f"SX{i}", "C2", "social_worker")
    staff(session, "M2", "C2", "mediator")
    return ids


def test_headcount_against_the_standard_on_constructed_data(rt, city):
    with rt.sessions() as session, session.begin():
        _roster(session)
    with rt.sessions() as session:
        rows = staffing.against_standard(session, STANDARDS)
        uncovered = staffing.uncovered_grids(session)
        one = staffing.against_standard(session, STANDARDS, district_id=2)
    table = {(r["district"], r["role"]): (r["headcount"], r["required"], r["gap"]) for r in rows}
    # one full-time grid worker a grid: district 1 has G11 only (the one on G12 has left)
    assert table[("339001", "grid_fulltime")] == (1, 2, -1)
    # one on leave still fills the post
    assert table[("339002", "grid_fulltime")] == (2, 2, 0)
    # one social worker per 10,000 residents: 20,000 → 2; three is one over
    assert table[("339001", "social_worker")] == (3, 2, 1)
    assert table[("339002", "social_worker")] == (2, 2, 0)
    # one mediator a community
    assert table[("339001", "mediator")] == (0, 1, -1)
    assert table[("339002", "mediator")] == (1, 1, 0)
    # no standard for part-time grid workers: counted, no gap
    assert table[("339001", "grid_parttime")] == (0, None, None)
    # a street and a district each need their governance officer and network administrator
    assert table[("339001", "governance_officer")] == (0, 1, -1)
    assert table[("339001", "it_admin")] == (0, 1, -1)
    # a surplus in one place does not fill a hole in another
    assert staffing.shortfall(rows) == 6
    assert staffing.gaps_by_district(rows) == {"339001": 4, "339002": 2}
    assert [g["code"] for g in uncovered] == ["G12"] and uncovered[0]["street"] == "S1"
    assert {r["district"] for r in one} == {"339001"}


# --- 在岗 ---------------------------------------------------------------------------------
def _present(rt, at, **kw) -> set[int]:
    with rt.sessions() as session:
        return {d.staff_id for d in duty.roster_at(session, at, EARLY, **kw) if d.present}


def _scheduled(rt, at) -> set[int]:
    with rt.sessions() as session:
        return {d.staff_id for d in duty.roster_at(session, at, EARLY)}


def test_on_duty_follows_the_shift_and_the_check_ins_across_midnight(rt, city):
    night = T0 + h(12)  # Monday 20:00 local → Tuesday 08:00 local
    with rt.sessions() as session, session.begin():
        ids = _roster(session)
        a, b, c = ids["A"], ids["B"], ids["C"]
        # A: the night shift, checked in 30 minutes early, checked out at 02:00 local
        shift(
            session, a, night, 12, checked_in=night - h(0.5), checked_out=night + h(6), kind="night"
        )
        # B: the same night shift, checked in too early to count (two hours before); then the
        # next day's shift from 09:00 local, checked in at 08:15
        shift(session, b, night, 12, checked_in=night - h(2), kind="night")
        shift(session, b, night + h(13), 9, checked_in=night + h(12.25))
        # C is on leave: on the rota, never checks in
        shift(session, c, night, 12)
        # the one who left is on an old rota and checked in: not counted
        shift(session, ids["gone"], night, 12, checked_in=night)
    assert _scheduled(rt, night - timedelta(seconds=1)) == set()  # 19:59:59 local
    assert _present(rt, night - timedelta(seconds=1)) == set()  # checked in, shift not begun
    assert _scheduled(rt, night) == {a, b, c}
    assert _present(rt, night) == {a}
    just_before_midnight = night + h(4) - timedelta(seconds=1)  # 23:59:59 local
    midnight = night + h(4)  # 00:00 local, Tuesday
    assert _present(rt, just_before_midnight) == {a} and _present(rt, midnight) == {a}
    assert _present(rt, night + h(6) - timedelta(seconds=1)) == {a}
    assert _present(rt, night + h(6)) == set()  # A checked out at 02:00
    assert _present(rt, night + h(12) - timedelta(seconds=1)) == set()  # 07:59:59 local
    assert _scheduled(rt, night + h(12)) == set()  # 08:00: the night shift is over
    # 08:59:59 local: B has checked in for a shift that has not begun: not yet
    assert _present(rt, night + h(13) - timedelta(seconds=1)) == set()
    assert _present(rt, night + h(13)) == {b} and _scheduled(rt, night + h(13)) == {b}
    # by district and role, and the grid roles alone
    with rt.sessions() as session:
        roster_now = duty.roster_at(session, night, EARLY)
        grid_only = duty.roster_at(session, night, EARLY, roles=("grid_parttime",))
    assert duty.count(roster_now, "district_id") == {2: 1}
    assert duty.count(roster_now, present=False) == {None: 3}
    assert grid_only == []


def test_the_wall_compares_on_duty_with_the_same_time_yesterday(rt, city):
    from dashboard import wall
    from dashboard.views import overview

    now = T0 + h(24 + 2)  # Tuesday 10:00 local
    with rt.sessions() as session, session.begin():
        ids = _roster(session)
        for day in (0, 1):  # Monday and Tuesday day shifts, 08:00–18:00 local
            start = T0 + h(24 * day)
            shift(session, ids["A"], start, 10, checked_in=start)
            # B came on Monday only
            shift(session, ids["B"], start, 10, checked_in=start if day == 0 else None)
    with rt.sessions() as session:
        snap = wall.build_snapshot(session, now, rt.settings.zone, standards=STANDARDS)
    assert (snap["on_duty_grid_staff"], snap["on_duty_yesterday"]) == (1, 2)
    assert snap["on_duty_by_district"] == {"339001": 1}
    assert snap["on_duty_yesterday_by_district"] == {"339001": 1, "339002": 1}
    assert snap["staffing_gap"] == 6 and snap["uncovered_grids"] == 1
    rt.live.set_document("wall", snap)
    tiles = overview.tiles(rt.live, snap, now)
    assert tiles["on_duty"] == {"value": 1, "before": 2, "month": None, "gap": 6}
    one = overview.tiles(rt.live, snap, now, "339002")["on_duty"]
    assert (one["value"], one["before"], one["gap"]) == (0, 1, 2)


# --- the roster import --------------------------------------------------------------------
HEADER = [
    "序号",
    "工号",
    "姓名",
    "身份证号",
    "手机号",
    "岗位",
    "网格编码",
    "政治面貌",
    "持证情况",
    "入职日期",
    "状态",
]


def _people_file(tmp_path, rows, encoding="utf-8-sig", name="roster.csv"):
    return _csv(tmp_path / name, HEADER, rows, encoding)


GOOD = [
    [
        1,
        "W001",
        "张伟",
        ID_A,
        "+86 138-1234-5678",
        "专职网格员",
        "G11",
        "中共党员",
        "网格员培训合格证",
        "2021/3/1",
        "在职",
    ],
    [
        2,
        "W002",
        "李娜",
        ID_B,
        "０５７１－８７６５４３２１",
        "人民调解员",
        "C1",
        "群众",
        "人民调解员证、社工证",
        "2019-07-15",
        "请假",
    ],
]


def test_a_gbk_roster_with_chinese_columns_is_checked_then_imported(rt, city, tmp_path):
    path = _people_file(tmp_path, GOOD, encoding="gbk")
    dry = roster.import_file(rt, "staff", path, _quiet, dry_run=True)
    assert (dry.dry_run, dry.written, dry.errors) == (True, False, [])
    assert (dry.created, dry.updated) == (2, 0) and _count(rt, Staff) == 0
    first = dry.preview.rows[0]
    assert first["action"] == "create" and first["name"] == "张*"
    assert first["id_number"] == "110***********1233" and first["phone"] == "138****5678"
    assert ID_A not in str(dry.preview.rows) and "12345678" not in str(dry.preview.rows)
    report = roster.import_file(rt, "staff", path, _quiet)
    assert (report.written, report.created) == (True, 2)
    with rt.sessions() as session:
        w1, w2 = session.execute(select(Staff).order_by(Staff.staff_no)).scalars()
    assert (w1.role, w1.party_member, w1.district_id, w1.street_id) == ("grid_fulltime", True, 2, 3)
    assert (w1.phone, w1.hire_date.isoformat(), w1.status) == (
        "13812345678",
        "2021-03-01",
        "on_duty",
    )
    assert (w2.role, w2.status, w2.phone) == ("mediator", "leave", "057187654321")
    assert w2.certifications == "人民调解员证,社工证"
    assert w1.id_key == roster.id_key(ID_A, rt.settings.secret_key) and w1.id_key != ID_A
    # the same file again with a change: an update by staff number, nothing doubled
    rows = [r[:] for r in GOOD]
    rows[0][5] = "兼职网格员"
    again = roster.import_file(rt, "staff", _people_file(tmp_path, rows), _quiet, dry_run=True)
    assert (again.created, again.updated) == (0, 2)
    assert [r["action"] for r in again.preview.rows] == ["update", "same"]
    assert again.preview.rows[0]["changes"] == "role"
    roster.import_file(rt, "staff", _people_file(tmp_path, rows), _quiet)
    with rt.sessions() as session:
        assert (
            session.execute(select(Staff.role).where(Staff.staff_no == "W001")).scalar()
            == "grid_parttime"
        )
    assert _count(rt, Staff) == 2


def test_the_id_number_and_phone_are_sealed_with_a_key(rt, city, tmp_path):
    privacy.configure("a long operator secret")
    try:
        roster.import_file(rt, "staff", _people_file(tmp_path, GOOD), _quiet)
        with rt.sessions() as session:
            w1 = session.execute(select(Staff).where(Staff.staff_no == "W001")).scalar_one()
            assert w1.id_number.startswith(privacy.SEALED) and ID_A not in w1.id_number
            assert w1.phone.startswith(privacy.SEALED)
            assert privacy.unseal(w1.id_number) == ID_A
            p = view.person(session, "W001", T0, rt.settings.zone, STANDARDS)
        assert (p["id_number"], p["phone"], p["name"]) == (
            "110***********1233",
            "138****5678",
            "张*",
        )
        # the unchanged file again: nothing to change, though sealing is not deterministic
        again = roster.import_file(rt, "staff", _people_file(tmp_path, GOOD), _quiet, dry_run=True)
        assert [r["action"] for r in again.preview.rows] == ["same", "same"]
    finally:
        privacy.configure(None)


@pytest.mark.parametrize(
    "change, row, field, message",
    [
        ((0, 3, ID_BAD), 2, "id_number", "check digit"),
        ((0, 3, "11010119901307123X"), 2, "id_number", "date of birth"),
        ((0, 3, "1101011990"), 2, "id_number", "18 characters"),
        ((1, 6, "G99"), 3, "area_code", "unknown area"),
        ((1, 9, "2019-02-30"), 3, "hire_date", "not a date"),
        ((1, 9, "去年"), 3, "hire_date", "such as 2026-11-28"),
        ((1, 5, "厨师"), 3, "role", "must be one of"),
        ((1, 7, "也许"), 3, "party_member", "是/否"),
        ((1, 4, "12"), 3, "phone", "mobile"),
        ((1, 1, "W001"), 3, "staff_no", "appears twice in the file (row 2)"),
        ((1, 3, ID_A), 3, "id_number", "the same ID number as row 2"),
        ((1, 2, "李\x00娜"), 3, "name", "NUL"),
        ((1, 2, "x" * 101), 3, "name", "at most 100"),
    ],
)
def test_a_bad_roster_row_stops_the_file(rt, city, tmp_path, change, row, field, message):
    rows = [r[:] for r in GOOD]
    i, col, value = change
    rows[i][col] = value
    report = roster.import_file(rt, "staff", _people_file(tmp_path, rows), _quiet)
    assert not report.written and (report.created, report.updated) == (0, 0)
    assert [e["row"] for e in report.errors] == [row]
    assert field in report.errors[0]["errors"] and message in report.errors[0]["errors"][field]
    assert ID_A not in str(report.errors) and ID_BAD not in str(report.errors)
    assert _count(rt, Staff) == 0
    assert report.error_file is not None and report.error_file.exists()


def test_an_id_number_already_on_the_roster_under_another_number_is_refused(rt, city, tmp_path):
    roster.import_file(rt, "staff", _people_file(tmp_path, GOOD[:1]), _quiet)
    rows = [GOOD[1][:], [3, "W009", "张伟", ID_A, "", "社工", "C1", "", "", "", ""]]
    report = roster.import_file(rt, "staff", _people_file(tmp_path, rows), _quiet)
    assert report.errors == [
        {"row": 3, "errors": {"id_number": "already on the roster under staff number W001"}}
    ]
    assert _count(rt, Staff) == 1  # W002 was not written either


@pytest.mark.parametrize(
    "header, message",
    [
        (["工号", "姓名", "身份证", "岗位", "网格编码"], "columns not understood: 身份证"),
        (["工号", "姓名", "岗位"], "missing columns: area_code"),
        (["工号", "staff_no", "姓名", "岗位", "网格编码"], "more than one column gives staff_no"),
    ],
)
def test_wrong_columns_stop_the_file_before_anything(rt, city, tmp_path, header, message):
    path = _csv(
        tmp_path / "cols.csv", header, [["W1", "张三", "x", "专职网格员", "G11"][: len(header)]]
    )
    with pytest.raises(ImportFailed, match=message):
        roster.import_file(rt, "staff", path, _quiet)
    assert _count(rt, Staff) == 0


def test_an_xlsx_roster_and_a_district_officer_area(rt, city, tmp_path):
    book = Workbook()
    book.active.append(["工号", "姓名", "岗位", "所属区域编码", "入职日期"])
    book.active.append(["X1", "王五", "综治专干", "S2", datetime(2020, 5, 6)])
    book.active.append(["X2", "赵六", "网络技术管理员", "339002", None])
    path = tmp_path / "r.xlsx"
    book.save(path)
    report = roster.import_file(rt, "staff", str(path), _quiet)
    assert report.written and report.created == 2
    with rt.sessions() as session:
        x1, x2 = session.execute(select(Staff).order_by(Staff.staff_no)).scalars()
    assert (x1.district_id, x1.street_id, x1.hire_date.isoformat()) == (7, 8, "2020-05-06")
    assert (x2.district_id, x2.street_id, x2.hire_date) == (7, None, None)


# --- the duty roster and training imports -------------------------------------------------
def test_a_duty_roster_with_a_night_shift_past_midnight(rt, city, tmp_path):
    with rt.sessions() as session, session.begin():
        _roster(session)
    rows = [
        ["A", "2026-11-02", "08:00", "18:00", "白班"],
        ["A", "2026-11-03", "20:00", "08:00", "夜班"],  # ends Wednesday 08:00 local
        ["B", "2026/11/02", "8：30", "24:00", ""],
    ]
    path = _csv(tmp_path / "rota.csv", ["工号", "日期", "开始时间", "结束时间", "班次"], rows)
    dry = roster.import_file(rt, "shifts", path, _quiet, dry_run=True)
    assert (dry.created, dry.written, _count(rt, DutyShift)) == (3, False, 0)
    report = roster.import_file(rt, "shifts", path, _quiet)
    assert report.written and report.created == 3
    with rt.sessions() as session:
        stored = session.execute(
            select(Staff.staff_no, DutyShift.starts_at, DutyShift.ends_at, DutyShift.kind)
            .join(Staff, Staff.id == DutyShift.staff_id)
            .order_by(Staff.staff_no, DutyShift.starts_at)
        ).all()
    assert stored == [
        ("A", T0, T0 + h(10), "day"),
        ("A", T0 + h(36), T0 + h(48), "night"),
        ("B", T0 + h(0.5), T0 + h(16), "day"),  # 08:30 to midnight local
    ]
    rows[1][3] = "09:00"  # the night shift now ends an hour later: an update, not a second
    again = roster.import_file(
        rt,
        "shifts",
        _csv(tmp_path / "rota2.csv", ["工号", "日期", "开始时间", "结束时间", "班次"], rows),
        _quiet,
    )
    assert (again.created, again.updated) == (0, 3) and _count(rt, DutyShift) == 3


@pytest.mark.parametrize(
    "row, field, message",
    [
        (["NOBODY", "2026-11-02", "08:00", "18:00", ""], "staff_no", "not on the roster"),
        (["A", "2026-13-02", "08:00", "18:00", ""], "date", "not a date"),
        (["A", "2026-11-02", "25:00", "18:00", ""], "start", "time of day"),
        (["A", "2026-11-02", "08:00", "18:00", "早班"], "kind", "白班/夜班/值班"),
        (["A", "2026-11-02", "17:00", "20:00", ""], "start", "overlaps the shift of row 2"),
    ],
)
def test_a_bad_shift_stops_the_file(rt, city, tmp_path, row, field, message):
    with rt.sessions() as session, session.begin():
        _roster(session)
    rows = [["A", "2026-11-02", "08:00", "18:00", ""], row]
    path = _csv(tmp_path / "rota.csv", ["工号", "日期", "开始时间", "结束时间", "班次"], rows)
    report = roster.import_file(rt, "shifts", path, _quiet)
    assert not report.written and [e["row"] for e in report.errors] == [3]
    assert message in report.errors[0]["errors"][field]
    assert _count(rt, DutyShift) == 0


def test_training_records_and_their_errors(rt, city, tmp_path, time_machine):
    time_machine.move_to(T0 + h(30), tick=False)  # Tuesday 14:00 local
    with rt.sessions() as session, session.begin():
        _roster(session)
    header = ["工号", "课程名称", "学时", "培训日期", "获得证书"]

    def load(rows, **kw):
        return roster.import_file(
            rt, "training", _csv(tmp_path / "t.csv", header, rows), _quiet, **kw
        )

    good = [
        ["A", "网格化服务管理业务培训", "8", "2026-10-10", "网格员培训合格证"],
        ["A", "普法", "2.5", "2026-11-01", ""],
    ]
    report = load(good)
    assert report.written and report.created == 2
    for bad, field, message in (
        (["B", "普法", "0", "2026-11-01", ""], "hours", "greater than 0"),
        (["B", "普法", "x", "2026-11-01", ""], "hours", "must be a number"),
        (["B", "普法", "2", "2026-12-25", ""], "date", "is in the future"),
        (["NOBODY", "普法", "2", "2026-11-01", ""], "staff_no", "not on the roster"),
        (["B", "", "2", "2026-11-01", ""], "course", "required"),
    ):
        r = load([["B", "安全", "2", "2026-11-01", ""], bad])
        assert not r.written and [e["row"] for e in r.errors] == [3], bad
        assert message in r.errors[0]["errors"][field], r.errors
    twice = load([["B", "普法", "2", "2026-11-01", ""], ["B", "普法", "2", "2026-11-01", ""]])
    assert twice.errors == [
        {"row": 3, "errors": {"course": "the same course on the same day as row 2"}}
    ]
    assert _count(rt, TrainingRecord) == 2
    again = load([["A", "普法", "3", "2026-11-01", ""]])  # the same course and day: an update
    assert (again.created, again.updated) == (0, 1)
    with rt.sessions() as session:
        hours = dict(session.execute(select(TrainingRecord.course, TrainingRecord.hours)).all())
    assert hours == {"网格化服务管理业务培训": 8.0, "普法": 3.0}


def test_an_upload_is_checked_then_written_and_audited(rt, city, tmp_path):
    data = ",".join(HEADER) + "\n" + ",".join(map(str, GOOD[0])) + "\n"
    url = "data:text/csv;base64," + base64.b64encode(data.encode("gbk")).decode()
    dry = roster.import_upload(rt, "staff", "花名册.csv", url, "admin-1", "10.0.0.9", dry_run=True)
    assert dry.created == 1 and _count(rt, Staff) == 0 and _count(rt, AuditLog) == 0
    done = roster.import_upload(
        rt, "staff", "花名册.csv", url, "admin-1", "10.0.0.9", dry_run=False
    )
    assert done.written and _count(rt, Staff) == 1
    with rt.sessions() as session:
        entry = session.execute(select(AuditLog)).scalar_one()
    assert (entry.actor, entry.action, entry.target) == ("admin-1", "import.staff", "花名册.csv")
    assert "1 created" in entry.detail
    for name, contents, message in (
        ("x.txt", url, ".csv or .xlsx"),
        ("x.csv", "not a data url", "did not arrive as a file"),
        ("x.csv", "data:text/csv;base64,!!!", "did not arrive as a file"),
    ):
        with pytest.raises(ImportFailed, match=message):
            roster.import_upload(rt, "staff", name, contents, "admin-1", None)


# --- the page's read model ----------------------------------------------------------------
def _workday(rt):
    """The roster, Monday's shifts with check-ins, open events in G11 and G21, patrol reports
    this week, training this year."""
    with rt.sessions() as session, session.begin():
        ids = _roster(session)
        shift(session, ids["A"], T0, 10, checked_in=T0 - h(0.2))
        shift(session, ids["B"], T0, 10)  # not checked in
        session.add_all(
            [
                TrainingRecord(
                    staff_id=ids["A"],
                    course="普法",
                    hours=30,
                    date=T0.date(),
                    certificate="网格员培训合格证",
                ),
                TrainingRecord(staff_id=ids["A"], course="安全", hours=12, date=T0.date()),
                TrainingRecord(staff_id=ids["B"], course="普法", hours=6, date=T0.date()),
            ]
        )
    rt.ingestor.ingest_events(
        [event(f"P{i}", T0 + h(0.5 + i * 0.1), "G11") for i in range(4)]
        + [event("P9", T0 + h(1), "G21"), event("H1", T0 + h(1), "G12", source="hotline")],
        now=T0 + h(2),
    )
    return ids


def test_the_report_on_constructed_data(rt, city):
    _workday(rt)
    now = T0 + h(2)  # Monday 10:00 local
    with rt.sessions() as session:
        r = view.report(session, now, rt.settings.zone, STANDARDS)
        one = view.report(session, now, rt.settings.zone, STANDARDS, "339002")
        with pytest.raises(InputError):
            view.report(session, now, rt.settings.zone, STANDARDS, "G11")
    c = r["cards"]
    assert (c["in_post"], c["shortfall"], c["uncovered_grids"]) == (9, 6, 1)
    assert (c["on_duty_grid"], c["on_duty_grid_yesterday"], c["scheduled_absent"]) == (1, 0, 1)
    # grid workers in post: A (G11) and B (G21), C (G22, on leave); 6 open events in 3 grids
    w = r["workload"]
    assert w["workers"] == 3 and c["open_per_worker"] == round(6 / 3, 2)
    assert c["patrol_per_worker"] == round(5 / 3, 2)  # the hotline case is not a patrol's
    assert [(p["staff_no"], p["open"], p["patrol_week"]) for p in w["people"]] == [
        ("A", 4.0, 4.0),
        ("B", 1.0, 1.0),
        ("C", 0.0, 0.0),
    ]
    assert w["grids"][0] == {
        "grid": "G12",
        "grid_name": "网格12",
        "workers": 0,
        "open": 1,
        "open_per_worker": None,
        "patrol_week": 0,
    }
    assert sum(b["people"] for b in w["histogram"]) == 3
    by_district = {d["district"]: d for d in w["by_district"]}
    assert (by_district["339001"]["workers"], by_district["339001"]["open_per_worker"]) == (1, 5.0)
    assert (by_district["339002"]["workers"], by_district["339002"]["patrol_per_worker"]) == (
        2,
        0.5,
    )
    tr = {x["role"]: x for x in r["training"]["by_role"]}
    assert tr["grid_fulltime"]["hours_mean"] == round((42 + 6 + 0) / 3, 1)
    assert tr["grid_fulltime"]["met_target"] == round(1 / 3, 4)  # A alone has 40 hours
    assert tr["grid_fulltime"]["certificate_rate"] == round(1 / 3, 4)
    assert tr["social_worker"]["certificate_rate"] == 0.0
    assert r["training"]["courses"][0] == {"course": "普法", "completed": 2, "hours": 36.0}
    assert {(m["district"], m["mediators"]) for m in r["mediation"]} == {
        ("339001", 0),
        ("339002", 1),
    }
    assert one["cards"]["on_duty_grid"] == 0 and one["cards"]["scheduled_absent"] == 1
    assert [p["staff_no"] for p in one["workload"]["people"]] == ["B", "C"]


def test_a_person_is_masked_and_a_reveal_is_audited(rt, city):
    _workday(rt)
    with rt.sessions() as session, session.begin():
        a = session.execute(select(Staff).where(Staff.staff_no == "A")).scalar_one()
        a.name, a.phone, a.id_number = "张三丰", "13812345678", ID_A
    now = T0 + h(2)
    with rt.sessions() as session:
        p = view.person(session, "A", now, rt.settings.zone, STANDARDS)
        with pytest.raises(InputError, match="no such person"):
            view.person(session, "A", now, rt.settings.zone, STANDARDS, district_id=7)
        with pytest.raises(InputError):
            view.person(session, {"x": 1}, now, rt.settings.zone, STANDARDS)
    assert (p["name"], p["phone"], p["id_number"]) == ("张**", "138****5678", "110***********1233")
    assert p["on_duty"] is True and p["open_in_grid"] == 4 and p["patrol_week"] == 4
    assert p["area"] == "第1区 › 第1街道 › 网格11"
    assert [s["from"] for s in p["shifts"]] == ["11-02 08:00"] and p["shifts"][0]["now"]
    assert p["training_hours_year"] == 42 and len(p["events"]) == 4
    assert "13812345678" not in str(p) and ID_A not in str(p)
    with rt.sessions() as session, session.begin():
        shown = view.reveal(session, "A", None, "duty-1", "核实值班情况", "10.0.0.1")
        with pytest.raises(InputError):
            view.reveal(session, "A", 7, "district-2", "核实值班情况", "10.0.0.1")
    assert shown == {"name": "张三丰", "phone": "13812345678", "id_number": ID_A}
    with rt.sessions() as session:
        log = session.execute(select(AuditLog)).scalars().all()
    assert [(x.actor, x.action, x.target, x.detail) for x in log] == [
        ("duty-1", "pii.reveal", "staff:A", "核实值班情况")
    ]


# --- check-ins by API -----------------------------------------------------------------------
def test_check_ins_by_api(client, rt, city, bearer, time_machine):
    time_machine.move_to(T0 + h(1), tick=False)
    with rt.sessions() as session, session.begin():
        ids = _roster(session)
        shift(session, ids["A"], T0, 10)
    body = {
        "check_ins": [
            {"staff_no": "A", "kind": "in", "at": "2026-11-02T07:55:00+08:00"},
            {"staff_no": "A", "kind": "in", "at": "2026-11-02T07:55:00+08:00"},
            {"staff_no": "GONE", "kind": "in"},
            {"staff_no": "A", "kind": "sideways"},
            {"staff_no": "A", "kind": "out", "at": "2026-11-03T08:00:00+08:00"},
            {"staff_no": "A\x00", "kind": "in"},
        ]
    }
    r = client.post("/api/v1/checkins", json=body, headers=bearer)
    assert r.status_code == 200, r.json
    assert (r.json["created"], r.json["duplicate"], r.json["rejected"]) == (1, 1, 4)
    errors = {x["index"]: x.get("errors") for x in r.json["results"] if x["status"] == "rejected"}
    assert errors[2] == {"staff_no": "not on the roster (or has left)"}
    assert "kind" in errors[3] and errors[4] == {"at": "lies in the future"}
    assert "staff_no" in errors[5]
    assert _present(rt, T0 + h(1)) == {ids["A"]}
    again = client.post("/api/v1/checkins", json=body["check_ins"][0], headers=bearer)
    assert again.status_code == 200 and again.json["duplicate"] == 1
    assert _count(rt, CheckIn) == 1
    for bad in ([1, 2], {"check_ins": []}, {"check_ins": [], "x": 1}, "x"):
        r = client.post("/api/v1/checkins", json=bad, headers=bearer)
        assert r.status_code == 400, (bad, r.json)
    assert client.post("/api/v1/checkins", json=body).status_code == 401
    assert _count(rt, CheckIn) == 1


# --- the page's callbacks -----------------------------------------------------------------
@pytest.fixture(autouse=True)
def _fresh_page_cache():
    view.forget_cached()
    yield
    view.forget_cached()


def _page(client, district=None):
    return call(
        client,
        "talent-cards",
        "talent-district.value",
        {"talent-district.value": district, "shell-lang.data": "zh", "shell-theme.data": "dark"},
    )


def test_the_page_callbacks_answer_and_hold_the_scope(client, rt, city, time_machine):
    time_machine.move_to(T0 + h(2), tick=False)
    _workday(rt)
    with rt.sessions() as session:
        rt.live.set_document("geo", wall.build_geo(session), bump=False)
    leader = as_role(client, rt, "leader")
    r = _page(leader)
    assert r.status_code == 200, r.data[:300]
    out = r.json["response"]
    cards = out["talent-cards"]["children"]
    assert len(cards) == 9 and cards[0]["props"]["id"] == "talent-card-in_post"
    assert [row["staff_no"] for row in out["talent-people"]["rowData"]] == ["A", "B", "C"]
    posts = {row["district_name"]: row for row in out["talent-posts"]["rowData"]}
    assert (
        posts["第1区"]["grid_fulltime"] == "1/2 (-1)" and posts["第1区"]["grid_fulltime_gap"] == -1
    )
    assert "每个网格 1 名" in out["talent-standards"]["children"]
    assert out["talent-graph-map"]["figure"]["data"][-1]["text"] == ["网格12"]
    r = _page(leader, "339002")
    assert [row["staff_no"] for row in r.json["response"]["talent-people"]["rowData"]] == ["B", "C"]
    officer = as_role(rt_client(client), rt, "district_officer", "339001")
    mine = _page(officer)
    assert [x["staff_no"] for x in mine.json["response"]["talent-people"]["rowData"]] == ["A"]
    for crafted in ("339002", {"a": 1}, ["339001"]):
        assert _page(officer, crafted).status_code == 204, crafted
    assert _page(leader, "NOPE").status_code == 200  # an unknown code: said, not a 500


def _open(client, staff_no):
    return call(
        client,
        "talent-person.is_open",
        "talent-search-go.n_clicks",
        {"talent-search-go.n_clicks": 1, "talent-search.value": staff_no, "talent-lang.data": "zh"},
    )


def _reveal(client, reason, staff_no="A"):
    return call(
        client,
        "talent-reveal-result.children...talent-reveal-timer.disabled",
        "talent-reveal.n_clicks",
        {
            "talent-reveal.n_clicks": 1,
            "talent-reveal-reason.value": reason,
            "talent-person-shown.data": staff_no,
            "talent-lang.data": "zh",
        },
    )


def test_a_person_opens_masked_and_only_a_duty_officer_reveals(client, rt, city, time_machine):
    time_machine.move_to(T0 + h(2), tick=False)
    _workday(rt)
    with rt.sessions() as session, session.begin():
        a = session.execute(select(Staff).where(Staff.staff_no == "A")).scalar_one()
        a.name, a.phone = "张三丰", "13812345678"
    leader = as_role(client, rt, "leader")
    r = _open(leader, "A")
    assert r.status_code == 200 and r.json["response"]["talent-person"]["is_open"] is True
    body = str(r.json["response"]["talent-person-body"])
    assert "张**" in body and "138****5678" in body and "13812345678" not in body
    assert r.json["response"]["talent-person-shown"]["data"] == "A"
    assert "no such person" in str(_open(leader, "ZZZ").json["response"])
    assert "张三丰" not in str(_reveal(leader, "核实值班情况").json["response"])
    officer = as_role(rt_client(client), rt, "district_officer", "339002")
    assert "no such person" in str(_open(officer, "A").json["response"])
    duty_officer = as_role(rt_client(client), rt, "duty_officer")
    assert "请填写查看原因" in str(_reveal(duty_officer, "看").json["response"])
    nul = _reveal(duty_officer, "核实\x00情况")  # the gate refuses NUL in any callback body
    assert nul.status_code == 400 and b"NUL" in nul.data
    shown = _reveal(duty_officer, "核实值班情况")
    assert "张三丰" in str(shown.json["response"]) and "13812345678" in str(shown.json["response"])
    for crafted in ({"x": 1}, ["A"], "A" * 200):
        assert "张三丰" not in str(_reveal(duty_officer, "核实值班情况", crafted).data)
    with rt.sessions() as session:
        log = session.execute(
            select(AuditLog.action, AuditLog.target).where(AuditLog.action.like("pii.%"))
        ).all()
    assert log == [("pii.reveal", "staff:A")]


def _upload(client, data: bytes, name="花名册.csv", kind="staff"):
    url = "data:text/csv;base64," + base64.b64encode(data).decode()
    return call(
        client,
        "talent-import-summary.children",
        "talent-upload.contents",
        {
            "talent-upload.contents": url,
            "talent-upload.filename": name,
            "talent-import-kind.value": kind,
            "talent-lang.data": "zh",
        },
    ), url


def test_only_an_admin_imports_and_sees_the_dry_run_first(client, rt, city):
    data = (",".join(HEADER) + "\n" + ",".join(map(str, GOOD[0])) + "\n").encode("gbk")
    leader = as_role(client, rt, "leader")
    r, _url = _upload(leader, data)
    assert r.status_code == 204 and _count(rt, Staff) == 0
    admin = as_role(rt_client(client), rt, "admin")
    r, url = _upload(admin, data)
    out = r.json["response"]
    assert "将新增 1 行" in str(out["talent-import-summary"]) and _count(rt, Staff) == 0
    assert out["talent-import-preview"]["rowData"][0]["id_number"] == "110***********1233"
    assert out["talent-import-confirm"]["disabled"] is False
    done = call(
        admin,
        "talent-import-summary.children@",
        "talent-import-confirm.n_clicks",
        {
            "talent-import-confirm.n_clicks": 1,
            "talent-upload.contents": url,
            "talent-upload.filename": "花名册.csv",
            "talent-import-kind.value": "staff",
            "talent-lang.data": "zh",
        },
    )
    assert "已导入" in str(done.json["response"]) and _count(rt, Staff) == 1
    bad = ",".join(HEADER) + "\n" + ",".join(map(str, [*GOOD[1][:3], ID_BAD, *GOOD[1][4:]])) + "\n"
    r, _url = _upload(admin, bad.encode("utf-8"))
    assert "1 行有错误" in str(r.json["response"]) and "check digit" in str(r.json["response"])
    r, _url = _upload(admin, b"\x00\x01garbage", name="x.xlsx")
    assert "cannot read the workbook" in str(r.json["response"])
    for kind in ("areas", {"k": 1}):
        assert _upload(admin, data, kind=kind)[0].status_code == 204
    assert _count(rt, Staff) == 1
    with rt.sessions() as session:
        imports = select(AuditLog.action).where(AuditLog.action.like("import.%"))
        assert session.execute(imports).scalars().all() == ["import.staff"]


def _props_ending(node, suffix: str) -> list[dict]:
    """The props of every component in a layout whose id ends with `suffix`."""
    if isinstance(node, list):
        return [p for v in node for p in _props_ending(v, suffix)]
    if not isinstance(node, dict):
        return []
    props = node.get("props", {})
    mine = [props] if str(props.get("id", "")).endswith(suffix) else []
    return mine + [p for v in node.values() for p in _props_ending(v, suffix)]


def test_a_district_in_the_url_is_chosen_when_the_page_is_drawn(client, rt, city):
    """The district dropdowns of 人才队伍 and 督办考核 come with their options, or the browser
    drops a `?district=` value it has no option for and shows the whole city."""
    leader = as_role(client, rt, "leader")
    for path in ("/talent", "/supervision"):
        r = route(leader, path, "?district=339002")
        assert r.status_code == 200
        found = _props_ending(r.json, "-district")
        assert len(found) == 1, path
        assert found[0]["value"] == "339002"
        assert {"label": "第2区", "value": "339002"} in found[0]["options"]
