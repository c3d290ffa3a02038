"""Contact digests, field encryption at rest, and the settings that guard the secret key."""

from __future__ import annotations

import re
import secrets

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from pledge.app import create_app
from pledge.config import DEV_SECRET_KEY, Environment, Settings, get_settings, use_settings
from pledge.security import FieldCipher, contact_digest, derive_key

KEY = "k" * 48
PUBLIC_URL = "https://suara.example.org"
OTHER_KEY = "o" * 48
HEX64 = re.compile(r"^[0-9a-f]{64}$")


# --- contact digest ------------------------------------------------------------------


def test_contact_digest_is_stable() -> None:
    assert contact_digest(KEY, "+6281234567890") == contact_digest(KEY, "+6281234567890")


def test_contact_digest_is_64_lowercase_hex_characters() -> None:
    assert HEX64.match(contact_digest(KEY, "+6281234567890"))
    assert HEX64.match(contact_digest(KEY, "rina@example.com"))


def test_contact_digest_differs_per_secret_key() -> None:
    assert contact_digest(KEY, "rina@example.com") != contact_digest(OTHER_KEY, "rina@example.com")


def test_contact_digest_differs_per_contact() -> None:
    assert contact_digest(KEY, "+6281234567890") != contact_digest(KEY, "+6281234567891")


def test_contact_digest_is_not_a_plain_hash_of_the_contact() -> None:
    import hashlib

    contact = "rina@example.com"
    assert contact_digest(KEY, contact) != hashlib.sha256(contact.encode()).hexdigest()
    assert contact not in contact_digest(KEY, contact)


def test_derived_keys_differ_per_purpose() -> None:
    assert derive_key(KEY, "contact-digest") != derive_key(KEY, "field-encryption")
    assert len(derive_key(KEY, "contact-digest")) == 32


# --- field encryption ----------------------------------------------------------------


def test_field_cipher_round_trips() -> None:
    cipher = FieldCipher(KEY)
    token = cipher.encrypt("+6281234567890")
    assert "6281234567890" not in token
    assert cipher.decrypt(token) == "+6281234567890"
    assert FieldCipher(KEY).decrypt(token) == "+6281234567890"


def test_field_cipher_encrypts_the_same_text_differently_each_time() -> None:
    cipher = FieldCipher(KEY)
    first, second = cipher.encrypt("rina@example.com"), cipher.encrypt("rina@example.com")
    assert first != second
    assert cipher.decrypt(first) == cipher.decrypt(second) == "rina@example.com"


def test_field_cipher_returns_none_for_a_tampered_token() -> None:
    cipher = FieldCipher(KEY)
    token = cipher.encrypt("rina@example.com")
    middle = len(token) // 2
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    assert tampered != token
    assert cipher.decrypt(tampered) is None
    assert cipher.decrypt(token[:-4]) is None
    assert cipher.decrypt("not a token at all") is None


def test_field_cipher_returns_none_under_another_key() -> None:
    token = FieldCipher(KEY).encrypt("rina@example.com")
    assert FieldCipher(OTHER_KEY).decrypt(token) is None


# --- settings ------------------------------------------------------------------------


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="PLEDGE_SECRET_KEY"):
        Settings(env="production", secret_key=DEV_SECRET_KEY)


@pytest.mark.parametrize("secret", ["", "short", "x" * 31])
def test_production_refuses_a_short_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(env="production", secret_key=secret)


def test_production_accepts_a_long_random_secret() -> None:
    secret = secrets.token_urlsafe(48)
    settings = Settings(env="production", secret_key=secret, public_url=PUBLIC_URL)
    assert settings.env == Environment.PRODUCTION
    assert settings.secret_key == secret
    assert settings.secure_cookies is True


def test_production_accepts_exactly_32_characters() -> None:
    settings = Settings(env="production", secret_key="s" * 32, public_url=PUBLIC_URL)
    assert settings.secret_key == "s" * 32


@pytest.mark.parametrize("env", ["development", "test"])
def test_development_and_test_allow_the_development_secret(env: str) -> None:
    settings = Settings(env=env, secret_key=DEV_SECRET_KEY)
    assert settings.secret_key == DEV_SECRET_KEY
    assert settings.secure_cookies is False


def test_an_unknown_environment_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(env="staging", secret_key=secrets.token_urlsafe(48))


@pytest.mark.parametrize(
    ("url", "shards"),
    [
        ("sqlite:///var/pledge.db", 1),
        ("sqlite://", 1),
        ("postgresql+psycopg://pledge:pledge@localhost/pledge", 8),
        ("postgresql://pledge@db.example.org:5432/pledge", 8),
    ],
)
def test_shards_default_by_database(url: str, shards: int) -> None:
    settings = Settings(database_url=url, tally_shards=0)
    assert settings.shards == shards
    assert settings.is_sqlite is url.startswith("sqlite")


@pytest.mark.parametrize("url", ["sqlite:///var/pledge.db", "postgresql+psycopg://db/pledge"])
def test_shards_follow_the_setting_when_set(url: str) -> None:
    assert Settings(database_url=url, tally_shards=4).shards == 4


@pytest.mark.parametrize("shards", [-1, 65])
def test_shards_out_of_range_are_refused(shards: int) -> None:
    with pytest.raises(ValidationError):
        Settings(tally_shards=shards)


# --- one source of settings ------------------------------------------------------------


def test_an_app_makes_its_settings_the_ones_every_reader_gets(engine: sa.Engine) -> None:
    settings = get_settings().model_copy(update={"site_name": "Janji Kita"})

    app = create_app(settings, engine=engine)

    assert get_settings() is settings
    assert app.state.engine is engine


def test_clearing_the_settings_reads_the_environment_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_settings(Settings(site_name="Dari Aplikasi"))
    monkeypatch.setenv("PLEDGE_SITE_NAME", "Dari Lingkungan")

    get_settings.cache_clear()

    assert get_settings().site_name == "Dari Lingkungan"
