"""ticket search index: segmented text per ticket, with GIN (PostgreSQL) or FTS5 (SQLite)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 05:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
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
        # Ranking reads the tsvector of every hit: kept in the row uncompressed it costs a quarter of what
        # decompressing it does (measured at 50,000 tickets). The segmented text itself is rarely read (the
        # phrase check of a search of several words) and moves out of the row, which keeps the row small.
        op.execute(
            "ALTER TABLE ticket_search_docs ALTER COLUMN words SET STORAGE EXTERNAL, "
            "ALTER COLUMN words_tsv SET STORAGE MAIN"
        )
        # Substring matches (LIKE '%…%' over `plain`) use a trigram index when pg_trgm can be had: it is a
        # trusted extension (PostgreSQL 13+), so the database's owner may create it. Without it the search
        # still works; substring matches then read the whole table.
        bind = op.get_bind()
        schema = bind.scalar(
            sa.text("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'")
        )
        if schema is None:
            try:
                with bind.begin_nested():
                    bind.execute(sa.text("CREATE EXTENSION pg_trgm SCHEMA public"))
                schema = "public"
            except sa.exc.DBAPIError:
                schema = None
        if schema is not None:
            op.execute(
                f"CREATE INDEX ix_ticket_search_docs_plain_trgm ON ticket_search_docs "
                f"USING gin (plain {schema}.gin_trgm_ops)"
            )
    elif dialect == "sqlite":
        # External content: the FTS5 index reads its text from ticket_search_docs; triggers keep it in step
        # inside the same transaction as the row they follow.
        op.execute(
            "CREATE VIRTUAL TABLE ticket_search_fts USING fts5(words, content='ticket_search_docs', "
            f"content_rowid='ticket_id', tokenize=\"{FTS5_TOKENIZER}\")"
        )
        # Substring matches: a trigram index over the normalised text (a quoted string of 3+ characters
        # matches wherever it occurs, inside Thai words too).
        op.execute(
            "CREATE VIRTUAL TABLE ticket_search_trigram USING fts5(plain, content='ticket_search_docs', "
            "content_rowid='ticket_id', tokenize='trigram')"
        )
        insert = (
            "INSERT INTO ticket_search_fts(rowid, words) VALUES (new.ticket_id, new.words); "
            "INSERT INTO ticket_search_trigram(rowid, plain) VALUES (new.ticket_id, new.plain); "
        )
        remove = (
            "INSERT INTO ticket_search_fts(ticket_search_fts, rowid, words) "
            "VALUES ('delete', old.ticket_id, old.words); "
            "INSERT INTO ticket_search_trigram(ticket_search_trigram, rowid, plain) "
            "VALUES ('delete', old.ticket_id, old.plain); "
        )
        op.execute(f"CREATE TRIGGER ticket_search_docs_ai AFTER INSERT ON ticket_search_docs BEGIN {insert}END")
        op.execute(f"CREATE TRIGGER ticket_search_docs_ad AFTER DELETE ON ticket_search_docs BEGIN {remove}END")
        op.execute(f"CREATE TRIGGER ticket_search_docs_au AFTER UPDATE ON ticket_search_docs BEGIN {remove}{insert}END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("ticket_search_docs_ai", "ticket_search_docs_ad", "ticket_search_docs_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS ticket_search_fts")
        op.execute("DROP TABLE IF EXISTS ticket_search_trigram")
    op.drop_table("ticket_search_docs")
