"""A night's work database, encrypted at rest: the one way every part of aidmatch (and an analyst) opens it.

`WORK/<as-of>/aidmatch.duckdb` is a full copy of every extract — names, IDs, phones, addresses — kept for
`run.keep_work_databases` nights. With a key named in the configuration (`database.encryption_key_file`,
which `aidmatch init` writes, or `database.encryption_key_env`) it is written with DuckDB's own
encryption (AES-GCM): the database file and its write-ahead log, and — `temp_file_encryption` — the
spill files of queries past `database.memory_limit`. Without the key the file says nothing, and DuckDB
will not open it. Without a key in the configuration the database is written in clear, as before.

DuckDB writes encrypted files only with a secure crypto module, OpenSSL, which its httpfs extension
brings; aidmatch loads that extension from the `duckdb-ext-httpfs` package built for this DuckDB version
(DuckDB checks its signature on load), never from the internet: bureau servers are offline. Reading
alone (`read_only`) needs no extension.

A work database written in clear before a key was configured is encrypted the first time a run opens it
with the key (copied whole into an encrypted file that takes its place). Any other mismatch — an
encrypted database and no key, or another key — is a `WorkDatabaseKeyError` whose message says what to
do; `check_work_databases` lets the `aidmatch` command say it before a night starts (exit 2).

What does not belong here: where the file is (`aidmatch/resources.py`), how long it is kept
(`publish/retention.py`).
"""

import importlib.util
from pathlib import Path

import duckdb

from aidmatch.publish.retention import DATABASE
from aidmatch.settings import Settings, load_settings
from aidmatch.sources.raw_table import sql_text

ALIAS = "aidmatch"  # the attached database's name: what `duckdb.connect(path)` would call it
# The storage format a new work database is written in (`resources.database_config`): DuckDB 1.4's, whose
# text dictionary takes half the bytes and scans twice as fast as the 1.0 format DuckDB writes by default.
STORAGE_VERSION = "v1.4.0"
# DuckDB's vacuum tasks a checkpoint may schedule: none (`resources.database_config`).
VACUUM_OFF = 0


class WorkDatabaseKeyError(Exception):
    """The work database cannot be opened with the key in force: it is encrypted and no key is named, it
    was encrypted with another key, or this DuckDB has no way to write encrypted files."""


class WorkDatabaseOutdated(Exception):
    """A work database an earlier aidmatch wrote in an older storage format: a file keeps the format it
    was created in, so a night that started from a copy of it would write every night's tables in that
    format for good."""


def storage_version(con: duckdb.DuckDBPyConnection) -> str:
    """The storage format of `con`'s work database, as DuckDB tags it (`v1.4.0+`)."""
    (tags,) = con.sql(
        "SELECT tags FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return tags.get("storage_version", "")


def _httpfs_extension() -> Path | None:
    """The httpfs extension file of the `duckdb-ext-httpfs` package built for this DuckDB, if installed."""
    spec = importlib.util.find_spec("duckdb_ext")
    for folder in spec.submodule_search_locations if spec else ():
        found = sorted(Path(folder, "extensions", f"v{duckdb.__version__}").glob("*/httpfs.duckdb_extension"))
        if found:
            return found[0]
    return None


def _load_crypto(con: duckdb.DuckDBPyConnection) -> None:
    """Give `con` OpenSSL, without which DuckDB refuses to write an encrypted file."""
    extension = _httpfs_extension()
    if extension is None:
        raise WorkDatabaseKeyError(
            f"DuckDB {duckdb.__version__} cannot write an encrypted work database without its httpfs extension "
            f"(OpenSSL): install the package duckdb-ext-httpfs built for DuckDB {duckdb.__version__} beside "
            "aidmatch (pip install 'duckdb-ext-httpfs==" + duckdb.__version__ + ".*')."
        )
    con.execute(f"LOAD {sql_text(str(extension))}")


def _explained(error: duckdb.Error, path: Path, key: str | None) -> Exception:
    """DuckDB's refusal to open `path` as a WorkDatabaseKeyError a person can act on; any other error as
    it is, the key (if DuckDB quoted it) left out."""
    message = str(error)
    if "Wrong encryption key" in message:
        return WorkDatabaseKeyError(
            f"the work database {path} was encrypted with another key than the configuration's "
            "(database.encryption_key_file or encryption_key_env): name the key it was written with, or "
            f"remove the folder {path.parent} and run that night again."
        )
    if "without a key" in message:
        return WorkDatabaseKeyError(
            f"the work database {path} is encrypted, and the configuration names no key: set "
            "database.encryption_key_file (or encryption_key_env) to the key it was written with."
        )
    if key and key in message:
        return type(error)(message.replace(key, "…"))
    return error


def _encrypt_in_place(con: duckdb.DuckDBPyConnection, path: Path, key: str) -> None:
    """Replace the work database at `path`, written in clear, with an encrypted copy of it."""
    sealed = path.with_name(f".{path.name}.encrypting")
    sealed.unlink(missing_ok=True)
    con.execute(f"ATTACH {sql_text(str(path))} AS clear_copy")  # replays a write-ahead log left behind
    con.execute(f"ATTACH {sql_text(str(sealed))} AS sealed_copy (ENCRYPTION_KEY {sql_text(key)})")
    con.execute("COPY FROM DATABASE clear_copy TO sealed_copy")
    con.execute("DETACH clear_copy")
    con.execute("DETACH sealed_copy")
    sealed.replace(path)
    path.with_name(f"{path.name}.wal").unlink(missing_ok=True)


def open_work_database(
    path: Path, key: str | None, config: dict[str, str | int | bool] | None = None, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """A connection whose current database is the work database at `path` (created if missing), encrypted
    with `key` (None: in clear). `config` is DuckDB's (memory limit, spill folder, threads).
    WorkDatabaseKeyError when the key does not fit the file; duckdb.IOException when another process
    holds the file."""
    config = dict(config or {})
    if key is None:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.CatalogException as error:
            raise _explained(error, path, key) from None
    # Spill files encrypted too; never an attempt to download an extension.
    con = duckdb.connect(
        config=config | {"temp_file_encryption": True, "autoinstall_known_extensions": False}
    )
    try:
        if not read_only:
            _load_crypto(con)
        options = f"ENCRYPTION_KEY {sql_text(key)}" + (", READ_ONLY" if read_only else "")
        attach = f"ATTACH {sql_text(str(path))} AS {ALIAS} ({options})"
        try:
            con.execute(attach)
        except duckdb.CatalogException as error:
            if "is not encrypted" not in str(error):
                raise
            if read_only:  # written before a key was configured: read as it is
                con.close()
                return duckdb.connect(str(path), read_only=True, config=config)
            _encrypt_in_place(con, path, key)
            con.execute(attach)
        con.execute(f"USE {ALIAS}")
    except duckdb.Error as error:
        con.close()
        raise _explained(error, path, key) from None
    except BaseException:
        con.close()
        raise
    return con


def dead_share(con: duckdb.DuckDBPyConnection, table: str) -> float:
    """The share of `table`'s rows in the file that are deleted (DuckDB's estimated size counts them)."""
    ((held, live),) = con.execute(
        f"SELECT (SELECT estimated_size FROM duckdb_tables() WHERE table_name = $table AND database_name = "
        f"current_database()), (SELECT count(*) FROM {table})",
        {"table": table},
    ).fetchall()
    return 1 - live / held if held else 0.0


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor on `con` (a connection for another thread) on the work database: DuckDB starts a cursor in
    the instance's first database, which for an encrypted work database (attached as `ALIAS`) is an empty
    one in memory — tables made there would vanish with the night. Only the cursor is queried: `con` may
    be busy in another thread."""
    other = con.cursor()
    (attached,) = other.execute(
        "SELECT current_database() = 'memory' AND ? IN (SELECT database_name FROM duckdb_databases())",
        [ALIAS],
    ).fetchone()
    if attached:
        other.execute(f"USE {ALIAS}")
    return other


def check_work_databases(settings: Settings, work_root: Path, as_of: str) -> str | None:
    """Why the night `as_of` could not open its work database(s) under `work_root` with the configuration's
    key, or None: said before a night starts, not by its first step. A database another process holds is
    left to the run (its guard names the holder)."""
    key = settings.database.encryption_key()
    cities = settings.province.cities if settings.province.enabled else ("",)
    try:
        if key:
            with duckdb.connect() as con:
                _load_crypto(con)
        for city in cities:
            path = work_root / city / as_of / DATABASE
            if path.is_file():
                try:
                    open_work_database(path, key, read_only=True).close()
                except duckdb.IOException:
                    continue  # another process holds it
    except WorkDatabaseKeyError as error:
        return str(error)
    return None


def open_night(as_of: str, config: Path | str | None = None, city: str = "") -> duckdb.DuckDBPyConnection:
    """For an analyst: the work database of the night `as_of` (in a province, of `city`), read-only, with
    the key of the configuration `config` (else AIDMATCH_CONFIG's, else the shipped default's):

        from aidmatch.work_database import open_night
        con = open_night("2026-11-22", "/srv/aidmatch/aidmatch.yaml")
        con.sql("SELECT method, count(*) FROM core_person_links GROUP BY ALL").show()
    """
    settings = load_settings(Path(config) if config else None)
    path = Path(settings.paths.work_dir) / city / as_of / DATABASE
    if not path.is_file():
        raise FileNotFoundError(f"no work database for {as_of} at {path}")
    return open_work_database(path, settings.database.encryption_key(), read_only=True)
