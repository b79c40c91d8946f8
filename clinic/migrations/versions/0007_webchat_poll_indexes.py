"""web chat polling by index: inbound events know their web user; the outbox is indexed by requester

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 06:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel_user_id", sa.String(length=128), nullable=True))
    # A web event's key is "<browser id>:<message id>" (or ":start"); the browser id is the user.
    if op.get_bind().dialect.name == "postgresql":
        user = "split_part(event_key, ':', 1)"
    else:
        user = "substr(event_key, 1, instr(event_key, ':') - 1)"
    op.execute(f"UPDATE inbound_events SET channel_user_id = {user} WHERE channel = 'web' AND event_key LIKE '%:%'")
    op.create_index("ix_inbound_channel_user", "inbound_events", ["channel", "channel_user_id", "id"])
    op.create_index("ix_outbox_requester", "outbox", ["requester_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_requester", table_name="outbox")
    op.drop_index("ix_inbound_channel_user", table_name="inbound_events")
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.drop_column("channel_user_id")
