"""web chat uploads: an attachment may wait for its message, and knows the browser that sent it

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 05:30:00
"""

import sqlalchemy as sa
from alembic import op

import clinic.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite changes a column's nullability only by rebuilding the table.
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.alter_column("message_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("uploaded_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("uploaded_at", clinic.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    # Uploads that never joined a message have no place in the older schema.
    op.execute("DELETE FROM attachments WHERE message_id IS NULL")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_column("uploaded_at")
        batch_op.drop_column("uploaded_by")
        batch_op.alter_column("message_id", existing_type=sa.Integer(), nullable=False)
