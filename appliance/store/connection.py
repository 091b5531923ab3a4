"""Opening the SQLCipher database: keys, lock state, per-thread connections.

A :class:`Store` is shared by the whole process; each thread that uses it
gets its own connection (SQLite connections are not shared across
threads). Write through :meth:`Store.transaction`, which takes the write
lock up front (``BEGIN IMMEDIATE``) so two processes (core and web UI)
never deadlock half-way through.

While the key file is passphrase-wrapped and nobody has unlocked it, the
store is *locked*: :meth:`Store.connection` raises
:class:`~appliance.errors.StoreLockedError` and the rest of the box keeps
answering calls without screen pop or reminders.

Example:
    >>> store = Store.create(tmp / "c.db", tmp / "store.key")   # doctest: +SKIP
    >>> with store.transaction() as db:                          # doctest: +SKIP
    ...     db.execute("INSERT INTO settings VALUES ('x', '1', '2026-01-01T00:00:00.000Z', 'me')")
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlcipher3
from sqlcipher3 import dbapi2 as sqlite

from appliance.clock import Clock, SystemClock
from appliance.errors import (
    CorruptStoreError,
    DiskFullError,
    StoreError,
    StoreLockedError,
    WrongKeyError,
)
from appliance.store import keys as keymod
from appliance.store.migrate import apply_migrations, check_schema_version

log = logging.getLogger(__name__)

Connection = Any  # sqlcipher3 ships no type information
Row = Any
PLAIN_SQLITE_MAGIC = b"SQLite format 3\x00"


def translate(exc: Exception) -> StoreError:
    """Turn a SQLite error into a ClinicBox error a technician can act on."""
    text = str(exc)
    if "database or disk is full" in text:
        return DiskFullError("the disk is full; nothing was written. Free space (old recordings, backups) and retry")
    if "readonly" in text or "read-only" in text:
        return DiskFullError("the database is on a read-only disk; nothing was written. Check the data partition")
    if "file is not a database" in text or "malformed" in text:
        return CorruptStoreError(f"the database is damaged ({text}); run `clinicbox db verify` and restore a backup")
    if "locked" in text:
        return StoreError("the database stayed busy too long; retry")
    return StoreError(f"database error: {text}")


class Store:
    """The encrypted patient store of one clinic."""

    def __init__(
        self,
        db_path: Path,
        key_path: Path,
        *,
        clock: Clock | None = None,
        busy_timeout_ms: int = 5000,
        media_dir: Path | None = None,
        cache_mb: int = 32,
        shared: bool = False,
    ) -> None:
        self.db_path = Path(db_path)
        self.key_path = keymod.resolve_key_path(Path(key_path))
        self.clock: Clock = clock or SystemClock()
        self.busy_timeout_ms = busy_timeout_ms
        self.cache_mb = cache_mb
        # shared: one connection for every thread (the caller serialises use);
        # for a big-cache connection that must not be duplicated per thread.
        self.shared = shared
        self._shared_conn: Connection | None = None
        self.media_dir = Path(media_dir) if media_dir else self.db_path.parent / "media"
        self._key: bytes | None = None
        self._wrapped: dict[str, object] | None = None
        self._key_checked = False
        self._local = threading.local()
        # Every connection opened, with the thread that owns it (None: the
        # shared one). A connection is closed only by its owner or once its
        # owner is gone: closing one another thread is stepping through
        # frees what that step still uses (a segfault, not an error).
        self._all: list[tuple[threading.Thread | None, Connection]] = []
        self._generation = 0
        self._lock = threading.Lock()

    # -- opening --------------------------------------------------------------
    @classmethod
    def create(cls, db_path: Path, key_path: Path, *, passphrase: str | None = None, **kw: object) -> Store:
        """Create a new, empty, encrypted store (and its key file if missing).

        Raises:
            StoreError: a database already exists at ``db_path``.
        """
        db_path = Path(db_path)
        for existing in (db_path, Path(f"{db_path}-wal")):
            if existing.exists():
                raise StoreError(f"a database already exists at {existing}; refusing to create a new one over it")
        key_path = keymod.resolve_key_path(Path(key_path))
        if key_path.exists():
            kf = keymod.read_key_file(key_path)
            if kf.locked:
                if passphrase is None:
                    raise StoreLockedError("the existing key file is passphrase-protected; give the passphrase")
                key = keymod.unwrap(kf.wrapped or {}, passphrase)
            else:
                key = kf.key or b""
        else:
            key = keymod.new_key()
            keymod.write_key_file(key_path, key, passphrase)
        db_path.parent.mkdir(parents=True, exist_ok=True)
        store = cls(db_path, key_path, **kw)  # type: ignore[arg-type]
        store._key = key
        conn = store._new_connection(create=True)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            apply_migrations(conn)
        finally:
            conn.close()
        os.chmod(db_path, 0o600)
        store._write_key_id(key)
        return store

    @classmethod
    def open(cls, db_path: Path, key_path: Path, *, passphrase: str | None = None, **kw: object) -> Store:
        """Open an existing store. A wrapped key without passphrase leaves it locked.

        Raises:
            StoreError: no database there; KeyFileError, WrongKeyError,
            CorruptStoreError, SchemaTooNewError as their names say.
        """
        db_path = Path(db_path)
        if not db_path.exists():
            raise StoreError(
                f"no database at {db_path}; create one with `clinicbox db init` "
                "(or restore a backup with `clinicbox db restore`)"
            )
        store = cls(db_path, key_path, **kw)  # type: ignore[arg-type]
        kf = keymod.read_key_file(store.key_path)
        if kf.locked:
            store._wrapped = kf.wrapped
            if passphrase is not None:
                store.unlock(passphrase)
            else:
                log.warning("store is passphrase-locked; waiting for a manager to unlock it")
            return store
        store._activate(kf.key or b"")
        return store

    def unlock(self, passphrase: str) -> None:
        """Unwrap the key with the manager's passphrase and open the DB."""
        if self._key is not None:
            return
        if self._wrapped is None:
            kf = keymod.read_key_file(self.key_path)
            self._wrapped = kf.wrapped
            if not kf.locked:
                self._activate(kf.key or b"")
                return
        key = keymod.unwrap(self._wrapped or {}, passphrase)
        self._activate(key)
        log.info("store unlocked")

    def _activate(self, key: bytes) -> None:
        expected = self._read_key_id()
        if expected is not None and expected != keymod.key_id(key):
            raise WrongKeyError(
                f"the key file {self.key_path} belongs to another database (key id "
                f"{keymod.key_id(key)}, this database needs {expected}); use the key file made with it"
            )
        self._key = key
        self._key_checked = expected is not None
        generation = self._generation
        try:
            conn = self._new_connection()
        except BaseException:
            self._key = None
            raise
        try:
            check_schema_version(conn)
            apply_migrations(conn)
        except Exception:
            self._key = None
            conn.close()
            raise
        self._adopt(conn, generation)

    def _adopt(self, conn: Connection, generation: int) -> None:
        """Make ``conn`` this thread's connection, opened at ``generation``."""
        self._local.conn = conn
        with self._lock:
            self._local.generation = generation
            self._all.append((threading.current_thread(), conn))

    def _probe(self, conn: Connection, key_checked: bool) -> None:
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite.DatabaseError as exc:
            with open(self.db_path, "rb") as fh:
                head = fh.read(16)
            if head == PLAIN_SQLITE_MAGIC:
                raise StoreError(f"{self.db_path} is a plain, unencrypted SQLite file, not a ClinicBox store") from exc
            if len(head) < 16:
                raise CorruptStoreError(f"{self.db_path} is truncated; restore the last backup") from exc
            if key_checked:
                raise CorruptStoreError(
                    f"the key matches but {self.db_path} cannot be decrypted: the file is damaged. "
                    "Restore the last backup (`clinicbox db restore`)"
                ) from exc
            raise WrongKeyError(
                f"cannot decrypt {self.db_path}: wrong key, or the file is damaged. Check paths.key_file; "
                "if you restored a database, restore its key file with it"
            ) from exc

    # -- key id sidecar ------------------------------------------------------
    @property
    def _key_id_path(self) -> Path:
        return self.db_path.with_name(self.db_path.name + ".keyid")

    def _read_key_id(self) -> str | None:
        try:
            return self._key_id_path.read_text().strip() or None
        except FileNotFoundError:
            return None

    def _write_key_id(self, key: bytes) -> None:
        tmp = self._key_id_path.with_suffix(".tmp")
        tmp.write_text(keymod.key_id(key) + "\n")
        os.replace(tmp, self._key_id_path)

    # -- connections ---------------------------------------------------------
    @property
    def locked(self) -> bool:
        return self._key is None

    @property
    def key(self) -> bytes:
        if self._key is None:
            raise StoreLockedError("the store is locked; a manager must unlock it in the web UI")
        return self._key

    def _new_connection(self, create: bool = False) -> Connection:
        if not create and not self.db_path.exists():
            raise StoreError(f"the database {self.db_path} disappeared")
        conn = sqlcipher3.connect(
            str(self.db_path),
            isolation_level=None,
            check_same_thread=False,
            timeout=self.busy_timeout_ms / 1000,
        )
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(keymod.sqlcipher_pragma(self.key))
        if not create:
            try:
                self._probe(conn, key_checked=self._key_checked)
            except BaseException:
                conn.close()
                raise
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute(f"PRAGMA cache_size = -{int(self.cache_mb) * 1024}")
        conn.row_factory = sqlite.Row
        return conn

    def connection(self) -> Connection:
        """This thread's connection (opened on first use), or the shared one."""
        if self.shared:
            with self._lock:
                if self._shared_conn is None:
                    self._shared_conn = self._new_connection()
                    self._all.append((None, self._shared_conn))
                return self._shared_conn
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.generation != self._generation and not conn.in_transaction:
            # close() or lock() ran on another thread while this one held a
            # connection: this thread closes it now, at a safe point (never
            # inside its own open transaction, which would lose that work).
            self._local.conn = None
            with self._lock:
                self._all = [(o, c) for o, c in self._all if c is not conn]
            with contextlib.suppress(Exception):
                conn.close()
            conn = None
        if conn is None:
            generation = self._generation  # read first: a close() during the open makes it stale
            conn = self._new_connection()
            self._adopt(conn, generation)
        return conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction: everything inside commits together or not at all."""
        conn = self.connection()
        if conn.in_transaction:  # nested use joins the outer transaction
            yield conn
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite.Error as exc:
            raise translate(exc) from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except sqlite.Error as exc:
            with contextlib.suppress(sqlite.Error):
                conn.execute("ROLLBACK")
            raise translate(exc) from exc
        except BaseException:
            with contextlib.suppress(sqlite.Error):
                conn.execute("ROLLBACK")
            raise

    def query(self, sql: str, params: tuple[object, ...] | dict[str, object] = ()) -> list[Row]:
        """Run a read query and return all rows."""
        try:
            return self.connection().execute(sql, params).fetchall()
        except sqlite.Error as exc:
            raise translate(exc) from exc

    def query_tuples(self, sql: str, params: tuple[object, ...] | dict[str, object] = ()) -> list[tuple[Any, ...]]:
        """Run a read query and return plain tuples (no Row objects): several times cheaper for big reads."""
        cursor = self.connection().cursor()
        cursor.row_factory = None
        try:
            return cursor.execute(sql, params).fetchall()
        except sqlite.Error as exc:
            raise translate(exc) from exc
        finally:
            cursor.close()

    def query_one(self, sql: str, params: tuple[object, ...] | dict[str, object] = ()) -> Row | None:
        try:
            return self.connection().execute(sql, params).fetchone()
        except sqlite.Error as exc:
            raise translate(exc) from exc

    def sibling(self, cache_mb: int, shared: bool = False) -> Store:
        """Another handle on this (unlocked) database with its own connections and
        page cache size: reports and lookups get a cache that fits their work
        without every connection growing that large.

        Raises:
            StoreLockedError: the store is locked.
        """
        other = Store(
            self.db_path,
            self.key_path,
            clock=self.clock,
            busy_timeout_ms=self.busy_timeout_ms,
            media_dir=self.media_dir,
            cache_mb=cache_mb,
            shared=shared,
        )
        other._key = self.key
        other._key_checked = self._key_checked
        return other

    def warm(self) -> int:
        """Read the screen-pop indexes into this thread's page cache (at start-up,
        off the switchboard thread); returns the index entries read."""
        conn = self.connection()
        pages = 0
        for sql in (
            "SELECT count(e164) FROM patient_phones INDEXED BY patient_phones_e164",
            "SELECT count(location) FROM appointments INDEXED BY appointments_patient WHERE patient_id > 0",
            "SELECT count(disposition) FROM calls INDEXED BY calls_patient WHERE patient_id > 0",
            "SELECT count(disposition) FROM calls INDEXED BY calls_caller WHERE caller > ''",
            "SELECT count(notes) FROM patients",
        ):
            pages += int(conn.execute(sql).fetchone()[0])
        return pages

    def close(self) -> None:
        """Close this store's connections: the shared one, this thread's and
        those of threads that have ended now; each other live thread closes
        its own on its next use (and opens a new one if the store is still
        unlocked), so a query running there is never pulled from under it."""
        me = threading.current_thread()
        with self._lock:
            self._generation += 1
            now = [c for owner, c in self._all if owner is None or owner is me or not owner.is_alive()]
            self._all = [(o, c) for o, c in self._all if not (o is None or o is me or not o.is_alive())]
            self._shared_conn = None
        for conn in now:
            with contextlib.suppress(Exception):
                conn.close()
        self._local.conn = None

    def lock(self) -> None:
        """Forget the key (passphrase mode): the store is locked until unlocked again."""
        self._key = None  # first: no thread opens a new connection after this
        self.close()


def sqlite_memory_used() -> int | None:
    """Bytes SQLCipher holds in this process (every connection's page cache and more), or None.

    The sqlcipher3 module carries SQLCipher inside its extension; its C API
    is read through ctypes. For the soak benchmark and the status, to tell
    a growing page cache (bounded by ``store.*cache_mb``) from a leak.
    """
    try:
        import ctypes

        import sqlcipher3._sqlite3 as ext

        used = ctypes.CDLL(ext.__file__).sqlite3_memory_used
        used.restype = ctypes.c_int64
        return int(used())
    except (ImportError, OSError, AttributeError):
        return None
