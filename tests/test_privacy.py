"""Personal data: masked wherever it is shown or exported, revealed only with a reason (and
logged), sealed at rest when PII_KEY is set."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from dashboard import jobs, privacy
from dashboard.clock import utcnow
from dashboard.models import AuditLog
from tests.factories import event, step

PHONE = "13812345678"
FULL_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _reported(rt, n: int = 1):
    now = utcnow()
    rt.ingestor.ingest_events(
        [
            event(
                f"P{i}",
                now - timedelta(minutes=2),
                title=f"噪音扰民，联系 {PHONE}",
                description=f"身份证 110101199003071234 电话{PHONE}",
                reporter_name="欧阳娜娜",
                reporter_phone=PHONE,
            )
            for i in range(n)
        ],
        now=now,
    )


# Phone and ID numbers as people write them, and what is shown instead.
WRITTEN = {
    f"电话{PHONE}。": "电话138****5678。",
    "+8613812340001": "138****0001",
    "8613812340002": "138****0002",
    "013812340003": "138****0003",
    "１３８１２３４０００５": "138****0005",
    "138-1234-5678": "138****5678",
    "138 1234 5678": "138****5678",
    "(+86)138.1234.5678": "138****5678",
    "0086-138-1234-5678": "138****5678",
    "回访13812340013核实": "回访138****0013核实",
    "座机0571-88889999": "座机0571-****9999",
    "(010)12345678": "(010)****5678",
    "+86 10 12345678": "+86 10 ****5678",
    "０５７１－８８８８９９９９": "0571-****9999",
    "ID 110101199003071234": "ID 110***********1234",
    "x110101199003071234": "x110***********1234",
    "身份证11010119900307123X号": "身份证110***********123X号",
    "110101 19900307 1234": "110***********1234",
    "ａ１１０１０１１９９００３０７１２３４": "ａ110***********1234",
    "老证 110101900307123": "老证 110********7123",
}
# Numbers that are not personal stay as they are.
NOT_PERSONAL = [
    "工单 202611260001234",
    "2026-11-27 10:30",
    "订单 12345678901234567890",
    "金额 1380 元",
]


def test_mask_text():
    for written, shown in WRITTEN.items():
        assert privacy.mask_text(written) == shown, written
    for plain in NOT_PERSONAL:
        assert privacy.mask_text(plain) == plain
    assert privacy.mask_text(None) is None and privacy.mask_text("") == ""


def test_mask_phone_in_every_form():
    for phone in ("+8613812345678", "8613812345678", "013812345678", "１３８１２３４５６７８",
                  "138-1234-5678", "138 1234 5678"):  # fmt: skip
        assert privacy.mask_phone(phone) == "138****5678", phone
    assert privacy.mask_phone("0571-88889999") == "057****9999"


def test_personal_data_is_masked_in_the_api_pages_and_exports(sign_in, rt, token):
    _reported(rt)
    jobs.wall_snapshot(rt)
    leader = sign_in("leader")
    detail = leader.get("/api/v1/events/grid/P0").json
    assert detail["reporter_name"] == "欧***" and detail["reporter_phone"] == "138****5678"
    assert not FULL_PHONE.search(str(detail)) and "110101199003071234" not in str(detail)
    # An ingest token reads the same masked event and may not reveal.
    bearer = {"Authorization": f"Bearer {token}"}
    assert rt and leader.get("/api/v1/events/grid/P0", headers=bearer).json == detail
    assert (
        leader.post(
            "/api/v1/events/grid/P0/reveal", json={"reason": "回访"}, headers=bearer
        ).status_code
        == 403
    )
    # The overview's lists as the browser receives them.
    from tests.dash_requests import callbacks

    for body in callbacks(leader):
        r = leader.post("/_dash-update-component", json=body)
        assert not FULL_PHONE.search(r.get_data(as_text=True)), body["output"]
    assert "138****5678" in str(rt.live.ticker(5)) or "欧*" in str(rt.live.ticker(5))
    # Exports: analysts only, masked, logged.
    assert leader.get("/api/v1/events/export.csv").status_code == 403


def test_csv_cells_never_run_as_formulas():
    from dashboard.exports import to_csv

    text = to_csv(
        [{"a": '=HYPERLINK("http://x")', "b": "-1+2", "c": 5}, {"a": "正常", "b": None, "c": 0}],
        ["a", "b", "c"],
    )
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[1] == '"\'=HYPERLINK(""http://x"")",\'-1+2,5' and lines[2] == "正常,,0"


def test_export_is_masked_and_logged(sign_in, rt):
    _reported(rt, 3)
    analyst = sign_in("analyst")
    r = analyst.get("/api/v1/events/export.csv")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert body.count("\n") == 4 and "138****5678" in body and "欧***" in body
    assert not FULL_PHONE.search(body)
    with rt.sessions() as session:
        entry = session.execute(
            select(AuditLog).where(AuditLog.action == "export.events")
        ).scalar_one()
    assert entry.actor.startswith("analyst-") and "rows=3" in entry.detail
    assert analyst.get("/api/v1/events/export.csv?from=2026-13-01").status_code == 400


def test_reveal_needs_the_role_and_a_reason_and_is_logged(client, rt, city):
    from tests.conftest import sign_in_client

    _reported(rt)
    duty = sign_in_client(client, rt, "duty_officer")
    url = "/api/v1/events/grid/P0/reveal"
    assert duty.post(url, json={}).status_code == 400
    assert duty.post(url, json={"reason": "x"}).status_code == 400
    with rt.sessions() as session:
        assert not session.execute(select(AuditLog).where(AuditLog.action == "pii.reveal")).first()
    r = duty.post(url, json={"reason": "回访核实处置结果"})
    assert r.status_code == 200
    assert r.json == {"reporter_name": "欧阳娜娜", "reporter_phone": PHONE}
    assert r.headers["Cache-Control"] == "no-store"
    with rt.sessions() as session:
        entry = session.execute(
            select(AuditLog).where(AuditLog.action == "pii.reveal")
        ).scalar_one()
    assert entry.target == "event:grid/P0" and entry.detail == "回访核实处置结果"
    assert (
        duty.post("/api/v1/events/grid/NOPE/reveal", json={"reason": "回访核实"}).status_code == 404
    )
    for role in ("leader", "analyst", "district_officer", "admin"):
        other = sign_in_client(
            client.application.test_client(),
            rt,
            role,
            "339001" if role == "district_officer" else None,
        )
        assert other.post(url, json={"reason": "回访核实处置结果"}).status_code == 403, role


@pytest.fixture
def sealed(rt):
    privacy.configure("a long operator secret, new key,old key")
    yield
    privacy.configure(None)


def test_reporter_data_is_sealed_at_rest(sealed, client, rt, city):
    from tests.conftest import sign_in_client

    _reported(rt)
    with rt.engine.connect() as conn:
        name, phone = conn.execute(
            text("SELECT reporter_name, reporter_phone FROM events WHERE external_id = 'P0'")
        ).one()
    assert name.startswith(privacy.SEALED) and phone.startswith(privacy.SEALED)
    assert PHONE not in phone and "欧阳" not in name
    duty = sign_in_client(client, rt, "duty_officer")
    assert duty.get("/api/v1/events/grid/P0").json["reporter_phone"] == "138****5678"
    r = duty.post("/api/v1/events/grid/P0/reveal", json={"reason": "回访核实处置结果"})
    assert r.json["reporter_phone"] == PHONE
    # A rotated key list still opens what the old key sealed; no key at all shows nothing.
    privacy.configure("another key,a long operator secret")
    assert privacy.unseal(phone) == PHONE
    privacy.configure(None)
    assert privacy.unseal(phone) is None


def test_no_log_line_carries_personal_data(rt, city, caplog):
    """A database error prints no statement parameters, and every record — message, traceback,
    from any logger — has its phone and ID numbers masked."""
    import logging

    from sqlalchemy.exc import SQLAlchemyError

    caplog.set_level(logging.DEBUG)
    try:
        with rt.engine.connect() as conn:
            conn.execute(text("SELECT * FROM no_such_table WHERE x = :p"), {"p": PHONE})
    except SQLAlchemyError as exc:
        assert PHONE not in str(exc)
        logging.getLogger("dashboard.test").exception("ingest failed for %s", "+86 138 1234 5678")
    try:
        raise ValueError("reporter 110101199003071234 phone １３８１２３４５６７８")
    except ValueError:
        logging.getLogger("werkzeug").error("request failed", exc_info=True, stack_info=True)
    logging.getLogger("gunicorn.error").warning("user %s locked", "13812345678")
    shown = "\n".join([*caplog.messages, caplog.text])
    assert "138****5678" in shown and "110***********1234" in shown
    assert not FULL_PHONE.search(shown) and "110101199003071234" not in shown
    assert "１３８１２３４５６７８" not in shown and "1234 5678" not in shown


# Personal numbers in the forms people write them, and the digits that must never be readable.
PERSONAL = {
    "+8613812340001": "13812340001",
    "8613812340002": "13812340002",
    "013812340003": "13812340003",
    "１３８１２３４０００５": "13812340005",
    "138-1234-0006": "13812340006",
    "138 1234 0007": "13812340007",
    "(+86)138.1234.0008": "13812340008",
    "座机0571-88886666": "88886666",
    "x110101199003071234": "110101199003071234",
    "１１０１０１１９９００３０７１２３５": "110101199003071235",
}
_SEPARATORS = re.compile(r"[-\s.()+＋－（）　]")


def _readable(output: str) -> list[str]:
    """The personal numbers an output still shows, whatever their form."""
    digits = _SEPARATORS.sub("", privacy._ascii(output))
    return [core for core in PERSONAL.values() if core in digits]


def test_no_output_shows_a_personal_number_in_any_form(client, rt, city, token, caplog):
    """Events, a note, a reveal reason and a failed sign-in carrying every form; then every way
    out: the API, the overview's callbacks, the ticker, exports, the audit grid and its CSV,
    and the logs."""
    import logging

    from dashboard.models import Alert
    from tests.conftest import as_role, post_login
    from tests.dash_requests import callback, callbacks

    caplog.set_level(logging.DEBUG)
    now = utcnow()
    forms = list(PERSONAL)
    bearer = {"Authorization": f"Bearer {token}"}
    items = [
        event(f"M{i}", now, title=f"请回电 {form}", description=f"报告人 {form}，另 {forms[-1]}",
              reporter_phone=PHONE, reporter_name="欧阳娜娜")
        for i, form in enumerate(forms)
    ]  # fmt: skip
    assert client.post("/api/v1/events", json={"events": items}, headers=bearer).json["created"]
    note = [step("accepted", now, note=f"已联系 {forms[0]} 和 {forms[8]}")]
    r = client.post("/api/v1/events/grid/M0/transitions", json=note, headers=bearer)
    assert r.status_code == 200
    with rt.sessions() as session, session.begin():
        session.add(Alert(rule="t", level=1, title=f"重复来电 {forms[1]}", created_at=now,
                          updated_at=now))  # fmt: skip
    post_login(rt_client := client.application.test_client(), forms[2], "wrong-password")
    jobs.wall_snapshot(rt)
    outputs: dict[str, str] = {}
    duty = as_role(rt_client, rt, "duty_officer")
    reason = {"reason": f"回访 {forms[3]} 核实处置结果"}
    assert duty.post("/api/v1/events/grid/M1/reveal", json=reason).status_code == 200
    for i in range(len(forms)):
        outputs[f"event M{i}"] = duty.get(f"/api/v1/events/grid/M{i}").get_data(as_text=True)
    outputs["alerts"] = duty.get("/api/v1/alerts").get_data(as_text=True)
    outputs["ticker"] = str(rt.live.ticker(50))
    for body in callbacks(duty, {"shell-lang": "zh", "shell-theme": "dark"}, default=1):
        outputs[body["output"]] = duty.post("/_dash-update-component", json=body).get_data(
            as_text=True
        )
    admin = as_role(client.application.test_client(), rt, "admin")
    outputs["export"] = admin.get("/api/v1/events/export.csv").get_data(as_text=True)
    grid = callback(admin, "admin-audit-grid", {"admin-lang": "zh"})
    outputs["audit grid"] = admin.post("/_dash-update-component", json=grid).get_data(as_text=True)
    download = callback(admin, "admin-audit-download", default=1)
    outputs["audit csv"] = admin.post("/_dash-update-component", json=download).get_data(
        as_text=True
    )
    outputs["logs"] = caplog.text
    assert "回访" in outputs["audit grid"] and "login.failure" in outputs["audit csv"]
    assert "重复来电" in outputs["alerts"] and "请回电" in outputs["export"]
    shown = {name: _readable(text) for name, text in outputs.items()}
    assert not any(shown.values()), {k: v for k, v in shown.items() if v}
