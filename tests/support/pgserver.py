"""Start a throwaway PostgreSQL server for the test suite, and stop it again.

Usage::

    with running_postgres() as url:
        engine = sqlalchemy.create_engine(url)

The server lives in a fresh temporary directory, listens on a free loopback port with
``trust`` authentication and durability switched off (fast, disposable), and has a role
``pledge`` (password ``pledge``) owning a database ``pledge``. On exit the server is
stopped and the directory removed.

PostgreSQL refuses to run as root, so when the tests run as root the server binaries are
run as the ``postgres`` system user through ``runuser``.

``python -m tests.support.pgserver`` starts one, prints its URL and waits for Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType

import psycopg

PG_SYSTEM_USER = "postgres"
"""System user that runs the server binaries when the tests run as root."""

SUPERUSER = "postgres"
"""The server's superuser role, trusted on loopback like every role of a test server."""

DB_NAME = "pledge"
DB_USER = "pledge"
DB_PASSWORD = "pledge"
HOST = "127.0.0.1"

# Autovacuum off: the suite empties tables with DELETE between tests (conftest), and a vacuum
# would let new rows fill the space of deleted ones, so that a query without ORDER BY could
# read rows in another order from one run to the next.
_SERVER_SETTINGS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    " -c autovacuum=off"
)
# As deployed (compose.yaml): every commit on disk before it is acknowledged, autovacuum on.
DURABLE_SETTINGS = "-c max_connections=200"
_START_ATTEMPTS = 3
_LOG_TAIL_LINES = 40
_REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres")


def _version_key(path: Path) -> tuple[int, ...]:
    """Sort key for ``/usr/lib/postgresql/<version>/bin``: numeric parts of the version."""
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))


def _has_binaries(directory: Path) -> bool:
    return all((directory / name).is_file() for name in _REQUIRED_BINARIES)


def find_pg_bin() -> Path | None:
    """Return the directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or None.

    Debian's versioned directories (``/usr/lib/postgresql/*/bin``) are searched newest
    version first, then ``initdb`` on ``PATH``.
    """
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    for directory in candidates:
        if _has_binaries(directory):
            return directory
    initdb = shutil.which("initdb")
    if initdb is not None:
        directory = Path(initdb).resolve().parent
        if _has_binaries(directory):
            return directory
    return None


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _as_root() -> bool:
    return os.geteuid() == 0


def _command(args: Sequence[str | os.PathLike[str]]) -> list[str]:
    """The command line for a server binary, run as ``postgres`` when we are root."""
    argv = [os.fspath(arg) for arg in args]
    if _as_root():
        return ["runuser", "-u", PG_SYSTEM_USER, "--", *argv]
    return argv


def _run(args: Sequence[str | os.PathLike[str]], cwd: Path) -> subprocess.CompletedProcess[str]:
    # cwd is the temporary directory so that the postgres user can always enter it.
    return subprocess.run(
        _command(args), cwd=cwd, capture_output=True, text=True, check=False, timeout=120
    )


def _log_tail(logfile: Path) -> str:
    try:
        lines = logfile.read_text(errors="replace").splitlines()
    except OSError:
        return "(no server log)"
    return "\n".join(lines[-_LOG_TAIL_LINES:]) or "(server log is empty)"


def _make_tempdir() -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="pledge-pg-"))
    if _as_root():
        try:
            pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise RuntimeError(
                f"running as root, but there is no {PG_SYSTEM_USER!r} system user to run "
                "PostgreSQL as (install the 'postgresql' package: scripts/system-deps.sh)"
            ) from None
        shutil.chown(tmp, user=PG_SYSTEM_USER)
    tmp.chmod(0o700)
    return tmp


def _initdb(pg_bin: Path, tmp: Path, data: Path) -> None:
    base: list[str | os.PathLike[str]] = [
        pg_bin / "initdb",
        "-D",
        data,
        "-A",
        "trust",
        "-U",
        SUPERUSER,
        "--encoding=UTF8",
    ]
    errors: list[str] = []
    for locale in ("C.UTF-8", "C"):
        result = _run([*base, f"--locale={locale}"], cwd=tmp)
        if result.returncode == 0:
            return
        errors.append(f"--locale={locale}: {result.stdout}{result.stderr}".strip())
        # A failed initdb removes the data directory it created, but be sure.
        shutil.rmtree(data, ignore_errors=True)
    raise RuntimeError("initdb failed:\n" + "\n\n".join(errors))


def _start(
    pg_bin: Path,
    tmp: Path,
    data: Path,
    logfile: Path,
    port: int | None = None,
    settings: str = _SERVER_SETTINGS,
) -> int:
    """Start the server on the given port, or a free one, and return that port."""
    failures: list[str] = []
    for _ in range(_START_ATTEMPTS if port is None else 1):
        port = port or _free_port()
        logfile.unlink(missing_ok=True)
        options = f"-p {port} -k {tmp} -h {HOST} {settings}"
        # -t: pg_ctl waits this long for the server (60 s unless told), within _run's 120 s.
        result = _run(
            [pg_bin / "pg_ctl", "-D", data, "-o", options, "-l", logfile, "-w", "-t", "110",
             "start"],
            cwd=tmp,
        )  # fmt: skip
        if result.returncode == 0:
            return port
        tail = _log_tail(logfile)
        failures.append(f"port {port}: {result.stdout}{result.stderr}\n{tail}".strip())
        if "could not bind" not in tail and "already in use" not in tail:
            break  # Not a lost race for the port: trying again will not help.
        _stop(pg_bin, tmp, data)
    raise RuntimeError("PostgreSQL failed to start:\n" + "\n\n".join(failures))


def _stop(pg_bin: Path, tmp: Path, data: Path, mode: str = "immediate") -> None:
    """Stop the server if it runs; never raises."""
    pidfile = data / "postmaster.pid"
    if not pidfile.exists():
        return
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        result = _run([pg_bin / "pg_ctl", "-D", data, "-m", mode, "-w", "stop"], cwd=tmp)
        if result.returncode == 0:
            return
    # pg_ctl could not stop it: kill the postmaster ourselves.
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int(pidfile.read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)


def _create_role_and_database(port: int) -> None:
    with psycopg.connect(
        host=HOST, port=port, user=SUPERUSER, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f"CREATE ROLE {DB_USER} LOGIN CREATEDB PASSWORD '{DB_PASSWORD}'")
        conn.execute(f"CREATE DATABASE {DB_NAME} OWNER {DB_USER}")


# The running servers by URL, so that a test can stop one and start it again (an outage).
_SERVERS: dict[str, tuple[Path, Path, Path, Path, int]] = {}


def superuser_url(url: str) -> str:
    """The same database on a server started by running_postgres, as its superuser (trusted
    on loopback): for a bulk load that turns off what only a superuser may."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(username=SUPERUSER, password=None).render_as_string()


def stop_server(url: str) -> None:
    """Stop a server started by running_postgres, as an outage would. A clean stop: this
    server runs without synchronous commits (fast, disposable), so a crash would lose the
    last commits, which a real server, committing synchronously, keeps."""
    pg_bin, tmp, data, _logfile, _port = _SERVERS[url]
    _stop(pg_bin, tmp, data, mode="fast")


def start_server(url: str) -> None:
    """Start a stopped server again on its own port."""
    pg_bin, tmp, data, logfile, port = _SERVERS[url]
    _start(pg_bin, tmp, data, logfile, port)


@contextlib.contextmanager
def running_postgres(*, durable: bool = False) -> Iterator[str]:
    """Run a throwaway PostgreSQL server; yield its SQLAlchemy URL. Fast and disposable for
    the tests; ``durable`` for the benchmarks, with the settings of a real server.

    The URL is ``postgresql+psycopg://pledge:pledge@127.0.0.1:{port}/pledge``. Raises
    RuntimeError when PostgreSQL is not installed or does not start.
    """
    pg_bin = find_pg_bin()
    if pg_bin is None:
        raise RuntimeError(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; "
            "install the 'postgresql' package: scripts/system-deps.sh"
        )
    tmp = _make_tempdir()
    data = tmp / "data"
    logfile = tmp / "postgres.log"
    url = ""
    try:
        _initdb(pg_bin, tmp, data)
        port = _start(
            pg_bin, tmp, data, logfile, settings=DURABLE_SETTINGS if durable else _SERVER_SETTINGS
        )
        try:
            _create_role_and_database(port)
        except psycopg.Error as exc:
            raise RuntimeError(
                f"could not create the {DB_NAME!r} role and database: {exc}\n{_log_tail(logfile)}"
            ) from exc
        url = f"postgresql+psycopg://{DB_USER}:{DB_PASSWORD}@{HOST}:{port}/{DB_NAME}"
        _SERVERS[url] = (pg_bin, tmp, data, logfile, port)
        yield url
    finally:
        _SERVERS.pop(url, None)
        _stop(pg_bin, tmp, data)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    """Start a server, print its URL, and wait for Ctrl-C or SIGTERM."""
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    with running_postgres() as url:
        print(url, flush=True)
        print("PostgreSQL is running; press Ctrl-C to stop it.", file=sys.stderr, flush=True)
        while not stop.wait(timeout=1.0):
            pass


if __name__ == "__main__":
    main()
