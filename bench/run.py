"""The benchmarks: the server started as operators run it, loaded by wrk on loopback.

    python -m bench.run                 # the full run: SQLite, then PostgreSQL with Redis
    python -m bench.run --quick         # the same, shorter, without the growth test
    python -m bench.run --db sqlite     # one database only

The server runs as deployed (docs/deploy.md): ``PLEDGE_ENV=production`` with its JSON access
log, rate limits on at their defaults (in Redis beside PostgreSQL, as compose.yaml sets them),
two workers, behind a proxy that wrk plays: every request says who the client is in
``X-Forwarded-For`` (bench/lua/forwarded.lua). Every route's throughput is compared with
/healthz measured in the same run, on the same machine: the ratios, not the absolute numbers,
are the targets. The results are written to bench/RESULTS.md (or --out).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import platform
import re
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx
from PIL import Image
from sqlmodel import Session

from bench import provenance as provenance_cost
from bench import reliability
from bench import seed as seeding
from bench.login_memory import LoginMemory, measure_login_memory
from bench.streams import StreamResult, cpu_seconds, measure_streams
from bench.upload_memory import Measured
from bench.upload_memory import measure as measure_uploads
from pledge.config import get_settings
from tests.support.appserver import free_port

ROOT = Path(__file__).resolve().parents[1]
LUA = ROOT / "bench" / "lua"


# --- the server -------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(p) for p in children.read_text().split()] if children.exists() else []
        return pids or [self.process.pid]


@contextlib.contextmanager
def serving(env: dict[str, str], workers: int, logfile: Path) -> Iterator[Server]:
    """``pledge serve`` as in production, on a free loopback port."""
    port = free_port()
    env = {**env, "PLEDGE_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    with logfile.open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pledge.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(url=f"http://127.0.0.1:{port}", process=process)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited; see {logfile}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(server.url + "/readyz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; see {logfile}")
            time.sleep(0.2)
        if workers > 1:
            time.sleep(1.5)  # every worker up, not only the first
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- a browser's session: cookie and CSRF token --------------------------------------------


def session_cookie(response: httpx.Response, cookie: str = "") -> str:
    # Production cookies are Secure, which an http:// client keeps to itself: read them here.
    jar = dict(part.split("=", 1) for part in cookie.split("; ") if "=" in part)
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        jar[name] = rest.split(";", 1)[0]
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def form_token(server: Server, path: str, cookie: str = "") -> tuple[str, str]:
    response = httpx.get(server.url + path, headers={"Cookie": cookie} if cookie else {})
    response.raise_for_status()
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert match, f"no form on {path}"
    return session_cookie(response, cookie), match[1]


def game_question(server: Server, slug: str) -> str:
    """The address of a game's first question: a game started as a player starts one."""
    cookie, token = form_token(server, f"/c/{slug}/game")
    response = httpx.post(
        f"{server.url}/c/{slug}/game", data={"csrf_token": token}, headers={"Cookie": cookie}
    )
    assert response.status_code == 303, response.text[:300]
    location = response.headers["location"]
    assert "/game/play?" in location, location
    return location


def signed_in(server: Server, email: str, password: str) -> str:
    cookie, token = form_token(server, "/login")
    response = httpx.post(
        server.url + "/login",
        data={"email": email, "password": password, "csrf_token": token},
        headers={"Cookie": cookie},
    )
    assert response.status_code == 303, response.text[:300]
    return session_cookie(response, cookie)


# --- wrk ----------------------------------------------------------------------------------

WRK_THREADS = 2


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int  # answers that were not 2xx or 3xx, plus socket errors
    # CPU seconds each kind of process spent while wrk ran: "app", "postgres", "redis".
    cpu: dict[str, float] = field(default_factory=dict)

    def cpu_per_1000(self, kind: str) -> float:
        return self.cpu.get(kind, 0.0) / max(self.requests, 1) * 1000

    @classmethod
    def together(cls, loads: Sequence[Load]) -> Load:
        """The requests, errors and CPU seconds of several loads, as one (no rate or times)."""
        kinds = {kind for load in loads for kind in load.cpu}
        cpu = {kind: sum(load.cpu.get(kind, 0.0) for load in loads) for kind in kinds}
        return cls(0, 0, 0, sum(x.requests for x in loads), sum(x.bad for x in loads), cpu)


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


# In a load's arguments, a prefix of its own for each run of wrk: the signing script numbers
# its contacts from 1 in every run, and a contact signed by an earlier run (a warm-up, an
# earlier round) would be a known signer's second signature, a cheaper answer.
FRESH = "{fresh}"


def wrk(
    url: str,
    *,
    seconds: float,
    connections: int,
    script: str = "get.lua",
    args: tuple[str, ...] = (),
    cpu: CpuMeter | None = None,
) -> Load:
    command = [
        "wrk",
        f"-t{WRK_THREADS}",
        f"-c{connections}",
        f"-d{seconds:.0f}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(LUA / script),
        url,
    ]
    if args:
        command += ["--", *(secrets.token_hex(4) if arg == FRESH else arg for arg in args)]
    before = cpu() if cpu else {}
    # From the scripts' folder, where they find the module they share (forwarded.lua).
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=LUA).stdout
    used = {kind: seconds - before[kind] for kind, seconds in cpu().items()} if cpu else {}
    try:
        load = _parse_wrk(out)
    except (TypeError, AttributeError, ValueError):
        raise RuntimeError(f"could not read wrk's output for {url}:\n{out}") from None
    load.cpu = used
    return load


# --- CPU time of the server's processes -------------------------------------------------------

CpuMeter = Callable[[], dict[str, float]]


def _cpu_of_processes(chosen: Callable[[Path], bool]) -> float:
    """CPU time so far of every process of this machine that ``chosen`` picks by its /proc
    folder (one that ends before it is read is skipped)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if chosen(entry):
                    total += cpu_seconds(int(entry.name))
            except OSError:
                continue
    return total


def cpu_of_named(name: str) -> float:
    """CPU time so far of every process of this machine with that command name (the database
    server's processes: only the benchmark's own run here)."""
    return _cpu_of_processes(lambda entry: (entry / "comm").read_text().strip() == name)


def cpu_of_kernel_threads() -> float:
    """CPU time so far of the kernel's own threads (children of kthreadd, pid 2): mostly
    writing what the databases flush to disk. Those of the whole machine, and a thread that
    ends during a measurement takes its time with it: an estimate, from below."""
    return _cpu_of_processes(
        lambda entry: (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == "2"
    )


def cpu_meter(server: Server, db: str) -> CpuMeter:
    """What one measurement costs each part of the deployment, in CPU seconds."""

    def measure() -> dict[str, float]:
        used = {"app": sum(cpu_seconds(pid) for pid in server.worker_pids())}
        if db == "postgres":
            used["postgres"] = cpu_of_named("postgres")
            used["redis"] = cpu_of_named("redis-server")
        used["kernel"] = cpu_of_kernel_threads()
        return used

    return measure


def _parse_wrk(out: str) -> Load:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M)[1])  # type: ignore[index]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M)[1])  # type: ignore[index]
    requests = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    bad = int(m[1]) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        bad += sum(int(g) for g in m.groups())
    return Load(rps, p50, p99, requests, bad)


# --- the routes -------------------------------------------------------------------------------


@dataclass
class Route:
    key: str
    name: str
    target: float | None  # the least ratio to /healthz this route must reach
    load: Load | None = None
    # /healthz measured just before and just after this route: the machine's speed then.
    beside: tuple[Load, Load] | None = None
    # A route with a target is loaded in rounds, each between two /healthz: every round's
    # ratio, in order. The load and /healthz above are those of the median round.
    rounds: tuple[float, ...] = ()
    # Every round's requests and CPU seconds together, for the CPU a request costs.
    pooled: Load | None = None

    @property
    def ceiling_rps(self) -> float:
        assert self.beside is not None
        return sum(h.rps for h in self.beside) / 2

    @property
    def ceiling_p99_ms(self) -> float:
        assert self.beside is not None
        return max(h.p99_ms for h in self.beside)

    @property
    def ratio(self) -> float:
        assert self.load is not None
        return self.load.rps / self.ceiling_rps


@dataclass
class Run:
    label: str
    routes: list[Route] = field(default_factory=list)
    ceilings: list[Load] = field(default_factory=list)  # every /healthz measurement, in order

    def get(self, key: str) -> Route:
        return next(r for r in self.routes if r.key == key)


def screenshot_body(boundary: str, token: str, n: int) -> bytes:
    """A report form with a screenshot of about 300 KB, as a phone sends it."""
    noise = Image.effect_noise((180, 390), 30).convert("L").resize((1080, 2340))
    image = Image.merge("RGB", (noise, noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT), noise))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    picture = out.getvalue()
    fields = {
        "csrf_token": token,
        "url": f"https://www.facebook.com/bench/posts/{n}",
        "platform": "facebook",
        "category": "false_claim",
        # A claim as reporters word it: the text index is searched on every report.
        "description": "Beredar video Capres A membagikan amplop berisi uang kepada warga",
        "province": "ID-JK",
        "contact": "",
        "consent": "on",
        "website": "",
    }
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="screenshot"; '
        f'filename="layar.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
        + picture
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts)


@dataclass
class Plan:
    """How one route is loaded on one server."""

    key: str
    name: str
    target: float | None  # the least ratio to /healthz this route must reach
    path: str
    connections: int
    script: str
    args: tuple[str, ...] = ()


def route_plans(server: Server, world: seeding.World, work: Path) -> dict[str, Plan]:
    """Every route, with the sessions, tokens and bodies its load needs on this server.
    Confirming needs signings waiting for it: their links' secrets in ``work``
    (``seed_waiting``)."""
    slug, url = world.slug, server.url
    admin = signed_in(server, world.admin_email, world.password)
    moderator = signed_in(server, world.moderator_email, world.password)
    as_moderator = (f"Cookie: {moderator}",)
    etag = httpx.get(f"{url}/api/v1/campaigns/{slug}").headers["etag"]
    sign_cookie, sign_token = form_token(server, f"/c/{slug}")
    report_cookie, report_token = form_token(server, f"/c/{slug}/report")
    confirm_cookie, confirm_token = form_token(server, f"/c/{slug}")
    boundary = "bench" + secrets.token_hex(8)
    body = work / f"report-{boundary}.body"
    body.write_bytes(screenshot_body(boundary, report_token, 1))
    verdict = httpx.get(f"{url}/api/v1/hoaxes?limit=1").json()["items"][0]["id"]
    plans = [
        Plan("page", "campaign page", 0.5, f"/c/{slug}", 64, "get.lua"),
        Plan("verdict", "a published verdict's page", 0.5, f"/hoaxes/{verdict}", 64, "get.lua"),
        Plan("gallery", "the verdicts' gallery, first page", 0.5, "/hoaxes", 64, "get.lua"),
        # A question of a game started here: drawn once per picture, language and version of
        # the game, the player's token put in.
        Plan(
            "game",
            "the real-or-fake game, a question",
            0.5,
            game_question(server, slug),
            64,
            "get.lua",
        ),
        Plan("transparency", "the transparency page", None, "/transparansi", 64, "get.lua"),
        Plan("api", "API JSON, 200", 0.8, f"/api/v1/campaigns/{slug}", 64, "get.lua"),
        Plan(
            "api304",
            "API JSON, 304",
            0.9,
            f"/api/v1/campaigns/{slug}",
            64,
            "get.lua",
            (f"If-None-Match: {etag}",),
        ),
        Plan("badge", "SVG badge", 0.8, f"/embed/{slug}.svg", 64, "get.lua"),
        Plan("embed", "embed widget page", 0.8, f"/embed/{slug}", 64, "get.lua"),
        Plan(
            "sign",
            "signing (new contact each time)",
            0.25,
            f"/c/{slug}/sign",
            64,
            "sign.lua",
            (sign_cookie, sign_token, f"/c/{slug}/sign", FRESH),
        ),
        Plan(
            "confirm",
            "confirming by the emailed link (another signing each time)",
            None,
            f"/c/{slug}/confirm/",
            64,
            "confirm.lua",
            (
                confirm_cookie,
                confirm_token,
                f"/c/{slug}/confirm/",
                str(work / WAITING),
                str(work / "confirm-cursor"),
                str(WRK_THREADS),
            ),
        ),
        Plan(
            "report",
            "reporting with a 300 KB screenshot",
            None,
            f"/c/{slug}/report",
            8,
            "report.lua",
            (report_cookie, f"/c/{slug}/report", str(body), boundary),
        ),
        Plan(
            "queue1",
            "moderation queue, first page",
            None,
            "/mod",
            16,
            "get.lua",
            as_moderator,
        ),
        Plan(
            "queue100",
            "moderation queue, page 100",
            None,
            queue_page(server, moderator, 100),
            16,
            "get.lua",
            as_moderator,
        ),
        Plan(
            "stats",
            "statistics page",
            None,
            f"/dashboard/{world.lead_org}/campaigns/{slug}/statistics",
            16,
            "get.lua",
            (f"Cookie: {admin}",),
        ),
    ]
    return {plan.key: plan for plan in plans}


# A route with a target is loaded this many times, each between two /healthz, and judged by
# its median round: one load of a few seconds can fall on a slow moment of the machine.
ROUTE_ROUNDS = 3


class Ceilings:
    """/healthz, measured before and after every route: the machine is shared, and its speed
    drifts by tens of percent within minutes."""

    def __init__(self, server: Server, seconds: float, cpu: CpuMeter | None = None) -> None:
        self.url, self.seconds, self.cpu = server.url, seconds, cpu
        self.loads: list[Load] = []
        wrk(self.url + "/healthz", seconds=1, connections=64)  # warm

    def measure(self) -> Load:
        load = wrk(self.url + "/healthz", seconds=self.seconds, connections=64, cpu=self.cpu)
        self.loads.append(load)
        print(f"  `/healthz`: {load.rps:.0f}/s, p99 {load.p99_ms:.1f} ms", flush=True)
        return load

    def beside(self, server: Server, plan: Plan, seconds: float, rounds: int = 1) -> Route:
        """The route loaded on the server, with /healthz just before and just after it; in
        ``rounds`` rounds, each between two /healthz, the median round by its ratio."""
        url = server.url + plan.path
        how = dict(connections=plan.connections, script=plan.script, args=plan.args)
        wrk(url, seconds=1, **how)  # type: ignore[arg-type]
        tried = []
        for _round in range(rounds):
            before = self.loads[-1] if self.loads else self.measure()
            load = wrk(url, seconds=seconds, cpu=self.cpu, **how)  # type: ignore[arg-type]
            tried.append(Route(plan.key, plan.name, plan.target, load, (before, self.measure())))
        route = sorted(tried, key=lambda r: r.ratio)[len(tried) // 2]
        route.pooled = Load.together([r.load for r in tried if r.load is not None])
        route.rounds = tuple(r.ratio for r in tried) if rounds > 1 else ()
        assert route.load is not None
        every = f" (rounds {', '.join(f'{r:.2f}' for r in route.rounds)})" if route.rounds else ""
        print(
            f"  {route.name}: {route.load.rps:.0f}/s, p50 {route.load.p50_ms:.1f} ms, "
            f"p99 {route.load.p99_ms:.1f} ms, {route.load.bad} bad; {route.ratio:.2f} of "
            f"/healthz{every}",
            flush=True,
        )
        return route


def measure_routes(
    server: Server,
    world: seeding.World,
    *,
    seconds: float,
    ceiling_seconds: float,
    round_seconds: float,
    work: Path,
    cpu: CpuMeter,
) -> Run:
    """Every route on one server, in turn: a route with a target in ROUTE_ROUNDS rounds of
    ``round_seconds``, the others once for ``seconds``."""
    ceilings = Ceilings(server, ceiling_seconds, cpu)
    run = Run("empty")
    for plan in route_plans(server, world, work).values():
        if plan.target is None:
            run.routes.append(ceilings.beside(server, plan, seconds))
        else:
            run.routes.append(ceilings.beside(server, plan, round_seconds, ROUTE_ROUNDS))
    run.ceilings = ceilings.loads
    # Every confirmation must have met a signing still waiting: a secret used twice would
    # measure the cheaper answer to a signing confirmed already.
    used = int((work / "confirm-cursor").read_text()) * WRK_THREADS
    waiting = len((work / WAITING).read_text().split())
    if used > waiting:
        raise RuntimeError(f"confirming used {used} secrets of {waiting}: seed more (--waiting)")
    return run


def measure_growth(
    empty: Server,
    grown: Server,
    world: seeding.World,
    *,
    rounds: int,
    seconds: float,
    work: Path,
) -> Growth:
    """The growth routes in rounds: each route on the nearly empty and on the grown database
    one just after the other (in turn, which first), both servers running, each warmed once."""
    servers = {"empty": empty, "grown": grown}
    plans = {label: route_plans(server, world, work) for label, server in servers.items()}
    for label, server in servers.items():
        warm_pages(server, [plans[label][key] for key in GROWTH_ROUTES])
    pairs = [(Run("empty"), Run("grown")) for _ in range(rounds)]
    for key in GROWTH_ROUTES:
        for n, pair in enumerate(pairs):
            for run in reversed(pair) if n % 2 else pair:
                plan = plans[run.label][key]
                url = servers[run.label].url + plan.path
                how = dict(connections=plan.connections, script=plan.script, args=plan.args)
                if n == 0:
                    wrk(url, seconds=1, **how)  # type: ignore[arg-type]
                load = wrk(url, seconds=seconds, **how)  # type: ignore[arg-type]
                run.routes.append(Route(plan.key, plan.name, plan.target, load))
                print(
                    f"  round {n + 1}, {run.label} database, {plan.name}: {load.rps:.0f}/s, "
                    f"p50 {load.p50_ms:.1f} ms, {load.bad} bad",
                    flush=True,
                )
    return Growth(pairs, seconds)


def warm_pages(server: Server, plans: list[Plan]) -> None:
    """Each page asked for once, however long it takes: a page whose figures a process
    computes on its first visit (the statistics of a million supporters) is measured as
    its visitors find it afterwards, not as the first one does."""
    for plan in plans:
        if plan.script == "get.lua":
            headers = dict(h.split(": ", 1) for h in plan.args)
            httpx.get(server.url + plan.path, headers=headers, timeout=300)


def transparency_ms(database_url: str, rounds: int = 7) -> float:
    """The median time the transparency page's numbers take to compute from the database (its
    per-process cache bypassed): what a visitor waits for once every few minutes."""
    from sqlalchemy import create_engine

    from pledge.hoaxes.service import transparency

    engine = create_engine(database_url)
    times = []
    try:
        with Session(engine) as session:
            for _ in range(rounds):
                started = time.perf_counter()
                transparency.compute(session)
                times.append((time.perf_counter() - started) * 1000)
    finally:
        engine.dispose()
    return statistics.median(times)


def queue_page(server: Server, cookie: str, number: int) -> str:
    """The address of the queue's nth page, found by following its Next links."""
    path = "/mod"
    for _ in range(number - 1):
        response = httpx.get(server.url + path, headers={"Cookie": cookie})
        match = re.search(r'href="([^"]+)" id="next-page"', response.text)
        if match is None:
            break
        path = match[1].replace("&amp;", "&")
    return path


# --- the whole run ----------------------------------------------------------------------------


# The routes whose speed may depend on the size of the database.
# Signing last: it adds supporters to the nearly empty database.
GROWTH_ROUTES = (
    "verdict",
    "gallery",
    "transparency",
    "api",
    "api304",
    "badge",
    "embed",
    "stats",
    "queue1",
    "queue100",
    "report",
    "sign",
)
PAGES = ("stats", "queue1", "queue100")


@dataclass
class Growth:
    """The growth routes measured in rounds on a fresh copy of the nearly empty database and on
    the grown one, one server just after the other (in turn, which first), so that the
    machine's drift over minutes does not count: each pair is seconds apart."""

    rounds: list[tuple[Run, Run]]  # (nearly empty, grown)
    seconds: float  # of each route's measurement
    # The transparency page's numbers computed without its cache: ms on each database.
    transparency_ms: tuple[float, float] | None = None

    def compared(self, key: str) -> list[float]:
        """Each round's grown route against the nearly empty one, measured one just after the
        other: for the counters and signing, the ratio of the rates; for the pages, of the
        times (p50), since at a fixed number of connections a page's time is the inverse of
        its rate."""
        ratios = []
        for empty, grown in self.rounds:
            before, after = empty.get(key).load, grown.get(key).load
            assert before is not None and after is not None
            if key not in PAGES:
                ratios.append(after.rps / before.rps)
            elif after.requests == 0:
                ratios.append(float("inf"))
            else:
                ratios.append(after.p50_ms / before.p50_ms)
        return ratios

    def median(self, key: str) -> tuple[float, Route]:
        """The median comparison of a route, and the grown measurement it comes from."""
        ratios = self.compared(key)
        middle = sorted(range(len(ratios)), key=ratios.__getitem__)[len(ratios) // 2]
        return ratios[middle], self.rounds[middle][1].get(key)


@dataclass
class DatabaseRun:
    """What was measured on one database: every route, exactness under load, growth."""

    db: str
    empty: Run
    exactness: reliability.Exactness
    growth: Growth | None
    seconds: float  # this database's part of the run


@dataclass
class Shared:
    """What does not depend on the database, measured once (on the first database)."""

    crashes: reliability.CrashSafety
    streams: StreamResult
    uploads: list[Measured]
    upload_server_mib: float
    logins: LoginMemory
    provenance: ProvenanceCost


@dataclass
class Results:
    args: argparse.Namespace
    databases: list[DatabaseRun]
    shared: Shared | None
    started: datetime
    seconds: float


def clone_database(url: str, name: str) -> str:
    """A copy of the database at ``url`` named ``name``, replacing an earlier copy; its URL.

    Nothing may be connected to the source: SQLite's copy is taken with the backup API,
    PostgreSQL's from the source as a template."""
    from sqlalchemy.engine import make_url

    source = make_url(url)
    if source.get_backend_name() == "sqlite":
        assert source.database is not None
        path = Path(source.database).with_name(f"{name}.db")
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        with (
            contextlib.closing(sqlite3.connect(source.database)) as src,
            contextlib.closing(sqlite3.connect(path)) as dst,
        ):
            src.backup(dst)
        return source.set(database=str(path)).render_as_string(hide_password=False)
    import psycopg

    with psycopg.connect(
        host=source.host,
        port=source.port,
        user=source.username,
        password=source.password,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source.database}"')
    return source.set(database=name).render_as_string(hide_password=False)


# The links' secrets of the signings that wait for the confirming route, in the run's folder.
WAITING = "waiting-secrets.txt"


def run_seed(
    env: dict[str, str],
    supporters: int,
    reports: int,
    pending: int = 0,
    secrets_file: Path | None = None,
) -> None:
    seeding_process(env, supporters, reports, pending, secrets_file).wait_done()


class Seeding(subprocess.Popen[bytes]):
    def wait_done(self) -> None:
        if self.wait() != 0:
            raise RuntimeError(f"seeding failed with status {self.returncode}")


def seeding_process(
    env: dict[str, str],
    supporters: int,
    reports: int,
    pending: int = 0,
    secrets_file: Path | None = None,
    *,
    trusted: bool = False,
) -> Seeding:
    """``bench.seed`` started in a process of its own. ``trusted``: on PostgreSQL, it loads
    as the server's superuser without checking the foreign keys (bench/seed.py says why);
    the database's tables stay the server's role's, and what is written is the same."""
    command = [sys.executable, "-m", "bench.seed", "--supporters", str(supporters)]
    command += ["--reports", str(reports), "--pending", str(pending)]
    if secrets_file is not None:
        command += ["--secrets", str(secrets_file)]
    if trusted and env["PLEDGE_DATABASE_URL"].startswith("postgresql"):
        from tests.support.pgserver import superuser_url

        env = {**env, "PLEDGE_DATABASE_URL": superuser_url(env["PLEDGE_DATABASE_URL"])}
        command.append("--without-foreign-key-checks")
    return Seeding(command, cwd=ROOT, env=env)


def server_peak_for_upload(env: dict[str, str], work: Path, world: seeding.World) -> float:
    """Peak resident memory of a one-worker web process while it takes the largest PNG upload
    (decoded by its decoder process)."""
    from bench.upload_memory import CASES, image_bytes

    png = image_bytes(next(c for c in CASES if c.fmt == "PNG"))
    with serving(env, 1, work / "server-upload.log") as server:
        pid = server.worker_pids()[0]
        cookie, token = form_token(server, f"/c/{world.slug}/report")
        fields = {
            "csrf_token": token,
            "url": "",
            "platform": "whatsapp",
            "category": "ai_generated",
            "description": "",
            "province": "ID-JK",
            "contact": "",
            "consent": "on",
            "website": "",
        }
        response = httpx.post(
            f"{server.url}/c/{world.slug}/report",
            data=fields,
            files={"screenshot": ("besar.png", png, "image/png")},
            headers={"Cookie": cookie},
            timeout=60,
        )
        assert response.status_code == 303, response.text[:300]
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


DATABASES = ("sqlite", "postgres")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--db", choices=DATABASES, action="append", help="default: SQLite, then PostgreSQL"
    )
    parser.add_argument("--quick", action="store_true", help="short runs, no growth test")
    parser.add_argument("--seconds", type=float, help="length of each measurement")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--streams", type=int, help="open event streams to hold")
    parser.add_argument("--supporters", type=int, default=1_000_000, help="for the growth test")
    parser.add_argument("--reports", type=int, default=100_000, help="for the growth test")
    parser.add_argument(
        "--pending", type=int, default=100_000, help="signings not confirmed, for the growth test"
    )
    parser.add_argument(
        "--waiting", type=int, help="signings seeded for the confirming route to confirm"
    )
    parser.add_argument("--people", type=int, help="signing in the exactness test")
    parser.add_argument("--rounds", type=int, default=3, help="of the growth test")
    parser.add_argument("--out", type=Path, help="default: bench/RESULTS.md, or RESULTS-quick.md")
    args = parser.parse_args()
    args.db = args.db or list(DATABASES)
    args.out = args.out or ROOT / "bench" / ("RESULTS-quick.md" if args.quick else "RESULTS.md")
    args.seconds = args.seconds or (2 if args.quick else 5)
    args.ceiling_seconds = 1 if args.quick else 2
    args.growth_seconds = 2
    args.streams = (
        args.streams or 5000
    )  # the target's number: fewer would show more of a fixed cost
    args.people = args.people or (1500 if args.quick else 3000)
    # Signings for the confirming route to confirm, one a request: more than it can take in
    # its time at 4,000 a second.
    args.waiting = args.waiting or int(4000 * (args.seconds + 1))
    return args


def main() -> None:
    args = parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench: wrk is not installed (apt-get install wrk, or: make bench)")
    started, clock = datetime.now(UTC), time.monotonic()
    secret_key = secrets.token_urlsafe(48)
    # The signers' WhatsApp messages are taken in this process (as the webhook does): with
    # the servers' key, which the digests of contacts and codes are made with.
    os.environ["PLEDGE_SECRET_KEY"] = secret_key
    get_settings.cache_clear()
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pledge-bench-")))
        # Should a measurement fail, the servers' logs say why before their folder goes.
        finished: list[bool] = []
        stack.callback(lambda: finished or show_logs(work))
        bases = [Base.start(stack, args, db, work / db, secret_key) for db in args.db]
        parts, shared = measure_all(args, bases)
        finished.append(True)
    results = Results(args, parts, shared, started, time.monotonic() - clock)
    args.out.write_text(report(results))
    print(f"Wrote {args.out}")


@dataclass
class Base:
    """One database as deployed, seeded with the nearly empty campaign."""

    db: str
    env: dict[str, str]
    work: Path
    world: seeding.World
    pristine: str  # a copy of the nearly empty database, untouched: the growth test's start
    seconds: float = 0.0  # of the run spent on this database alone

    @classmethod
    def start(
        cls,
        stack: contextlib.ExitStack,
        args: argparse.Namespace,
        db: str,
        work: Path,
        secret_key: str,
    ) -> Base:
        clock = time.monotonic()
        work.mkdir()
        env = deployed_env(stack, db, work, secret_key)
        print(f"Seeding a nearly empty database ({db})...", flush=True)
        run_seed(env, 1000, 2600)  # 104 pages of the moderation queue
        pristine = clone_database(env["PLEDGE_DATABASE_URL"], "bench_pristine")
        print(f"Seeding {args.waiting:,} signings waiting for their confirmation...", flush=True)
        run_seed(env, 0, 0, args.waiting, work / WAITING)
        world = seeding.World(
            seeding.SLUG, seeding.PARTNERS[0], seeding.ADMIN, seeding.MODERATOR, seeding.PASSWORD
        )
        return cls(db, env, work, world, pristine, time.monotonic() - clock)

    def timed(self, started: float) -> None:
        self.seconds += time.monotonic() - started


def measure_all(
    args: argparse.Namespace, bases: list[Base]
) -> tuple[list[DatabaseRun], Shared | None]:
    """Every route on each database, while nothing else runs; then the grown databases are
    seeded, all at once, while the tests that check correctness or memory run (exactness on
    each database, crash safety, upload memory), never while a speed is measured; then the
    live streams and failed sign-ins, and the growth test on each database."""
    empties = {}
    for base in bases:
        started = time.monotonic()
        print(f"Every route on {base.db}, {args.seconds:.0f} s each, --workers {args.workers}:")
        with serving(base.env, args.workers, base.work / "server.log") as server:
            empties[base.db] = measure_routes(
                server,
                base.world,
                seconds=args.seconds,
                ceiling_seconds=args.ceiling_seconds,
                round_seconds=args.growth_seconds,
                work=base.work,
                cpu=cpu_meter(server, base.db),
            )
        base.timed(started)
    grown: dict[str, tuple[Seeding, dict[str, str]]] = {}
    if not args.quick:
        for base in bases:
            print(
                f"Seeding {args.supporters:,} supporters, {args.pending:,} signings not "
                f"confirmed yet and {args.reports:,} reports ({base.db}), meanwhile:",
                flush=True,
            )
            url = clone_database(base.pristine, "bench_grown")
            grown_env = {**base.env, "PLEDGE_DATABASE_URL": url}
            grown[base.db] = (
                seeding_process(
                    grown_env, args.supporters, args.reports, args.pending, trusted=True
                ),
                grown_env,
            )
    try:
        exactness = {
            base.db: measure_exactness(args, base.env, base.work, base.world) for base in bases
        }
        first = bases[0]
        checks = measure_checks(args, first.env, first.work, first.world)
    finally:
        for process, _env in grown.values():
            process.wait_done()
    shared = measure_timed_once(args, first.env, first.work, first.world, checks)
    parts = []
    for base in bases:
        growth = None
        if base.db in grown:
            started = time.monotonic()
            empty_env = {
                **base.env,
                "PLEDGE_DATABASE_URL": clone_database(base.pristine, "bench_empty"),
            }
            growth = measure_growth_of(args, empty_env, grown[base.db][1], base.work, base.world)
            base.timed(started)
        parts.append(
            DatabaseRun(base.db, empties[base.db], exactness[base.db], growth, base.seconds)
        )
    return parts, shared


def deployed_env(
    stack: contextlib.ExitStack, db: str, work: Path, secret_key: str
) -> dict[str, str]:
    """The server's settings, as docs/deploy.md has operators set them. SQLite: one machine,
    rate limits counted in each process. PostgreSQL: a server with real durability (every
    commit on disk) and the rate limits in Redis, as compose.yaml runs them."""
    env = {
        **os.environ,
        "PLEDGE_ENV": "production",
        "PLEDGE_SECRET_KEY": secret_key,
        # Production starts only with it; each server is given its own port's (serving).
        "PLEDGE_PUBLIC_URL": "http://127.0.0.1:8000",
        # What deploy/pledge.env.example has operators set: /metrics behind a token.
        "PLEDGE_METRICS_TOKEN": secrets.token_urlsafe(24),
        # Phone signers confirm by WhatsApp, which production takes only with a number, and
        # the secret its webhook's messages are signed with.
        "PLEDGE_WHATSAPP_NUMBER": "+62 811 0000 0001",
        "PLEDGE_WHATSAPP_APP_SECRET": secrets.token_urlsafe(32),
        "PYTHONUNBUFFERED": "1",
    }
    # Whatever the shell running the benchmark has set for the application is not a default.
    for name in list(env):
        if name.startswith("PLEDGE_") and name not in DEPLOYED and name in os.environ:
            del env[name]
    if db == "postgres":
        from tests.support.pgserver import running_postgres
        from tests.support.redisserver import running_redis

        env["PLEDGE_DATABASE_URL"] = stack.enter_context(running_postgres(durable=True))
        env["PLEDGE_RATELIMIT_STORAGE"] = stack.enter_context(running_redis()).url
    else:
        env["PLEDGE_DATABASE_URL"] = f"sqlite:///{work / 'bench.db'}"
    return env


# The settings the benchmark gives the server; every other PLEDGE_ setting stays at its default.
DEPLOYED = frozenset(
    {
        "PLEDGE_ENV",
        "PLEDGE_SECRET_KEY",
        "PLEDGE_PUBLIC_URL",
        "PLEDGE_METRICS_TOKEN",
        "PLEDGE_WHATSAPP_NUMBER",
        "PLEDGE_WHATSAPP_APP_SECRET",
    }
)


def measure_exactness(
    args: argparse.Namespace, env: dict[str, str], work: Path, world: seeding.World
) -> reliability.Exactness:
    connections = 150 if args.quick else 400
    print(f"Exactness: {args.people:,} people, each confirmed, from {connections} connections...")
    with serving(env, args.workers, work / "server-exact.log") as server:
        exactness = reliability.measure_exactness(
            server.url,
            work / "server-exact.log",
            env["PLEDGE_DATABASE_URL"],
            world.slug,
            people=args.people,
            connections=connections,
            secret_key=env["PLEDGE_SECRET_KEY"],
        )
    print(f"  {exactness}", flush=True)
    return exactness


def measure_growth_of(
    args: argparse.Namespace,
    empty_env: dict[str, str],
    grown_env: dict[str, str],
    work: Path,
    world: seeding.World,
) -> Growth:
    print(f"Growth: {args.rounds} rounds, {args.growth_seconds:.0f} s each:", flush=True)
    with (
        serving(empty_env, args.workers, work / "server-empty.log") as empty_server,
        serving(grown_env, args.workers, work / "server-grown.log") as grown_server,
    ):
        growth = measure_growth(
            empty_server,
            grown_server,
            world,
            rounds=args.rounds,
            seconds=args.growth_seconds,
            work=work,
        )
    growth.transparency_ms = (
        transparency_ms(empty_env["PLEDGE_DATABASE_URL"]),
        transparency_ms(grown_env["PLEDGE_DATABASE_URL"]),
    )
    return growth


@dataclass
class Checks:
    """What is measured once and is not a speed: crash safety and upload memory."""

    crashes: reliability.CrashSafety
    uploads: list[Measured]
    upload_server_mib: float
    provenance: ProvenanceCost


@dataclass
class ProvenanceCost:
    """What reading provenance adds to a report, and what a comparison costs."""

    reads: list[provenance_cost.Read]
    compared: provenance_cost.Compared


def measure_checks(
    args: argparse.Namespace, env: dict[str, str], work: Path, world: seeding.World
) -> Checks:
    kills = 2 if args.quick else 3
    print(f"Crash safety: SIGKILL {kills} times under a signing load...", flush=True)
    crashes = reliability.measure_crash_safety(
        lambda: serving(env, args.workers, work / "server-crash.log"),
        env["PLEDGE_DATABASE_URL"],
        world.slug,
        secret_key=env["PLEDGE_SECRET_KEY"],
        kills=kills,
    )
    print(f"  {crashes}", flush=True)
    print("Upload memory...", flush=True)
    uploads = measure_uploads()
    peak = server_peak_for_upload(env, work, world)
    print("Provenance and comparison cost...", flush=True)
    cost = ProvenanceCost(provenance_cost.measure_reads(), provenance_cost.measure_compare())
    return Checks(crashes, uploads, peak, cost)


def measure_timed_once(
    args: argparse.Namespace,
    env: dict[str, str],
    work: Path,
    world: seeding.World,
    checks: Checks,
) -> Shared:
    """Live streams and failed sign-ins, whose times count: once, on a quiet machine."""
    database_url = env["PLEDGE_DATABASE_URL"]
    print(f"Holding {args.streams} event streams on one process...", flush=True)
    # Every stream comes from this one address: its share raised to hold them all.
    streams_env = {**env, "PLEDGE_LIVE_STREAMS_PER_ADDRESS": str(args.streams)}
    with serving(streams_env, 1, work / "server-streams.log") as server:
        stream_result = asyncio.run(
            measure_streams(
                server.url,
                world.slug,
                args.streams,
                pid=server.worker_pids()[0],
                sign=lambda: sign_once(server, world, database_url),
            )
        )
    print(f"  {stream_result}")

    attackers = 200
    print(f"Login memory: {attackers} failed sign-ins at once...", flush=True)
    # Rate limits off: the worst case, a flood from more addresses than the limits stop.
    login_env = {**env, "PLEDGE_RATELIMIT_ENABLED": "false"}
    with serving(login_env, args.workers, work / "server-login.log") as server:
        logins = measure_login_memory(
            server.url,
            server.process.pid,
            page=f"/c/{world.slug}",
            accounts=[world.admin_email, seeding.MODERATOR],
            attackers=attackers,
            seconds=10 if args.quick else 20,
        )
    print(f"  {logins}", flush=True)
    return Shared(
        checks.crashes,
        stream_result,
        checks.uploads,
        checks.upload_server_mib,
        logins,
        checks.provenance,
    )


def show_logs(work: Path, lines: int = 40) -> None:
    """The last lines of every server log of the run, for a measurement that failed."""
    for log in sorted(work.rglob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- the last {len(tail)} lines of {log.name}:", *tail, sep="\n", file=sys.stderr)


def sign_once(server: Server, world: seeding.World, database_url: str) -> None:
    """One signature that changes the count: signed, and confirmed with the emailed code."""
    cookie, token = form_token(server, f"/c/{world.slug}")
    contact = f"{secrets.token_hex(6)}@contoh.id"
    response = httpx.post(
        f"{server.url}/c/{world.slug}/sign",
        data={
            "csrf_token": token,
            "name": "Live",
            "contact": contact,
            "province": "ID-JK",
            "age_ok": "on",
            "consent": "on",
            "pledges": ["lawan-hoaks"],
            "website": "",
        },
        headers={"Cookie": cookie},
    )
    assert response.status_code == 303, response.status_code
    inbox = reliability.Inbox(database_url)
    try:
        code = inbox.code_for(contact)
    finally:
        inbox.close()
    confirmed = httpx.post(
        f"{server.url}/c/{world.slug}/confirm",
        data={"csrf_token": token, "code": code},
        headers={"Cookie": session_cookie(response, cookie)},
    )
    assert confirmed.status_code == 303, confirmed.status_code


# --- RESULTS.md -----------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


DB_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL with Redis"}


def report(results: Results) -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    args = results.args
    parts = ", ".join(f"{DB_NAMES[part.db]} {part.seconds / 60:.1f}" for part in results.databases)
    lines = [
        "# Benchmark results",
        "",
        f"Run on {results.started:%Y-%m-%d %H:%M} UTC, commit `{commit}`, "
        f"{'quick run' if args.quick else 'full run'}; load from `wrk` on the same machine "
        f"({os.cpu_count()} cores, {cpu}). The whole run took {results.seconds / 60:.1f} "
        f"minutes; every route and the growth test took, in minutes, {parts}; the rest went "
        "to seeding (the grown databases while exactness, crash safety and memory were checked), "
        "exactness, and what is measured once. Rerun with `make bench` (or `make bench-quick`); see "
        "[docs/developers.md](../docs/developers.md#benchmarks).",
        "",
        *configuration(args),
    ]
    for part in results.databases:
        lines += database_report(part, args)
    if results.shared is not None:
        lines += shared_report(results.shared, args, results.databases[0].db)
    changes = ROOT / "bench" / "CHANGES.md"
    if changes.exists():
        lines += ["", changes.read_text().rstrip()]
    return "\n".join(lines) + "\n"


def configuration(args: argparse.Namespace) -> list[str]:
    return [
        "## The configuration: as deployed",
        "",
        f"`pledge serve --workers {args.workers}` (the image's default `WORKERS`) as "
        "[docs/deploy.md](../docs/deploy.md) has operators run it, with the production "
        "defaults: `PLEDGE_ENV=production`, the JSON access log at `info` (one line a request, "
        "to the server's standard error, here a file), rate limits on at their defaults, the "
        "client's address taken from `X-Forwarded-For` of the proxy on `127.0.0.1` "
        "(`--forwarded-allow-ips`). Every other `PLEDGE_` setting is left at its default. What "
        "differs from a deployment, and why:",
        "",
        "- **No nginx in front:** `wrk` plays the proxy. Each request says who its client is "
        "in `X-Forwarded-For`, as nginx does: signing, confirming and reporting come from "
        "another of 4,096 addresses a `wrk` thread on every request (`bench/lua/forwarded.lua`) "
        "and the exactness test's people from one address each, so that the per-address "
        "limits count them apart instead of stopping a benchmark that comes from one machine. "
        "TLS is the proxy's work and is not measured.",
        "- **The address and secrets:** `PLEDGE_PUBLIC_URL` is the server's loopback port; "
        "`PLEDGE_SECRET_KEY`, `PLEDGE_METRICS_TOKEN` and the WhatsApp app secret are random; "
        "`PLEDGE_WHATSAPP_NUMBER` is set so that phone signers can confirm, as "
        "`deploy/pledge.env.example` shows.",
        "- **SQLite:** the database file on this machine's disk, rate limits counted in each "
        "process's memory (the default without Redis).",
        "- **PostgreSQL with Redis** (`compose.yaml`'s scale-out path): a throwaway PostgreSQL "
        "server on this machine with a real server's durability (`fsync`, synchronous commits, "
        "full-page writes and autovacuum on; `max_connections=200` as in `compose.yaml`), the "
        "rate limits in a throwaway Redis (`PLEDGE_RATELIMIT_STORAGE`). Both on loopback, so a "
        "round trip costs less than across a network.",
        "- **Two tests change one setting each:** the live-stream test lets one address hold "
        "all its streams (`PLEDGE_LIVE_STREAMS_PER_ADDRESS`), as they all come from this "
        "machine; the failed sign-in test turns the rate limits off, to measure the memory of "
        "a flood that comes from more addresses than the limits stop.",
        "- **The databases are seeded in bulk, not through the server** (`bench/seed.py`), "
        "while no speed is measured: the seed's own connections commit without waiting for the "
        "disk, and on PostgreSQL the grown database is loaded as the server's superuser "
        "without checking foreign keys (as `pg_restore --disable-triggers` loads; every row "
        "refers to one written before it). The server's connections keep their own settings, "
        "and its role owns every table.",
        "",
        "CPU seconds are those of the server's worker processes (and of every PostgreSQL and "
        "Redis process) while `wrk` ran, read from `/proc`, and of the kernel's own threads "
        "(children of `kthreadd`: mostly writing what the databases flush to disk, on behalf "
        "of no process; those of the whole machine, and one that ends during a measurement "
        "is missed); `wrk` itself is not counted.",
    ]


def database_report(part: DatabaseRun, args: argparse.Namespace) -> list[str]:
    empty = part.empty
    ceilings = [c.rps for c in empty.ceilings]
    lines = [
        "",
        f"## {DB_NAMES[part.db]}: every route, on a nearly empty database",
        "",
        f"`/healthz`, an empty FastAPI route, is measured for {args.ceiling_seconds:.0f} s "
        f"before and after every load of a route: "
        f"{min(ceilings):,.0f} to {max(ceilings):,.0f} a second during this part of the run "
        f"(the machine is shared). Each ratio is to the mean of the two measurements beside its "
        f"load, and each p99 limit to the larger of their p99s. A route with a target is loaded "
        f"{ROUTE_ROUNDS} times for {args.growth_seconds:.0f} s (after a second of warming up), "
        f"each load between two `/healthz`, and judged by the load whose ratio is the median: "
        f"its row shows that load, and every load's ratio in brackets, in order. The other "
        f"routes are loaded once, for {args.seconds:.0f} s. CPU per request is of every load "
        f"of the route together. Confirming presses the button "
        f"of another signing's emailed link on every request: {args.waiting:,} signings "
        f"by email, made by the server's own code, wait for it (none is confirmed twice).",
        "",
        "| route | requests/s | p50 ms | p99 ms | `/healthz` beside it | ratio | target | |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for route in empty.routes:
        lines.append(route_row(route, part.db))
    lines += throughput_report(part)
    if part.growth:
        lines += growth_report(part.growth, args, part.db)
    lines += exactness_report(part.exactness, args)
    return lines


# On SQLite, one machine's database, the counters and the campaign page have higher floors
# than the routes' own (which hold on both databases); signing there has a rate to reach too.
SQLITE_TARGETS = {"api": 0.9, "api304": 0.9, "badge": 0.9, "embed": 0.9, "page": 0.6}
SQLITE_SIGNINGS = 2000  # a second


def route_row(route: Route, db: str) -> str:
    load = route.load
    assert load is not None
    ratio = route.ratio
    least = SQLITE_TARGETS.get(route.key, route.target) if db == "sqlite" else route.target
    target = f">= {least}" if least else ""
    ok = "" if least is None else verdict(ratio >= least)
    if route.key == "sign":
        ceiling = 10 * route.ceiling_p99_ms
        rate = load.rps >= SQLITE_SIGNINGS if db == "sqlite" else True
        ok = verdict(ratio >= 0.25 and load.p99_ms <= ceiling and rate)
        least_rate = f" >= {SQLITE_SIGNINGS:,}/s," if db == "sqlite" else ""
        target = f">= 0.25,{least_rate} p99 <= 10 x /healthz p99 ({ceiling:.0f} ms)"
    if route.key == "confirm":
        ok, target = verdict(load.rps >= 1000), ">= 1,000/s"
    bad = f" ({load.bad} errors)" if load.bad else ""
    # A ratio that misses its floor by less than the rounding shows its third decimal.
    shown = f"{ratio:.3f}" if least and ratio < least <= round(ratio, 2) else f"{ratio:.2f}"
    if route.rounds:
        shown += f" ({', '.join(f'{r:.2f}' for r in route.rounds)})"
    return (
        f"| {route.name}{bad} | {load.rps:,.0f} | {load.p50_ms:.1f} | {load.p99_ms:.1f} "
        f"| {route.ceiling_rps:,.0f} | {shown} | {target} | {ok} |"
    )


# The routes whose cost an operator sizes a deployment by.
SIZING = ("sign", "confirm", "api", "badge", "embed", "page")


def throughput_report(part: DatabaseRun) -> list[str]:
    kinds = ["app", "postgres", "redis", "kernel"] if part.db == "postgres" else ["app", "kernel"]
    titles = {"app": "app", "postgres": "PostgreSQL", "redis": "Redis", "kernel": "kernel threads'"}
    rows = [("`/healthz`", Load.together(part.empty.ceilings))] + [
        (route.name, route.pooled or route.load) for route in map(part.empty.get, SIZING)
    ]
    lines = [
        "",
        f"### {DB_NAMES[part.db]}: CPU per 1,000 requests",
        "",
        "CPU seconds for every 1,000 requests of the measurements above, and the requests one "
        "core serves a second at that cost (all parts counted): what to size a deployment by.",
        "",
        "| route | "
        + " | ".join(f"{titles[k]} CPU s per 1,000" for k in kinds)
        + " | requests a second per core |",
        "| --- | " + " | ".join("---:" for _ in kinds) + " | ---: |",
    ]
    for name, load in rows:
        assert load is not None
        costs = [load.cpu_per_1000(kind) for kind in kinds]
        per_core = 1000 / sum(costs) if sum(costs) else float("nan")
        cells = " | ".join(f"{c:.3f}" for c in costs)
        lines.append(f"| {name} | {cells} | {per_core:,.0f} |")
    return lines


def growth_report(growth: Growth, args: argparse.Namespace, db: str) -> list[str]:
    rounds = len(growth.rounds)
    lines = [
        "",
        f"### {DB_NAMES[db]}: after growth to {args.supporters:,} supporters, "
        f"{args.pending:,} signings waiting for their confirmation and {args.reports:,} hoax "
        "reports",
        "",
        "Two servers run side by side, one on a copy of the nearly empty database (1,000 "
        "supporters and 2,600 reports to start with) and one on the grown database. Each route "
        f"is loaded {rounds} times on each, {growth.seconds:.0f} s at a time, the two servers "
        "one just after the other (in turn, which first; each warmed up for a second before "
        "its first round), and compared with itself on the nearly empty database: the rate's "
        "ratio for the counters and signing, and for the pages the time (p50). Signing comes "
        "last, as it adds supporters to the nearly empty database. The table shows the median "
        "of each route's rounds, and every round in brackets.",
        "",
        "| route | requests/s | p50 ms | p99 ms | compared with the nearly empty database "
        "| target | |",
        "| --- | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for key in GROWTH_ROUTES:
        ratio, route = growth.median(key)
        load = route.load
        assert load is not None
        each = ", ".join(f"{r:.2f}" for r in growth.compared(key))
        if key in ("sign", "report"):
            text, target, met = f"{ratio:.2f} of the rate", ">= 0.8 of the rate", ratio >= 0.8
        elif key in PAGES:
            text, target, met = f"{ratio:.2f} x the time", "<= 2 x the time", ratio <= 2
        else:
            text, target, met = f"{ratio:.2f} of the rate", "no slower", ratio >= 0.9
        lines.append(
            f"| {route.name} | {load.rps:,.0f} | {load.p50_ms:.1f} | {load.p99_ms:.1f} "
            f"| {text} ({each}) | {target} | {verdict(met)} |"
        )
    if growth.transparency_ms is not None:
        small, grown = growth.transparency_ms
        ratio = grown / small
        lines += [
            "",
            f"The transparency page's numbers, computed without the page's cache (which "
            f"keeps them 5 minutes per process; the page above is answered from it): "
            f"{small:.1f} ms on the nearly empty database, {grown:.1f} ms on the grown one, "
            f"{ratio:.2f} x the time (target <= 2 x). {verdict(ratio <= 2)}",
        ]
    return lines


def exactness_report(e: reliability.Exactness, args: argparse.Namespace) -> list[str]:
    answers = ", ".join(
        f"{n:,} × {status or 'no answer'}" for status, n in sorted(e.statuses.items())
    )
    if e.failures:
        answers += " (" + "; ".join(f"{n:,} × {why}" for why, n in sorted(e.failures.items())) + ")"
    return [
        "",
        "### Exact under load",
        "",
        f"{e.requests:,} signing requests ({e.people:,} people, each from an address of their "
        f"own, a third of them signing again with their phone number written another way; "
        f"every signing confirmed amid the load, by the WhatsApp message or, for every sixth "
        f"person, the emailed code; every fifth person confirming twice) from "
        f"{e.connections} connections to `--workers {args.workers}`, in "
        f"{e.seconds:.0f} s ({e.requests / e.seconds:,.0f}/s). Answers: {answers}. "
        f"Confirmations: {e.confirmations:,}, of which not taken: {e.unconfirmed}; "
        f"signatures left pending: {e.pending}. "
        f'"database is locked" in the log: {e.locked}; tracebacks: {e.tracebacks}. '
        f"Supporters counted: {e.added:,} of {e.people:,}; tallies equal a recount: "
        f"{'yes' if e.tallies_agree else 'no'}. {verdict(e.ok)}",
    ]


def shared_report(shared: Shared, args: argparse.Namespace, db: str) -> list[str]:
    c, s = shared.crashes, shared.streams
    lines = [
        "",
        f"## Measured once, on {DB_NAMES[db]}",
        "",
        f"- **Crash safety:** the server (every process of it) killed with SIGKILL "
        f"{c.kills} times in the middle of a load of signings from 64 connections, each "
        f"confirmed with its emailed code once answered, and started again. Signatures "
        f"answered `303`: {c.answered:,}; of those missing afterwards: {c.missing}; "
        f"confirmations answered `303`: {c.confirmed:,}; of those not counted afterwards: "
        f"{c.lost}; supporters stored: {c.stored:,} (some were stored but their answer "
        f"died with the process); tallies equal a recount: "
        f"{'yes' if c.tallies_agree else 'no'}. {verdict(c.ok)}",
        "",
        "### Live counts: open event streams on one process",
        "",
        f"- Streams held: {s.opened:,} of {s.wanted:,} asked ({s.refused} refused).",
        f"- Memory of the server process: {s.rss_before_mib:.0f} MiB before, "
        f"{s.rss_after_mib:.0f} MiB with the streams open: "
        f"**{s.kib_per_stream:.1f} KiB per stream** (target: at most 20 KB) "
        f"{verdict(s.kib_per_stream * 1.024 <= 20)}.",
        "- After one signature (signed, then confirmed with its emailed code), "
        f"{s.updated:,} streams received the new count; the last "
        f"one after **{s.slowest_s:.2f} s** (median {s.median_s:.2f} s; target: within 2 s) "
        f"{verdict(s.updated == s.opened and s.slowest_s <= 2)}.",
        f"- CPU of the server process from the signature to the last stream's update: "
        f"{s.cpu_s:.2f} s, **{s.cpu_s / max(s.updated, 1) * 1e6:.0f} µs per stream updated** "
        f"(the signature and its confirmation included): "
        f"{max(s.updated, 1) / max(s.cpu_s, 1e-9):,.0f} stream updates a second per core.",
        "",
        "### Uploads: peak memory while re-encoding the largest allowed images",
        "",
        "Uploads are decoded in small decoder processes, never in the web process. Each image "
        "in a new decoder (peak resident memory of that process, VmHWM: interpreter, Pillow, "
        "the upload and the decoding):",
        "",
        "| image | file | peak of the decoder process | target: under 150 MB |",
        "| --- | ---: | ---: | --- |",
    ]
    for m in shared.uploads:
        mb = m.peak_mib * 1.048576
        lines.append(
            f"| {m.name} | {m.file_mib:.1f} MiB | {m.peak_mib:.0f} MiB ({mb:.0f} MB) | "
            f"{verdict(mb < 150)} |"
        )
    mb = shared.upload_server_mib * 1.048576
    lines += [
        "",
        f"A one-worker web process taking the largest PNG upload through the report form "
        f"peaked at **{shared.upload_server_mib:.0f} MiB ({mb:.0f} MB)** resident, the app "
        f"and the upload included (target: under 150 MB) {verdict(mb < 150)}.",
        "",
        *provenance_cost.report(shared.provenance.reads, shared.provenance.compared, verdict),
    ]
    return lines + login_report(shared.logins, args.workers)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def login_report(result: LoginMemory, workers: int) -> list[str]:
    """The section on failed sign-ins: memory per process, and the campaign page meanwhile."""
    mb = result.peak_mib * 1.048576
    before, during = result.page_before_ms, result.page_during_ms
    returning = result.returning_during_ms
    lines = [
        "",
        "## Failed sign-ins: memory under a flood of wrong passwords",
        "",
        f"{result.attackers} connections posting wrong passwords (for real accounts and for "
        f"unknown emails alike) for {result.seconds:.0f} s to `pledge serve --workers {workers}`, "
        "rate limits off, argon2id at its default 64 MiB a hash "
        "(`bench/login_memory.py`). Every process hashes at most "
        "`PLEDGE_PASSWORD_HASHES_AT_ONCE` (2) passwords at once; a few more wait briefly, "
        "the rest are answered 429 at once.",
        "",
        "| worker process | resident before | highest resident during the attack |",
        "| --- | ---: | ---: |",
    ]
    for pid, peak in result.rss_peak_mib.items():
        rss = result.rss_before_mib.get(pid)
        hwm = result.hwm_mib.get(pid)
        lines.append(
            f"| {pid} | {f'{rss:.0f} MiB' if rss is not None else 'started later'} | "
            f"{peak:.0f} MiB (VmHWM {f'{hwm:.0f} MiB' if hwm is not None else 'gone'}) |"
        )
    answers = ", ".join(f"{n:,} × {status}" for status, n in sorted(result.answers.items()))
    lines += [
        "",
        f"Peak of a process: **{result.peak_mib:.0f} MiB ({mb:.0f} MB)** (target: under 400 MB) "
        f"{verdict(mb < 400)}. Answers: {answers or 'none'}; {result.errors} connection "
        "errors.",
        "",
        f"The campaign page during the attack, as a new visitor each time ({len(during)} "
        f"visits): median **{_median(during):.0f} ms**, 95th percentile "
        f"{result.percentile(during, 0.95):.0f} ms, slowest {max(during, default=0):.0f} ms; "
        f"as a returning visitor ({len(returning)} visits): median "
        f"**{_median(returning):.0f} ms**, 95th percentile "
        f"{result.percentile(returning, 0.95):.0f} ms; {result.page_failures} not answered "
        f"200 (target: every one 200) {verdict(result.page_failures == 0 and bool(during))}. "
        f"Before the attack: median {_median(before):.0f} ms. The machine's load average at "
        f"the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (the hashes, this "
        "client and whatever else runs on it).",
    ]
    return lines


if __name__ == "__main__":
    main()
