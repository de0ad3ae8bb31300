"""Database plumbing: declarative base, engine set-up for SQLite and PostgreSQL, UTC timestamps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every engine (SQLite keeps no offsets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


READ_ONLY = "custodes_read_only"
"""Execution option of a read-only unit of work (`transaction(..., read_only=True)`)."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with durable, serialised writes on SQLite (WAL, full sync, BEGIN IMMEDIATE)."""
    if url.startswith("sqlite"):
        # The pool hands a connection to one thread at a time; the web server may pick another thread.
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    _configure_postgresql(engine)
    return engine


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")  # a write in it is refused, as on SQLite


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Deleted content (a redacted ledger entry's bytes, erased records) is overwritten with zeros, not
        # left in free pages. Debian's build has this on; SQLite's own default is off.
        cursor.execute("PRAGMA secure_delete=ON")
        # INSERT OR REPLACE deletes the row whose key it clashes with; only with this on do that row's
        # DELETE triggers fire, so the ledger's append-only triggers refuse it (at no cost to other writes).
        cursor.execute("PRAGMA recursive_triggers=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            # Deferred: no write lock, so writers are not held up. In WAL mode the first read starts a
            # snapshot that the whole transaction sees (a write in it fails once another has committed).
            connection.exec_driver_sql("BEGIN")
        else:
            # Take the write lock up front: ledger appends read the tree size and then write.
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine, info: dict[str, Any] | None = None) -> sessionmaker[Session]:
    """`info` is copied into every session's `Session.info` (e.g. settings that commit hooks need)."""
    return sessionmaker(bind=engine, expire_on_commit=False, info=info or {})


@contextmanager
def transaction(factory: sessionmaker[Session], *, read_only: bool = False) -> Iterator[Session]:
    """One unit of work: commit if the block succeeds, roll back if it raises.

    `read_only`: for long reads (exports, verification, proofs) that must not hold up writers: a deferred
    BEGIN on SQLite instead of BEGIN IMMEDIATE (which holds the write lock to the end), and a READ ONLY
    transaction on PostgreSQL. Nothing may be written in it: record afterwards, in a unit of work of its own.
    """
    with factory(execution_options={READ_ONLY: True} if read_only else {}) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def utcnow() -> datetime:
    return datetime.now(UTC)


_Row = TypeVar("_Row", bound=Base)


def create_if_absent(session: Session, model: type[Base], **values: Any) -> None:
    """Insert the row unless one with its primary key exists (INSERT … ON CONFLICT DO NOTHING), so that two
    first writers at once do not collide on the key."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    key = [column.name for column in inspect(model).primary_key]
    # Only a clash on the key is "already there": any other constraint broken is still an error.
    session.execute(insert(model).values(**values).on_conflict_do_nothing(index_elements=key))


def locked_row(session: Session, model: type[_Row], **values: Any) -> _Row:
    """The row with these values' primary key, created from `values` if absent, then locked (PostgreSQL
    FOR UPDATE; SQLite's write lock is already held) and read afresh: check-then-write steps on it run one
    after the other, each seeing what the other committed."""
    create_if_absent(session, model, **values)
    key = [column == values[str(column.key)] for column in inspect(model).primary_key]
    query = select(model).where(*key).with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).one()
