"""The one engine factory, session handling and schema migration (Alembic)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parent.parent
MAX_ID = 2**31 - 1  # primary keys are INTEGER: an id from outside beyond this names nothing


def is_id(value) -> bool:
    """An id as the schema can hold it (a crafted request may send anything)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def normalize_url(url: str) -> str:
    # A plain postgresql:// URL gets psycopg 3, the driver we ship.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, **kwargs) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and ":memory:" not in url:
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 15},
            hide_parameters=True,  # error messages and logs never carry the values
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Large sorts (GROUP BY in rollups, index builds) may use a helper thread.
            cursor.execute("PRAGMA threads=2")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", {"connect_timeout": 5})
    return create_engine(url, hide_parameters=True, **kwargs)


@contextmanager
def snapshot_session(engine: Engine) -> Iterator[Session]:
    """A read-only session whose every statement sees the same committed state (a REPEATABLE
    READ transaction on PostgreSQL; one read transaction in SQLite's WAL)."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")  # the driver starts none for reads by itself
        else:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with Session(bind=conn) as session:
            yield session
        conn.rollback()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed together or not at all."""
    with factory() as session, session.begin():
        yield session


def chunks(items: list, size: int):
    """Consecutive slices of at most `size` items (for IN lists and batched statements)."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def is_unavailable(exc: BaseException) -> bool:
    """True when an error means the database cannot be reached or written now (→ 503)."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


def is_empty(engine: Engine) -> bool:
    return not inspect(engine).has_table("areas")


def bulk_insert(connection, table, columns: list[str], rows) -> int:
    """Fast insert of many tuples: COPY on PostgreSQL, executemany on SQLite.

    For loading whole data sets (the demo city, imports); rows carry their own primary keys.
    """
    raw = connection.connection.driver_connection
    n = 0
    if connection.dialect.name == "postgresql":
        cols = ", ".join(columns)
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
        return n
    placeholders = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
    cur = raw.cursor()
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= 20000:
            cur.executemany(sql, batch)
            n += len(batch)
            batch.clear()
    if batch:
        cur.executemany(sql, batch)
        n += len(batch)
    cur.close()
    return n


def bulk_insert_columns(connection, table: str, columns: dict) -> int:
    """bulk_insert for column arrays (numpy or lists, None for NULL) of equal length."""
    names = list(columns)
    lists = [np.asarray(columns[c]).tolist() for c in names]
    return bulk_insert(connection, table, names, zip(*lists, strict=True))


def reset_sequences(connection, tables: list[str]) -> None:
    """After inserting explicit ids on PostgreSQL, move each id sequence past the largest id."""
    if connection.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    for t in tables:
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {t}), 0) + 1, false)"
            )
        )


def refresh_statistics(engine: Engine) -> None:
    """After a bulk load: the planner's statistics (ANALYZE) and, on PostgreSQL, the visibility
    map (VACUUM) that lets the covering indexes answer alone. The server's autovacuum would get
    there later; a fresh load should be fast at once."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


@contextmanager
def bulk_load(engine: Engine) -> Iterator:
    """One transaction for loading a large data set into an empty database.

    On SQLite the rollback journal is kept in memory instead of the write-ahead log for its
    duration: the WAL would otherwise receive every page once and copy it again at the
    checkpoint. The transaction still commits or rolls back as a whole.
    """
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA journal_mode=MEMORY")
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.commit()
        try:
            with conn.begin():
                yield conn
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
                conn.commit()


@contextmanager
def without_indexes(connection, tables) -> Iterator[None]:
    """Drop the secondary indexes of tables for a bulk load and build them again afterwards
    (several times faster than maintaining them row by row)."""
    indexes = [idx for t in tables for idx in t.indexes]
    for idx in indexes:
        idx.drop(connection)
    yield
    for idx in indexes:
        idx.create(connection)


def storage_text(value) -> str:
    """A datetime as SQLAlchemy stores it in SQLite (and PostgreSQL reads): for raw bulk loads."""
    return f"{value:%Y-%m-%d %H:%M:%S.%f}"
