"""Password hashes per process: never more at once than PLEDGE_PASSWORD_HASHES_AT_ONCE, the
rest refused with 429 in the reader's language after a brief wait, and an unknown email
verified through the same slots as a known one."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from pledge import security
from tests.support.factories import MakeUser
from tests.support.pages import html
from tests.support.people import PASSWORD, login

NewClient = Callable[..., TestClient]
WRONG = "tebakan-yang-salah"
BUSY = {
    "en": "Many people are signing in right now. Wait a moment and try again.",
    "id": "Banyak orang sedang masuk saat ini. Tunggu sebentar lalu coba lagi.",
}


class CountingHasher:
    """The real hasher, counting how many hashes run at once. The first call holds on until a
    second one starts (or a moment passes), so that two calls would overlap if anything let
    them."""

    def __init__(self, real: PasswordHasher) -> None:
        self.real = real
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.calls: list[str] = []
        self.second_started = threading.Event()

    def _run(self, kind: str, work: Callable[[], Any]) -> Any:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.calls.append(kind)
            first = len(self.calls) == 1
            if self.running > 1:
                self.second_started.set()
        try:
            if first:
                self.second_started.wait(0.5)
            return work()
        finally:
            with self.lock:
                self.running -= 1

    def hash(self, password: str) -> str:
        return str(self._run("hash", lambda: self.real.hash(password)))

    def verify(self, password_hash: str, password: str) -> bool:
        return bool(self._run("verify", lambda: self.real.verify(password_hash, password)))

    def check_needs_rehash(self, password_hash: str) -> bool:
        return self.real.check_needs_rehash(password_hash)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingHasher]:
    counting = CountingHasher(security._hasher())
    monkeypatch.setattr(security, "_hasher", lambda: counting)
    yield counting


@pytest.fixture
def one_at_a_time(use_settings: Callable[..., object]) -> None:
    use_settings(password_hashes_at_once="1")


def alert(response: Any) -> str:
    found = html(response).select_one("main .alert")
    return found.get_text(" ", strip=True) if found else ""


def refusal(response: Any) -> tuple[int, str]:
    detail = html(response).select_one("section.error-page p.detail")
    return response.status_code, detail.get_text(strip=True) if detail else response.text[:200]


@pytest.mark.usefixtures("one_at_a_time")
def test_concurrent_sign_ins_never_hash_two_passwords_at_once(
    new_client: NewClient, make_user: MakeUser, hasher: CountingHasher
) -> None:
    make_user("rina@contoh.id", password=PASSWORD)
    # As many as one slot and its queue take: none is refused.
    attempts = [("rina@contoh.id", WRONG), ("siapa@contoh.id", WRONG)] * 3
    attempts = attempts[: 1 + security.WAITING_PER_SLOT]
    browsers = [new_client(client=(f"198.51.100.{n + 1}", 50000)) for n in range(len(attempts))]
    start = threading.Barrier(len(attempts))

    def attempt(n: int) -> int:
        start.wait()
        email, password = attempts[n]
        return int(login(browsers[n], email, password).status_code)

    with ThreadPoolExecutor(len(attempts)) as pool:
        answers = list(pool.map(attempt, range(len(attempts))))

    assert answers == [422] * len(attempts)
    assert hasher.calls.count("verify") == len(attempts)
    assert hasher.most == 1


@pytest.mark.usefixtures("one_at_a_time")
@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("email", ["rina@contoh.id", "siapa@contoh.id"])
def test_a_sign_in_over_the_bound_waits_briefly_then_gets_429_in_its_language(
    new_client: NewClient,
    make_user: MakeUser,
    hasher: CountingHasher,
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
    email: str,
) -> None:
    """A known and an unknown email alike wait for the one slot another hash holds."""
    make_user("rina@contoh.id", password=PASSWORD)
    hasher.calls.clear()
    monkeypatch.setattr(security, "HASH_WAIT_SECONDS", 0.1)
    browser = new_client(lang=None if lang == "id" else lang)
    slots = security.hashing_slots(1)
    assert slots.acquire(timeout=0)
    try:
        response = login(browser, email, PASSWORD)
    finally:
        slots.release()

    assert refusal(response) == (429, BUSY[lang])
    assert int(response.headers["retry-after"]) > 0
    assert hasher.calls == []
    assert browser.get("/account").status_code == 303  # not signed in
    # Once the slot is free, the same attempt is answered as usual.
    again = login(browser, email, PASSWORD)
    assert again.status_code == (303 if email == "rina@contoh.id" else 422)


def test_unknown_and_known_emails_take_the_same_path(
    client: Any, make_user: MakeUser, hasher: CountingHasher
) -> None:
    """One verification each, through the same slots: an unknown email is checked against a
    dummy hash, and its answer is the wrong password's, word for word."""
    make_user("rina@contoh.id", password=PASSWORD)
    security._dummy_hash(hasher)  # made once per process, not part of either attempt
    hasher.calls.clear()

    unknown = login(client, "siapa@contoh.id", WRONG)
    calls_unknown = list(hasher.calls)
    hasher.calls.clear()
    known = login(client, "rina@contoh.id", WRONG)

    assert calls_unknown == hasher.calls == ["verify"]
    assert unknown.status_code == known.status_code == 422
    assert alert(unknown) == alert(known) == "That email and password do not match an account."


def test_only_a_few_hashes_wait_for_a_slot_and_the_rest_are_refused_at_once() -> None:
    """Each waiting request holds a thread that other pages need: past WAITING_PER_SLOT a
    slot, a hash is refused without waiting."""
    slots = security.HashingSlots(1)
    assert slots.acquire(timeout=0)
    queue = security.WAITING_PER_SLOT
    with ThreadPoolExecutor(queue) as pool:
        waiting = [pool.submit(slots.acquire, 30.0) for _ in range(queue)]
        deadline = time.monotonic() + 10
        while slots.waiting < queue and time.monotonic() < deadline:
            time.sleep(0.001)
        assert slots.waiting == queue

        started = time.monotonic()
        assert not slots.acquire(timeout=30.0)
        assert time.monotonic() - started < 5  # refused at once, not after its wait

        pending = set(waiting)
        for _ in range(queue):  # each waiting hash takes the slot in turn
            slots.release()
            done, pending = wait(pending, timeout=10, return_when=FIRST_COMPLETED)
            assert [f.result() for f in done] == [True]
    assert slots.waiting == 0


@pytest.mark.usefixtures("one_at_a_time")
def test_sign_ins_past_the_slots_and_their_queue_are_refused_before_taking_a_thread(
    client: Any, make_user: MakeUser, hasher: CountingHasher
) -> None:
    """As many sign-ins as the slots and their queue take are let in; the next is refused at
    once, on the event loop, and never reaches the database or the hasher."""
    make_user("rina@contoh.id", password=PASSWORD)
    hasher.calls.clear()
    slots = security.password_slots()
    inside = slots.most_admitted
    assert inside == 1 + security.WAITING_PER_SLOT
    for _ in range(inside):
        assert slots.admit()
    try:
        response = login(client, "rina@contoh.id", PASSWORD)
    finally:
        for _ in range(inside):
            slots.leave()

    assert refusal(response) == (429, BUSY["en"])
    assert hasher.calls == []
    assert login(client, "rina@contoh.id", PASSWORD).status_code == 303
    assert slots.admitted == 0


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="nice values are a POSIX matter")
def test_passwords_are_hashed_on_threads_of_lower_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    """A flood of sign-ins takes the processor from sign-ins, not from the pages beside them:
    the hashing threads are nicer than the threads and the event loop that serve pages."""
    seen: list[tuple[int, int]] = []

    class Recording(PasswordHasher):
        def verify(self, password_hash: str | bytes, password: str | bytes) -> bool:
            seen.append((threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, 0)))
            return super().verify(password_hash, password)

    recording = Recording(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(security, "_hasher", lambda: recording)
    stored = recording.hash("sandi yang benar sekali")
    here = os.getpriority(os.PRIO_PROCESS, 0)
    assert security.verify_password(stored, "sandi yang benar sekali")
    assert not security.verify_password(stored, "sandi yang salah sekali")
    assert len(seen) == 2
    for thread_id, niceness in seen:
        assert thread_id != threading.get_native_id()
        assert niceness >= min(here + security.HASHING_NICENESS, 19)
    # The caller's own thread is left as it was.
    assert os.getpriority(os.PRIO_PROCESS, 0) == here
