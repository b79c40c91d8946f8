from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from clinic import reference
from clinic.db import Base, Database
from clinic.models import Agency, AgencyType, SurveyItem, Topic

# Made by migration 0003 in each dialect's own DDL and not declared in the models: SQLite's FTS5 tables (with
# their shadow tables and triggers), PostgreSQL's generated tsvector column and its GIN indexes.
SEARCH_INDEX_OBJECTS = ("ticket_search_fts", "ticket_search_trigram", "words_tsv", "ix_ticket_search_docs_")


def _declared(name: str | None, type_: str, parent_names: object) -> bool:
    return not (name or "").startswith(SEARCH_INDEX_OBJECTS)


def test_migrations_match_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": _declared})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_seed_is_complete_and_idempotent(database: Database) -> None:
    with database.transaction() as session:
        reference.seed(session)
        again = reference.seed(session)
        assert (again.agency_types, again.topics, again.survey_items, again.agencies) == (0, 0, 0, 0)
        assert session.scalars(select(AgencyType.code).order_by(AgencyType.sort_order)).all() == [
            "bureau", "district", "permanent_secretary_office", "council_governor_secretariat", "other",
        ]  # fmt: skip
        assert session.scalars(select(Topic.code).order_by(Topic.sort_order)).all() == [
            "saraban", "letters", "ceremony", "other",
        ]  # fmt: skip
        districts = session.scalar(select(func.count()).where(Agency.agency_type_code == "district"))
        assert districts == 50
        assert session.scalar(select(SurveyItem.key).where(SurveyItem.position == 4)) == "overall"


def test_seed_never_undoes_an_admin_rename(database: Database) -> None:
    with database.transaction() as session:
        reference.seed(session)
        agency = session.scalar(select(Agency).where(Agency.code == "bureau-26"))
        agency.name_th = "สำนักดิจิทัล (ชื่อใหม่)"
    with database.transaction() as session:
        reference.seed(session)
        assert session.scalar(select(Agency.name_th).where(Agency.code == "bureau-26")) == "สำนักดิจิทัล (ชื่อใหม่)"


def test_button_labels_fit_the_chat_platforms() -> None:
    for _code, _th, _en, short in reference.AGENCY_TYPES + reference.TOPICS:
        assert len(short) <= 20, short
