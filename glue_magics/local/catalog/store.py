"""The catalog's files under ``DATA_DIR/catalog``: one directory per database, one JSON file
per table (its versions and its partitions together), written so no reader ever sees half.

Layout (names spelled by :func:`~glue_magics.local.catalog.names.file_name`)::

    catalog/.lock                         flock'ed: shared to read, exclusive to change
    catalog/DB/database.json              the Database as the service answers it
    catalog/DB/tables/TABLE.json          {"Name", "Versions": [Table...], "Partitions": [...]}

Every file is written to a temporary file beside it, flushed to disk and renamed over the
old one; a database appears by renaming a finished directory into place and disappears by
renaming it away before it is removed.  So a write that fails (disk full, a file-size
limit, a crash) leaves the catalog as it was, and several endpoint processes on one data
directory (and the Spark side, which reads it) see each change whole.  Records are the
wire shapes themselves (timestamps as epoch seconds, as JSON 1.1 sends them).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from glue_magics.local.catalog.names import file_name
from glue_magics.local.exceptions import InternalService

Record = dict[str, Any]
DATABASE_FILE = "database.json"
TABLES_DIR = "tables"
SUFFIX = ".json"


class WriteFailed(InternalService):
    """A catalog file could not be written; nothing was changed."""

    def __init__(self, path: Path, exc: OSError) -> None:
        reason = exc.strerror or type(exc).__name__
        super().__init__(
            f"The catalog could not be written ({reason}: {path.name}); it is as it was"
        )


class Store:
    """The files of one catalog root.  Callers hold :meth:`lock` around each operation."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # ----------------------------------------------------------------- locking
    @contextlib.contextmanager
    def lock(self, exclusive: bool) -> Iterator[None]:
        """Hold the catalog's lock: exclusive to change it, shared to read it.

        ``flock`` locks belong to an open file, so each holder opens its own: threads of
        one process and other processes on the same data directory wait for each other.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # closing the file releases its lock

    # ----------------------------------------------------------------- paths
    def _database_dir(self, database: str) -> Path:
        return self.root / file_name(database)

    def _table_file(self, database: str, table: str) -> Path:
        return self._database_dir(database) / TABLES_DIR / (file_name(table) + SUFFIX)

    # ----------------------------------------------------------------- databases
    def database(self, name: str) -> Record | None:
        return _read(self._database_dir(name) / DATABASE_FILE)

    def databases(self) -> list[Record]:
        """Every database, by name."""
        if not self.root.is_dir():
            return []
        found = []
        for entry in self.root.iterdir():
            if entry.name.startswith(".") or not entry.is_dir():  # staging, removal
                continue
            record = _read(entry / DATABASE_FILE)
            if record is not None:
                found.append(record)
        return sorted(found, key=lambda record: record["Name"])

    def add_database(self, record: Record) -> None:
        """Make a new database's directory whole beside the others, then rename it in."""
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".new-{uuid.uuid4().hex}"
        try:
            (staging / TABLES_DIR).mkdir(parents=True)
            _write(staging / DATABASE_FILE, record)
            os.rename(staging, self._database_dir(record["Name"]))
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise WriteFailed(self._database_dir(record["Name"]), exc) from None

    def put_database(self, record: Record) -> None:
        _write(self._database_dir(record["Name"]) / DATABASE_FILE, record)

    def drop_database(self, name: str) -> None:
        """Rename the database away (the change), then remove what was renamed."""
        gone = self.root / f".gone-{uuid.uuid4().hex}"
        try:
            os.rename(self._database_dir(name), gone)
        except OSError as exc:
            raise WriteFailed(self._database_dir(name), exc) from None
        shutil.rmtree(gone, ignore_errors=True)

    # ----------------------------------------------------------------- tables
    def table(self, database: str, name: str) -> Record | None:
        return _read(self._table_file(database, name))

    def tables(self, database: str) -> list[Record]:
        """Every table of ``database`` (its file record), by name."""
        folder = self._database_dir(database) / TABLES_DIR
        if not folder.is_dir():
            return []
        found = []
        for entry in folder.iterdir():
            if entry.name.startswith(".") or not entry.name.endswith(SUFFIX):
                continue
            record = _read(entry)
            if record is not None:
                found.append(record)
        return sorted(found, key=lambda record: record["Name"])

    def put_table(self, database: str, record: Record) -> None:
        _write(self._table_file(database, record["Name"]), record)

    def drop_table(self, database: str, name: str) -> None:
        path = self._table_file(database, name)
        try:
            path.unlink()
        except OSError as exc:
            raise WriteFailed(path, exc) from None


def _read(path: Path) -> Record | None:
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except FileNotFoundError:
        return None


def _write(path: Path, record: Record) -> None:
    """Write ``record`` to ``path`` whole or not at all: a temporary file beside it, flushed
    to disk, renamed over it; on failure the temporary file is removed."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    text = json.dumps(record, separators=(",", ":"))  # ASCII: any name survives
    try:
        with open(temporary, "w", encoding="ascii") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise WriteFailed(path, exc) from None
