"""Booking domain: bookings, slot counters, closures, anonymous statistics, staff alerts.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copy of the models as of this revision: later model changes need a new revision.
TIMESTAMP = sa.DateTime(timezone=True)  # stored in UTC (see models.AwareDateTime)


def upgrade() -> None:
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("time", sa.Time(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=11), nullable=False),
        sa.Column("matter_summary", sa.String(length=200), nullable=False),
        sa.Column("matter_type", sa.String(length=32), nullable=True),
        sa.Column("statutory_channel", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "status IN ('booked', 'cancelled', 'attended', 'no_show')", name=op.f("ck_bookings_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        sa.UniqueConstraint("code", name=op.f("uq_bookings_code")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_bookings_idempotency_key")),
    )
    op.create_index("ix_bookings_date_time", "bookings", ["date", "time"])
    op.create_index("ix_bookings_phone_status", "bookings", ["phone", "status"])

    op.create_table(
        "slot_counters",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("time", sa.Time(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.CheckConstraint("booked >= 0", name=op.f("ck_slot_counters_booked_not_negative")),
        sa.CheckConstraint("booked <= capacity", name=op.f("ck_slot_counters_booked_within_capacity")),
        sa.PrimaryKeyConstraint("date", "time", name=op.f("pk_slot_counters")),
    )

    op.create_table(
        "closures",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("date", name=op.f("pk_closures")),
    )

    op.create_table(
        "booking_statistics",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("matter_type", sa.String(length=32), nullable=False),
        sa.Column("statutory_channel", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.CheckConstraint("count >= 0", name=op.f("ck_booking_statistics_count_not_negative")),
        sa.PrimaryKeyConstraint(
            "date", "matter_type", "statutory_channel", "status", name=op.f("pk_booking_statistics")
        ),
    )

    op.create_table(
        "staff_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("handled", sa.Boolean(), nullable=False),
        sa.Column("handled_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_alerts")),
    )
    op.create_index("ix_staff_alerts_handled_created", "staff_alerts", ["handled", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_staff_alerts_handled_created", table_name="staff_alerts")
    op.drop_table("staff_alerts")
    op.drop_table("booking_statistics")
    op.drop_table("closures")
    op.drop_table("slot_counters")
    op.drop_index("ix_bookings_phone_status", table_name="bookings")
    op.drop_index("ix_bookings_date_time", table_name="bookings")
    op.drop_table("bookings")
