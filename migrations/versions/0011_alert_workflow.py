"""The alert workflow and 工作提示单: an alert's department and the times it was taken up, ended
and escalated; work notices to a department or street covering a class of complaints, and the
events each covers.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ALERT_COLUMNS = ("department_id", "acknowledged_at", "closed_at", "escalated_at")


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("department_id", sa.Integer))
        batch.add_column(sa.Column("acknowledged_at", sa.DateTime))
        batch.add_column(sa.Column("closed_at", sa.DateTime))
        batch.add_column(sa.Column("escalated_at", sa.DateTime))
    op.create_table(
        "work_notices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.String(32), nullable=False, unique=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False, server_default=""),
        sa.Column("department_id", sa.Integer, sa.ForeignKey("departments.id")),
        sa.Column("street_id", sa.Integer, sa.ForeignKey("areas.id")),
        sa.Column("district_id", sa.Integer),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id")),
        sa.Column("status", sa.String(16), nullable=False, server_default="issued"),
        sa.Column("deadline", sa.DateTime, nullable=False),
        sa.Column("issued_at", sa.DateTime, nullable=False),
        sa.Column("issued_by", sa.String(100), nullable=False),
        sa.Column("reply", sa.Text),
        sa.Column("replied_at", sa.DateTime),
        sa.Column("replied_by", sa.String(100)),
        sa.Column("closed_at", sa.DateTime),
        sa.Column("outcome", sa.Text),
        sa.Column("events_resolved", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_work_notices_issued", "work_notices", ["issued_at", "district_id"])
    op.create_index("ix_work_notices_alert_id", "work_notices", ["alert_id"])
    op.create_table(
        "work_notice_events",
        sa.Column("notice_id", sa.Integer, sa.ForeignKey("work_notices.id"), primary_key=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id"), primary_key=True),
    )
    op.create_index("ix_work_notice_events_event_id", "work_notice_events", ["event_id"])


def downgrade() -> None:
    op.drop_index("ix_work_notice_events_event_id", "work_notice_events")
    op.drop_table("work_notice_events")
    op.drop_index("ix_work_notices_alert_id", "work_notices")
    op.drop_index("ix_work_notices_issued", "work_notices")
    op.drop_table("work_notices")
    # in place (SQLite >= 3.35): rebuilding `alerts` would trip the keys that point at it
    for column in reversed(ALERT_COLUMNS):
        op.execute(f"ALTER TABLE alerts DROP COLUMN {column}")
