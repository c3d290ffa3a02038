"""Serve the app on a loopback port: as its own server process, as production runs it, for
tests across processes; or in a thread of the test process, for tests that need a real socket.

Usage::

    with app_process(PLEDGE_DATABASE_URL=url) as server:
        httpx.get(server.url + "/healthz")
        server.log()   # what the process wrote to its log so far

    with serve_in_thread(create_app(...)) as server:
        httpx.get(server.url + "/healthz")
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import uvicorn
from fastapi import FastAPI

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AppProcess:
    url: str
    process: subprocess.Popen[bytes]
    logfile: Path

    def log(self) -> str:
        return self.logfile.read_text(errors="replace")


@contextlib.contextmanager
def app_process(port: int | None = None, **env: str) -> Iterator[AppProcess]:
    """``pledge serve`` on a loopback port (a free one unless given), with the test environment
    plus ``env``; stopped (and killed if need be) on exit."""
    port = port or free_port()
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
    with tempfile.NamedTemporaryFile(prefix="pledge-app-", suffix=".log", delete=False) as log:
        logfile = Path(log.name)
    with logfile.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pledge.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = AppProcess(url=f"http://127.0.0.1:{port}", process=process, logfile=logfile)
    try:
        _wait_until_up(server)
        yield server
    except Exception:
        # A test that failed while the process served shows what the process logged.
        print(f"--- log of the app process on {server.url} ---\n{server.log()[-6000:]}")
        raise
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        logfile.unlink(missing_ok=True)


# Starting takes a second or two; on a loaded machine it once took over 30. A server that
# will not start says why in its log long before this, and exits.
STARTUP_DEADLINE = 120


def _wait_until_up(server: AppProcess, timeout: float = STARTUP_DEADLINE) -> None:
    """Return once the process answers /healthz; fail with its output if it exits first or
    does not answer within the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the app process exited:\n{server.log()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.url + "/healthz", timeout=5).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(
        f"the app process did not answer /healthz within {timeout:.0f} s:\n{server.log()[-3000:]}"
    )


# --- the app in a thread of the test process ---------------------------------------------


@dataclass
class LiveServer:
    url: str
    app: FastAPI


@contextlib.contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[LiveServer]:
    """The app served by uvicorn on a loopback port, in a thread of the test process."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=2,  # open event streams do not hold the teardown up
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_DEADLINE
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the test server stopped before it listened (its error is above)")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the test server did not listen within {STARTUP_DEADLINE} s")
        time.sleep(0.02)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# --- a visitor's browser, by hand -------------------------------------------------------------


def form_token(client: httpx.Client, path: str) -> str:
    """Open a page with a form, keeping its session cookie, and read its CSRF token."""
    response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert match is not None, f"no form on {path}"
    return match[1]


def sign_through(
    client: httpx.Client, slug: str, token: str, contact: str, **fields: Any
) -> httpx.Response:
    """Post the sign-up form as a browser does."""
    data = {
        "csrf_token": token,
        "name": "Sari",
        "contact": contact,
        "province": "ID-JT",
        "age_ok": "on",
        "consent": "on",
        "pledges": ["tolak-politik-uang"],
        "website": "",
        **fields,
    }
    return client.post(f"/c/{slug}/sign", data=data)
