"""Alembic environment: migrations run on the engine handed over by custodes.database.migrate."""

from __future__ import annotations

from alembic import context

from custodes.database import import_all_models
from custodes.kit.db import Base

import_all_models()
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
