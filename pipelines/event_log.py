"""Dagster's SQLite run history with its event log databases kept open while a process uses them.

A night stores ~230 events (each step's start and outputs, the tables materialized, the checks, the lines
said): Dagster's `SqliteEventLogStorage` makes a new engine and connection for every statement of every
event and disposes of them after, and SQLite checkpoints a WAL database each time its last connection
closes — 1.5 of a small night's 6–7 CPU-seconds, and 3–4 seconds of its wall time.
`KeptOpenEventLogStorage` is that storage, in the same files, with one engine per database kept for the
next event; a process that reads many runs (the webserver) keeps the few it used last.

`deploy/dagster.yaml` names `AidmatchInstance`, whose default storage (when dagster.yaml sets no
`storage:`, e.g. Postgres) is Dagster's SQLite storage under DAGSTER_HOME with that event log: the same
folders and files, so a run history moves to it and back as it is. The storage is found from the
instance's own folder, never from a path written into the file, so a copied or moved DAGSTER_HOME keeps
its events to itself.
"""

import sqlite3
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import dagster as dg
import yaml
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from dagster._serdes import ConfigurableClassData
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import QueuePool

KEPT_DATABASES = 4  # a run's own and the index, and a few runs the webserver showed last


def _synced_at_checkpoints(connection: sqlite3.Connection, _record: object) -> None:
    """SQLite syncs a WAL database's file to disk at its checkpoints only, not at every commit (`FULL`, its
    default: one sync per event stored, 0.4–1.0 s of a city's night). A killed process loses no event; a power
    cut may lose the last ones, never the database's consistency (SQLite's `synchronous` pragma)."""
    connection.execute("PRAGMA synchronous = NORMAL")


class KeptOpenEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` with its databases' engines kept: one connection each, handed out under
    the storage's lock as Dagster's own are."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()  # used and changed under _db_lock
        super().__init__(base_dir, inst_data)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock, self._engine(shard).connect() as connection, connection.begin():
            yield connection

    def _engine(self, shard: str) -> Engine:
        """The shard's engine, made (and its database created, as Dagster's `_connect` does) on first use;
        the least recently used one disposed of past `KEPT_DATABASES`. Called under `_db_lock`."""
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        engine = create_engine(
            self.conn_string_for_shard(shard),
            poolclass=QueuePool,
            pool_size=1,
            # one connection, taken under _db_lock by whichever thread stores or reads (the webserver's
            # watchers read from their own threads)
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        event.listen(engine, "connect", _synced_at_checkpoints)
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        while len(self._engines) > KEPT_DATABASES:
            self._engines.popitem(last=False)[1].dispose()
        return engine

    def _dispose_engines(self) -> None:
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def wipe(self) -> None:
        self._dispose_engines()  # its run databases are deleted: none may stay open
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()


class KeptOpenSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage (runs, event logs, schedules under `base_dir`) with the event log kept
    open."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        super().__init__(base_dir, inst_data)
        self._event_log_storage = KeptOpenEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(  # DagsterSqliteStorage's makes a DagsterSqliteStorage, whatever the class
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, str]
    ) -> "KeptOpenSqliteStorage":
        return cls.from_local(inst_data=inst_data, **config_value)


class AidmatchInstance(dg.DagsterInstance):
    """Dagster's instance, its default storage `KeptOpenSqliteStorage` in the instance's folder."""

    @classmethod
    def config_schema(cls) -> dict:
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, ConfigurableClassData | None]:
        storage = ConfigurableClassData(
            __name__, KeptOpenSqliteStorage.__name__, yaml.dump({"base_dir": base_dir})
        )
        return {**InstanceRef.config_defaults(base_dir), "storage": storage}
