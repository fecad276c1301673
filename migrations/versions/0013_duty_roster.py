"""人才队伍: duty shifts, check-ins and training records; room for a sealed ID number and phone
and a keyed hash of the ID number. 在岗 now comes from the shifts and check-ins, so the fixed
`shift` and the single `training_hours` figure of a staff row go (the records replace them).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("staff", sa.Column("id_key", sa.String(24)))
    # in place (SQLite >= 3.35): rebuilding `staff` would trip the keys that point at it
    op.execute("ALTER TABLE staff DROP COLUMN shift")
    op.execute("ALTER TABLE staff DROP COLUMN training_hours")
    if op.get_bind().dialect.name != "sqlite":  # SQLite does not enforce VARCHAR lengths
        op.alter_column("staff", "id_number", type_=sa.String(400), existing_type=sa.String(32))
        op.alter_column("staff", "phone", type_=sa.String(400), existing_type=sa.String(32))
    op.create_index("ix_staff_id_key", "staff", ["id_key"])
    op.create_table(
        "duty_shifts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("starts_at", sa.DateTime, nullable=False),
        sa.Column("ends_at", sa.DateTime, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.UniqueConstraint("staff_id", "starts_at", name="uq_duty_shifts_staff_start"),
    )
    op.create_index("ix_duty_shifts_time", "duty_shifts", ["starts_at", "ends_at"])
    op.create_table(
        "check_ins",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("staff_id", "at", "kind", name="uq_check_ins_staff_at_kind"),
    )
    op.create_index("ix_check_ins_at", "check_ins", ["at"])
    op.create_table(
        "training_records",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("course", sa.String(100), nullable=False),
        sa.Column("hours", sa.Float, nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("certificate", sa.String(100)),
        sa.UniqueConstraint("staff_id", "course", "date", name="uq_training_staff_course_date"),
    )
    op.create_index("ix_training_records_date", "training_records", ["date"])


def downgrade() -> None:
    op.drop_index("ix_training_records_date", "training_records")
    op.drop_table("training_records")
    op.drop_index("ix_check_ins_at", "check_ins")
    op.drop_table("check_ins")
    op.drop_index("ix_duty_shifts_time", "duty_shifts")
    op.drop_table("duty_shifts")
    op.drop_index("ix_staff_id_key", "staff")
    op.add_column("staff", sa.Column("training_hours", sa.Float, server_default="0"))
    op.add_column("staff", sa.Column("shift", sa.String(16), server_default="day"))
    op.execute("ALTER TABLE staff DROP COLUMN id_key")
