"""knowledge base: articles, their embeddings, and the answers offered in the chat

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 05:14:12.087679
"""

import sqlalchemy as sa
from alembic import op

import clinic.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("topic_code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("questions", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=300), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("starter", sa.Boolean(), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", clinic.db.UTCDateTime(), nullable=True),
        sa.Column("source_ticket_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", clinic.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", clinic.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["staff_users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["source_ticket_id"],
            ["tickets.id"],
        ),
        sa.ForeignKeyConstraint(
            ["topic_code"],
            ["topics.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.create_index("ix_kb_articles_status", ["status"], unique=False)

    op.create_table(
        "kb_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("agency_type_code", sa.String(length=40), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("agency_other", sa.String(length=200), nullable=False),
        sa.Column("topic_code", sa.String(length=40), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("asked_at", clinic.db.UTCDateTime(), nullable=False),
        sa.Column("channel_message_id", sa.String(length=128), nullable=True),
        sa.Column("article_keys", sa.JSON(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("solved_key", sa.String(length=80), nullable=True),
        sa.Column("resolved_at", clinic.db.UTCDateTime(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rated_at", clinic.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
        ),
        sa.ForeignKeyConstraint(
            ["agency_type_code"],
            ["agency_types.code"],
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["requesters.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
        ),
        sa.ForeignKeyConstraint(
            ["topic_code"],
            ["topics.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kb_offers", schema=None) as batch_op:
        batch_op.create_index("ix_kb_offers_asked", ["asked_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_offers_requester_id"), ["requester_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_offers_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "kb_vectors",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=80), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("vectors", sa.LargeBinary(), nullable=False),
        sa.Column("computed_at", clinic.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id"),
    )


def downgrade() -> None:
    op.drop_table("kb_vectors")
    with op.batch_alter_table("kb_offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_offers_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_kb_offers_requester_id"))
        batch_op.drop_index("ix_kb_offers_asked")

    op.drop_table("kb_offers")
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.drop_index("ix_kb_articles_status")

    op.drop_table("kb_articles")
