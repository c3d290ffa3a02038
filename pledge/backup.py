"""Consistent copies of the SQLite database while the site keeps serving (`pledge backup`)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from pledge.errors import PledgeError

# Pages copied per step of the online backup (4 MB at SQLite's usual 4 KB page).
PAGES_PER_STEP = 1024
# Pause between steps when the database is not in WAL mode, so that writers get the lock.
STEP_PAUSE_SECONDS = 0.05

Progress = Callable[[int, int], None]  # (pages left, pages in all), after each step


class BackupError(PledgeError):
    """A backup that could not be made; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    size: int  # bytes
    supporters: int

    def __str__(self) -> str:
        size = f"{self.size:,} bytes"
        if self.size >= 1024:
            size += f" ({_human_size(self.size)})"
        return (
            f"Backup written to {self.path}: {size}, {self.supporters:,} supporters, "
            "integrity check ok."
        )


def backup(
    database_url: str,
    dest: Path,
    *,
    force: bool = False,
    pages_per_step: int | None = None,
    progress: Progress | None = None,
) -> BackupResult:
    """Copy the SQLite database at ``database_url`` to ``dest``, check the copy, and only then
    put it in place, so that ``dest`` is either a complete, checked copy or left as it was."""
    url = _parse(database_url)
    if url.get_backend_name() == "postgresql":
        raise BackupError(_pg_dump_hint(url, dest))
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            f"pledge backup copies SQLite databases only, not {url.get_backend_name()}."
        )
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(
            "pledge backup needs PLEDGE_DATABASE_URL to name a SQLite database file "
            "(sqlite:///path/to/pledge.db)."
        )
    source = Path(url.database)
    if not source.is_file():
        raise BackupError(
            f"there is no database at {source} (PLEDGE_DATABASE_URL={database_url}); "
            "run `pledge db upgrade` first or check the setting."
        )
    dest = dest.expanduser().absolute()
    _check_destination(source, dest, force=force)

    tmp = _temporary_file(dest)
    try:
        snapshot = _copy(source, tmp, pages=pages_per_step or PAGES_PER_STEP, progress=progress)
        supporters = _check_copy(tmp, expected_supporters=snapshot)
        _fsync(tmp)
        _put_in_place(tmp, dest, force=force)
    except BaseException:
        _remove(tmp)
        raise
    _fsync_folder(dest.parent)
    return BackupResult(path=dest, size=dest.stat().st_size, supporters=supporters)


def _parse(database_url: str) -> URL:
    try:
        return make_url(database_url)
    except ArgumentError:
        raise BackupError("PLEDGE_DATABASE_URL is not a database URL.") from None


def _pg_dump_hint(url: URL, dest: Path) -> str:
    # pg_dump speaks libpq URLs: no SQLAlchemy driver name, and the password stays out of
    # the command line (PGPASSWORD or ~/.pgpass provide it).
    libpq = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    ).render_as_string()
    return (
        "pledge backup copies SQLite databases; for PostgreSQL use pg_dump, for example "
        f"`pg_dump --format=custom --file={dest} '{libpq}'` with the password in "
        "PGPASSWORD or ~/.pgpass, and pg_restore to restore (see docs/deploy.md)."
    )


def _check_destination(source: Path, dest: Path, *, force: bool) -> None:
    if dest.is_dir():
        raise BackupError(f"{dest} is a folder; give the name of the file to write.")
    with contextlib.suppress(OSError):
        if dest.exists() and os.path.samefile(source, dest):
            raise BackupError(f"{dest} is the database itself; choose another file.")
    if dest.exists() and not force:
        raise BackupError(f"{dest} already exists; pass --force to replace it.")
    folder = dest.parent
    if not folder.exists():
        raise BackupError(f"cannot write {dest}: the folder {folder} does not exist.")
    if not folder.is_dir():
        raise BackupError(f"cannot write {dest}: {folder} is not a folder.")


def _temporary_file(dest: Path) -> Path:
    """An empty file beside ``dest``, so that the final rename stays on one file system."""
    try:
        handle, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    except OSError as error:
        raise BackupError(f"cannot write to {dest.parent}: {error.strerror or error}.") from None
    os.close(handle)
    return Path(name)


def _copy(source: Path, tmp: Path, *, pages: int, progress: Progress | None) -> int | None:
    """Copy ``source`` into ``tmp`` step by step; return the number of supporters the source
    held at the moment the copy was taken, when that moment is known (WAL mode)."""
    try:
        # mode=rw: a missing file is an error, never a new empty database.
        src = sqlite3.connect(f"{source.absolute().as_uri()}?mode=rw", uri=True, timeout=30)
    except sqlite3.Error as error:
        raise BackupError(f"cannot open the database {source}: {error}.") from None
    try:
        src.isolation_level = None
        wal = src.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
        with _snapshot(src, hold=wal) as supporters:
            target = sqlite3.connect(tmp)
            try:
                # In WAL mode the copy reads one snapshot held open across steps: writers go
                # on appending to the log, and no write in between restarts the copy. Without
                # WAL a reader blocks writers, so the lock is let go (and a pause given)
                # between steps instead, at the price of restarting after a write.
                src.backup(
                    target,
                    pages=pages,
                    progress=(lambda _status, left, total: progress(left, total))
                    if progress
                    else None,
                    sleep=0.001 if wal else STEP_PAUSE_SECONDS,
                )
                # One self-contained file: no -wal or -shm beside the copy.
                target.execute("PRAGMA journal_mode=DELETE").fetchone()
            finally:
                target.close()
    except sqlite3.Error as error:
        raise BackupError(f"the copy of {source} failed: {error}.") from None
    finally:
        src.close()
    return supporters


@contextlib.contextmanager
def _snapshot(src: sqlite3.Connection, *, hold: bool) -> Iterator[int | None]:
    if not hold:
        _count_supporters(src, source=True)  # refuse another application's database early
        yield None
        return
    src.execute("BEGIN")
    try:
        yield _count_supporters(src, source=True)
    finally:
        src.execute("ROLLBACK")


def _count_supporters(conn: sqlite3.Connection, *, source: bool) -> int:
    try:
        return int(conn.execute("SELECT count(*) FROM supporter").fetchone()[0])
    except sqlite3.OperationalError as error:
        if "no such table" not in str(error):
            raise
        where = "the database" if source else "the copy"
        raise BackupError(
            f"{where} has no supporter table: PLEDGE_DATABASE_URL does not point at this "
            "site's database, or `pledge db upgrade` has not been run."
        ) from None


def _check_copy(tmp: Path, *, expected_supporters: int | None) -> int:
    conn = sqlite3.connect(f"{tmp.as_uri()}?mode=ro", uri=True)
    try:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupError(
                f"the copy failed SQLite's integrity check ({problems[0]}"
                f"{f' and {len(problems) - 1} more' if len(problems) > 1 else ''}); "
                "nothing was written. Run PRAGMA integrity_check on the database itself."
            )
        supporters = _count_supporters(conn, source=False)
    except sqlite3.Error as error:
        raise BackupError(f"the copy cannot be read back: {error}; nothing was written.") from None
    finally:
        conn.close()
    if expected_supporters is not None and supporters != expected_supporters:
        raise BackupError(
            f"the copy holds {supporters} supporters where the database held "
            f"{expected_supporters}; nothing was written."
        )
    return supporters


def _put_in_place(tmp: Path, dest: Path, *, force: bool) -> None:
    try:
        if force:
            os.replace(tmp, dest)
            return
        try:
            # A hard link never replaces a file that appeared since the check.
            os.link(tmp, dest)
        except FileExistsError:
            raise BackupError(f"{dest} already exists; pass --force to replace it.") from None
        except OSError:
            # File systems without hard links: the check above has to do.
            if dest.exists():
                raise BackupError(f"{dest} already exists; pass --force to replace it.") from None
            os.replace(tmp, dest)
            return
        tmp.unlink()
    except OSError as error:
        raise BackupError(f"cannot write {dest}: {error.strerror or error}.") from None


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as error:
        raise BackupError(f"cannot write {path}: {error.strerror or error}.") from None


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; not every system can open a folder, which is fine."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove(path: Path) -> None:
    for leftover in (path, Path(f"{path}-journal"), Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def _human_size(size: int) -> str:
    value, unit = size / 1024, "KB"
    for bigger in ("MB", "GB", "TB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"
