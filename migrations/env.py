"""Alembic environment: the engine comes from dashboard.db (config.attributes) or DATABASE_URL."""

from alembic import context

from dashboard.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from dashboard.config import load_settings
        from dashboard.db import make_engine

        engine = make_engine(load_settings().effective_database_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
