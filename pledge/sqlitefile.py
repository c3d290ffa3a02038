"""The SQLite database file on disk: readable by the app's own user only."""

from __future__ import annotations

import logging
import os
from contextlib import suppress
from pathlib import Path

log = logging.getLogger(__name__)

# The database holds contacts, password hashes and messages waiting to be sent: readable by
# the app's own user only, whatever the umask.
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def keep_private(path: Path) -> None:
    """Create a SQLite database file (and its folder) readable by its owner only, before
    SQLite first opens it, and take group and other access away from one made earlier.
    SQLite creates the -wal and -shm files with the mode of the database file."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    with suppress(FileExistsError):  # made earlier, or by another worker just now
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE))
    for name in (path, *(path.with_name(path.name + side) for side in SQLITE_SIDE_FILES)):
        try:
            if name.stat().st_mode & 0o077:
                name.chmod(PRIVATE_FILE)
        except FileNotFoundError:
            continue
        except PermissionError:
            log.warning("%s is readable by other users and not ours to change: chmod 600 it", name)
