"""The duty officer's actions on a case: 催办 kept beside 督办 in `supervisions` (a kind; the KPI
counts and their partial index read 督办 only), the last 催办 on the event (a filter of the
list), duty notes, and the link of an alert to the events it was raised on.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SUPERVISE_ONLY = sa.text("kind = 'supervise'")
COLUMNS = ["at", "department_id", "district_id", "category_id"]


def upgrade() -> None:
    with op.batch_alter_table("supervisions") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(16), nullable=False, server_default="supervise")
        )
    op.drop_index("ix_supervisions_at", "supervisions")
    op.create_index(
        "ix_supervisions_at",
        "supervisions",
        COLUMNS,
        postgresql_where=SUPERVISE_ONLY,
        sqlite_where=SUPERVISE_ONLY,
    )
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("urged_at", sa.DateTime))
    op.create_table(
        "event_notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id"), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("text", sa.String(1000), nullable=False),
    )
    op.create_index("ix_event_notes_event_id", "event_notes", ["event_id"])
    op.create_table(
        "alert_events",
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), primary_key=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id"), primary_key=True),
    )
    op.create_index("ix_alert_events_event_id", "alert_events", ["event_id"])


def downgrade() -> None:
    op.drop_index("ix_alert_events_event_id", "alert_events")
    op.drop_table("alert_events")
    op.drop_index("ix_event_notes_event_id", "event_notes")
    op.drop_table("event_notes")
    # ALTER TABLE … DROP COLUMN in place (SQLite ≥ 3.35): rebuilding `events` would trip the
    # foreign keys that point at it.
    op.execute("ALTER TABLE events DROP COLUMN urged_at")
    op.drop_index("ix_supervisions_at", "supervisions")
    op.execute("DELETE FROM supervisions WHERE kind <> 'supervise'")
    op.execute("ALTER TABLE supervisions DROP COLUMN kind")
    op.create_index("ix_supervisions_at", "supervisions", COLUMNS)
