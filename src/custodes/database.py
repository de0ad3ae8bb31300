"""The installation's database: engine, sessions, migrations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from custodes.kit.crypto import attach_key
from custodes.kit.db import make_engine, make_session_factory
from custodes.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"
SETTINGS_KEY = "custodes.settings"  # sessions of an installation carry its settings (ledger checkpoints)


def import_all_models() -> None:
    """Register every module's tables on the shared metadata (for migrations and the drift test)."""
    from custodes.agreements import models as _agreements  # noqa: F401
    from custodes.disclosure import models as _disclosure  # noqa: F401
    from custodes.identity import models as _identity  # noqa: F401
    from custodes.learning import models as _learning  # noqa: F401
    from custodes.ledger import models as _ledger  # noqa: F401
    from custodes.monitoring import models as _monitoring  # noqa: F401
    from custodes.stopsearch import models as _stopsearch  # noqa: F401
    from custodes.workforce import models as _workforce  # noqa: F401


@dataclass
class Database:
    engine: Engine
    factory: sessionmaker[Session]

    @classmethod
    def open(cls, settings: Settings) -> Database:
        url = settings.resolved_database_url
        if url.startswith("sqlite"):
            settings.home.mkdir(parents=True, exist_ok=True)
        engine = make_engine(url)
        # Read on first use of an encrypted column, and again when the key file is replaced (rotation).
        attach_key(engine, settings.data_keys, stamp=settings.data_key_stamp)
        return cls(engine, make_session_factory(engine, {SETTINGS_KEY: settings}))

    def upgrade(self) -> None:
        migrate(self.engine)

    def close(self) -> None:
        self.engine.dispose()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)
