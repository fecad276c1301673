"""What dashboard.security puts on the server besides the gate: CSRF, the 503 on a database
outage, access logs without display tokens."""

from __future__ import annotations

from tests.conftest import as_role, form_token, rt_client
from tests.dash_requests import callbacks


def test_callbacks_need_the_csrf_header(client, rt, city):
    c = as_role(client, rt, "leader")
    body = next(b for b in callbacks(c) if "shell-clock" in b["output"])
    assert c.post("/_dash-update-component", json=body).status_code == 200
    del c.environ_base["HTTP_X_CSRFTOKEN"]
    assert c.post("/_dash-update-component", json=body).status_code == 400


def test_access_logs_do_not_keep_display_tokens():
    import logging

    from dashboard.headers import RedactTokens

    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        "",
        0,
        '"%s" %s',
        ("GET /?kiosk=1&token=cd_secret123 HTTP/1.1", 302),
        None,
    )
    RedactTokens().filter(record)
    assert record.getMessage() == '"GET /?kiosk=1&token=*** HTTP/1.1" 302'


def test_a_database_outage_is_503_not_a_sign_out(client, rt, city):
    from dashboard.db import make_engine, make_sessionmaker

    wall = as_role(client, rt, "display")
    person = rt_client(client)
    csrf = form_token(person)  # the form was loaded before the database went away
    real = rt.sessions
    dead = make_engine("postgresql://nobody@127.0.0.1:1/none")
    rt.sessions = make_sessionmaker(dead)
    try:
        r = wall.get("/_session")
        assert r.status_code == 503 and r.headers["Retry-After"] == "5"  # the wall keeps its page
        signing_in = person.post(
            "/login", data={"username": "x", "password": "y", "csrf_token": csrf}
        )
        assert signing_in.status_code == 503
        assert "登录服务暂不可用" in signing_in.get_data(as_text=True)
    finally:
        rt.sessions = real
        dead.dispose()
    assert wall.get("/_session").status_code == 200  # still signed in once it is back
