"""Every ``pledge`` command the documentation names, run as an operator runs it: a process of its
own (``python -m pledge.cli ...``) on a freshly migrated database, SQLite or PostgreSQL, with
harmless arguments; its exit status and what it prints are checked."""

from __future__ import annotations

import itertools
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import pytest
import sqlalchemy as sa

from pledge.cli import build_parser, upgrade
from pledge.demo import CAMPAIGN_SLUG
from tests.support.appserver import app_process
from tests.test_deploy_files import pledge_commands, subcommand

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
TIMEOUT = 180  # seconds: a command starts in a second or two, far longer on a loaded machine
PASSWORD = "kata-sandi-yang-panjang-sekali"


@dataclass(frozen=True)
class Run:
    """One command line, what it reads on standard input, and what it must answer."""

    line: str  # as typed after `pledge`, {tmp} for the test's own folder
    status: int = 0
    out: str = ""  # a regular expression the standard output must match (re.search)
    err: str = ""  # likewise for the standard error, when the command explains itself there
    stdin: str = ""


@dataclass(frozen=True)
class Case:
    """A documented command, the commands it needs run before it, and on what database."""

    runs: tuple[Run, ...]
    migrated: bool = True  # the database is migrated before the first run
    on: dict[str, Run] = field(default_factory=dict)  # the last run, per database kind


DEMO = Run("demo --supporters 3", out=rf"Demo campaign ready at /c/{CAMPAIGN_SLUG}\n")
ORG = Run(
    "orgs create lembaga-muda 'Lembaga Muda' --website https://lembaga.example --verified",
    out=r"^Created organisation lembaga-muda \(Lembaga Muda\), approved\.$",
)

# Per command (its words down to the one that runs): the runs of its test. A command that
# needs input says so here (the password on standard input); one whose harmless use fails on
# purpose says with which status and message.
CASES: dict[tuple[str, ...], Case] = {
    ("db", "upgrade"): Case(
        (Run("db upgrade", out=r"^Database is at the latest schema\.$"),), migrated=False
    ),
    ("demo",): Case((DEMO,)),
    ("orgs", "create"): Case((ORG,)),
    ("users", "create"): Case(
        (
            ORG,
            Run(
                "users create ketua@lembaga.example --role admin --org lembaga-muda --site-admin"
                " --password-stdin",
                stdin=PASSWORD + "\n",
                out=r"^Created user ketua@lembaga\.example\.\n"
                r"Admin of lembaga-muda \(Lembaga Muda\)\.\nSite admin\.$",
            ),
        )
    ),
    ("mail", "send"): Case((Run("mail send", out=r"^0 message\(s\) sent, 0 still waiting\.$"),)),
    ("confirmations", "receive-whatsapp"): Case(
        (
            DEMO,
            Run(
                "confirmations receive-whatsapp '0812 3456 7890' 'Confirm my signature: 123456'",
                status=1,
                out=r"^no match: no signing of this number waits for this code; the reply is in the "
                r"log\.$",
            ),
        )
    ),
    ("tallies", "reconcile"): Case(
        (DEMO, Run("tallies reconcile", out=r"^All counters agree with the signatures\.$"))
    ),
    ("retention", "run"): Case(
        (
            Run(
                "retention run",
                out=r"^Retention \d+ month\(s\): campaigns closed on or before .* UTC are due\.\n"
                r"(?s:.*)\n0 old message\(s\) removed from the outbox\.$",
            ),
        )
    ),
    ("supporters", "invalidate"): Case(
        (
            DEMO,
            Run(
                f"supporters invalidate --campaign {CAMPAIGN_SLUG} --email-domain mailinator.example"
                " --reason 'Throwaway addresses'",
                out=rf"^0 signature\(s\) match in {CAMPAIGN_SLUG}: 0 counted, ",
            ),
        )
    ),
    ("backup",): Case(
        (DEMO,),
        on={
            "sqlite": Run(
                "backup {tmp}/pledge-copy.db",
                out=r"^Backup written to .*pledge-copy\.db: .* 3 supporters, integrity check ok\.$",
            ),
            "postgresql": Run(
                "backup {tmp}/pledge-copy.db",
                status=1,
                err=r"^pledge: pledge backup copies SQLite databases; for PostgreSQL use pg_dump",
            ),
        },
    ),
}
# Serving is checked by asking the server for its health, then stopping it.
SERVE = ("serve",)


def documented() -> set[tuple[str, ...]]:
    """Every command the README and the guides name, as the words that choose it."""
    parser = build_parser()
    found = set()
    for path in DOCS:
        for args in pledge_commands(path.read_text()):
            leaf = subcommand(parser, args)
            found.add(tuple(leaf.prog.split()[1:]))
    return found


def test_every_documented_command_has_a_case_here() -> None:
    named = documented()

    assert {("retention", "run"), ("mail", "send"), ("serve",)} <= named
    assert named - set(CASES) - {SERVE} == set()


# --- a database of its own per test ------------------------------------------------------

_numbers = itertools.count(1)


@pytest.fixture
def empty_database_url(engine: sa.Engine, tmp_path: Path) -> Iterator[str]:
    """A new, empty database on the kind of server the suite runs on."""
    if engine.dialect.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"pledge_commands_{os.getpid()}_{next(_numbers)}"
    admin = engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # the test role may create databases (CREATEDB)
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    yield engine.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


Pledge = Callable[[Run], subprocess.CompletedProcess[str]]


@pytest.fixture
def pledge(empty_database_url: str, tmp_path: Path) -> Pledge:
    """Run a command as its own process on the test's database, and check what it answered."""

    def run(given: Run) -> subprocess.CompletedProcess[str]:
        args = shlex.split(given.line.format(tmp=tmp_path))
        done = subprocess.run(
            [sys.executable, "-m", "pledge.cli", *args],
            cwd=ROOT,
            env={**os.environ, "PLEDGE_DATABASE_URL": empty_database_url},
            input=given.stdin,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        said = f"pledge {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        assert done.returncode == given.status, said
        assert "Traceback" not in done.stderr, said
        assert re.search(given.out, done.stdout.strip(), re.MULTILINE), said
        assert re.search(given.err, done.stderr.strip(), re.MULTILINE), said
        return done

    return run


@pytest.mark.parametrize("words", sorted(CASES), ids=" ".join)
def test_a_documented_command_runs_on_a_fresh_database(
    words: tuple[str, ...], pledge: Pledge, empty_database_url: str, dialect: str
) -> None:
    case = CASES[words]
    if case.migrated:
        upgrade(empty_database_url)
    runs = [*case.runs, *([case.on[dialect]] if case.on else [])]

    for given in runs:
        pledge(given)

    assert tuple(shlex.split(runs[-1].line)[: len(words)]) == words


@pytest.mark.server
def test_pledge_serve_answers_and_stops(empty_database_url: str) -> None:
    upgrade(empty_database_url)

    with app_process(PLEDGE_DATABASE_URL=empty_database_url) as server:
        health = httpx.get(server.url + "/healthz", timeout=10)
        campaigns = httpx.get(server.url + "/api/v1/campaigns", timeout=10)
        server.process.terminate()
        status = server.process.wait(timeout=30)
        log = server.log()

    assert health.status_code == 200
    assert campaigns.status_code == 200
    # A clean stop: uvicorn shuts down, then ends by the signal it was stopped with.
    assert status in (0, -signal.SIGTERM), log
    assert "Application shutdown complete." in log
    assert "Traceback" not in log
