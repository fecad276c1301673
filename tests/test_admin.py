"""The administration pages (dashboard.views.admin, callbacks/admin.py): users, tokens and the
audit log, which the database itself keeps append-only; crafted input."""

from __future__ import annotations

import re

import pytest

from dashboard import auth
from dashboard.models import AuditLog
from tests.conftest import as_role, post_login, rt_client
from tests.dash_requests import call


def _find_secret(node):
    """The text of the component with id admin-secret in a callback's answer."""
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == "admin-secret":
            return node["props"]["children"]
        node = list(node.values())
    if isinstance(node, list):
        for item in node:
            found = _find_secret(item)
            if found:
                return found
    return None


def _admin_call(c, output_part: str, trigger: str, values: dict) -> dict:
    r = call(c, output_part, trigger, values)
    assert r.status_code == 200, r.data[:300]
    return r.json["response"]


def test_admin_manages_users_tokens_and_reads_the_audit_log(client, rt, city):
    admin = as_role(client, rt, "admin")
    made = _admin_call(
        admin,
        "admin-user-grid",
        "admin-user-create.n_clicks",
        {
            "admin-user-create.n_clicks": 1,
            "admin-user-name.value": "zhao",
            "admin-user-role.value": "district_officer",
            "admin-user-area.value": "339002",
        },
    )
    rows = {r["username"]: r for r in made["admin-user-grid"]["rowData"]}
    assert rows["zhao"]["role"] == "区级人员" and rows["zhao"]["area"] == "339002"
    password = _find_secret(made["admin-user-result"])  # the password, shown once
    fresh = rt_client(client)
    signed_in = post_login(fresh, "zhao", password)
    assert signed_in.status_code == 302
    # Bad input: a clear message and nothing written.
    again = _admin_call(
        admin,
        "admin-user-grid",
        "admin-user-create.n_clicks",
        {
            "admin-user-create.n_clicks": 2,
            "admin-user-name.value": "zhao",
            "admin-user-role.value": "leader",
        },
    )
    assert "exists" in str(again["admin-user-result"]) and len(
        again["admin-user-grid"]["rowData"]
    ) == len(rows)
    # Deactivate zhao: the account can no longer sign in.
    _admin_call(
        admin,
        "admin-user-grid",
        "admin-user-deactivate.n_clicks",
        {"admin-user-deactivate.n_clicks": 1, "admin-user-grid.selectedRows": [rows["zhao"]]},
    )
    with rt.sessions() as session:
        from sqlalchemy import select

        from dashboard.models import User

        assert session.execute(select(User.active).where(User.username == "zhao")).scalar() is False
    # A display token: created (URL shown once), listed, revoked.
    tokens = _admin_call(
        admin,
        "admin-token-grid",
        "admin-token-create.n_clicks",
        {
            "admin-token-create.n_clicks": 1,
            "admin-token-name.value": "hall-2",
            "admin-token-kind.value": "display",
        },
    )
    assert "?token=cd_" in str(tokens["admin-token-result"])
    row = next(t for t in tokens["admin-token-grid"]["rowData"] if t["name"] == "hall-2")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row["created_at"])  # local time
    revoked = _admin_call(
        admin,
        "admin-token-grid",
        "admin-token-revoke.n_clicks",
        {"admin-token-revoke.n_clicks": 1, "admin-token-grid.selectedRows": [row]},
    )
    assert next(t for t in revoked["admin-token-grid"]["rowData"] if t["id"] == row["id"])[
        "revoked_at"
    ]
    # The audit log: searchable, exportable (and the export is itself logged).
    log = _admin_call(
        admin, "admin-audit-grid", "admin-audit-text.value", {"admin-audit-text.value": "zhao"}
    )
    actions = {r["action"] for r in log["admin-audit-grid"]["rowData"]}
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", log["admin-audit-grid"]["rowData"][0]["at"]
    )
    assert {"user.create", "user.deactivate"} <= actions
    only_tokens = _admin_call(
        admin, "admin-audit-grid", "admin-audit-action.value", {"admin-audit-action.value": "token"}
    )
    assert {r["action"] for r in only_tokens["admin-audit-grid"]["rowData"]} == {
        "token.create",
        "token.revoke",
    }
    export = _admin_call(
        admin,
        "admin-audit-download",
        "admin-audit-export.n_clicks",
        {"admin-audit-export.n_clicks": 1, "admin-audit-text.value": "zhao"},
    )
    csv_text = export["admin-audit-download"]["data"]["content"]
    assert (
        csv_text.startswith("\ufeffat,actor,action,target,detail,address")
        and "user.deactivate" in csv_text
    )
    with rt.sessions() as session:
        assert session.execute(select(AuditLog).where(AuditLog.action == "audit.export")).first()


def test_the_database_refuses_to_edit_the_audit_log(rt, city):
    from sqlalchemy import delete, select, update
    from sqlalchemy.exc import DatabaseError

    with rt.sessions() as session, session.begin():
        auth.audit(session, "someone", "login.success", "someone")
    for statement in (
        update(AuditLog).values(actor="nobody"),
        delete(AuditLog),
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            rt.sessions() as session,
            session.begin(),
        ):
            session.execute(statement)
    with rt.sessions() as session:
        assert session.execute(select(AuditLog.actor)).scalars().all() == ["someone"]


def test_crafted_admin_input_gets_a_message_not_a_500(client, rt, city):
    admin = as_role(client, rt, "admin")
    cases = [
        (
            "admin-user-grid",
            "admin-user-create.n_clicks",
            {
                "admin-user-create.n_clicks": 1,
                "admin-user-name.value": ["x"],
                "admin-user-role.value": {"a": 1},
            },
        ),
        (
            "admin-user-grid",
            "admin-user-reset.n_clicks",
            {"admin-user-reset.n_clicks": 1, "admin-user-grid.selectedRows": ["nope"]},
        ),
        (
            "admin-token-grid",
            "admin-token-revoke.n_clicks",
            {
                "admin-token-revoke.n_clicks": 1,
                "admin-token-grid.selectedRows": [{"id": "1; drop"}],
            },
        ),
        (  # beyond the database's integers (PostgreSQL answered 500)
            "admin-token-grid",
            "admin-token-revoke.n_clicks",
            {"admin-token-revoke.n_clicks": 1, "admin-token-grid.selectedRows": [{"id": 2**40}]},
        ),
        (
            "admin-token-grid",
            "admin-token-create.n_clicks",
            {
                "admin-token-create.n_clicks": 1,
                "admin-token-name.value": "x",
                "admin-token-kind.value": "root",
            },
        ),
    ]
    with rt.sessions() as session:
        from sqlalchemy import func, select

        from dashboard.models import ApiToken, User

        before = (
            session.execute(select(func.count(User.id))).scalar(),
            session.execute(select(func.count(ApiToken.id))).scalar(),
        )
    for output, trigger, values in cases:
        answer = _admin_call(admin, output, trigger, values)
        result = answer.get("admin-user-result") or answer.get("admin-token-result")
        assert "danger" in str(result), (trigger, result)
    with rt.sessions() as session:
        after = (
            session.execute(select(func.count(User.id))).scalar(),
            session.execute(select(func.count(ApiToken.id))).scalar(),
        )
    assert after == before  # nothing written
    bad_date = _admin_call(
        admin,
        "admin-audit-grid",
        "admin-audit-dates.start_date",
        {"admin-audit-dates.start_date": "2026-13-45"},
    )
    assert (
        bad_date["admin-audit-grid"]["rowData"] == []
        and "invalid date" in bad_date["admin-audit-count"]["children"]
    )


def test_admin_edits_a_risk_rule_and_bad_parameters_change_nothing(client, rt, city):
    import orjson
    from sqlalchemy import select

    from dashboard import risk
    from dashboard.clock import utcnow
    from dashboard.models import RiskRule

    with rt.sessions() as session, session.begin():
        risk.load_rules(session, utcnow())
    admin = as_role(client, rt, "admin")
    rows = _admin_call(admin, "admin-rule-grid", "admin-rule-page.id", {"admin-rule-page.id": "admin-rule-page"})  # fmt: skip
    assert {r["key"] for r in rows["admin-rule-grid"]["rowData"]} >= {
        "surge.place",
        "staffing.street",
    }
    picked = [{"key": "keywords"}]
    editor = _admin_call(admin, "admin-rule-params", "admin-rule-grid.selectedRows", {"admin-rule-grid.selectedRows": picked})  # fmt: skip
    params = orjson.loads(editor["admin-rule-params"]["value"])
    assert "讨薪" in params["words"] and editor["admin-rule-enabled"]["value"] is True

    def save(enabled, text):
        values = {"admin-rule-save.n_clicks": 1, "admin-rule-grid.selectedRows": picked,
                  "admin-rule-enabled.value": enabled, "admin-rule-params.value": text}  # fmt: skip
        return str(_admin_call(admin, "admin-rule-grid", "admin-rule-save.n_clicks", values)["admin-rule-result"])  # fmt: skip

    bad = [
        (True, "{not json"),
        (True, '{"words": ["讨薪"], "colour": 1}'),  # not a setting of the family
        (True, '{"words": "讨薪"}'),  # a list is wanted
        (True, '{"level": "high"}'),
        (True, '{"words": ["' + "长" * 21 + '"]}'),
        (True, '{"words": ["a\\u0000b"]}'),
        (True, "[1, 2]"),
        (True, "x" * 20_001),
        ("yes", '{"words": ["讨薪"]}'),
        (True, ["{}"]),
    ]
    for enabled, text in bad:
        assert "danger" in save(enabled, text), text[:40]
    with rt.sessions() as session:
        assert orjson.loads(session.get(RiskRule, "keywords").params) == params
    assert "已保存" in save(
        False, '{"words": ["讨薪", "欠薪"], "level": 2, "clear_after_minutes": 60}'
    )
    with rt.sessions() as session:
        rule = session.get(RiskRule, "keywords")
        logged = session.execute(
            select(AuditLog).where(AuditLog.action == "rule.update")
        ).scalar_one()
        assert not rule.enabled and orjson.loads(rule.params)["level"] == 2
        assert [r.key for r in risk.rules(session, "keywords")] == []  # switched off: not run
    assert "讨薪" in logged.detail and logged.target == "rule:keywords"
    # levels: each of 1–4 once, with numbers
    with rt.sessions() as session, session.begin():
        for levels in ('[{"level": 5, "min_count": 3}]', '[{"level": 4, "min_count": 3}, {"level": 4, "min_count": 5}]',
                       '[{"level": 4, "min_count": -1}]', '[{"level": 4, "min_tail": 3}]'):  # fmt: skip
            with pytest.raises(Exception) as bad_levels:
                risk.update_rule(
                    session, "repeat.grid", True, f'{{"levels": {levels}}}', "admin", utcnow()
                )
            assert "levels" in bad_levels.value.errors
    # another role: the gate refuses the callback
    duty = as_role(rt_client(client), rt, "duty_officer")
    r = call(duty, "admin-rule-grid", "admin-rule-save.n_clicks", {"admin-rule-save.n_clicks": 1})
    assert r.status_code == 403
