"""File import (events, staff, areas) with row-level errors, and the command line."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from dashboard import auth, importer, roster
from dashboard.cli import build_parser
from dashboard.models import ApiToken, Area, Event, Staff, User
from tests.factories import T0

ROOT = Path(__file__).resolve().parent.parent


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_import_events_csv_reports_bad_rows(rt, city, tmp_path):
    rows = [
        {
            "external_id": "F1",
            "subcategory": "0101",
            "grid_code": "G11",
            "title": "垃圾",
            "reported_at": T0.isoformat() + "Z",
            "source": "",
        },
        {
            "external_id": "F2",
            "subcategory": "0101",
            "grid_code": "NOPE",
            "title": "垃圾",
            "reported_at": T0.isoformat() + "Z",
            "source": "",
        },
        {
            "external_id": "F3",
            "subcategory": "0201",
            "grid_code": "G21",
            "title": "",
            "reported_at": T0.isoformat() + "Z",
            "source": "hotline",
        },
    ]
    report = importer.import_file(
        rt,
        "events",
        str(write_csv(tmp_path / "e.csv", rows)),
        source="grid",
        progress=lambda _m: None,
    )
    assert (report.created, len(report.errors)) == (1, 2)
    assert [e["row"] for e in report.errors] == [3, 4]
    assert report.errors[0]["errors"] == {"grid_code": "unknown grid"}
    assert report.error_file is not None and "grid_code" in report.error_file.read_text("utf-8-sig")
    with rt.sessions() as s:
        assert s.execute(select(Event.source, Event.external_id)).all() == [("grid", "F1")]


def test_import_staff_xlsx_is_all_or_nothing(rt, city, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["staff_no", "name", "id_number", "role", "area_code", "party_member", "status"])
    ws.append(["W1", "李四", "110101199003071233", "专职网格员", "G11", "是", "在岗"])
    ws.append(["W2", "王五", "123", "社工", "C1", "否", "在岗"])
    path = tmp_path / "staff.xlsx"
    wb.save(path)
    report = roster.import_file(rt, "staff", str(path), progress=lambda _m: None)
    assert not report.written and report.errors[0]["row"] == 3
    assert "id_number" in report.errors[0]["errors"]
    with rt.sessions() as s:
        assert s.execute(select(func.count()).select_from(Staff)).scalar() == 0
    ws.delete_rows(3)
    wb.save(path)
    report = roster.import_file(rt, "staff", str(path), progress=lambda _m: None)
    assert report.written and report.created == 1
    with rt.sessions() as s:
        w1 = s.execute(select(Staff)).scalar_one()
    assert (w1.role, w1.party_member, w1.district_id) == ("grid_fulltime", True, 2)


def test_import_areas_geojson(rt, city, tmp_path):
    square = {
        "type": "Polygon",
        "coordinates": [[[118, 30], [118.1, 30], [118.1, 30.1], [118, 30.1], [118, 30]]],
    }
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": square,
                "properties": {
                    "code": "S3",
                    "name": "新街道",
                    "level": "street",
                    "parent_code": "339001",
                    "population": 5000,
                },
            },
            {
                "type": "Feature",
                "geometry": None,
                "properties": {
                    "code": "C3",
                    "name": "新社区",
                    "level": "community",
                    "parent_code": "S3",
                },
            },
        ],
    }
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    rt.live.set_document("geo", {"version": 2, "street": {"features": []}})
    report = importer.import_file(rt, "areas", str(path), progress=lambda _m: None)
    assert report.written and report.created == 2, report.errors
    # The wall's cached shapes are dropped; the next snapshot has the new street, clockwise.
    assert rt.live.document("geo") is None
    from dashboard import jobs, wall

    jobs.wall_snapshot(rt)
    street = next(f for f in rt.live.document("geo")["street"]["features"] if f["id"] == "S3")
    assert wall._signed_area(street["geometry"]["coordinates"][0]) < 0
    with rt.sessions() as s:
        s3 = s.execute(select(Area).where(Area.code == "S3")).scalar_one()
        c3 = s.execute(select(Area).where(Area.code == "C3")).scalar_one()
    assert s3.street_id == s3.id and s3.district_id == 2 and s3.boundary
    assert (c3.street_id, c3.district_id, c3.community_id) == (s3.id, 2, c3.id)
    assert s3.lat == pytest.approx(30.05)
    bad = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": None,
                "properties": {"code": "X", "name": "x", "level": "grid", "parent_code": "339001"},
            }
        ],
    }
    path.write_text(json.dumps(bad), encoding="utf-8")
    report = importer.import_file(rt, "areas", str(path), progress=lambda _m: None)
    assert not report.written and "level" in report.errors[0]["errors"]


def test_unreadable_files(rt, city, tmp_path):
    with pytest.raises(importer.ImportFailed):
        importer.import_file(rt, "events", str(tmp_path / "missing.csv"))
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(importer.ImportFailed):
        importer.import_file(rt, "events", str(tmp_path / "x.txt"))


HEADER = "external_id,subcategory,grid_code,title,reported_at,source\n"


def _event_line(n: int, title: str = "暴露垃圾") -> str:
    return f"H{n},0101,G11,{title},{T0.isoformat()}Z,grid\n"


def _events(rt) -> list[str]:
    with rt.sessions() as session:
        return session.execute(select(Event.external_id).order_by(Event.id)).scalars().all()


def test_a_gbk_csv_as_excel_in_chinese_saves_it(rt, city, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes((HEADER + _event_line(1, "垃圾堆放，请处理") + _event_line(2)).encode("gbk"))
    report = importer.import_file(rt, "events", str(path), progress=lambda _m: None)
    assert report.created == 2 and not report.errors
    with rt.sessions() as session:
        assert session.execute(select(Event.title).order_by(Event.id)).scalars().first() == (
            "垃圾堆放，请处理"
        )
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x81\x30" * 10)
    with pytest.raises(importer.ImportFailed):
        importer.import_file(rt, "events", str(tmp_path / "bin.csv"))


def test_files_that_cannot_be_read_whole_are_refused_whole(rt, city, tmp_path):
    huge = tmp_path / "huge.csv"
    huge.write_text(HEADER + _event_line(1) + _event_line(2, "x" * 140_000), encoding="utf-8")
    with pytest.raises(importer.ImportFailed, match="longer than 131,072 characters"):
        importer.import_file(rt, "events", str(huge))
    twice = tmp_path / "twice.csv"
    twice.write_text("external_id,title,title\nA,x,y\n", encoding="utf-8")
    with pytest.raises(importer.ImportFailed, match="more than once: title"):
        importer.import_file(rt, "events", str(twice))
    book = Workbook()
    book.active.append(["staff_no", "name", "name"])
    book.active.append(["S1", "张三", "李四"])
    book.save(tmp_path / "twice.xlsx")
    with pytest.raises(importer.ImportFailed, match="more than once: name"):
        roster.import_file(rt, "staff", str(tmp_path / "twice.xlsx"))
    assert _events(rt) == []


def test_a_nul_byte_is_an_error_of_its_row(rt, city, tmp_path):
    path = tmp_path / "nul.csv"
    path.write_text(HEADER + _event_line(1) + _event_line(2, "a\x00b") + _event_line(3))
    report = importer.import_file(rt, "events", str(path), progress=lambda _m: None)
    assert report.created == 2 and report.errors == [
        {"row": 3, "errors": {"title": "must not contain NUL characters (\\u0000)"}}
    ]
    assert _events(rt) == ["H1", "H3"]
    staff = tmp_path / "staff.csv"
    staff.write_text(
        "staff_no,name,role,area_code\nS1,张三,grid_fulltime,G11\nS2,李\x00四,mediator,C1\n"
    )
    report = roster.import_file(rt, "staff", str(staff), progress=lambda _m: None)
    assert not report.written and report.errors[0]["row"] == 3
    with rt.sessions() as session:
        assert session.execute(select(func.count()).select_from(Staff)).scalar() == 0


@pytest.mark.parametrize(
    "document, message",
    [
        ([1, 2], "FeatureCollection"),
        ({"type": "FeatureCollection", "features": [5]}, "feature 1"),
        ({"type": "FeatureCollection", "features": [{"properties": [1]}]}, "feature 1"),
    ],
)
def test_malformed_geojson_is_refused(rt, city, tmp_path, document, message):
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(document))
    with pytest.raises(importer.ImportFailed, match=message):
        importer.import_file(rt, "areas", str(path))


def test_area_boundaries_must_be_usable_shapes(rt, city, tmp_path):
    ring = [[118.0, 30.0], [118.1, 30.0], [118.1, 30.1], [118.0, 30.0]]
    bad = {
        "open ring": {"type": "Polygon", "coordinates": [ring[:-1]]},
        "text": {"type": "Polygon", "coordinates": [[["a", "b"]] * 4]},
        "off the earth": {"type": "Polygon", "coordinates": [[[500, 30]] * 4]},
        "flat": {"type": "Polygon", "coordinates": [[1, 2, 3, 4]]},
        "point": {"type": "Point", "coordinates": [118, 30]},
    }
    features = [
        {"type": "Feature", "geometry": g,
         "properties": {"code": f"X{i}", "name": name, "level": "street", "parent_code": "339001"}}
        for i, (name, g) in enumerate(bad.items())
    ]  # fmt: skip
    path = tmp_path / "shapes.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    report = importer.import_file(rt, "areas", str(path), progress=lambda _m: None)
    assert not report.written and len(report.errors) == len(bad)
    assert all("geometry" in e["errors"] for e in report.errors)
    with rt.sessions() as session:
        assert not session.execute(select(Area).where(Area.code.like("X%"))).first()


def test_accounts_and_tokens(rt, city):
    with rt.sessions() as s, s.begin():
        _user, password = auth.create_user(s, "duty1", "duty_officer")
        token = auth.create_token(s, "feed", "ingest", "grid")
        assert auth.ensure_admin(s) is None  # a user exists already
    assert len(password) >= 12
    with rt.sessions() as s:
        stored = s.execute(select(User).where(User.username == "duty1")).scalar_one()
        assert auth.verify_password(stored, password) and not auth.verify_password(stored, "x")
        assert password not in stored.password_hash
        assert s.execute(select(ApiToken.token_hash)).scalar() == auth.hash_token(token)
        assert auth.check_token(s, token).source == "grid"
    with rt.sessions() as s, s.begin(), pytest.raises(auth.AccountError):
        auth.create_user(s, "d2", "district_officer")  # needs an area
    with rt.sessions() as s, s.begin(), pytest.raises(auth.AccountError):
        auth.create_token(s, "bad", "ingest", "fax")


def test_first_run_admin_password_is_random(rt, city):
    with rt.sessions() as s, s.begin():
        first = auth.ensure_admin(s)
    assert first and len(first) >= 12
    with rt.sessions() as s:
        admin = s.execute(select(User).where(User.username == "admin")).scalar_one()
        assert admin.role == "admin" and auth.verify_password(admin, first)


def test_cli_parser_knows_the_commands():
    parser = build_parser()
    for argv in (
        ["run"],
        ["seed-demo", "--days", "3"],
        ["create-user", "--username", "u", "--role", "leader"],
        ["create-token", "--source", "grid"],
        ["create-display", "--name", "wall"],
        ["import", "events", "f.csv"],
        ["rollup", "--rebuild"],
        ["reconcile", "--check"],
    ):
        assert parser.parse_args(argv).func


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_cli_end_to_end(tmp_path, settings, redis_server):
    """The real command line in a subprocess: a token is printed once and works."""
    env = {
        "VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": settings.database_url,
        "PATH": "/usr/bin:/bin",
        "SCHEDULER": "0",
        "DEMO": "0",
    }

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "dashboard", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    out = run("create-token", "--source", "iot")
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip().splitlines()[-1]
    assert token.startswith("cc_")
    bad = run("create-token", "--source", "fax")
    assert bad.returncode == 2 and "--source must be one of" in bad.stderr
    user = run("create-user", "--username", "lead", "--role", "leader")
    assert user.returncode == 0 and "password (shown once)" in user.stdout
    # A wall's URL: the address the running app wrote, or the one given.
    (tmp_path / "var" / "serving.url").write_text("http://127.0.0.1:8077\n")
    wall = run("create-display", "--name", "wall-1")
    assert wall.returncode == 0 and "http://127.0.0.1:8077/?kiosk=1&token=" in wall.stdout
    wall = run("create-display", "--name", "wall-2", "--base-url", "https://cc.example.cn/")
    assert "https://cc.example.cn/?kiosk=1&token=" in wall.stdout
    # A file refused whole: a message, not a traceback, and exit code 2.
    (tmp_path / "huge.csv").write_text("external_id,title\nA," + "x" * 140_000 + "\n")
    refused = run("import", "events", str(tmp_path / "huge.csv"))
    assert refused.returncode == 2 and "error: line 2" in refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_first_start_creates_demo_city_and_admin_once(rt):
    from dashboard.bootstrap import prepare

    rt.settings = rt.settings.with_overrides(demo=True)
    lines: list[str] = []
    password = prepare(rt, lines.append, days=2, per_day=50)
    assert password and any(password in line for line in lines)
    with rt.sessions() as s:
        assert s.execute(select(func.count()).select_from(Event)).scalar() > 50
    lines.clear()
    assert prepare(rt, lines.append, days=2, per_day=50) is None  # a second start changes nothing
    assert not any("password" in line for line in lines)
