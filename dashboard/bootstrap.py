"""First start of an installation: the demo city in an empty database, the first admin and the
shipped risk rules."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from dashboard import auth, risk
from dashboard.clock import utcnow
from dashboard.models import Area
from dashboard.runtime import Runtime


def prepare(rt: Runtime, progress: Callable[[str], None] = print, **demo_size) -> str | None:
    """Idempotent; several processes may call it at once (a Redis lock lets one work).

    Returns the first admin password when this call created it (it is also printed once).
    `demo_size` (days, per_day) shrinks the demo city, for tests.
    """
    with rt.live.lock("bootstrap", timeout=600, blocking_timeout=600):
        with rt.sessions() as session:
            empty = not session.execute(select(func.count()).select_from(Area)).scalar()
        if empty and rt.settings.demo:
            from dashboard import demo

            progress("empty database: creating the demo city (about a minute)")
            demo.seed_demo(rt, progress=progress, **demo_size)
        with rt.sessions() as session, session.begin():
            password = auth.ensure_admin(session)
            added = risk.load_rules(session, utcnow())
        if added:
            progress(f"risk rules: {added} loaded from dashboard/rules.toml")
        if password:
            progress("=" * 64)
            progress("first run: created the administrator account")
            progress("  username: admin")
            progress(f"  password: {password}")
            progress("this password is shown once; change it after the first login")
            progress("=" * 64)
        return password
