"""Every page in headless Chromium: it renders, logs no console error, and fetches nothing
from another host. Screenshots of the overview are saved under tests/screenshots/ for review."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from urllib.parse import urlparse

import pytest
from werkzeug.serving import make_server

from dashboard.clock import utcnow
from tests.chromium import ARGS, CHROMIUM
from tests.conftest import MOMENTS, PAGES, require
from tests.factories import event

SHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.fixture
def server(web_app, rt, city, time_machine):
    """The app on a port of its own, its clock ticking from a working morning (the browser's
    own clock does not matter: every time on the page comes from the server)."""
    time_machine.move_to(datetime.fromisoformat(MOMENTS["morning"]), tick=True)
    web_app.server.extensions["dashboard"] = rt
    srv = make_server("127.0.0.1", 0, web_app.server, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()


@pytest.fixture
def display(rt, city):
    """A wall display token: the browser signs in by opening a page with ?token=."""
    from dashboard import auth

    with rt.sessions() as session, session.begin():
        return auth.create_token(session, "test-wall", "display")


# The tests below wait on page state with JavaScript predicates, which Playwright evaluates as
# strings; the app's CSP (rightly) forbids that, so those pages bypass it. The first test runs
# every page under the real CSP and fails on any violation (a console error).


def assert_offline_and_clean(requests: list[str], errors: list[str]) -> None:
    """Every request the pages made stayed on this machine, and the console logged no error."""
    hosts = {urlparse(u).hostname for u in requests if not u.startswith("data:")}
    assert hosts == {"127.0.0.1"}, hosts
    assert errors == []


def watched(browser, width: int, height: int, requests: list, errors: list):
    """A new page of that size whose requests and console errors (and uncaught exceptions) are
    collected for assert_offline_and_clean."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


def sign_in(page, server: str, username: str, password: str) -> None:
    """A person signs in through the form, as at a desk."""
    page.goto(server + "/login", wait_until="networkidle")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def signed(url: str, token: str) -> str:
    return url + ("&" if "?" in url else "?") + "token=" + token


@pytest.fixture(scope="module")
def browser():
    require(Path(CHROMIUM).exists(), "Chromium is not installed (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_pages_render_offline_without_errors(server, browser, rt, display):
    from dashboard import jobs

    now = utcnow()
    rt.ingestor.ingest_events([event("B1", now - timedelta(minutes=2))], now=now)
    jobs.wall_snapshot(rt, now=now)  # the map's shapes and the districts
    requests, errors = [], []
    page = watched(browser, 1920, 1080, requests, errors)
    page.goto(signed(server + "/", display), wait_until="networkidle")
    for path in PAGES:
        page.goto(server + path, wait_until="networkidle")
        page.wait_for_selector("#_pages_content > *", timeout=15000)
    page.close()
    SHOTS.mkdir(exist_ok=True)
    for width, height in ((1920, 1080), (3840, 2160), (5760, 1620)):
        page = watched(browser, width, height, requests, errors)
        page.goto(signed(server + "/", display), wait_until="networkidle")
        # Selectors, not JavaScript predicates: this page runs under the app's CSP (no eval).
        page.wait_for_selector("#overview-tile-received-value:text-is('1')", timeout=15000)
        page.wait_for_selector("#overview-graph-flow .main-svg", timeout=15000)
        # The district map: both districts drawn from their own shapes, nothing fetched for it.
        page.wait_for_selector(
            "#overview-graph-map path.choroplethlocation >> nth=1", timeout=15000
        )
        assert page.locator("#overview-graph-map path.choroplethlocation").count() == 2
        scroll = page.evaluate(
            "[document.documentElement.scrollHeight, document.documentElement.scrollWidth]"
        )
        assert scroll == [height, width], f"the overview scrolls at {width}x{height}: {scroll}"
        value_px = page.evaluate(
            "parseFloat(getComputedStyle("
            "document.getElementById('overview-tile-received-value')).fontSize)"
        )
        assert value_px >= 0.05 * height  # KPI figures readable from 8 m
        page.screenshot(path=str(SHOTS / f"overview-{width}x{height}.png"))
        page.close()
    assert_offline_and_clean(requests, errors)


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_kiosk_and_rotation(server, browser, rt, display):
    from dashboard import jobs

    jobs.wall_snapshot(rt)  # the snapshot lists the districts to rotate through
    page = browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
    page.goto(signed(server + "/?kiosk=1&rotate=5", display), wait_until="networkidle")
    page.wait_for_selector("#shell-nav", state="attached", timeout=15000)  # Dash has drawn
    assert page.evaluate("getComputedStyle(document.getElementById('shell-nav')).display") == (
        "none"
    )
    assert page.evaluate("getComputedStyle(document.body).cursor") == "none"
    page.wait_for_function("window.location.pathname === '/flow'", timeout=9000)
    page.wait_for_selector("#flow-page", timeout=5000)  # rendered by Dash's router, no reload
    page.goto(server + "/?rotate=5&by=district", wait_until="networkidle")
    page.wait_for_function(
        "new URLSearchParams(window.location.search).get('district') === '339001'", timeout=12000
    )
    page.wait_for_function(
        "document.getElementById('overview-scope-label')?.textContent === '第1区'", timeout=35000
    )
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_english(server, browser, display):
    page = browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
    page.goto(signed(server + "/?lang=en", display), wait_until="networkidle")
    page.wait_for_function(
        "document.getElementById('shell-nav')?.textContent.includes('Overview')", timeout=10000
    )
    page.wait_for_selector(".tile-label", timeout=10000)
    labels = page.eval_on_selector_all(".tile-label", "els => els.map(e => e.textContent)")
    assert labels[0] == "Received today" and "Grid staff on duty" in labels
    assert page.text_content("#shell-language") == "中文"
    assert "lang=en" in page.get_attribute("#shell-nav a.nav-link >> nth=1", "href")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "overview-en-1920x1080.png"))
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_light_theme(server, browser, display):
    page = browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
    page.goto(signed(server + "/?theme=light", display), wait_until="networkidle")
    page.wait_for_selector("#overview-graph-flow .main-svg", timeout=15000)
    assert page.evaluate("document.documentElement.getAttribute('data-bs-theme')") == "light"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(244, 246, 250)"
    page.wait_for_function(
        "[...document.querySelectorAll('#overview-graph-flow text')]"
        ".some(t => t.style.fill === 'rgb(26, 34, 51)' || t.getAttribute('style')?.includes('26, 34, 51'))",
        timeout=35000,
    )
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "overview-light-1920x1080.png"))
    # Dash's undo history (one entry per timer tick) is emptied and goes on working.
    history = "window.dash_stores[0].getState().history.past.length"
    page.wait_for_function(f"{history} > 2", timeout=20000)
    page.evaluate("window.ccTrimHistory()")
    assert page.evaluate(history) == 0
    page.wait_for_function(f"{history} > 0", timeout=20000)
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_wall_reconnects_after_a_server_restart(web_app, rt, city, browser, display):
    web_app.server.extensions["dashboard"] = rt
    first = make_server("127.0.0.1", 0, web_app.server, threaded=True)
    port = first.server_port
    threading.Thread(target=first.serve_forever, daemon=True).start()
    page = browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
    page.goto(signed(f"http://127.0.0.1:{port}/", display), wait_until="networkidle")
    page.wait_for_selector("#shell-freshness:not(:empty)", timeout=15000)  # Dash has drawn
    page.evaluate("window.__before_restart = true")
    assert page.locator("#cc-lost").count() == 0
    first.shutdown()
    first.server_close()
    stopped = time.monotonic()
    # The header says the connection is lost within 10 s, in place of the data's age.
    page.wait_for_selector("#cc-lost:has-text('连接中断')", timeout=10000)
    assert time.monotonic() - stopped < 10
    assert not page.locator("#shell-freshness").is_visible()
    time.sleep(2)
    second = make_server("127.0.0.1", port, web_app.server, threaded=True)
    threading.Thread(target=second.serve_forever, daemon=True).start()
    try:
        page.wait_for_function("window.__before_restart === undefined", timeout=25000)
        page.wait_for_selector("#overview-tile-received-value", timeout=10000)
    finally:
        page.close()
        second.shutdown()


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_revoked_wall_falls_back_to_the_sign_in_page(server, browser, rt, display):
    from dashboard import auth

    page = browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
    page.goto(signed(server + "/?kiosk=1", display), wait_until="networkidle")
    page.wait_for_selector("#overview-tile-received-value", timeout=10000)
    with rt.sessions() as session, session.begin():
        auth.revoke_token(session, "test-wall")
    page.wait_for_selector("#login-submit", timeout=20000)  # the next poll (10 s) notices
    assert "/login" in page.url
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_supervision_page(server, browser, rt, display):
    """督办考核 in a browser: the cards, the 红黑榜 with its rows, the charts; nothing fetched
    from elsewhere; screenshots at 1920×1080 and 3840×2160."""
    now = utcnow()
    items = [
        event(f"S{i}", now - timedelta(hours=3 + i), "G11" if i % 2 else "G21") for i in range(6)
    ]
    rt.ingestor.ingest_events(items, now=now)
    for i in range(6):
        steps = [
            {"status": "accepted", "at": (now - timedelta(hours=2 + i)).isoformat() + "Z"},
            {"status": "dispatched", "at": (now - timedelta(hours=1.5 + i)).isoformat() + "Z"},
        ]
        rt.ingestor.transition_event("grid", f"S{i}", steps, now=now)
    SHOTS.mkdir(exist_ok=True)
    requests, errors = [], []
    for width, height in ((1920, 1080), (3840, 2160)):
        page = watched(browser, width, height, requests, errors)
        page.goto(signed(server + "/supervision", display), wait_until="networkidle")
        page.wait_for_selector(
            "#supervision-card-received .sv-card-value:text-is('6')", timeout=20000
        )
        page.wait_for_selector("#supervision-board-departments .ag-row", timeout=15000)
        page.wait_for_selector("#supervision-graph-trends .main-svg", timeout=15000)
        assert page.locator("#supervision-cards .sv-card").count() == 18
        names = page.locator(
            "#supervision-board-departments .ag-row [col-id=name]"
        ).all_inner_texts()
        assert "城管局" in names
        # A wall display may look, not act: the 督办 button is off.
        assert page.locator("#supervision-send").is_disabled()
        value_px = page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('#supervision-card-received .sv-card-value')).fontSize)"
        )
        assert value_px >= 0.03 * height
        page.screenshot(path=str(SHOTS / f"supervision-{width}x{height}.png"))
        page.close()
    assert_offline_and_clean(requests, errors)


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_talent_page(server, browser, rt):
    """人才队伍 in a browser: a duty officer sees the cards, the headcount against the standard,
    the most loaded grid workers; opens one (masked), reveals them with a reason (audit-logged);
    screenshots at 1920×1080, 3840×2160 and a phone's 390×844."""
    from sqlalchemy import select

    from dashboard import auth, jobs
    from dashboard.models import AuditLog, Staff
    from dashboard.views import talent
    from tests.factories import shift, staff

    now = utcnow()
    with rt.sessions() as session, session.begin():
        a = staff(session, "A001", "G11", name="张三丰", phone="13812345678")
        b = staff(session, "B001", "G21")
        staff(session, "M001", "C2", "mediator")
        shift(session, a, now - timedelta(hours=2), 10, checked_in=now - timedelta(hours=2.2))
        shift(session, b, now - timedelta(hours=2), 10)
        _user, password = auth.create_user(session, "duty-talent", "duty_officer")
    rt.ingestor.ingest_events(
        [event(f"T{i}", now - timedelta(minutes=30 + i), "G11") for i in range(5)], now=now
    )
    jobs.wall_snapshot(rt, now=now)  # the map's shapes
    talent.forget_cached()
    SHOTS.mkdir(exist_ok=True)
    requests, errors = [], []
    for width, height in ((1920, 1080), (3840, 2160), (390, 844)):
        rt.live.heartbeat("ingest")
        page = watched(browser, width, height, requests, errors)
        sign_in(page, server, "duty-talent", password)
        page.goto(server + "/talent")
        page.wait_for_selector("#talent-card-on_duty .sv-card-value:text-is('1')", timeout=20000)
        page.wait_for_selector("#talent-people .ag-row", state="attached", timeout=15000)
        page.wait_for_selector("#talent-graph-map .main-svg", timeout=15000)
        assert page.locator("#talent-cards .sv-card").count() == 9
        assert page.text_content("#talent-card-uncovered .sv-card-value") == "2"  # G12, G22
        page.wait_for_selector(
            "#talent-people .ag-row [col-id=name]:has-text('张**')", state="attached", timeout=15000
        )
        assert "张三丰" not in page.content()  # masked in the page, not merely hidden
        assert page.evaluate("document.documentElement.scrollWidth") == width
        page.screenshot(path=str(SHOTS / f"talent-{width}x{height}.png"))
        if width == 1920:
            page.fill("#talent-search", "A001")
            page.click("#talent-search-go")
            page.wait_for_selector("#talent-person-body .tl-facts", timeout=15000)
            body = page.inner_text("#talent-person-body")
            assert "张**" in body and "138****5678" in body and "13812345678" not in body
            page.fill("#talent-reveal-reason", "核实值班情况")
            page.click("#talent-reveal")
            page.wait_for_selector("#talent-reveal-result strong", timeout=15000)
            assert "13812345678" in page.inner_text("#talent-reveal-result")
            page.screenshot(path=str(SHOTS / f"talent-person-{width}x{height}.png"))
            # a district in the URL is the district shown (its people only)
            page.goto(server + "/talent?district=339002")
            page.wait_for_selector("#talent-people .ag-row[row-id=B001]", timeout=15000)
            assert page.locator("#talent-people .ag-row[row-id=A001]").count() == 0
            assert "第2区" in page.inner_text("#talent-district")
        page.close()
    with rt.sessions() as session:
        reveals = session.execute(
            select(AuditLog.actor, AuditLog.target).where(AuditLog.action == "pii.reveal")
        ).all()
        assert session.execute(select(Staff.name).where(Staff.staff_no == "A001")).scalar()
    assert reveals == [("duty-talent", "staff:A001")]
    assert_offline_and_clean(requests, errors)


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_weekly_page_and_printing(server, browser, rt):
    """周例会 in a browser: last week's cards and 通报, an edit saved by a duty officer, the
    downloads; then printing it and the overview: no navigation, no number cut off;
    screenshots at 1920×1080 and 3840×2160."""
    from dashboard import auth, jobs

    now = utcnow()
    items = [
        event(f"W{i}", now - timedelta(days=7, hours=i), "G11" if i % 2 else "G21")
        for i in range(6)
    ]
    rt.ingestor.ingest_events(items, now=now)
    jobs.wall_snapshot(rt, now=now)
    with rt.sessions() as session, session.begin():
        _user, password = auth.create_user(session, "duty-weekly", "duty_officer")
    SHOTS.mkdir(exist_ok=True)
    requests, errors = [], []
    for width, height in ((1920, 1080), (3840, 2160)):
        rt.live.heartbeat("ingest")
        page = watched(browser, width, height, requests, errors)
        sign_in(page, server, "duty-weekly", password)
        page.goto(server + "/weekly")
        page.wait_for_selector("#weekly-card-received .sv-card-value:text-is('6')", timeout=20000)
        page.wait_for_selector("#weekly-graph-sources .main-svg", timeout=15000)
        text = page.input_value("#weekly-bulletin")
        assert "本周共受理各类案件6件" in text
        assert page.get_attribute("#weekly-download-pdf", "href").endswith(".pdf")
        page.screenshot(path=str(SHOTS / f"weekly-{width}x{height}.png"))
        if width == 1920:
            page.fill("#weekly-bulletin", text + "\n（以上数据经值班室核定）")
            page.click("#weekly-save")
            page.wait_for_selector("#weekly-save-result .inc-done", timeout=15000)
            page.reload()
            page.wait_for_selector("#weekly-card-received .sv-card-value", timeout=20000)
            page.wait_for_function(
                "document.querySelector('#weekly-bulletin').value.includes('经值班室核定')",
                timeout=15000,
            )
            for path, value in (
                ("/weekly", "#weekly-card-received"),
                ("/", "#overview-tile-received"),
            ):
                page.goto(server + path)
                page.wait_for_selector(f"{value} .sv-card-value, {value}-value", timeout=20000)
                page.emulate_media(media="print")
                assert not page.is_visible("#shell-nav")
                cut = page.evaluate(
                    "[...document.querySelectorAll('.sv-card-value, .tile-value')]"
                    ".filter(e => e.scrollWidth > e.clientWidth + 1).length"
                )
                assert cut == 0, f"{cut} numbers cut off when {path} is printed"
                page.pdf(
                    path=str(SHOTS / f"print-{path.strip('/') or 'overview'}.pdf"), format="A4"
                )
                page.emulate_media(media="screen")
        page.close()
    assert_offline_and_clean(requests, errors)


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_weekly_meeting_mode(server, browser, rt):
    """周例会 on the meeting room's projector: light, no navigation, large type, a section per
    screen paged with the keyboard; a screenshot of every section at 1920×1080."""
    from dashboard import auth

    now = utcnow()
    items = [event(f"M{i}", now - timedelta(days=7, hours=i), "G11") for i in range(4)]
    rt.ingestor.ingest_events(items, now=now)
    with rt.sessions() as session, session.begin():
        _user, password = auth.create_user(session, "chair", "leader")
    requests, errors = [], []
    page = watched(browser, 1920, 1080, requests, errors)
    sign_in(page, server, "chair", password)
    page.goto(server + "/weekly")
    page.wait_for_selector("#weekly-card-received .sv-card-value", timeout=20000)
    page.goto(server + page.get_attribute("#weekly-meeting", "href"))
    page.wait_for_selector("#weekly-card-received .sv-card-value:text-is('4')", timeout=20000)
    assert page.get_attribute("html", "data-bs-theme") == "light"
    assert not page.is_visible("#shell-nav")  # kiosk
    value_px = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('#weekly-card-received .sv-card-value')).fontSize)"
    )
    assert value_px >= 0.06 * 1080
    SHOTS.mkdir(exist_ok=True)
    tops = []
    slides = page.locator(".wk-slide").count()
    assert slides == 5
    for k in range(slides):
        page.wait_for_timeout(400)
        tops.append(page.evaluate("document.querySelector('.shell-main').scrollTop"))
        page.screenshot(path=str(SHOTS / f"weekly-meeting-{k + 1}-1920x1080.png"))
        page.keyboard.press("PageDown")
    slide = page.evaluate("document.querySelector('.wk-slide').getBoundingClientRect().height")
    assert tops[0] == 0 and all(b - a == pytest.approx(slide, abs=2) for a, b in pairwise(tops))
    page.keyboard.press("ArrowUp")
    page.wait_for_timeout(400)
    assert page.evaluate("document.querySelector('.shell-main').scrollTop") == pytest.approx(
        tops[-2], abs=2
    )  # from the last section, one back
    assert "本周共受理各类案件4件" in page.input_value("#weekly-bulletin")
    page.close()
    assert_offline_and_clean(requests, errors)


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_kpi_settings_page(server, browser, rt):
    """考核配置 in a browser: an administrator signs in, types a new weight into the grid, saves
    it with a reason, and sees the new version in force; screenshots at 1920×1080 and 4K."""
    from dashboard import auth, kpisettings

    with rt.sessions() as session, session.begin():
        _user, password = auth.create_user(session, "kpi-admin", "admin")
    SHOTS.mkdir(exist_ok=True)
    requests, errors = [], []
    for n, (width, height) in enumerate(((1920, 1080), (3840, 2160))):
        page = watched(browser, width, height, requests, errors)
        sign_in(page, server, "kpi-admin", password)
        page.goto(server + "/admin/kpi", wait_until="networkidle")
        cell = page.locator("#admin-kpi-grid .ag-row[row-index='0'] [col-id=value]")
        cell.wait_for(timeout=20000)
        cell.dblclick()
        page.keyboard.press("Control+A")
        page.keyboard.type(str(50 + n))
        page.keyboard.press("Enter")
        page.wait_for_selector(f"#admin-kpi-sum:has-text('{110 + n:g}')", timeout=10000)
        page.fill("#admin-kpi-note", "提高按期结案率权重")
        page.click("#admin-kpi-save")
        page.wait_for_selector("#admin-kpi-result .alert-success", timeout=10000)
        page.wait_for_selector("#admin-kpi-versions .ag-row", timeout=10000)
        shown = page.locator(
            "#admin-kpi-grid .ag-row[row-index='0'] [col-id=in_force]"
        ).inner_text()
        assert shown.startswith(f"{50 + n} (")
        page.screenshot(path=str(SHOTS / f"admin-kpi-{width}x{height}.png"))
        page.close()
    with rt.sessions() as session:
        config = kpisettings.in_force(session, utcnow())
    assert config.composite_weights["on_time_closing_rate"] == 51
    assert_offline_and_clean(requests, errors)


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_duty_officer_goes_from_the_map_to_an_overdue_incident_and_supervises_it(
    server, browser, rt
):
    """The desk's path: the overview's map → the district's 事件流转 → overdue only → the
    incident → 督办 with a reply deadline → on its timeline and in the audit log; both pages
    at 1920×1080 and 3840×2160; nothing fetched from elsewhere, no console error."""
    from sqlalchemy import select

    from dashboard import auth, jobs
    from dashboard.models import AuditLog, Supervision

    now = utcnow()
    old = now - timedelta(days=4)
    rt.ingestor.ingest_events(
        [
            event("OD1", old, "G11", title="占道经营 未处置"),
            event("OK2", now - timedelta(hours=1), "G21"),
        ],
        now=now,
    )
    steps = [
        {"status": s, "at": (old + timedelta(minutes=10 * (i + 1))).isoformat() + "Z"}
        for i, s in enumerate(("accepted", "dispatched"))
    ]
    rt.ingestor.transition_event("grid", "OD1", steps, now=now)
    jobs.wall_snapshot(rt, now=now)
    with rt.sessions() as session, session.begin():
        _user, password = auth.create_user(session, "duty-desk", "duty_officer")
    SHOTS.mkdir(exist_ok=True)
    requests, errors = [], []
    for width, height in ((1920, 1080), (3840, 2160)):
        page = watched(browser, width, height, requests, errors)
        sign_in(page, server, "duty-desk", password)
        page.goto(server + "/", wait_until="networkidle")
        first = page.locator("#overview-graph-map path.choroplethlocation").first
        first.wait_for(timeout=15000)
        first.click(force=True)
        page.wait_for_url("**/flow?*area=339001*", timeout=15000)
        page.wait_for_selector(".flow-grid .ag-row", timeout=15000)
        page.locator("#flow-flags input[value=overdue]").check()
        page.wait_for_url("**/flow?*overdue=1*", timeout=10000)  # the filter is in the URL
        link = page.locator(".flow-grid .ag-row a", has_text=":").first
        page.wait_for_selector(".flow-grid .ag-row [col-id=left]:has-text('已超期')", timeout=15000)
        assert page.locator(".flow-grid .ag-row").count() == 1  # OD1 only: OK2 is in district 2
        page.screenshot(path=str(SHOTS / f"flow-{width}x{height}.png"))
        link.click()
        page.wait_for_url("**/incident/grid/OD1*", timeout=15000)
        page.wait_for_selector("#incident-timeline li", timeout=15000)
        page.fill("#incident-text", f"限{width}前回复")
        page.fill("#incident-hours", "8")
        page.click("#incident-submit")
        page.wait_for_selector("#incident-result .inc-done", timeout=10000)
        page.wait_for_selector(f"#incident-timeline li:has-text('限{width}前回复')", timeout=10000)
        assert "督办" in page.locator("#incident-timeline li").last.inner_text()
        page.screenshot(path=str(SHOTS / f"incident-{width}x{height}.png"), full_page=True)
        page.close()
    with rt.sessions() as session:
        pressed = session.execute(select(Supervision.note, Supervision.actor)).all()
        audited = (
            session.execute(select(AuditLog.actor).where(AuditLog.action == "supervision.batch"))
            .scalars()
            .all()
        )
    assert sorted(pressed) == [("限1920前回复", "duty-desk"), ("限3840前回复", "duty-desk")]
    assert audited == ["duty-desk", "duty-desk"]
    assert_offline_and_clean(requests, errors)


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_duty_officer_acknowledges_an_alert_and_issues_a_work_notice(server, browser, rt):
    """风险预警 at a desk: a compound's burst fires; the duty officer opens it, takes it up and
    issues one work notice to 司法局 covering its complaints; the alert is then being handled,
    the notice covers all of them, and both steps are in the audit log. Screenshots at
    1920×1080 and 3840×2160; nothing fetched from elsewhere, no console error."""
    from sqlalchemy import select

    from dashboard import auth, jobs, risk
    from dashboard.models import Alert, AuditLog, WorkNotice, WorkNoticeEvent

    now = utcnow()
    with rt.sessions() as session, session.begin():
        risk.load_rules(session, now)
        _user, password = auth.create_user(session, "duty-risk", "duty_officer")
    burst = [
        event(
            f"RB{i}",
            now - timedelta(minutes=50 - 5 * i),
            "G12",
            sub="0201",
            address="兰园小区3栋",
            title="兰园小区停车位纠纷",
        )
        for i in range(8)
    ]
    rt.ingestor.ingest_events(burst, now=now)
    jobs.risk_evaluation(rt, now=now)
    with rt.sessions() as session:
        alert_id = session.execute(select(Alert.id).where(Alert.rule == "surge.place")).scalar_one()
    SHOTS.mkdir(exist_ok=True)
    requests, errors = [], []
    page = watched(browser, 1920, 1080, requests, errors)
    sign_in(page, server, "duty-risk", password)
    page.goto(server + "/risk", wait_until="networkidle")
    card = page.locator(".risk-card", has_text="同一小区同类诉求激增")
    card.wait_for(timeout=15000)
    card.click()
    page.wait_for_selector(".risk-detail-title:has-text('同一小区同类诉求激增')", timeout=10000)
    page.wait_for_selector("#risk-events .ag-row", timeout=10000)
    assert page.locator("#risk-events .ag-row").count() == 8
    page.locator("#risk-action label", has_text="认领").click()
    page.fill("#risk-note", "值班员已认领，联系街道")
    page.click("#risk-submit")
    page.wait_for_selector("#risk-result .inc-done", timeout=10000)
    page.wait_for_selector(".risk-card.selected:has-text('已认领')", timeout=10000)
    assert page.input_value("#risk-notice-title").startswith("关于")  # prefilled from the alert
    page.fill("#risk-notice-title", "关于兰园小区停车位纠纷的工作提示")
    page.fill("#risk-notice-body", "请司法局会同街道一并化解，三日内回复")
    page.click("#risk-notice-dept")
    page.locator("[role=option]", has_text="司法局").click()
    page.wait_for_selector("#risk-notice-dept :text('司法局')", timeout=5000)
    local = now + timedelta(hours=8, days=2)  # Asia/Shanghai
    page.fill("#risk-notice-deadline", local.strftime("%Y-%m-%dT%H:%M"))
    page.click("#risk-notice-issue")
    page.wait_for_selector("#risk-notice-result .inc-done", timeout=10000)
    assert "覆盖 8 件事件" in page.inner_text("#risk-notice-result")
    page.wait_for_selector("#risk-notices .ag-row", timeout=10000)
    page.screenshot(path=str(SHOTS / "risk-1920x1080.png"))
    page.close()
    page = watched(browser, 3840, 2160, requests, errors)
    sign_in(page, server, "duty-risk", password)
    page.goto(server + f"/risk?alert={alert_id}", wait_until="networkidle")
    page.wait_for_selector(".risk-card.selected", timeout=15000)
    page.screenshot(path=str(SHOTS / "risk-3840x2160.png"))
    page.close()
    with rt.sessions() as session:
        alert = session.get(Alert, alert_id)
        notice = session.execute(select(WorkNotice)).scalar_one()
        covered = (
            session.execute(
                select(WorkNoticeEvent.event_id).where(WorkNoticeEvent.notice_id == notice.id)
            )
            .scalars()
            .all()
        )
        audited = (
            session.execute(
                select(AuditLog.action).where(
                    AuditLog.actor == "duty-risk", AuditLog.action.not_like("log%")
                )
            )
            .scalars()
            .all()
        )
    assert alert.state == "handling" and alert.assignee == "duty-risk"
    assert notice.alert_id == alert_id and len(covered) == 8 and notice.department_id is not None
    assert audited == ["alert.ack", "alert.handle", "notice.issue"]
    assert_offline_and_clean(requests, errors)


def busy_morning(rt, username: str, role: str) -> str:
    """1,234 events reported two minutes ago (four-digit figures with their deltas: the widest
    tiles), the minute snapshot, and a person to sign in as; returns the password."""
    from dashboard import auth, jobs

    now = utcnow()
    rt.ingestor.ingest_events(
        [event(f"B{i}", now - timedelta(minutes=2)) for i in range(1234)], now=now
    )
    jobs.wall_snapshot(rt)
    with rt.sessions() as session, session.begin():
        return auth.create_user(session, username, role)[1]


HEADER_CUT = """() => Array.from(document.querySelectorAll('#shell-header *')).filter(
    e => e.children.length === 0 && e.textContent.trim() && getComputedStyle(e).display !== 'inline'
      && e.scrollWidth > e.clientWidth + 1
  ).map(e => e.textContent.trim())"""
HEADER_BOXES = """() => { const r = s => document.querySelector(s).getBoundingClientRect();
    return [r('.shell-brand').right, r('.shell-status').left, r('#shell-header').right,
            r('.shell-status').right]; }"""


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_header_is_never_cut(server, browser, rt):
    """At 1920×1080 and 3840×2160, in both languages, with the navigation shown: no header
    element's text is wider than its box, and the title and navigation end before the status."""
    password = busy_morning(rt, "desk-header", "duty_officer")
    requests, errors = [], []
    for width, height in ((1920, 1080), (3840, 2160)):
        page = watched(browser, width, height, requests, errors)
        sign_in(page, server, "desk-header", password)
        for lang in ("zh", "en"):
            page.goto(server + f"/?lang={lang}", wait_until="networkidle")
            page.wait_for_selector("#shell-clock:not(:empty)", timeout=10000)
            page.wait_for_selector("#overview-tile-received-delta:not(:empty)", timeout=10000)
            assert page.evaluate(HEADER_CUT) == [], (width, lang)
            assert page.evaluate(CUT_VALUES) == [], (width, lang)  # nor a tile or a title
            page.wait_for_selector(
                f"#shell-signout:text-is('{'Sign out' if lang == 'en' else '退出'}')", timeout=5000
            )
            brand, status, header_right, status_right = page.evaluate(HEADER_BOXES)
            assert brand < status and status_right <= header_right + 1, (width, lang)
        page.close()
    assert_offline_and_clean(requests, errors)


# Every 40 ms: the district the page names (the label over its map; empty for the city), the
# received-today tile and the district in the address.
SAMPLE_ROTATION = """() => { window.__samples = []; window.setInterval(() => {
    const label = document.getElementById('overview-scope-label');
    const tile = document.getElementById('overview-tile-received-value');
    window.__samples.push([label ? label.textContent : null, tile ? tile.textContent : null]);
  }, 40); }"""


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_rotation_never_shows_another_districts_numbers(server, browser, rt, display):
    """Stepping through the city and its districts every 5 s with tiles refreshed every second:
    whenever a district is named, its tiles are its own, and once drawn they never go blank."""
    from dashboard import jobs

    now = utcnow()
    reports = [event(f"D1-{i}", now - timedelta(minutes=3), grid="G11") for i in range(3)]
    reports += [event(f"D2-{i}", now - timedelta(minutes=3), grid="G21") for i in range(5)]
    rt.ingestor.ingest_events(reports, now=now)
    jobs.wall_snapshot(rt, now=now)
    expected = {"": "8", "第1区": "3", "第2区": "5"}
    page = browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
    page.goto(
        signed(server + "/?kiosk=1&rotate=5&by=district&tiles=1&charts=2", display),
        wait_until="networkidle",
    )
    page.wait_for_selector("#overview-tile-received-value:text-is('8')", timeout=15000)
    page.evaluate(SAMPLE_ROTATION)
    # city → 第1区 → 第2区 → city → 第1区
    page.wait_for_function(
        "new URLSearchParams(window.location.search).get('district') === '339001'"
        " && window.__samples.length > 0 && window.location.search.includes('339001')",
        timeout=12000,
    )
    time.sleep(17)
    samples = page.evaluate("window.__samples")
    page.close()
    shown = [(label, tile) for label, tile in samples if label is not None and tile is not None]
    assert {label for label, _tile in shown} == set(expected), set(shown)
    wrong = [(label, tile) for label, tile in shown if tile != expected[label]]
    assert wrong == [], f"{len(wrong)} of {len(shown)} samples: {sorted(set(wrong))}"


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_cold_wall_loads_at_most_one_and_a_half_megabytes(server, browser, rt, display):
    """A wall opened with an empty cache: what crosses the wire (compressed) stays under
    1.5 MB, plotly's full bundle is never fetched, and the favicon is the platform's own."""
    from dashboard import jobs

    jobs.wall_snapshot(rt)
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.goto(signed(server + "/?kiosk=1", display), wait_until="networkidle")  # signs in
    page.close()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    urls, sizes = {}, {}
    cdp.on(
        "Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"])
    )
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
    )
    page.goto(server + "/?kiosk=1", wait_until="networkidle")
    page.wait_for_selector("#overview-graph-map path.choroplethlocation", timeout=15000)
    fetched = [urls.get(r, "") for r in sizes]
    assert not any("package_data/plotly" in u for u in fetched), fetched
    assert any("plotly-traces" in u for u in fetched)
    total = sum(sizes.values())
    assert total <= 1.5 * 1024 * 1024, f"{total / 1024:.0f} KB: {sorted(fetched)}"
    icon = page.get_attribute("link[rel=icon]", "href")
    body = page.request.get(server + icon).body()
    assert body == (Path(__file__).resolve().parent.parent / "assets/favicon.ico").read_bytes()
    context.close()


COLUMNS = (
    "getComputedStyle(document.querySelector('.overview')).gridTemplateColumns.split(' ').length"
)
CUT_VALUES = """() => Array.from(document.querySelectorAll(
    '.tile-value, .tile-label, .tile-delta, .tile-month, .panel-title'))
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"""


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_leaders_phone_and_tablet(server, browser, rt):
    """移动驾驶舱: signed in as themselves, a leader's phone shows the overview in one column
    and a tablet in two, with nothing wider than the screen, no figure or header text cut, and
    navigation big enough for a finger."""
    password = busy_morning(rt, "leader-phone", "leader")
    requests, errors = [], []
    for (width, height), columns in (((390, 844), 1), ((1024, 768), 2)):
        page = watched(browser, width, height, requests, errors)
        sign_in(page, server, "leader-phone", password)
        for lang in ("zh", "en"):
            page.goto(server + f"/?lang={lang}", wait_until="networkidle")
            page.wait_for_selector("#overview-tile-received-value:text-is('1,234')")
            page.wait_for_selector("#overview-graph-flow .main-svg", timeout=15000)
            assert page.evaluate("document.documentElement.scrollWidth") == width, lang
            assert page.evaluate(COLUMNS) == columns, (width, lang)
            assert page.evaluate(CUT_VALUES) == [], (width, lang)
            assert page.evaluate(HEADER_CUT) == [], (width, lang)
            assert page.locator("#shell-title").is_visible()
            link = page.locator("#shell-nav a.nav-link").first.bounding_box()
            assert link["height"] >= 44, (width, lang, link)
            SHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SHOTS / f"overview-{lang}-{width}x{height}.png"))
        page.close()
    assert_offline_and_clean(requests, errors)


SIZES = ((1920, 1080), (3840, 2160), (5760, 1620), (1024, 768), (390, 844))
# Every size in every language, theme, scope and moment: (moment, language, theme, district,
# window); each shot is kept in tests/screenshots/ for review.
VIEWS = (
    ("morning", "zh", "dark", None, "today"),
    ("morning", "en", "light", "339001", "today"),
    ("after_midnight", "zh", "light", None, "today"),
    ("after_midnight", "en", "dark", "339002", "24h"),
)


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_wall_screenshots_at_every_size_by_day_and_just_after_midnight(
    server, browser, rt, time_machine
):
    """The overview at five screen sizes, both languages, both themes, the city and a
    district, by day and ten seconds after midnight (the 24-hour window): nothing wider than
    the screen, and after midnight the window still shows the day's work."""
    from dashboard import auth, jobs

    morning = utcnow()
    reports = [
        event(f"S{i}", morning - timedelta(minutes=7 * i), grid=("G11", "G21")[i % 2])
        for i in range(90)
    ]
    rt.ingestor.ingest_events(reports, now=morning)
    with rt.sessions() as session, session.begin():
        _user, password = auth.create_user(session, "leader-shots", "leader")
    SHOTS.mkdir(exist_ok=True)
    requests, errors = [], []
    for moment in ("morning", "after_midnight"):
        time_machine.move_to(datetime.fromisoformat(MOMENTS[moment]), tick=True)
        jobs.wall_snapshot(rt)
        for width, height in SIZES:
            rt.live.heartbeat("ingest")  # the data is fresh: no "interrupted" banner
            page = watched(browser, width, height, requests, errors)
            sign_in(page, server, "leader-shots", password)
            for when, lang, theme, district, window in VIEWS:
                if when != moment:
                    continue
                query = f"?lang={lang}&theme={theme}&window={window}"
                page.goto(server + "/" + query + (f"&district={district}" if district else ""))
                page.wait_for_selector("#overview-graph-flow .main-svg", timeout=15000)
                page.wait_for_timeout(600)  # the charts' own transitions
                assert page.evaluate("document.documentElement.scrollWidth") == width
                received = page.text_content("#overview-tile-received-value")
                if window == "24h":
                    assert received not in ("0", "—")  # the night shift sees the day's work
                name = f"wall-{moment}-{lang}-{theme}-{district or 'city'}-{window}"
                page.screenshot(path=str(SHOTS / f"{name}-{width}x{height}.png"))
            page.close()
    assert_offline_and_clean(requests, errors)
