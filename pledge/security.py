"""Secrets in use: HMAC digests of contacts, signed tokens, and field encryption at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_key(secret_key: str, purpose: str, length: int = 32) -> bytes:
    """A separate key per purpose, so that one leaked use does not expose the others."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose.encode()).derive(
        secret_key.encode()
    )


def contact_digest(secret_key: str, normalised_contact: str) -> str:
    key = derive_key(secret_key, "contact-digest")
    return hmac.new(key, normalised_contact.encode(), hashlib.sha256).hexdigest()


def random_token(nbytes: int = 16) -> str:
    return secrets.token_urlsafe(nbytes)


class FieldCipher:
    """Authenticated encryption (Fernet: AES-128-CBC with HMAC-SHA256) for stored contacts."""

    def __init__(self, secret_key: str) -> None:
        key = base64.urlsafe_b64encode(derive_key(secret_key, "field-encryption"))
        self._fernet = Fernet(key)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str | None:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            return None
