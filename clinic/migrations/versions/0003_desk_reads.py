"""desk: per-staff ticket and alert reads, last activity of a ticket, inbox sort indexes

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import clinic.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_reads",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("last_message_id", sa.Integer(), nullable=False),
        sa.Column("read_at", clinic.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("staff_id", "ticket_id"),
    )
    op.create_table(
        "staff_alert_reads",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("read_at", clinic.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["staff_alerts.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"]),
        sa.PrimaryKeyConstraint("staff_id", "alert_id"),
    )
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alerts_read_through", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_activity_at", clinic.db.UTCDateTime(), nullable=True))
    # Existing tickets: their newest message, else their posting time.
    op.execute(
        "UPDATE tickets SET last_activity_at = COALESCE("
        "(SELECT MAX(messages.created_at) FROM messages WHERE messages.ticket_id = tickets.id), posted_at)"
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_activity", ["last_activity_at"], unique=False)
        batch_op.create_index("ix_tickets_assignee_due", ["assignee_id", "due_at"], unique=False)
        # A filtered list by deadline (status != closed cannot use (status, due_at) for the order).
        batch_op.create_index("ix_tickets_due", ["due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_due")
        batch_op.drop_index("ix_tickets_assignee_due")
        batch_op.drop_index("ix_tickets_activity")
        batch_op.drop_column("last_activity_at")
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("alerts_read_through")
    op.drop_table("staff_alert_reads")
    op.drop_table("ticket_reads")
