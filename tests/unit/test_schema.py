"""The schema built by ``flask db upgrade`` is the schema the models describe."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from loyalty.extensions import db
from loyalty.models.base import include_in_autogenerate


def test_migrations_produce_the_schema_the_models_describe(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": include_in_autogenerate(db.metadata)})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_partial_unique_indexes_exist_in_the_migrated_database(app):
    indexes = {ix["name"] for ix in inspect(db.engine).get_indexes("users")}
    assert "uq_users_email_live" in indexes
