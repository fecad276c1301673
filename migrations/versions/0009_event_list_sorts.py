"""事件流转 at scale. The event list sorted by severity or by closing deadline over weeks of
events: an index in each order, with the report time as the last key so that the time range is
checked in the index, not on the rows (a page of 100 reads about 100 / (share of the range)
entries instead of sorting every event of the range). The backlog of open events from a partial
index of its own.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_events_list_severity": ["severity", "id", "reported_at"],
    "ix_events_list_deadline": ["close_deadline", "id", "reported_at"],
}


# 事件流转's backlog (what is open now, by status × department × age × overdue), city-wide or
# for a district, answered from a small index of the open events alone.
BACKLOG = ["status", "department_id", "reported_at", "close_deadline", "district_id"]
OPEN = sa.text("is_open")


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "events", columns)
    op.create_index(
        "ix_events_backlog", "events", BACKLOG, postgresql_where=OPEN, sqlite_where=OPEN
    )


def downgrade() -> None:
    op.drop_index("ix_events_backlog", "events")
    for name in INDEXES:
        op.drop_index(name, "events")
