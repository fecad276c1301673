"""Risk rules as data (loaded from dashboard/rules.toml, edited by admins), and what an alert
needs to be found again and to clear itself: how often its rule found it, and when last.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_rules",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("family", sa.String(16), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False, server_default=""),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("params", sa.Text, nullable=False, server_default="{}"),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False, server_default="rules.toml"),
    )
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("hits", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("seen_at", sa.DateTime))
    op.execute("UPDATE alerts SET seen_at = updated_at")


def downgrade() -> None:
    # in place (SQLite ≥ 3.35): rebuilding `alerts` would trip the keys that point at it
    op.execute("ALTER TABLE alerts DROP COLUMN seen_at")
    op.execute("ALTER TABLE alerts DROP COLUMN hits")
    op.drop_table("risk_rules")
