"""Handling units below the city bureaus (承办单位): a department may be a bureau's branch in a
district; an event keeps the unit that handles it beside the bureau it is counted under, and
the residential compound its address lies in (surges by compound). Events stored before have
no compound key: the surge rule looks back four weeks, so it counts them from then on.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN: rebuilding these tables would trip the keys that point at them
    op.add_column("departments", sa.Column("parent_id", sa.Integer))
    op.add_column("departments", sa.Column("district_id", sa.Integer))
    op.add_column("events", sa.Column("unit_id", sa.Integer))
    op.add_column("events", sa.Column("compound_key", sa.String(16)))


def downgrade() -> None:
    # in place (SQLite >= 3.35)
    op.execute("ALTER TABLE events DROP COLUMN compound_key")
    op.execute("ALTER TABLE events DROP COLUMN unit_id")
    op.execute("ALTER TABLE departments DROP COLUMN district_id")
    op.execute("ALTER TABLE departments DROP COLUMN parent_id")
