"""room for sealed reporter data (PII_KEY)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return  # SQLite does not enforce VARCHAR lengths: nothing to change
    with op.batch_alter_table("events") as batch:
        batch.alter_column("reporter_name", type_=sa.String(400), existing_type=sa.String(100))
        batch.alter_column("reporter_phone", type_=sa.String(400), existing_type=sa.String(32))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    with op.batch_alter_table("events") as batch:
        batch.alter_column("reporter_name", type_=sa.String(100), existing_type=sa.String(400))
        batch.alter_column("reporter_phone", type_=sa.String(32), existing_type=sa.String(400))
