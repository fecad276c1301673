"""周例会: the 通报 of a week as edited before it is issued (the generated text kept beside it),
and the reports the Monday job keeps (figures, text, workbook and PDF of each week).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "weekly_bulletins",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("week", sa.String(8), nullable=False, unique=True),
        sa.Column("generated", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("edited_by", sa.String(100), nullable=False),
        sa.Column("edited_at", sa.DateTime, nullable=False),
    )


    op.create_table(
        "weekly_reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("week", sa.String(8), nullable=False, unique=True),
        sa.Column("generated_at", sa.DateTime, nullable=False),
        sa.Column("figures", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("xlsx", sa.LargeBinary, nullable=False),
        sa.Column("pdf", sa.LargeBinary),
    )


def downgrade() -> None:
    op.drop_table("weekly_reports")
    op.drop_table("weekly_bulletins")
