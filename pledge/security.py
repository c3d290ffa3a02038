"""Secrets in use: contact digests, passwords, one-time links and field encryption at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import cache, lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pledge.config import get_settings


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


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher = _hasher()
    try:
        matched = hasher.verify(password_hash or _dummy_hash(hasher), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return matched and password_hash is not None


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def hash_token(token: str) -> str:
    """One-time link secrets are stored hashed; they are random, so SHA-256 suffices."""
    return hashlib.sha256(token.encode()).hexdigest()
