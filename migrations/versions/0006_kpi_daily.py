"""KPI summaries: the additive counts per local day × district × department × category
(dashboard/summaries.py), built from the events at the next start; 超期未办结 at a past
moment from one covering index; the kind of a mediation (人民, 行政, 司法调解)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
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

LATE_INDEX = [
    "closed_at", "close_deadline", "accepted_at", "district_id", "department_id", "category_id"
]  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "kpi_daily",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("district_id", sa.Integer, primary_key=True),
        sa.Column("department_id", sa.Integer, primary_key=True),
        sa.Column("category_id", sa.Integer, primary_key=True),
        sa.Column("facts_until", sa.DateTime, nullable=False),
        *(sa.Column(n, sa.BigInteger, nullable=False, server_default="0") for n in COUNTS),
    )


    op.add_column("events", sa.Column("mediation_type", sa.String(16)))  # 三调联动
    # 超期未办结 at a past moment (closed after it, late) answered from the index alone.
    op.drop_index("ix_events_closed_at", "events")
    op.create_index("ix_events_closed_late", "events", LATE_INDEX)


def downgrade() -> None:
    op.drop_index("ix_events_closed_late", "events")
    op.create_index("ix_events_closed_at", "events", ["closed_at"])
    op.drop_table("kpi_daily")
    op.drop_column("events", "mediation_type")
    op.execute("DELETE FROM job_state WHERE name = 'kpi_daily.offset'")
