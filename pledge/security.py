"""Secrets in use: contact digests, passwords, one-time links and field encryption at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from functools import cache, lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pledge.config import get_settings
from pledge.errors import TooManyRequests
from pledge.i18n import gettext as _


@cache  # the same inputs always give the same key: derived once per process
def derive_key(secret_key: str, purpose: str, length: int = 32) -> bytes:
    """A separate key per purpose, so that one leaked use does not expose the others."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose.encode()).derive(
        secret_key.encode()
    )


def contact_digest(secret_key: str, normalised_contact: str) -> str:
    key = derive_key(secret_key, "contact-digest")
    # hmac.digest: the one-shot form, several times quicker than an hmac object, on every
    # signature.
    return hmac.digest(key, normalised_contact.encode(), "sha256").hex()


def random_token(nbytes: int = 16) -> str:
    return secrets.token_urlsafe(nbytes)


class FieldCipher:
    """Authenticated encryption (Fernet: AES-128-CBC with HMAC-SHA256) for stored contacts."""

    def __init__(self, secret_key: str) -> None:
        self._fernet = _fernet(secret_key)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str | None:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            return None


@lru_cache(maxsize=8)
def _fernet(secret_key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derive_key(secret_key, "field-encryption")))


# --- passwords and one-time links ----------------------------------------------------


@cache
def _hasher_with(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def _hasher() -> PasswordHasher:
    """argon2id with the costs from the settings (the library's RFC 9106 profile by default)."""
    settings = get_settings()
    return _hasher_with(
        settings.password_time_cost, settings.password_memory_kib, settings.password_parallelism
    )


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    # Verified against when an email is unknown, so that a wrong email takes as long as a
    # wrong password.
    return hasher.hash("a password nobody has")


PASSWORD_MIN = 10
PASSWORD_MAX = 200

# How long a hash waits for one of the process's hashing slots before it is refused: long
# enough for a few hashes ahead of it to finish, short enough for a person to try again.
HASH_WAIT_SECONDS = 2.0
# Hashes that may wait per slot; any more are refused at once. A waiting request holds a
# thread of the pool that every other page shares, so the queue is kept short.
WAITING_PER_SLOT = 4


class HashingSlots:
    """The hashes a process computes at once, and a short queue of those waiting."""

    def __init__(self, count: int) -> None:
        self._free = threading.BoundedSemaphore(count)
        self._lock = threading.Lock()
        self.waiting = 0
        self.most_waiting = count * WAITING_PER_SLOT
        self.admitted = 0
        self.most_admitted = count + self.most_waiting

    def acquire(self, timeout: float) -> bool:
        """Take a slot, waiting up to ``timeout`` seconds; False when none came free or too
        many are already waiting."""
        if self._free.acquire(blocking=False):
            return True
        with self._lock:
            if self.waiting >= self.most_waiting:
                return False
            self.waiting += 1
        try:
            return self._free.acquire(timeout=timeout)
        finally:
            with self._lock:
                self.waiting -= 1

    def release(self) -> None:
        self._free.release()

    def admit(self) -> bool:
        """Let one more request that will hash in, unless as many are already in as the slots
        and their queue can take: called before a request takes a thread of the pool, so that
        a flood of sign-ins is refused on the event loop instead of filling the pool (and
        starving every other page of its threads and of the interpreter)."""
        with self._lock:
            if self.admitted >= self.most_admitted:
                return False
            self.admitted += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self.admitted -= 1


def password_slots() -> HashingSlots:
    """This process's hashing slots, as many as PLEDGE_PASSWORD_HASHES_AT_ONCE."""
    return hashing_slots(get_settings().password_hashes_at_once)


@cache
def hashing_slots(count: int) -> HashingSlots:
    return HashingSlots(count)


def busy() -> TooManyRequests:
    return TooManyRequests(_("Many people are signing in right now. Wait a moment and try again."))


# The nice value of the threads that hash passwords: the processor goes to pages first, and a
# flood of sign-ins slows sign-ins, not the campaign pages beside them.
HASHING_NICENESS = 10


def _lower_priority() -> None:
    """Make the calling thread HASHING_NICENESS nicer than it was (Linux keeps a nice value
    per thread; 19 at most); elsewhere it stays as it is."""
    with suppress(AttributeError, OSError):
        nicer = min(os.getpriority(os.PRIO_PROCESS, 0) + HASHING_NICENESS, 19)
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nicer)


@cache
def _hashing_threads(count: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(
        max_workers=count, thread_name_prefix="pledge-hash", initializer=_lower_priority
    )


@contextmanager
def _hashing() -> Iterator[Callable[..., Any]]:
    """Run a hasher call on one of the process's PLEDGE_PASSWORD_HASHES_AT_ONCE slots: each
    hash holds password_memory_kib while it runs, and a flood of sign-ins (failed ones
    included) must not multiply that until the process runs out of memory. The hash runs on a
    thread of lower priority (HASHING_NICENESS). TooManyRequests when no slot comes free
    within HASH_WAIT_SECONDS, or when the queue is full."""
    count = get_settings().password_hashes_at_once
    slots = hashing_slots(count)
    if not slots.acquire(timeout=HASH_WAIT_SECONDS):
        raise busy()
    try:
        threads = _hashing_threads(count)
        yield lambda call, *args: threads.submit(call, *args).result()
    finally:
        slots.release()


def hash_password(password: str) -> str:
    with _hashing() as run:
        return str(run(_hasher().hash, password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches the hash. Without a hash (an unknown email, an account
    with no password yet) a dummy hash is verified instead, through the same slots, so that
    the answer takes as long and costs as much either way."""
    hasher = _hasher()
    with _hashing() as run:
        try:
            matched = bool(run(hasher.verify, password_hash or _dummy_hash(hasher), password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    return matched and password_hash is not None


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def hash_token(token: str) -> str:
    """One-time link secrets are stored hashed; they are random, so SHA-256 suffices."""
    return hashlib.sha256(token.encode()).hexdigest()
