"""How `bench/run.py` loads a route: a contact prefix of its own for every run of wrk, and a
route with a target judged by its median round between two `/healthz`."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from bench import run

WRK_OUTPUT = """Running 2s test @ http://127.0.0.1:1/c/x/sign
  Latency Distribution
     50%   10.00ms
     99%   30.00ms
  4000 requests in 2.00s, 1.00MB read
Requests/sec:   2000.00
"""


def test_every_run_of_wrk_signs_new_contacts(monkeypatch: pytest.MonkeyPatch) -> None:
    commands: list[list[str]] = []

    def fake(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        commands.append(command)
        return subprocess.CompletedProcess(command, 0, WRK_OUTPUT, "")

    monkeypatch.setattr(run.subprocess, "run", fake)
    args = ("cookie", "token", "/c/x/sign", run.FRESH)
    for _ in range(3):
        load = run.wrk("http://x/c/x/sign", seconds=2, connections=64, args=args)
    assert (load.rps, load.requests, load.p50_ms, load.p99_ms) == (2000.0, 4000, 10.0, 30.0)

    prefixes = [command[-1] for command in commands]
    assert len(set(prefixes)) == 3 and run.FRESH not in prefixes
    assert all(command[-4:-1] == ["cookie", "token", "/c/x/sign"] for command in commands)


def test_a_route_in_rounds_is_judged_by_its_median_round(monkeypatch: pytest.MonkeyPatch) -> None:
    # /healthz and the route in turn: rounds of 300 / 1000, 200 / 1000 and 225 / 900.
    rates = iter([1000, 300, 1000, 200, 1000, 225, 800])

    def fake_wrk(url: str, *, seconds: float, cpu: Any = None, **_: Any) -> run.Load:
        if cpu is None:  # the warm-ups, measured by nobody
            return run.Load(1, 1, 1, 1, 0)
        rps = next(rates)
        return run.Load(rps, 5.0, 9.0, int(rps * seconds), 0, {"app": rps / 1000})

    monkeypatch.setattr(run, "wrk", fake_wrk)
    server = run.Server(url="http://x", process=None)  # type: ignore[arg-type]
    ceilings = run.Ceilings(server, 2, cpu=lambda: {})
    plan = run.Plan("sign", "signing", 0.25, "/c/x/sign", 64, "sign.lua")
    route = ceilings.beside(server, plan, 2, rounds=3)

    assert route.rounds == pytest.approx((0.3, 0.2, 0.25))
    # The median round is the last: its load, and the /healthz beside it.
    assert route.ratio == pytest.approx(0.25)
    assert route.load is not None and route.load.rps == 225
    assert route.beside is not None and [c.rps for c in route.beside] == [1000, 800]
    assert route.pooled is not None
    assert route.pooled.requests == (300 + 200 + 225) * 2
    assert route.pooled.cpu["app"] == pytest.approx(0.725)
    assert [c.rps for c in ceilings.loads] == [1000, 1000, 1000, 800]
    assert "0.25 (0.30, 0.20, 0.25)" in run.route_row(route, "postgres")
