"""KPIs on the falling-due basis: time limits per step with a unit and a start event; deadlines,
decisions, the standing resolution and due moments on events; 督办 and 延期 records; the keys of
重复诉求 (place, point, reporter); versioned KPI settings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

EVENT_COLUMNS = [
    sa.Column("point_given", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("cell", sa.Integer),
    sa.Column("address", sa.String(200)),
    sa.Column("place_key", sa.String(16)),
    sa.Column("reporter_key", sa.String(24)),
    sa.Column("accept_deadline", sa.DateTime),
    sa.Column("decided_at", sa.DateTime),
    sa.Column("resolved_at", sa.DateTime),
    sa.Column("extended", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("supervised_at", sa.DateTime),
    sa.Column("accept_due_at", sa.DateTime),
    sa.Column("dispatch_due_at", sa.DateTime),
    sa.Column("handle_due_at", sa.DateTime),
    sa.Column("close_due_at", sa.DateTime),
]
EVENT_INDEXES = {
    "ix_events_sub_place": ["subcategory_id", "place_key", "reported_at"],
    "ix_events_sub_cell": ["subcategory_id", "cell", "reported_at"],
    "ix_events_reporter": ["reporter_key", "reported_at"],
    "ix_events_accept_due_at": ["accept_due_at"],
    "ix_events_dispatch_due_at": ["dispatch_due_at"],
    "ix_events_handle_due_at": ["handle_due_at"],
    "ix_events_close_due_at": ["close_due_at"],
}


def upgrade() -> None:
    # Time limits: one row per step, each with its unit and start. The old rows were calendar
    # hours from 立案 for all three steps, and keep that meaning.
    old = sa.table(
        "time_limits",
        sa.column("category_id", sa.Integer),
        sa.column("severity", sa.Integer),
        sa.column("dispatch_hours", sa.Float),
        sa.column("handle_hours", sa.Float),
        sa.column("close_hours", sa.Float),
    )
    rows = op.get_bind().execute(sa.select(old)).mappings().all()
    op.drop_table("time_limits")
    limits = op.create_table(
        "time_limits",
        sa.Column("category_id", sa.Integer, sa.ForeignKey("categories.id"), primary_key=True),
        sa.Column("severity", sa.Integer, primary_key=True),
        sa.Column("step", sa.String(16), primary_key=True),
        sa.Column("amount", sa.Float, nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("start", sa.String(16), nullable=False),
    )
    op.bulk_insert(
        limits,
        [
            {
                "category_id": r["category_id"],
                "severity": r["severity"],
                "step": step,
                "amount": r[f"{step}_hours"],
                "unit": "hours",
                "start": "accepted",
            }
            for r in rows
            for step in ("dispatch", "handle", "close")
        ],
    )
    with op.batch_alter_table("events") as batch:
        for column in EVENT_COLUMNS:
            batch.add_column(column)
    for name, columns in EVENT_INDEXES.items():
        op.create_index(name, "events", columns)
    op.create_table(
        "supervisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id"), nullable=False),
        sa.Column("department_id", sa.Integer),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("reply_due_at", sa.DateTime, nullable=False),
        sa.Column("replied_at", sa.DateTime),
        sa.Column("reply", sa.String(2000)),
        sa.Column("batch", sa.String(32)),
    )
    op.create_index("ix_supervisions_event_id", "supervisions", ["event_id"])
    op.create_index("ix_supervisions_at", "supervisions", ["at"])
    op.create_table(
        "extensions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id"), nullable=False),
        sa.Column("requested_at", sa.DateTime, nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("old_deadline", sa.DateTime, nullable=False),
        sa.Column("requested_deadline", sa.DateTime, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decided_at", sa.DateTime),
        sa.Column("decided_by", sa.String(100)),
    )
    op.create_index("ix_extensions_event_id", "extensions", ["event_id"])
    op.create_table(
        "kpi_settings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("effective_from", sa.DateTime, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_kpi_settings_kind", "kpi_settings", ["kind", "effective_from"])


def downgrade() -> None:
    op.drop_table("kpi_settings")
    op.drop_table("extensions")
    op.drop_table("supervisions")
    for name in EVENT_INDEXES:
        op.drop_index(name, table_name="events")
    with op.batch_alter_table("events") as batch:
        for column in EVENT_COLUMNS:
            batch.drop_column(column.name)
    op.drop_table("time_limits")
    op.create_table(
        "time_limits",
        sa.Column("category_id", sa.Integer, sa.ForeignKey("categories.id"), primary_key=True),
        sa.Column("severity", sa.Integer, primary_key=True),
        sa.Column("dispatch_hours", sa.Float, nullable=False),
        sa.Column("handle_hours", sa.Float, nullable=False),
        sa.Column("close_hours", sa.Float, nullable=False),
    )
