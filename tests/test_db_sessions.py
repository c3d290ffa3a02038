"""A request's database session gives its connection back without waiting for the request
thread pool: a burst of requests that fills the pool, each waiting there for a connection,
never keeps out the closes that free one."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import anyio.to_thread
import httpx2 as httpx
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from pledge.db import SessionDep
from tests.support.aio import run_async

THREADS = 2  # request threads, and pooled connections: as in production, as many of each


def app_with_small_pool(path: Path) -> FastAPI:
    app = FastAPI()
    app.state.engine = sa.create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False},
        pool_size=THREADS,
        max_overflow=0,
        pool_timeout=5,
    )

    @app.get("/read")
    def read(session: SessionDep) -> PlainTextResponse:
        # A read leaves the session in a transaction: closing it is a rollback.
        value = session.execute(sa.text("SELECT 1")).scalar_one()
        time.sleep(0.02)
        return PlainTextResponse(str(value))

    return app


def test_a_burst_of_requests_gets_every_answer_without_waiting_for_a_connection(
    tmp_path: Path,
) -> None:
    app = app_with_small_pool(tmp_path / "small.db")

    async def burst() -> tuple[list[int], float]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            started = time.monotonic()
            answers = await asyncio.gather(*(client.get("/read") for _ in range(12)))
            return [answer.status_code for answer in answers], time.monotonic() - started

    try:
        statuses, seconds = run_async(burst)
    finally:
        app.state.engine.dispose()
    assert statuses == [200] * 12
    # Closed on the request threads, the closes waited behind requests that waited for the
    # connections those closes held: every request then failed after the pool's 5 s.
    assert seconds < 5
