"""ticket search index: segmented text per ticket, with GIN (PostgreSQL) or FTS5 (SQLite)

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-26 05:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

# SQLite FTS5's default tokenizer treats Thai vowel and tone marks (Unicode category M) as separators and
# would cut every Thai word apart; the text is already segmented, so marks are made word characters.
FTS5_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"


def upgrade() -> None:
    op.create_table(
        "ticket_search_docs",
        sa.Column("ticket_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("plain", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # A stored tsvector, so ranking reads it instead of re-parsing every matching text.
        op.execute(
            "ALTER TABLE ticket_search_docs ADD COLUMN words_tsv tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple', words)) STORED"
        )
        op.execute("CREATE INDEX ix_ticket_search_docs_tsv ON ticket_search_docs USING gin (words_tsv)")
    elif dialect == "sqlite":
        # External content: the FTS5 index reads its text from ticket_search_docs; triggers keep it in step
        # inside the same transaction as the row they follow.
        op.execute(
            "CREATE VIRTUAL TABLE ticket_search_fts USING fts5(words, content='ticket_search_docs', "
            f"content_rowid='ticket_id', tokenize=\"{FTS5_TOKENIZER}\")"
        )
        op.execute(
            "CREATE TRIGGER ticket_search_docs_ai AFTER INSERT ON ticket_search_docs BEGIN "
            "INSERT INTO ticket_search_fts(rowid, words) VALUES (new.ticket_id, new.words); END"
        )
        op.execute(
            "CREATE TRIGGER ticket_search_docs_ad AFTER DELETE ON ticket_search_docs BEGIN "
            "INSERT INTO ticket_search_fts(ticket_search_fts, rowid, words) "
            "VALUES ('delete', old.ticket_id, old.words); END"
        )
        op.execute(
            "CREATE TRIGGER ticket_search_docs_au AFTER UPDATE ON ticket_search_docs BEGIN "
            "INSERT INTO ticket_search_fts(ticket_search_fts, rowid, words) "
            "VALUES ('delete', old.ticket_id, old.words); "
            "INSERT INTO ticket_search_fts(rowid, words) VALUES (new.ticket_id, new.words); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("ticket_search_docs_ai", "ticket_search_docs_ad", "ticket_search_docs_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS ticket_search_fts")
    op.drop_table("ticket_search_docs")
