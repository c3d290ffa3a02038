"""`pledge backup`: a consistent, checked copy of the SQLite database while supporters sign,
that restores into a working site; PostgreSQL is sent to pg_dump."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from functools import partial
from pathlib import Path

import httpx2
import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from sqlmodel import Session

import pledge.backup
from pledge.campaigns.models import CampaignView
from pledge.cli import main
from pledge.config import get_settings
from pledge.db import create_db_engine
from pledge.supporters import service as supporters
from pledge.supporters.models import Signing, Supporter
from tests.support.appserver import LiveServer
from tests.support.pages import html
from tests.support.signing import last_email_to

MakeCampaign = Callable[..., CampaignView]
Sign = Callable[..., Signing]

PLEDGES = ("tolak-politik-uang", "gunakan-hak-pilih", "lawan-hoaks")
BEFORE = 200  # signatures answered before the backup starts
DURING = 25  # signatures that must get through while the copy is under way
supporter_t = Supporter.__table__  # type: ignore[attr-defined]


@contextmanager
def using_database(url: str) -> Iterator[None]:
    """Run the command (or build an app) against another database, then come back."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PLEDGE_DATABASE_URL", url)
        get_settings.cache_clear()
        try:
            yield
        finally:
            get_settings.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def sqlite_file(dialect: str, database_url: str) -> Path:
    """The test database's file; tests that copy it make sense on SQLite only."""
    assert dialect == "sqlite", "marked sqlite_only: left out of the PostgreSQL run"
    path = make_url(database_url).database
    assert path
    return Path(path)


@pytest.fixture
def many_signatures_allowed() -> Iterator[None]:
    """Every signature below, and every code typed to confirm one, comes from one loopback
    address."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PLEDGE_RATELIMIT_SIGN", "100000/minute")
        patch.setenv("PLEDGE_RATELIMIT_CONFIRM_CODE", "100000/hour")
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()


def files_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def stored_supporters(path: Path) -> int:
    with closing(sqlite3.connect(path)) as copy:
        return int(copy.execute("SELECT count(*) FROM supporter").fetchone()[0])


class Signer(threading.Thread):
    """One supporter after another signing through HTTP and confirming with the emailed
    code, until told to stop."""

    def __init__(self, base_url: str, slug: str, engine: sa.Engine) -> None:
        super().__init__(daemon=True)
        self.base_url, self.slug, self.engine = base_url, slug, engine
        self.tokens: list[str] = []  # of the signatures confirmed (answered 303), in order
        self.failures: list[str] = []
        self.stop = threading.Event()
        self._progress = threading.Condition()
        self._finished = False

    def run(self) -> None:
        try:
            with (
                httpx2.Client(base_url=self.base_url, timeout=60) as client,
                Session(self.engine) as inbox,
            ):
                page = BeautifulSoup(client.get(f"/c/{self.slug}").text, "html.parser")
                field = page.select_one("input[name=csrf_token]")
                assert field is not None
                for n in range(5000):
                    if self.stop.is_set():
                        break
                    response = client.post(
                        f"/c/{self.slug}/sign",
                        data={
                            "csrf_token": str(field["value"]),
                            "name": f"Penanda {n}",
                            "contact": f"penanda{n}@contoh.id",
                            "province": "ID-JB",
                            "age_ok": "on",
                            "consent": "on",
                            "pledges": [PLEDGES[n % 3], PLEDGES[(n + 1) % 3]][: 1 + n % 2],
                            "website": "",
                        },
                    )
                    if response.status_code != 303:
                        self.failures.append(f"{response.status_code}: {response.text[:300]}")
                        break
                    # The code from the email, typed on the page the browser was sent to.
                    code = last_email_to(inbox, f"penanda{n}@contoh.id").code
                    response = client.post(
                        f"/c/{self.slug}/confirm",
                        data={"csrf_token": str(field["value"]), "code": code},
                    )
                    if response.status_code != 303:
                        self.failures.append(f"{response.status_code}: {response.text[:300]}")
                        break
                    token = response.headers["location"].split("?")[0].rsplit("/", 1)[1]
                    with self._progress:
                        self.tokens.append(token)
                        self._progress.notify_all()
        except Exception as error:
            self.failures.append(repr(error))
        finally:
            with self._progress:
                self._finished = True
                self._progress.notify_all()

    def wait_for(self, count: int) -> bool:
        """Until ``count`` signatures are answered; False when the signer ended first."""
        with self._progress:
            self._progress.wait_for(lambda: len(self.tokens) >= count or self._finished, 60)
            return len(self.tokens) >= count


@pytest.mark.sqlite_only
@pytest.mark.server
def test_backup_while_supporters_sign_keeps_every_earlier_signature(
    sqlite_file: Path,
    many_signatures_allowed: None,
    live_server: LiveServer,
    make_campaign: MakeCampaign,
    engine: sa.Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    view = make_campaign(pledges=PLEDGES)
    dest = tmp_path / "pledge-copy.db"
    signer = Signer(live_server.url, view.slug, engine)
    writers_went_on: list[bool] = []
    steps: list[int] = []

    def between_steps(left: int, _total: int) -> None:
        # The copy holds its read of the database here: signing must go on regardless.
        if not steps:
            writers_went_on.append(signer.wait_for(len(signer.tokens) + DURING))
        steps.append(left)

    # One page per step, so that the copy takes many steps while supporters keep signing.
    monkeypatch.setattr(
        pledge.backup,
        "backup",
        partial(pledge.backup.backup, pages_per_step=1, progress=between_steps),
    )
    signer.start()
    try:
        assert signer.wait_for(BEFORE), signer.failures
        before = list(signer.tokens)
        assert main(["backup", str(dest)]) == 0
    finally:
        signer.stop.set()
        signer.join(timeout=60)

    assert signer.failures == []
    assert writers_went_on == [True]
    assert len(steps) > 10
    assert steps[-1] == 0
    assert files_in(tmp_path) == ["pledge-copy.db"]  # no temporary file, -wal or -shm left
    with closing(sqlite3.connect(dest)) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("delete",)

    with using_database(f"sqlite:///{dest}"):
        copy_engine = create_db_engine(get_settings())
    try:
        with Session(copy_engine) as session:
            stored = session.execute(
                sa.select(supporter_t.c.token, supporter_t.c.confirmed_at).where(
                    supporter_t.c.campaign_id == view.id
                )
            ).all()
            tokens = {token for token, confirmed_at in stored if confirmed_at is not None}
            counts = supporters.read_counts(session, campaign_id=view.id)
            recount = supporters.true_counts(session, campaign_id=view.id)
    finally:
        copy_engine.dispose()
    assert set(before) <= tokens
    assert len(before) <= len(tokens) < len(signer.tokens)  # a copy of one moment
    assert counts.total == len(tokens)
    # A signature the copy caught between its signing and its confirmation is pending there.
    assert counts.pending == len(stored) - len(tokens) <= 1
    assert recount == {key: value for key, value in counts.by_key.items() if value}
    assert sum(counts.pledge(p.id) for p in view.pledges) > len(tokens)  # some signed two

    out = capsys.readouterr().out.strip()
    assert out.startswith(f"Backup written to {dest}: {dest.stat().st_size:,} bytes (")
    assert out.endswith(f"B), {len(stored):,} supporters, integrity check ok.")


@pytest.mark.sqlite_only
def test_a_restored_copy_serves_a_supporters_thank_you_page(
    sqlite_file: Path,
    make_campaign: MakeCampaign,
    sign: Sign,
    session: Session,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pledge.app import create_app

    view = make_campaign()
    kept = sign(view, name="Sekar Ayu", contact="sekar@example.com")
    sign(view, name="Bagus", contact="0812 1111 2222")
    assert kept.supporter is not None
    dest = tmp_path / "pledge-backup.db"
    assert main(["backup", str(dest)]) == 0
    assert "2 supporters" in capsys.readouterr().out
    # Lost from the live database after the backup: only the copy still has it.
    supporters.withdraw(session, campaign=view.campaign, token=kept.supporter.token)

    with using_database(f"sqlite:///{dest}"):
        settings = get_settings()
        restored = create_db_engine(settings)
        try:
            app = create_app(settings, restored)
            with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
                response = client.get(f"/c/{view.slug}/thanks/{kept.supporter.token}?lang=en")
        finally:
            restored.dispose()

    assert response.status_code == 200, response.text[:300]
    page = html(response)
    heading = page.select_one("section.thanks h1")
    count = page.select_one("section.thanks .count")
    assert heading is not None and count is not None
    assert heading.get_text(strip=True) == "Thank you, Sekar!"
    assert count.get_text(strip=True) == "2"


@pytest.mark.sqlite_only
def test_backup_refuses_to_replace_a_file_unless_forced(
    sqlite_file: Path,
    make_campaign: MakeCampaign,
    sign: Sign,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sign(make_campaign(), contact="satu@example.com")
    dest = tmp_path / "pledge.db"
    dest.write_bytes(b"last night's backup")

    assert main(["backup", str(dest)]) == 1

    captured = capsys.readouterr()
    assert captured.err == f"pledge: {dest} already exists; pass --force to replace it.\n"
    assert captured.out == ""
    assert dest.read_bytes() == b"last night's backup"
    assert files_in(tmp_path) == ["pledge.db"]

    assert main(["backup", "--force", str(dest)]) == 0

    assert "1 supporters" in capsys.readouterr().out
    assert stored_supporters(dest) == 1
    assert files_in(tmp_path) == ["pledge.db"]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("missing/copy.db", "cannot write {dest}: the folder {tmp}/missing does not exist."),
        ("notes.txt/copy.db", "cannot write {dest}: {tmp}/notes.txt is not a folder."),
        ("folder", "{dest} is a folder; give the name of the file to write."),
        ("DATABASE", "{dest} is the database itself; choose another file."),
    ],
)
@pytest.mark.sqlite_only
def test_backup_to_a_place_it_cannot_write_says_so_in_one_line(
    sqlite_file: Path,
    make_campaign: MakeCampaign,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    where: str,
    message: str,
) -> None:
    make_campaign()
    (tmp_path / "notes.txt").write_text("not a folder")
    (tmp_path / "folder").mkdir()
    dest = sqlite_file.absolute() if where == "DATABASE" else tmp_path / where
    before = files_in(tmp_path)

    assert main(["backup", str(dest)]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "pledge: " + message.format(dest=dest, tmp=tmp_path) + "\n"
    assert files_in(tmp_path) == before
    assert files_in(tmp_path / "folder") == []


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        (
            None,
            "there is no database at {source} (PLEDGE_DATABASE_URL=sqlite:///{source}); "
            "run `pledge db upgrade` first or check the setting.",
        ),
        (
            "CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT)",
            "the database has no supporter table: PLEDGE_DATABASE_URL does not point at this "
            "site's database, or `pledge db upgrade` has not been run.",
        ),
    ],
    ids=["missing", "another-application"],
)
def test_backup_of_a_database_that_is_not_there_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], contents: str | None, message: str
) -> None:
    source = tmp_path / "data" / "pledge.db"
    source.parent.mkdir()
    if contents:
        with closing(sqlite3.connect(source)) as other:
            other.execute(contents)
    dest = tmp_path / "copy.db"

    with using_database(f"sqlite:///{source}"):
        assert main(["backup", str(dest)]) == 1

    captured = capsys.readouterr()
    assert captured.err == "pledge: " + message.format(source=source) + "\n"
    assert not dest.exists()
    assert files_in(tmp_path) == ["data"]
    assert files_in(source.parent) == ([] if contents is None else ["pledge.db"])


def test_a_copy_that_fails_the_integrity_check_is_not_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "damaged.db"
    with closing(sqlite3.connect(source, isolation_level=None)) as damaged:
        damaged.execute("CREATE TABLE supporter (id INTEGER PRIMARY KEY, name TEXT, contact TEXT)")
        damaged.execute("CREATE INDEX ix_supporter_contact ON supporter (contact)")
        damaged.executemany(
            "INSERT INTO supporter (name, contact) VALUES (?, ?)",
            [(f"n{i}", f"c{i}") for i in range(20)],
        )
        # The index now claims to hold other values than the ones it holds.
        damaged.execute("PRAGMA writable_schema=ON")
        damaged.execute(
            "UPDATE sqlite_master SET sql = 'CREATE INDEX ix_supporter_contact ON supporter (name)'"
            " WHERE name = 'ix_supporter_contact'"
        )
    backups = tmp_path / "backups"
    backups.mkdir()

    with using_database(f"sqlite:///{source}"):
        assert main(["backup", str(backups / "copy.db")]) == 1

    captured = capsys.readouterr()
    assert captured.err == (
        "pledge: the copy failed SQLite's integrity check (row 1 missing from index "
        "ix_supporter_contact and 19 more); nothing was written. Run PRAGMA integrity_check "
        "on the database itself.\n"
    )
    assert files_in(backups) == []


def test_backup_of_postgresql_points_to_pg_dump_without_the_password(
    dialect: str, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # On PostgreSQL the suite's own database; on SQLite the address of a production one.
    url = (
        database_url
        if dialect == "postgresql"
        else "postgresql+psycopg://pledge:s3cret-pw@db.internal:5432/pledge"
    )
    parts = make_url(url)
    dest = tmp_path / "pledge.dump"

    with using_database(url):
        assert main(["backup", str(dest)]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1
    expected_target = f"postgresql://{parts.username}@{parts.host}:{parts.port}/{parts.database}"
    assert (
        f"for PostgreSQL use pg_dump, for example `pg_dump --format=custom --file={dest} "
        f"'{expected_target}'`"
    ) in captured.err
    assert "pg_restore" in captured.err
    assert "docs/deploy.md" in captured.err
    assert f":{parts.password}@" not in captured.err
    assert not dest.exists()
