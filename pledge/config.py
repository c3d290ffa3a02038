"""Settings read from the environment (prefix ``PLEDGE_``), validated once per process, and
read everywhere through ``get_settings()``."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from limits import parse
from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-insecure-change-me"  # noqa: S105 - refused outside development
VAR_DIR = Path("var")
SMTP_SCHEMES = ("smtp", "smtp+starttls", "smtps")
# INFO and info are the same level to an operator.
LowerCase = BeforeValidator(
    lambda value: value.strip().lower() if isinstance(value, str) else value
)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"
    TEST = "test"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLEDGE_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str = f"sqlite:///{VAR_DIR / 'pledge.db'}"
    secret_key: str = DEV_SECRET_KEY
    # The site's name in page titles and the header; a brand, so never translated.
    site_name: str = "Suara Kita"
    # The site's public origin (https://example.org): every absolute link, in pages and in
    # messages, starts with it. Required in production, where the Host header of a request
    # is anybody's to write; elsewhere the request's own origin stands in for it.
    public_url: str | None = None

    # Who may read /metrics: with a token, only "Authorization: Bearer <token>"; without one,
    # only clients on loopback. Logs: "json" (one object per line; the default in production)
    # or "text", and the lowest level written.
    metrics_token: str | None = None
    log_format: Annotated[Literal["json", "text"] | None, LowerCase] = None
    log_level: Annotated[Literal["debug", "info", "warning", "error", "critical"], LowerCase] = (
        "info"
    )

    ratelimit_enabled: bool = True
    ratelimit_storage: str = "memory://"
    # Generous per-IP limits: many young supporters share one carrier IP (CGNAT). Limits
    # count an IPv4 address, or an IPv6 /64. A signature over the signing limit is still
    # taken, held for review (in no count) and answered like any other; over the hard limit
    # (unset: ten times the signing limit) it is refused with a 429, to protect the server.
    ratelimit_sign: str = "300/minute"
    ratelimit_sign_hard: str | None = None
    ratelimit_login: str = "30/minute"  # per IP address
    ratelimit_login_email: str = "10/15 minutes"  # per account, from one address (/64)
    # Per account, from every address where its owner has not signed in lately.
    ratelimit_login_account: str = "50/hour"

    # SQLite: "normal" keeps every committed signature through a crash of the app, and may
    # lose the last moments before a power cut; "full" also survives the power cut, at the
    # cost of one disk flush per signature.
    sqlite_synchronous: Literal["normal", "full"] = "normal"
    # Counter rows per tally key; more shards keep PostgreSQL writers off one row.
    tally_shards: int = Field(default=0, ge=0, le=64)
    # How long a process may keep a public campaign (title, pledges, partners, status) before
    # reading it again; changes made through the same process are seen at once.
    campaign_cache_seconds: float = Field(default=2.0, ge=0)
    # How long a process may serve a count before reading the tallies again.
    tally_cache_seconds: float = Field(default=1.0, ge=0)
    # The statistics page's breakdowns (province, age group, signatures over time) read every
    # supporter of a campaign: each process recounts them at most this often once the number
    # of supporters changed, and at least every ten minutes.
    statistics_cache_seconds: float = Field(default=60.0, ge=0)
    # Live counts (/c/{slug}/events): how often each process reads the tallies it streams,
    # the comment line that keeps idle connections open, the open streams a process
    # accepts before answering 503, and those it accepts from one client (an IPv4 address,
    # an IPv6 /64) before answering that client 429.
    live_interval_seconds: float = Field(default=1.0, gt=0)
    live_keepalive_seconds: float = Field(default=15.0, gt=0)
    live_streams_max: int = Field(default=10_000, ge=1)
    live_streams_per_address: int = Field(default=8, ge=1)

    max_form_bytes: int = 64 * 1024
    # Words added to pledge/supporters/held_names.txt, comma-separated: a supporter's first
    # name holding one waits for a moderator before the campaign page shows it.
    held_names: str = ""
    # `pledge serve`: how long a client may take to send a request's headers, from the moment
    # it connects or sends the request's first byte, before the connection closes.
    header_timeout_seconds: float = Field(default=20.0, gt=0)
    # The hoax report form carries a screenshot: its body may be this large, no more.
    max_upload_bytes: int = 10 * 1024 * 1024

    # argon2id costs for staff passwords; the defaults are RFC 9106's low-memory profile.
    password_time_cost: int = Field(default=3, ge=1)
    password_memory_kib: int = Field(default=64 * 1024, ge=8)
    password_parallelism: int = Field(default=4, ge=1)
    # Each hash holds password_memory_kib while it runs: a process computes no more than this
    # many at once, so that failed sign-ins cannot exhaust its memory.
    password_hashes_at_once: int = Field(default=2, ge=1)

    # Outgoing email. smtp://user:pass@host:25 (plain), smtp+starttls://user:pass@host:587
    # (upgraded with STARTTLS) or smtps://user:pass@host:465 (TLS from the start); unset, a
    # development server writes messages to the log and production keeps them in the outbox.
    smtp_url: str | None = None
    mail_from: str = "Suara Kita <no-reply@localhost>"
    smtp_timeout: float = Field(default=20.0, gt=0)
    # A message that failed this many times stays in the outbox for an operator to look at.
    mail_max_attempts: int = Field(default=8, ge=1)

    # One-time links.
    invite_days: int = Field(default=7, ge=1)
    reset_minutes: int = Field(default=60, ge=5)
    ratelimit_reset: str = "20/hour"  # reset requests per IP address
    ratelimit_reset_email: str = "5/hour"  # reset requests per email address, from anywhere

    # Confirming a signature. A pending signature not confirmed within this many days is
    # deleted with its personal data; its reminders (at most two) go two days apart.
    pending_days: int = Field(default=7, ge=1, le=90)
    ratelimit_confirm_code: str = "30/hour"  # wrong codes typed per IP address
    # WhatsApp Cloud API: the campaign number people send their code to, the app's secret
    # that signs the webhook's posts, the token the subscription handshake echoes, and what
    # sends the replies. Without them, WhatsApp confirmation is off in production, and in
    # development the replies are written to the log.
    whatsapp_number: str | None = None
    whatsapp_app_secret: str | None = None
    whatsapp_verify_token: str | None = None
    whatsapp_access_token: str | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_api_url: str = "https://graph.facebook.com/v21.0"
    # The webhook's posts per address (Meta sends from a few of its own), and the messages one
    # WhatsApp number may have handled in a while: beyond it they are ignored, so that another
    # business's auto-reply cannot ping-pong with ours.
    ratelimit_whatsapp: str = "3000/minute"
    ratelimit_whatsapp_sender: str = "20/hour"

    # The abuse console (/admin/abuse, and each campaign's for its lead organisation): an hour
    # with at least this many signatures from one network (/24 or /64), one email domain or
    # one partner's link is flagged. Common mail providers are listed but never flagged.
    abuse_network_per_hour: int = Field(default=50, ge=1)
    abuse_email_domain_per_hour: int = Field(default=100, ge=1)
    abuse_partner_per_hour: int = Field(default=500, ge=1)
    abuse_ignored_domains: str = (
        "gmail.com,yahoo.com,yahoo.co.id,ymail.com,hotmail.com,outlook.com,live.com,icloud.com"
    )
    # Supporters an invalidation moves per transaction; it can be cancelled between two.
    invalidation_batch: int = Field(default=500, ge=1, le=10_000)

    # Tests only: the origin (http://127.0.0.1:PORT) that plays every short-link service
    # (bit.ly, vt.tiktok.com, ...) when short links are followed, asked with the short
    # link's own Host header; loopback is allowed for it alone. Refused in production.
    short_link_test_origin: str | None = None

    # A directory holding a sentence-embedding model exported to ONNX (model.onnx and
    # tokenizer.json, optionally pledge.json): hoax reports are then compared by its
    # embeddings instead of by character n-grams (docs/matching-text.md). Needs the
    # `embeddings` extra.
    text_model_dir: Path | None = None

    # A PEM file of the certificates whose signers of Content Credentials count as trusted
    # (the C2PA trust list, say). Decoder processes read it from the environment; it is
    # checked here at start-up. Unset: every signer is shown as on no trust list.
    c2pa_trust_anchors: Path | None = None

    # Supporters' personal data is anonymised this many months after their campaign closed
    # (`pledge retention run`, from cron); their counts and statistics stay.
    retention_months: int = Field(default=6, ge=1)

    @field_validator("ratelimit_sign", "ratelimit_sign_hard")
    @classmethod
    def _rate(cls, value: str | None, info: ValidationInfo) -> str | None:
        if (value is None or not value.strip()) and info.field_name == "ratelimit_sign_hard":
            return None
        try:
            parse(value or "")
        except ValueError:
            raise ValueError(
                "a rate limit is written like 300/minute, 3000/hour or 10/15 minutes"
            ) from None
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_scheme(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme.lower() not in SMTP_SCHEMES or not parts.hostname:
            raise ValueError(
                "PLEDGE_SMTP_URL must be smtp://, smtp+starttls:// or smtps:// "
                "followed by [user:password@]host[:port]"
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _public_origin(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if (
            parts.scheme.lower() not in ("https", "http")
            or not parts.hostname
            or parts.username is not None
            or parts.query
            or parts.fragment
            or parts.path.strip("/")
        ):
            raise ValueError(
                "PLEDGE_PUBLIC_URL must be the site's origin as people reach it, such as "
                "https://suara.example.org (no path, query or user name)"
            )
        return f"{parts.scheme.lower()}://{parts.netloc.lower()}"

    @field_validator("whatsapp_api_url")
    @classmethod
    def _api_scheme(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("https", "http") or not parts.hostname:
            raise ValueError(
                "PLEDGE_WHATSAPP_API_URL must be an https:// address, such as "
                "https://graph.facebook.com/v21.0"
            )
        return value.rstrip("/")

    @model_validator(mode="after")
    def _refuse_dev_secret(self) -> Settings:
        weak = self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32
        if self.env == Environment.PRODUCTION and weak:
            raise ValueError(
                "PLEDGE_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production (for example: python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')"
            )
        return self

    @model_validator(mode="after")
    def _require_public_url(self) -> Settings:
        # Without it, links in emails and share links would be built from the Host header,
        # which whoever sends the request chooses.
        if self.env == Environment.PRODUCTION and not self.public_url:
            raise ValueError(
                "PLEDGE_PUBLIC_URL must be set in production to the site's public origin, "
                "such as https://suara.example.org: every link in emails and every absolute "
                "link is built from it"
            )
        return self

    @field_validator("short_link_test_origin")
    @classmethod
    def _test_origin(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if (
            parts.scheme.lower() not in ("http", "https")
            or not parts.hostname
            or parts.path.strip("/")
        ):
            raise ValueError(
                "PLEDGE_SHORT_LINK_TEST_ORIGIN must be an origin such as http://127.0.0.1:8081"
            )
        return f"{parts.scheme.lower()}://{parts.netloc.lower()}"

    @model_validator(mode="after")
    def _refuse_short_link_test_origin(self) -> Settings:
        # It sends every short link to one server and lets it sit on loopback: tests only.
        if self.env == Environment.PRODUCTION and self.short_link_test_origin:
            raise ValueError(
                "PLEDGE_SHORT_LINK_TEST_ORIGIN is for tests only and must not be set in "
                "production: short links would all be sent to one server"
            )
        return self

    @field_validator("text_model_dir", mode="before")
    @classmethod
    def _blank_model_dir(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("text_model_dir")
    @classmethod
    def _model_files(cls, value: Path | None) -> Path | None:
        # Checked at start-up: a model that cannot load would fail every report with text.
        from pledge.hoaxes.embeddings import model_dir_problem

        if value is None:
            return None
        problem = model_dir_problem(value)
        if problem is not None:
            raise ValueError(
                f"PLEDGE_TEXT_MODEL_DIR: {problem}. It must hold a sentence-embedding model "
                "exported to ONNX (model.onnx and tokenizer.json, for example with "
                "`optimum-cli export onnx --model intfloat/multilingual-e5-small DIR`), "
                "see docs/matching-text.md; unset it to compare texts by character n-grams"
            )
        return value

    @field_validator("c2pa_trust_anchors", mode="before")
    @classmethod
    def _blank_anchors(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("c2pa_trust_anchors")
    @classmethod
    def _anchors_file(cls, value: Path | None) -> Path | None:
        # Checked at start-up: a list that does not load would trust nobody, silently.
        if value is None:
            return None
        try:
            held = value.read_text(encoding="ascii", errors="replace")
        except OSError as error:
            raise ValueError(f"PLEDGE_C2PA_TRUST_ANCHORS: cannot read {value}: {error}") from None
        if "-----BEGIN CERTIFICATE-----" not in held:
            raise ValueError(
                f"PLEDGE_C2PA_TRUST_ANCHORS: {value} holds no PEM certificate "
                "(-----BEGIN CERTIFICATE-----); unset it to trust no signer"
            )
        return value

    @model_validator(mode="after")
    def _refuse_half_connected_whatsapp(self) -> Settings:
        # The number puts the WhatsApp link on the waiting page; without the app secret every
        # message sent through it would be refused, and the signature never counted.
        production = self.env == Environment.PRODUCTION
        if production and self.whatsapp_number and not self.whatsapp_app_secret:
            raise ValueError(
                "PLEDGE_WHATSAPP_NUMBER is set without PLEDGE_WHATSAPP_APP_SECRET: "
                "supporters would be asked to confirm by WhatsApp, and every message they "
                "send refused. Set both (docs/operators.md, Connecting WhatsApp), or neither."
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def shards(self) -> int:
        if self.tally_shards:
            return self.tally_shards
        return 1 if self.is_sqlite else 8

    @property
    def sign_hard_limit(self) -> str:
        """The signing limit over which a request is refused: as set, or ten times the
        signing limit."""
        return self.ratelimit_sign_hard or _ten_times(self.ratelimit_sign)

    @property
    def ignored_domains(self) -> frozenset[str]:
        return frozenset(
            name.strip().lower() for name in self.abuse_ignored_domains.split(",") if name.strip()
        )

    @property
    def secure_cookies(self) -> bool:
        return self.env == Environment.PRODUCTION


# The settings given to use_settings(), until get_settings() takes them up.
_given: list[Settings] = []


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings: the ones its app was made with (``use_settings``), else read
    from the environment. ``get_settings.cache_clear()`` forgets them: the next call reads
    the environment again."""
    return _given.pop() if _given else Settings()


def use_settings(settings: Settings) -> None:
    """Make these the settings every ``get_settings()`` of the process returns from now on:
    ``create_app`` calls it, so that the app and everything it calls read the same ones."""
    get_settings.cache_clear()
    _given[:] = [settings]
    get_settings()


@lru_cache(maxsize=16)
def _ten_times(limit: str) -> str:
    """A limit ten times as high; parsed once per value, not on every signature."""
    parsed = parse(limit)
    return f"{parsed.amount * 10}/{parsed.multiples} {parsed.GRANULARITY.name}"
