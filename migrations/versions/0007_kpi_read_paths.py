"""Faster KPI reads: the summaries without the category (kpi_daily_area, filled from kpi_daily);
督办 counted without a join (the case's district and category kept on each supervision); the
late closures indexed on their own and the open cases' index covering (超期未办结 at a past
moment); 督办 by time covering its groups; sensor feed hours indexed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COUNTS = [
    "received", "accepted", "resolutions", "returned", "rated", "satisfied", "disputes_closed",
    "disputes_grassroots", "mediated", "mediated_success", "repeats", "resident_reported",
    "sensor_reported", "due_acceptance", "decided", "accepted_on_time", "due_dispatch",
    "dispatched", "dispatched_on_time", "due_handling", "handled", "handled_on_time",
    "due_closing", "closed", "closed_on_time", "extended", "handling_n",
    *(f"handling_h{i:02d}" for i in range(45)),
    "handling_secs",
]  # fmt: skip
LATE = ["closed_at", "close_deadline", "accepted_at", "district_id", "department_id", "category_id"]


def upgrade() -> None:
    op.create_table(
        "kpi_daily_area",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("district_id", sa.Integer, primary_key=True),
        sa.Column("department_id", sa.Integer, primary_key=True),
        sa.Column("facts_until", sa.DateTime, nullable=False),
        *(sa.Column(n, sa.BigInteger, nullable=False, server_default="0") for n in COUNTS),
    )
    sums = ", ".join(f"SUM({n})" for n in COUNTS)
    op.execute(
        f"INSERT INTO kpi_daily_area (day, district_id, department_id, facts_until, "
        f"{', '.join(COUNTS)}) SELECT day, district_id, department_id, MAX(facts_until), {sums} "
        f"FROM kpi_daily GROUP BY day, district_id, department_id"
    )
    with op.batch_alter_table("supervisions") as batch:
        batch.add_column(sa.Column("district_id", sa.Integer))
        batch.add_column(sa.Column("category_id", sa.Integer))
    op.execute(
        "UPDATE supervisions SET "
        "district_id = (SELECT district_id FROM events WHERE events.id = supervisions.event_id), "
        "category_id = (SELECT category_id FROM events WHERE events.id = supervisions.event_id)"
    )
    with op.batch_alter_table("supervisions") as batch:
        batch.alter_column("district_id", existing_type=sa.Integer, nullable=False)
        batch.alter_column("category_id", existing_type=sa.Integer, nullable=False)
    where = sa.text("closed_at > close_deadline")
    op.create_index(
        "ix_events_late_closures", "events", LATE, postgresql_where=where, sqlite_where=where
    )
    op.create_index("ix_rollup_hourly_feed", "rollup_hourly", ["source", "status", "hour"])
    # 超期未办结 (still open) and 督办 counts answered from their indexes alone.
    op.drop_index("ix_events_open", "events")
    op.create_index("ix_events_open", "events", ["is_open", "close_deadline", *LATE[2:]])
    op.drop_index("ix_supervisions_at", "supervisions")
    op.create_index(
        "ix_supervisions_at", "supervisions", ["at", "department_id", "district_id", "category_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_supervisions_at", "supervisions")
    op.create_index("ix_supervisions_at", "supervisions", ["at"])
    op.drop_index("ix_events_open", "events")
    op.create_index("ix_events_open", "events", ["is_open", "close_deadline"])
    op.drop_index("ix_rollup_hourly_feed", "rollup_hourly")
    op.drop_index("ix_events_late_closures", "events")
    with op.batch_alter_table("supervisions") as batch:
        batch.drop_column("category_id")
        batch.drop_column("district_id")
    op.drop_table("kpi_daily_area")
