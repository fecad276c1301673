"""周例会: ISO weeks in local time (midnight and year ends), a constructed week's figures checked
by hand and against the KPI functions, and a bulletin whose every number is a figure."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from dashboard import staffing, weekly
from dashboard.models import AuditLog, WeeklyBulletin
from dashboard.queries import kpi_report
from dashboard.schemas import InputError
from tests.conftest import as_role, require, rt_client
from tests.dash_requests import call
from tests.factories import T0, event, four_cases, h, staff, step

ZONE = ZoneInfo("Asia/Shanghai")
STANDARDS = staffing.load()
NOW = T0 + h(24 * 7 + 2)  # Monday 10:00 local, the week after T0's (2026-W45)


def test_iso_weeks_in_local_time():
    w = weekly.parse("2026-W45", ZONE)
    assert (w.label, w.monday, w.sunday) == ("2026-W45", date(2026, 11, 2), date(2026, 11, 8))
    assert w.start == T0 - h(8)  # Monday 00:00 local is Sunday 16:00 UTC
    assert w.end == w.start + timedelta(days=7)
    assert weekly.parse("2026-W1", ZONE).monday == date(2025, 12, 29)  # ISO week 1 of 2026
    assert weekly.parse("2020-W53", ZONE).sunday == date(2021, 1, 3)
    assert weekly.same_week_last_year(weekly.parse("2020-W53", ZONE), ZONE) is None
    assert weekly.same_week_last_year(w, ZONE).label == "2025-W45"
    assert w.shifted(-1, ZONE).label == "2026-W44"
    # ten seconds after midnight on a Monday: last week is the one that just ended
    just_after = w.end + timedelta(seconds=10)
    assert weekly.last_week(just_after, ZONE).label == "2026-W45"
    assert weekly.last_week(w.end - timedelta(seconds=10), ZONE).label == "2026-W44"
    for bad in ("2026-W54", "2021-W53", "2026W45", "W45", "", None, 45, "2026-W45; drop"):
        with pytest.raises(InputError) as exc:
            weekly.parse(bad, ZONE)
        assert "week" in exc.value.errors


def _two_weeks(rt):
    """Week 2026-W45: the four cases of tests.factories.four_cases (E1 closed on time, E2
    overdue, E3 and E4 disputes mediated: people's mediation settled in the community, judicial
    at the district and failed), and from the hotline one more case, H1. Week 2026-W44: two
    cases, one closed."""
    four_cases(rt, NOW)
    items = [
        event("H1", T0 + h(4), "G11", source="hotline"),
        event("P1", T0 - h(24 * 5), "G11"),
        event("P2", T0 - h(24 * 5 - 1), "G21"),
    ]
    closed_p1 = [
        step("accepted", T0 - h(24 * 5 - 0.5)),
        step("dispatched", T0 - h(24 * 5 - 1)),
        step("in_progress", T0 - h(24 * 5 - 2)),
        step("resolved", T0 - h(24 * 5 - 3)),
        step("closed", T0 - h(24 * 5 - 4)),
    ]
    rt.ingestor.ingest_events(items, now=NOW)
    rt.ingestor.transition_event("grid", "P1", closed_p1, now=NOW)
    with rt.sessions() as session, session.begin():
        staff(session, "A", "G11")


def test_a_constructed_week_by_hand_and_by_the_kpi_functions(rt, city):
    _two_weeks(rt)
    week = weekly.parse("2026-W45", ZONE)
    with rt.sessions() as session:
        f = weekly.figures(session, week, NOW, ZONE, STANDARDS)
        kpis = kpi_report(session, week.start, week.end, NOW, zone=ZONE)
        before = weekly.parse("2026-W44", ZONE)
        kpis_before = kpi_report(session, before.start, before.end, NOW, zone=ZONE)
    here = f["here"]
    # by hand: five cases received, four accepted (H1 was not), E1, E3, E4 closed
    assert (here["received"], here["accepted"], here["closed"]) == (5, 4, 3)
    assert (here["disputes_closed"], here["mediated"]) == (2, 2)
    assert here["mediation_success_rate"] == 0.5 and here["grassroots_resolution_rate"] == 0.5
    assert f["previous"]["received"] == 2 and f["previous"]["week"] == "2026-W44"
    assert f["year_ago"] is None  # the history does not reach 2025-W45
    # and every headline figure is the KPI function's
    for key in weekly.HEADLINE:
        expected = kpis[key] if key != "wuzhi_index" else kpis[key]["total"]
        assert here[key] == expected, key
        before_value = kpis_before[key] if key != "wuzhi_index" else kpis_before[key]["total"]
        assert f["previous"][key] == before_value, key
    assert [(s["source"], s["n"]) for s in f["sources"]] == [("grid", 4), ("hotline", 1)]
    assert f["sources"][0]["share"] == 0.8
    assert f["top_subcategories"] == [{"name": "暴露垃圾", "n": 3}, {"name": "邻里纠纷", "n": 2}]
    assert f["staff"]["in_post"] == 1 and f["staff"]["shortfall"] > 0
    assert f["alerts"] == {"raised": 0, "by_level": {1: 0, 2: 0, 3: 0, 4: 0}, "handled": 0}
    assert f["notices"] == {"issued": 0, "closed": 0, "closed_on_time": 0}
    assert f["running"] is False and f["settings_versions"] == kpis["settings_versions"]
    # carried over: E2 (城管局, 48 h to close from 立案) is overdue at the week's end
    carried = f["carried_over"]
    assert carried["total"] == 1 and carried["by_department"][0]["department"] == "城管局"
    assert [c["case"] for c in carried["cases"]] == ["grid/E2"]
    assert {m["type"]: (m["n"], m["success_rate"]) for m in f["mediation"]} == {
        "people": (1, 1.0),
        "administrative": (0, None),
        "judicial": (1, 0.0),
    }
    assert [d["dimension"] for d in f["wuzhi"]] == [
        "political",
        "autonomy",
        "rule_of_law",
        "moral",
        "smart",
    ]
    with rt.sessions() as session, pytest.raises(InputError, match="has not begun"):
        weekly.figures(session, weekly.parse("2026-W47", ZONE), NOW, ZONE, STANDARDS)


def test_every_number_in_the_bulletin_is_a_figure(rt, city):
    _two_weeks(rt)
    week = weekly.parse("2026-W45", ZONE)
    with rt.sessions() as session:
        f = weekly.figures(session, week, NOW, ZONE, STANDARDS)
    text = weekly.bulletin(f, "测试市")
    h_ = f["here"]
    assert text.startswith(
        "测试市市域社会治理综合指挥中心2026年第45周工作通报\n（11月2日至11月8日）"
    )
    assert (
        f"本周共受理各类案件{h_['received']}件，其中立案{h_['accepted']}件，应结案"
        f"{h_['due_closing']}件，结案{h_['closed']}件，结案率{weekly.pct(h_['closing_rate'])}，"
        f"按期结案{h_['closed_on_time']}件，按期结案率{weekly.pct(h_['on_time_closing_rate'])}"
    ) in text
    assert "受理量环比增长150.0%" in text  # 5 against 2
    assert "网格员巡查4件（占80.0%），12345热线1件（占20.0%）" in text
    assert "高发问题前二位：暴露垃圾（3件）、邻里纠纷（2件）。" in text
    assert "本周化解矛盾纠纷2件，就地化解率50.0%；调解2件，调解成功率50.0%。" in text
    assert "其中人民调解1件（成功率100.0%）、司法调解1件（成功率0.0%）。" in text
    assert "超期未办结案件" in text and "其中城管局1件" in text
    # every number in the text is one of the figures (or a date, a week, a rank count)
    allowed = set()

    def collect(node):
        if isinstance(node, dict):
            for v in node.values():
                collect(v)
        elif isinstance(node, list):
            for v in node:
                collect(v)
        elif isinstance(node, int | float) and not isinstance(node, bool):
            allowed.update({f"{node}", f"{node:g}", f"{node * 100:.1f}", f"{node:.1f}"})

    collect(f)
    allowed |= {"2026", "45", "11", "2", "8", "1", "3"}  # the week, its days, 前三位/后三位
    # the 环比 of each figure: a count's in per cent, a rate's in points, an index's in points
    for key, now_value in f["here"].items():
        before = f["previous"][key]
        if isinstance(now_value, int | float) and isinstance(before, int | float):
            allowed.add(f"{abs(now_value - before) * 100:.1f}")
            allowed.add(f"{abs(now_value - before):.1f}")
            if before:
                allowed.add(f"{abs(now_value - before) / before * 100:.1f}")
    names = [
        x["name"]
        for part in ("sources", "top_subcategories", "departments", "districts")
        for x in f[part]
    ]
    scanned = text
    for name in sorted(names, key=len, reverse=True):  # "12345热线", "第1区": names, not numbers
        scanned = scanned.replace(name, "")
    for number in re.findall(r"\d+(?:\.\d+)?", scanned):
        assert number in allowed, (number, text)


@pytest.mark.parametrize(
    "now, before, rate, text",
    [
        (5, 2, False, "增长150.0%"),
        (2, 4, False, "下降50.0%"),
        (3, 3, False, "持平"),
        (3, 0, False, "无可比数据"),
        (None, 2, False, "无可比数据"),
        (0.925, 0.9, True, "上升2.5个百分点"),
        (0.9, 0.925, True, "下降2.5个百分点"),
        (0.9, None, True, "无可比数据"),
    ],
)
def test_changes_are_said_as_a_bulletin_says_them(now, before, rate, text):
    assert weekly.change(now, before, rate) == text


def test_a_score_changes_in_points():
    assert weekly.change(87.7, 86.0, points=True) == "上升1.7"
    assert weekly.change(12.5, 0.0, points=True) == "上升12.5"  # not "no comparison"
    assert weekly.change(86.0, 86.02, points=True) == "持平"


# --- the page, the edit, the workbook, the command line -----------------------------------
def _page(client, week="2026-W45"):
    return call(
        client,
        "weekly-cards",
        "weekly-week.value",
        {"weekly-week.value": week, "shell-lang.data": "zh", "shell-theme.data": "dark"},
    )


def _save(client, text, week="2026-W45"):
    return call(
        client,
        "weekly-save-result",
        "weekly-save.n_clicks",
        {
            "weekly-save.n_clicks": 1,
            "weekly-bulletin.value": text,
            "weekly-week.value": week,
            "weekly-lang.data": "zh",
        },
    )


def test_the_page_shows_the_week_and_keeps_an_edited_bulletin(client, rt, city, time_machine):
    time_machine.move_to(NOW, tick=False)
    _two_weeks(rt)
    leader = as_role(client, rt, "leader")
    r = _page(leader)
    assert r.status_code == 200, r.data[:300]
    out = r.json["response"]
    cards = out["weekly-cards"]["children"]
    assert cards[0]["props"]["id"] == "weekly-card-received"
    assert "环比增长150.0%" in str(cards[0])
    generated = out["weekly-bulletin"]["value"]
    assert generated.startswith(
        f"{rt.settings.city_name}市域社会治理综合指挥中心2026年第45周工作通报"
    )
    assert out["weekly-download"]["href"] == "/api/v1/reports/weekly/2026-W45.xlsx"
    for bad in ("2026-W99", {"w": 1}, ["2026-W45"], "x", "2026-W52"):  # W52: not begun
        assert _page(leader, bad).status_code == 204, bad
    # a leader reads; a duty officer edits, and the edit is what the page shows from then on
    assert "无权" in str(_save(leader, "改过的通报").json["response"])
    duty = as_role(rt_client(client), rt, "duty_officer")
    for bad, message in (
        ("", "must not be empty"),
        ("  ", "must not be empty"),
        ("x" * 20_001, "1–20000"),
        (["x"], "must be text"),
    ):
        assert message in str(_save(duty, bad).json["response"]), bad
    edited = generated.replace("一、总体情况", "一、总体情况（经核定）")
    assert "已保存" in str(_save(duty, edited).json["response"])
    again = _page(leader).json["response"]
    assert again["weekly-bulletin"]["value"] == edited
    assert "修改" in str(again["weekly-bulletin-state"]["children"])
    with rt.sessions() as session:
        row = session.execute(select(WeeklyBulletin)).scalar_one()
        actions = (
            session.execute(select(AuditLog.action).where(AuditLog.action.like("weekly.%")))
            .scalars()
            .all()
        )
    assert (row.week, row.text, row.generated) == ("2026-W45", edited, generated)
    assert actions == ["weekly.bulletin_edit"]


def test_the_workbook_holds_numbers_and_the_bulletin(client, rt, city, time_machine):
    time_machine.move_to(NOW, tick=False)
    _two_weeks(rt)
    leader = as_role(client, rt, "leader")
    r = leader.get("/api/v1/reports/weekly/2026-W45.xlsx")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(r.data))
    assert book.sheetnames[0] == "总体情况" and "通报" in book.sheetnames
    rows = {row[0]: row[1:] for row in book["总体情况"].iter_rows(min_row=2, values_only=True)}
    assert rows["受理"][:2] == (5, 2) and rows["结案"][0] == 3
    assert rows["调解成功率"][0] == 0.5  # a fraction, shown as 50.0%
    sources = list(book["案件来源"].iter_rows(min_row=2, values_only=True))
    assert sources == [("网格员巡查", 4, 0.8), ("12345热线", 1, 0.2)]
    assert book["通报"]["A1"].value.endswith("2026年第45周工作通报")
    assert leader.get("/api/v1/reports/weekly/2026-W99.xlsx").status_code == 400
    assert rt_client(client).get("/api/v1/reports/weekly/2026-W45.xlsx").status_code == 401
    with rt.sessions() as session:
        assert session.execute(
            select(AuditLog.target).where(AuditLog.action == "export.weekly.xlsx")
        ).scalars().all() == ["2026-W45"]


def test_the_command_line_writes_the_workbook(rt, city, tmp_path, monkeypatch, time_machine):
    from dashboard import cli

    time_machine.move_to(NOW, tick=False)
    _two_weeks(rt)
    monkeypatch.setattr(cli, "_runtime", lambda _args: rt)
    monkeypatch.setattr(rt, "close", lambda: None)
    assert cli.main(["report", "weekly", "--week", "2026-W45", "--out", str(tmp_path)]) == 0
    book = load_workbook(tmp_path / "weekly-2026-W45.xlsx")
    assert book["总体情况"]["B2"].value == 5
    assert cli.main(["report", "weekly", "--week", "2026-W60", "--out", str(tmp_path)]) == 2
    assert cli.main(["report", "weekly", "--week", "2026-W52", "--out", str(tmp_path)]) == 2
    assert cli.main(["report", "weekly", "--out", str(tmp_path)]) == 0  # last week: 2026-W45
    assert (tmp_path / "weekly-2026-W45.xlsx").exists()
    if _has_font():
        assert (tmp_path / "weekly-2026-W45.pdf").read_bytes().startswith(b"%PDF")


def _has_font() -> bool:
    from dashboard import reportpdf

    try:
        reportpdf.font_path()
    except reportpdf.FontMissing:
        return False
    return True


def _pdf_text(data: bytes) -> tuple[int, str]:
    """Pages and text of a PDF, white space removed: pypdf puts a space or a NUL between CJK
    characters (poppler's pdftotext gives the clean text)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    text = "".join(p.extract_text() for p in reader.pages)
    return len(reader.pages), re.sub(r"[\s\x00]+", "", text)


def test_the_pdf_says_the_bulletin_with_every_glyph_and_page_numbers(
    client, rt, city, time_machine
):
    require(_has_font(), "no CJK font (Debian package fonts-noto-cjk)")
    time_machine.move_to(NOW, tick=False)
    _two_weeks(rt)
    leader = as_role(client, rt, "leader")
    r = leader.get("/api/v1/reports/weekly/2026-W45.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    pages, text = _pdf_text(r.data)
    assert pages >= 2
    for sentence in (
        "2026年第45周工作通报",
        "本周共受理各类案件5件，其中立案4件，应结案4件，结案3件",
        "高发问题前二位：暴露垃圾（3件）、邻里纠纷（2件）。",
        "本周化解矛盾纠纷2件，就地化解率50.0%；调解2件，调解成功率50.0%。",
        "主要指标",
        f"第1页/共{pages}页",
        "生成时间2026-11-0910:00",  # NOW, local
    ):
        assert sentence in text, sentence
    # a phone number typed into the edited 通报 is masked in the PDF
    duty = as_role(rt_client(client), rt, "duty_officer")
    generated = _page(duty).json["response"]["weekly-bulletin"]["value"]
    _save(duty, generated + "\n联系人：张三，13812345678")
    _pages, text = _pdf_text(leader.get("/api/v1/reports/weekly/2026-W45.pdf").data)
    assert "138****5678" in text and "13812345678" not in text
    assert leader.get("/api/v1/reports/weekly/2026-W45.doc").status_code == 404


def test_without_a_font_the_pdf_is_refused_clearly(client, rt, city, monkeypatch):
    from dashboard import reportpdf

    monkeypatch.setattr(reportpdf, "FONT_PATHS", ())
    leader = as_role(client, rt, "leader")
    r = leader.get("/api/v1/reports/weekly/2026-W45.pdf")
    assert r.status_code == 503 and "fonts-noto-cjk" in r.json["error"]
    assert leader.get("/api/v1/reports/weekly/2026-W45.xlsx").status_code == 200


# --- the reports kept every Monday --------------------------------------------------------
def test_the_monday_job_keeps_last_weeks_report_once(rt, city, settings):
    import threading

    from dashboard import reports
    from dashboard.runtime import Runtime

    _two_weeks(rt)
    monday_0559 = T0 + h(24 * 7 - 2 - 1 / 60)  # Monday 2026-11-09 05:59 local
    assert reports.monday_job(rt, monday_0559) == {"kept": None}
    # three processes at 06:00 sharply: one report is kept
    others = [
        Runtime.create(settings, run_migrations=False, redis_client=rt.redis) for _ in range(2)
    ]
    results = []

    def run(runtime):
        results.append(reports.monday_job(runtime, monday_0559 + h(1 / 60)))

    threads = [threading.Thread(target=run, args=(r,)) for r in (rt, *others)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for other in others:
        other.close()
    assert sorted(r["kept"] for r in results) == [False, False, True]
    assert {r["week"] for r in results} == {"2026-W45"}
    # on Tuesday the job finds it kept
    assert reports.monday_job(rt, monday_0559 + h(24)) == {"week": "2026-W45", "kept": False}
    with rt.sessions() as session:
        kept = reports.kept_reports(session)
        xlsx = reports.kept_file(session, weekly.parse("2026-W45", ZONE), "xlsx")
    assert [k["week"] for k in kept] == ["2026-W45"]
    assert load_workbook(io.BytesIO(xlsx))["总体情况"]["B2"].value == 5


def test_a_kept_week_regenerates_with_the_settings_it_had(client, rt, city, time_machine):
    import orjson

    from dashboard import kpisettings, reports
    from dashboard.models import WeeklyReport

    _two_weeks(rt)
    reports.keep_report(rt, weekly.parse("2026-W45", ZONE), NOW)
    with rt.sessions() as session, session.begin():
        kpisettings.save(
            session,
            "composite_weights",
            {
                "on_time_closing_rate": 1,
                "closing_rate": 0,
                "satisfaction_rate": 0,
                "rework_rate": 0,
                "timely_dispatch_rate": 0,
            },
            "admin",
            now=NOW + h(1),
        )
    with rt.sessions() as session:
        stored = orjson.loads(session.execute(select(WeeklyReport.figures)).scalar_one())
        again = weekly.figures(
            session, weekly.parse("2026-W45", ZONE), NOW + h(48), ZONE, STANDARDS
        )
    assert again["here"] == stored["here"] and again["departments"] == stored["departments"]
    assert again["settings_versions"] == stored["settings_versions"]
    # the kept files are listed and downloadable as they were made
    time_machine.move_to(NOW + h(48), tick=False)
    leader = as_role(client, rt, "leader")
    listing = leader.get("/api/v1/reports/weekly").json["reports"]
    assert [r["week"] for r in listing] == ["2026-W45"]
    r = leader.get(listing[0]["xlsx"])
    assert r.status_code == 200 and load_workbook(io.BytesIO(r.data))["总体情况"]["B2"].value == 5
    assert leader.get("/api/v1/reports/weekly/2026-W44/kept.xlsx").status_code == 404
    assert leader.get("/api/v1/reports/weekly/2026-W45/kept.doc").status_code == 404
    if listing[0]["pdf"]:
        assert leader.get(listing[0]["pdf"]).data.startswith(b"%PDF")
