"""Property-based fuzzing of the public forms: signing, reporting a hoax and signing in.

Each example posts one generated form through the app, with a valid CSRF token so that it
reaches validation: arbitrary text (NUL, control characters, any unicode, huge lengths),
missing, repeated and mistyped fields, odd campaign and pledge slugs, odd emails and phone
numbers, and for the report form, files of random bytes, truncated and mislabelled images.
Whatever is sent, the answer is never a 5xx; a refused form (4xx) leaves every table as it
was and no upload behind on disk; an accepted one stores exactly what the contract says.
"""

from __future__ import annotations

import io
import re
import secrets
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import event, given
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from PIL import Image
from sqlmodel import Session

from pledge import contacts, ratelimit
from pledge.accounts import service as accounts
from pledge.accounts.models import User
from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from pledge.db import metadata
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import Category, Platform
from pledge.provinces import AGE_BANDS, PROVINCES
from pledge.supporters import service as supporters
from pledge.web import SESSION_COOKIE, _serializer
from tests.support.pages import csrf_token, errors_of, html
from tests.support.signing import confirm_in_browser

Pairs = list[tuple[str, str]]

# --- what is in the database --------------------------------------------------------------


def snapshot(engine: sa.Engine) -> dict[str, int]:
    """The row count of every table and the sum of every tally, in one query."""
    tally = metadata.tables["tally"]
    columns = [
        sa.select(sa.func.count()).select_from(table).scalar_subquery().label(table.name)
        for table in metadata.sorted_tables
    ]
    columns.append(
        sa.select(sa.func.coalesce(sa.func.sum(tally.c.value), 0))
        .scalar_subquery()
        .label("tally.value")
    )
    with engine.connect() as conn:
        return {k: int(v) for k, v in conn.execute(sa.select(*columns)).one()._mapping.items()}


def changed(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


def empty(engine: sa.Engine, *names: str) -> None:
    with engine.begin() as conn:
        for name in names:
            conn.execute(metadata.tables[name].delete())


def rows(engine: sa.Engine, name: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(metadata.tables[name]))]


def between_examples() -> None:
    """Fresh rate limits and counters for each example, so that none is cut short by a 429."""
    ratelimit.reset()
    supporters.invalidate_counts()


# --- hostile values -----------------------------------------------------------------------

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n",
    "\t\x0b\x0c\x1b[31m",
    "\x7f\x85\u2028\u2029",
    "\u202eevil",
    "\ufeff",
    "\u200b\u200d",
    "<script>alert(1)</script>",
    "' OR '1'='1' --",
    "%00%0d%0a",
    "{{ 7*7 }}",
    "${jndi:ldap://x}",
    "Ｒｉｎａ",
    "🙂" * 20,
    "Z̴̡̛a̷l̸g̵o̶",
    "null",
    "[]",
    "on",
    "../../etc/passwd",
]

# Any unicode but surrogates (which no browser can send), NUL and control characters included.
ANY_TEXT = st.text(max_size=300)
HUGE_TEXT = st.integers(min_value=1_001, max_value=80_000).map(lambda n: "ẞ" * n)
HOSTILE_TEXT = st.one_of(st.sampled_from(NASTY), ANY_TEXT, HUGE_TEXT)
# True about one time in ten; not at an end of the range, which Hypothesis tries often.
NOW_AND_THEN = st.integers(0, 9).map(lambda n: n == 6)

ODD_EMAILS = [
    "a@b",
    "@",
    "rina@@contoh.id",
    "rina@contoh..id",
    " RINA@Contoh.ID ",
    "rina@contoh.id\n",
    "rina\x00@contoh.id",
    "rina@localhost",
    "rina@exämple.id",
    "rínа@contoh.id",  # a Cyrillic a
    "r" * 250 + "@contoh.id",
    '"rina putri"@contoh.id',
    "rina+kampanye@contoh.id",
    "rina@[127.0.0.1]",
    "rina@contoh.id, budi@contoh.id",
]
ODD_PHONES = [
    "08",
    "+62",
    "0812",
    "0812 3456 7890 1234 5678",
    "+1 202 555 0100",
    "00628123456789",
    "0062 812 3456 7890",
    "62-812-3456-7890",
    "+62 (812) 3456.7890",
    "021 555 1234",  # a Jakarta landline
    "０８１２３４５６７８９０",  # full-width digits
    "٠٨١٢٣٤٥٦٧٨٩٠",  # Arabic-Indic digits
    "0812-3456-7890 ext 5",
    "+62 812 3456 7890\x00",
    "8" * 300,
    "((((0812))))",
    "+-+-0812",
]
MOBILE_PREFIXES = ["811", "812", "813", "821", "822", "852", "853", "857", "877", "878", "896"]


@st.composite
def valid_phones(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(MOBILE_PREFIXES))
    rest = draw(st.text(alphabet="0123456789", min_size=8, max_size=8))
    digits = prefix + rest
    style = draw(st.integers(0, 4))
    if style == 0:
        return f"0{digits[:3]} {digits[3:7]} {digits[7:]}"
    if style == 1:
        return f"+62 {digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if style == 2:
        return f"62{digits}"
    if style == 3:
        return f"(0{digits[:3]}) {digits[3:]}"
    return f"0{digits}"


VALID_EMAILS = st.builds(
    "{}@{}.{}".format,
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._", min_size=1, max_size=20).filter(
        lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s
    ),
    st.sampled_from(["contoh", "example", "mail-ku", "kampus"]),
    st.sampled_from(["id", "com", "co.id", "ac.id"]),
)
VALID_CONTACTS = st.one_of(valid_phones(), VALID_EMAILS)
HOSTILE_CONTACTS = st.one_of(
    st.sampled_from(ODD_EMAILS + ODD_PHONES), HOSTILE_TEXT, st.emails().map(str)
)
NAMES = st.text(
    alphabet=st.characters(categories=("L", "M", "Zs", "Pd")), min_size=1, max_size=60
).filter(lambda s: s.strip())


def single(value: SearchStrategy[str]) -> SearchStrategy[list[str]]:
    return value.map(lambda v: [v])


def mangled(valid: SearchStrategy[str], hostile: SearchStrategy[str]) -> Any:
    """A field as a hostile client sends it: missing, one odd value, or repeated."""
    one = st.one_of(hostile, valid)
    return st.one_of(
        st.just([]),
        single(hostile),
        st.lists(one, min_size=2, max_size=4),
    )


def flatten(fields: dict[str, list[str]]) -> Pairs:
    return [(name, value) for name, values in fields.items() for value in values]


def multipart(parts: Sequence[tuple[str, bytes, str | None, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body: (name, content, filename or None for a text field, type)."""
    boundary = "fuzz" + secrets.token_hex(12)
    out = io.BytesIO()
    for name, content, filename, ctype in parts:
        out.write(f"--{boundary}\r\n".encode())
        disposition = f'Content-Disposition: form-data; name="{name}"'
        if filename is not None:
            escaped = filename.replace("\\", "\\\\").replace('"', "%22")
            escaped = escaped.replace("\r", "%0D").replace("\n", "%0A")
            disposition += f'; filename="{escaped}"'
        out.write(disposition.encode() + b"\r\n")
        if filename is not None:
            out.write(f"Content-Type: {ctype}\r\n".encode("latin-1", "replace"))
        out.write(b"\r\n" + content + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def as_text_parts(pairs: Pairs) -> list[tuple[str, bytes, str | None, str]]:
    return [(name, value.encode(), None, "") for name, value in pairs]


@st.composite
def encoded_body(draw: st.DrawFn, pairs: Pairs, token: str) -> tuple[bytes, str]:
    """The form's fields after the CSRF token, in one of the encodings a client may pick."""
    pairs = [("csrf_token", token), *pairs]
    style = draw(st.sampled_from(["urlencoded", "multipart", "multipart with a file", "other"]))
    if style == "urlencoded":
        body = urlencode(pairs).encode()
        if draw(NOW_AND_THEN):
            # Raw bytes after the fields: invalid UTF-8 and stray separators.
            junk = draw(st.binary(max_size=200)).replace(b"&", b"")
            body += b"&junk=" + junk
        return body, "application/x-www-form-urlencoded"
    if style == "other":
        # A form body under a type no form has: it cannot be read, so it is refused.
        ctype = draw(st.sampled_from(["application/json", "text/plain", "", "multipart/form-data"]))
        return urlencode(pairs).encode(), ctype
    parts = as_text_parts(pairs)
    if style == "multipart with a file" and len(parts) > 1:
        # A field sent as a file, where the form has only text.
        n = draw(st.integers(1, len(parts) - 1))
        name, content, _filename, _ctype = parts[n]
        parts[n] = (name, content, "isian.txt", "text/plain")
    return multipart(parts)


def post(client: TestClient, path: str, body: bytes, content_type: str) -> Any:
    return client.post(path, content=body, headers={"Content-Type": content_type})


def assert_not_server_error(response: Any) -> None:
    event(f"status {response.status_code}")
    assert response.status_code < 500, f"{response.status_code}: {response.text[:1000]}"


def assert_refused_cleanly(response: Any, before: dict[str, int], after: dict[str, int]) -> None:
    assert 400 <= response.status_code < 500, response.status_code
    assert changed(before, after) == {}, f"a refused form ({response.status_code}) stored rows"


def odd_slug() -> SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["", ".", "..", "%2e%2e", "a/b", "KAMPANYE", "kampanye-1 ", "\x00", "-"]),
        st.text(min_size=1, max_size=80),
    )


# --- signing ------------------------------------------------------------------------------

SIGN_FIELDS = (
    "name",
    "contact",
    "province",
    "age_band",
    "age_ok",
    "consent",
    "pledges",
    "show_name",
    "updates_org",
    "ref",
    "invite",
    "website",
)


@st.composite
def sign_forms(draw: st.DrawFn, view: CampaignView) -> dict[str, list[str]]:
    """A sign-up form: valid values, with a few fields made hostile."""
    pledge_slugs = [p.slug for p in view.pledges]
    partners = view.partners
    valid: dict[str, SearchStrategy[list[str]]] = {
        "name": single(NAMES),
        "contact": single(VALID_CONTACTS),
        "province": single(st.sampled_from(sorted(PROVINCES))),
        "age_band": st.one_of(st.just([]), single(st.sampled_from(AGE_BANDS))),
        "age_ok": st.just(["on"]),
        "consent": st.just(["on"]),
        "pledges": st.lists(st.sampled_from(pledge_slugs), min_size=1, max_size=4),
        "show_name": st.sampled_from([[], ["on"]]),
        "updates_org": st.one_of(st.just([]), single(st.sampled_from([p.slug for p in partners]))),
        "ref": st.one_of(st.just([]), single(st.sampled_from([p.referral_code for p in partners]))),
        "invite": st.one_of(st.just([]), single(st.text("abcdefXYZ0123_-", max_size=20))),
        "website": st.just([""]),
    }
    hostile: dict[str, SearchStrategy[str]] = {
        "contact": HOSTILE_CONTACTS,
        "pledges": st.one_of(
            st.sampled_from(["TOLAK-POLITIK-UANG", "tolak-politik-uang ", "../lawan-hoaks", "0"]),
            HOSTILE_TEXT,
        ),
        "ref": st.one_of(st.sampled_from([f" {p.referral_code} " for p in partners]), HOSTILE_TEXT),
    }
    broken = draw(st.sets(st.sampled_from(SIGN_FIELDS), max_size=3))
    fields = {}
    for name in SIGN_FIELDS:
        if name in broken:
            fields[name] = draw(
                mangled(
                    valid[name].map(lambda v: v[0] if v else ""), hostile.get(name, HOSTILE_TEXT)
                )
            )
        else:
            fields[name] = draw(valid[name])
    return fields


def location_parts(location: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(location)
    assert not parts.netloc, "a redirect to another site"
    return parts.path, parse_qs(parts.query)


@dataclass(frozen=True)
class Pending:
    """An accepted signing before its confirmation: its supporter row, the contact it was
    made with (normalised), and the partner it credits once counted."""

    supporter: dict[str, Any]
    contact: str
    referrer: Any


def check_signing_stored(
    engine: sa.Engine, view: CampaignView, fields: dict[str, list[str]], before: dict[str, int]
) -> Pending:
    """An accepted signing: one pending supporter as posted, and its confirmation waiting
    with the pledges chosen; nothing counted but the pending signature."""
    after = snapshot(engine)
    stored = rows(engine, "supporter")
    assert len(stored) == 1
    supporter = stored[0]
    assert supporter["confirmed_at"] is None
    assert supporter["number"] == 0  # a place is given once confirmed

    # Every single-valued field as posted (with a repeated field, one of the values sent).
    names = [supporters.clean_name(v[:1000]) for v in fields["name"]]
    assert supporter["display_name"] in names
    assert supporter["display_name"], "stored without a name"
    assert len(supporter["display_name"]) <= supporters.NAME_MAX
    assert not re.search(r"[\x00-\x1f\x7f]", supporter["display_name"])
    assert supporter["province"] in fields["province"]
    assert supporter["province"] in PROVINCES
    assert supporter["age_band"] in [*fields["age_band"], None]
    assert supporter["age_band"] in (None, *AGE_BANDS)
    if not any(fields["show_name"]):
        assert not supporter["show_name"], "shown publicly without asking"
    digests: dict[str, str] = {}
    for raw in fields["contact"]:
        try:
            normalised = contacts.normalise_contact(raw)
        except contacts.ContactError:
            continue
        digests[contacts.supporter_digest(get_settings().secret_key, normalised)] = normalised
    assert supporter["contact_digest"] in digests
    # The contact itself is kept (encrypted) only for a partner's news.
    if supporter["updates_partner_id"] is None:
        assert supporter["contact_encrypted"] is None
    else:
        partner = next(p for p in view.partners if p.id == supporter["updates_partner_id"])
        assert partner.slug in fields["updates_org"]
        assert supporter["contact_encrypted"]
    if len(set(fields["updates_org"])) == 1 and view.partner_by_slug(fields["updates_org"][0]):
        assert supporter["updates_partner_id"] is not None, "asked a partner for news: not kept"
    # The partner whose link was followed is credited; an unknown code credits no one.
    codes = {v[:40].strip() for v in fields["ref"]}
    referrer = None
    if supporter["referrer_id"] is not None:
        referrer = next(p for p in view.partners if p.id == supporter["referrer_id"])
        assert referrer.referral_code in codes
    elif len(codes) == 1:
        assert view.partner_by_code(codes.pop()) is None, "a partner's link was not credited"
    assert supporter["invited_by_id"] is None  # nobody else has signed: no invite code exists

    # The pledges chosen wait in the confirmation, repeats once; none is signed yet.
    assert rows(engine, "signature") == []
    (confirmation,) = rows(engine, "confirmation")
    assert confirmation["supporter_id"] == supporter["id"]
    assert confirmation["confirmed_at"] is None
    by_id = {p.id: p.slug for p in view.pledges}
    waiting = [by_id[int(pid)] for pid in confirmation["pledge_ids"].split(",")]
    assert len(waiting) == len(set(waiting))
    assert set(waiting) == {v[:100] for v in fields["pledges"]}
    assert tally_sums(engine) == {"pending": 1}
    assert set(changed(before, after)) <= {
        "supporter",
        "confirmation",
        "outbox_message",
        "tally",
        "tally.value",
    }
    return Pending(supporter, digests[supporter["contact_digest"]], referrer)


def tally_sums(engine: sa.Engine) -> dict[str, int]:
    tallies: dict[str, int] = {}
    for tally in rows(engine, "tally"):
        tallies[tally["key"]] = tallies.get(tally["key"], 0) + tally["value"]
    return tallies


def check_signing_counted(
    engine: sa.Engine,
    view: CampaignView,
    fields: dict[str, list[str]],
    pending: Pending,
    landed: str,
) -> str:
    """The signing confirmed: the supporter counted once, one signature per pledge chosen,
    counts +1; the supporter's own page is where the signer lands."""
    path, query = location_parts(landed)
    match = re.fullmatch(rf"/c/{re.escape(view.slug)}/thanks/([A-Za-z0-9_-]+)", path)
    assert match, path
    (supporter,) = rows(engine, "supporter")
    assert supporter["token"] == pending.supporter["token"] == match.group(1)
    assert supporter["confirmed_at"] is not None
    assert supporter["number"] == 1

    # One signature per pledge chosen, repeats counted once; the redirect names them.
    by_id = {p.id: p.slug for p in view.pledges}
    signed = [by_id[s["pledge_id"]] for s in rows(engine, "signature")]
    assert len(signed) == len(set(signed))
    assert set(signed) == {v[:100] for v in fields["pledges"]}
    if "@" in pending.contact:  # the emailed code's answer says what it did
        assert query["outcome"] == ["new"]
        assert query["added"] == [",".join(p.slug for p in view.pledges if p.slug in signed)]

    expected = {"total": 1, "pending": 0}
    expected |= {f"pledge:{p.id}": 1 for p in view.pledges if p.slug in signed}
    if pending.referrer is not None:
        expected[f"partner:{pending.referrer.id}"] = 1
    assert tally_sums(engine) == expected
    return path


@pytest.fixture
def signing_campaign(make_campaign: Callable[..., CampaignView]) -> CampaignView:
    return make_campaign(partners=2)


@pytest.fixture
def form_token(client: TestClient, signing_campaign: CampaignView) -> str:
    """The token of the client's session: the same for every form it opens until it signs in."""
    return csrf_token(client, f"/c/{signing_campaign.slug}")


@given(data=st.data())
def test_sign_form_never_fails_and_stores_only_what_is_valid(
    client: TestClient,
    engine: sa.Engine,
    signing_campaign: CampaignView,
    form_token: str,
    data: st.DataObject,
) -> None:
    view = signing_campaign
    empty(engine, "signature", "confirmation", "tally", "supporter", "outbox_message")
    between_examples()
    fields = data.draw(sign_forms(view), label="fields")
    body, content_type = data.draw(encoded_body(flatten(fields), form_token), label="body")
    slug = view.slug
    if data.draw(NOW_AND_THEN, label="odd slug?"):
        slug = data.draw(odd_slug(), label="slug")

    before = snapshot(engine)
    response = post(client, f"/c/{quote(slug, safe='')}/sign", body, content_type)
    assert_not_server_error(response)
    after = snapshot(engine)

    if response.status_code != 303:
        assert_refused_cleanly(response, before, after)
        if response.status_code == 422:
            # The form again, with a message beside what was wrong.
            assert html(response).select_one("form input[name=csrf_token]") is not None
            assert errors_of(response), "a 422 without a message"
        return
    # Whoever signs, and whatever they signed before, the answer is the page that waits for
    # the confirmation.
    assert response.headers["location"] == f"/c/{view.slug}/confirm"
    if changed(before, after) == {}:
        # The honeypot: a bot is shown the usual answer, and nothing is stored.
        assert any(fields["website"])
        return
    assert slug == view.slug
    pending = check_signing_stored(engine, view, fields, before)
    with Session(engine) as session:
        landed = confirm_in_browser(client, session, view, pending.contact)
    assert landed.status_code == 303, landed.text[:500]
    path = check_signing_counted(engine, view, fields, pending, landed.headers["location"])
    # The supporter's own page shows whatever was accepted.
    thanks = client.get(path)
    assert thanks.status_code == 200, thanks.text[:500]
    assert path.rsplit("/", 1)[-1] in thanks.text  # the withdrawal link carries the token


# --- reporting a hoax ---------------------------------------------------------------------


def image_bytes(fmt: str, size: tuple[int, int], seed: int) -> bytes:
    image = Image.new("RGB", size, (seed * 37 % 256, seed * 91 % 256, seed * 13 % 256))
    for x in range(0, size[0], 7):
        image.putpixel((x, (x * seed) % size[1]), (255 - seed % 256, 0, seed % 256))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG header that claims a huge picture, with almost no data behind it."""
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    chunk = b"IHDR" + ihdr
    crc = zlib.crc32(chunk).to_bytes(4, "big")
    data = zlib.compress(b"\x00" * 64)
    idat = b"IDAT" + data
    return (
        b"\x89PNG\r\n\x1a\n"
        + len(ihdr).to_bytes(4, "big")
        + chunk
        + crc
        + len(data).to_bytes(4, "big")
        + idat
        + zlib.crc32(idat).to_bytes(4, "big")
    )


MAGIC = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"GIF89a"]
FILENAMES = [
    "layar.png",
    "",
    "../../etc/passwd",
    "x.php.png",
    "layar 📸.jpg",
    "a" * 300 + ".png",
    "con.webp",
    'q"uote.png',
    "baris\nbaru.png",
]
MIME_TYPES = ["image/png", "image/jpeg", "image/webp", "application/octet-stream", "text/html", ""]


@st.composite
def screenshots(draw: st.DrawFn) -> bytes | None:
    """No file, a good picture (half the time: so that some reports are accepted with one),
    or something else."""
    kind = draw(
        st.sampled_from(
            ["none", *["image"] * 5, "truncated", "random", "magic", "huge header", "gif", "big"]
        )
    )
    if kind == "none":
        return None
    if kind in ("image", "truncated"):
        fmt = draw(st.sampled_from(["PNG", "JPEG", "WEBP"]))
        size = (draw(st.integers(1, 96)), draw(st.integers(1, 96)))
        data = image_bytes(fmt, size, draw(st.integers(0, 255)))
        if kind == "truncated":
            data = data[: draw(st.integers(0, len(data) - 1))]
        return data
    if kind == "random":
        return draw(st.binary(min_size=1, max_size=4096))
    if kind == "magic":
        return draw(st.sampled_from(MAGIC)) + draw(st.binary(max_size=2048))
    if kind == "huge header":
        return png_claiming(draw(st.integers(1, 2**31 - 1)), draw(st.integers(1, 2**31 - 1)))
    if kind == "gif":
        return image_bytes("GIF", (16, 16), 3)
    # Larger than the parser keeps in memory, so it is spooled to a temporary file.
    return b"\xff\xd8\xff\xe0" + bytes(1_100_000)


REPORT_FIELDS = (
    "url",
    "platform",
    "category",
    "description",
    "province",
    "contact",
    "consent",
    "website",
)
URLS = st.builds(
    "{}{}/{}{}".format,
    st.sampled_from(["https://", "http://", "", "HTTPS://WWW.", "https://m."]),
    st.sampled_from(["facebook.com", "x.com", "tiktok.com", "youtu.be", "contoh.id", "t.me"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=30),
    st.sampled_from(["", "?utm_source=wa", "?v=1&fbclid=x", "#bagian", "/"]),
)
ODD_URLS = [
    "javascript:alert(1)",
    "data:text/html,<b>x</b>",
    "file:///etc/passwd",
    "https://",
    "https://:80",
    "https://contoh.id:99999/x",
    "https://[::1]/x",
    "https://contoh.id/" + "a" * 2100,
    "https://contoh.id/%00",
    "https://user:pass@contoh.id/x",
    "//contoh.id/x",
    "contoh",
    "https://xn--80ak6aa92e.com/",
    "https://contoh.id/ spasi",
]


@st.composite
def report_forms(draw: st.DrawFn) -> dict[str, list[str]]:
    valid: dict[str, SearchStrategy[list[str]]] = {
        "url": st.one_of(st.just([]), single(URLS)),
        "platform": single(st.sampled_from([p.value for p in Platform])),
        "category": single(st.sampled_from([c.value for c in Category])),
        "description": st.one_of(st.just([]), single(st.text(max_size=300))),
        "province": st.one_of(st.just([]), single(st.sampled_from(sorted(PROVINCES)))),
        "contact": st.one_of(st.just([]), single(VALID_CONTACTS)),
        "consent": st.just(["on"]),
        "website": st.just([""]),
    }
    hostile: dict[str, SearchStrategy[str]] = {
        "url": st.one_of(st.sampled_from(ODD_URLS), HOSTILE_TEXT),
        "contact": HOSTILE_CONTACTS,
        "description": st.one_of(HOSTILE_TEXT, st.text(min_size=990, max_size=1100)),
    }
    broken = draw(st.sets(st.sampled_from(REPORT_FIELDS), max_size=3))
    return {
        name: draw(
            mangled(valid[name].map(lambda v: v[0] if v else ""), hostile.get(name, HOSTILE_TEXT))
        )
        if name in broken
        else draw(valid[name])
        for name in REPORT_FIELDS
    }


@pytest.fixture
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Where uploads larger than the parser keeps in memory are spooled, watched by the test."""
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    yield spool


def check_report_stored(
    engine: sa.Engine,
    view: CampaignView,
    fields: dict[str, list[str]],
    file: bytes | None,
    response: Any,
    before: dict[str, int],
) -> None:
    after = snapshot(engine)
    path, _query = location_parts(response.headers["location"])
    match = re.fullmatch(r"/reports/([a-z0-9]+)", path)
    assert match, path
    (report,) = rows(engine, "hoax_report")
    (case,) = rows(engine, "hoax_case")
    assert report["tracking_code"] == match.group(1)
    assert report["case_id"] == case["id"]
    assert report["campaign_id"] == case["campaign_id"] == view.id
    assert report["platform"] in fields["platform"]
    assert report["category"] in fields["category"]
    assert report["province"] in [*fields["province"], None]
    # The description as posted, without control characters (line breaks stay), within its limit.
    assert len(report["description"]) <= hoaxes.DESCRIPTION_MAX
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", report["description"])
    assert report["description"] in [
        hoaxes._clean_text(v[: hoaxes.DESCRIPTION_MAX * 2]) for v in [*fields["description"], ""]
    ]
    if report["url"] is None:
        assert report["media_id"] is not None, "a report with neither link nor picture"
    else:
        assert report["url"].strip() == report["url"]
        assert any(report["url"] in v for v in fields["url"]) or any(
            report["url"] == "https://" + v.strip() for v in fields["url"]
        )
        assert report["canonical_url"] == hoaxes.canonical_url(report["url"])
    if not any(v.strip() for v in fields["contact"]):
        assert report["contact_encrypted"] is None
    # A picture is stored re-encoded as a JPEG, once, with the bands of its hash.
    stored_media = rows(engine, "media")
    event("stored with a picture" if stored_media else "stored without a picture")
    if report["media_id"] is None:
        assert stored_media == []
    else:
        assert file is not None
        (picture,) = stored_media
        assert picture["id"] == report["media_id"] == case["media_id"]
        assert picture["mime"] == "image/jpeg"
        assert picture["data"][:3] == b"\xff\xd8\xff"
        assert max(picture["width"], picture["height"]) <= 2048
    # The report, its case, its picture and the lookup indexes of picture and text, and the
    # month's counts of reports and cases; a suggested match to a case of an earlier example
    # is not kept (the tables are emptied).
    allowed = {
        "hoax_month",
        "hoax_report",
        "hoax_case",
        "media",
        "media_band",
        "media_print_band",
        "hoax_text_band",
    }
    assert set(changed(before, after)) <= allowed
    assert changed(before, after)["hoax_report"] == 1


@given(data=st.data())
def test_report_form_never_fails_and_stores_only_what_is_valid(
    client: TestClient,
    engine: sa.Engine,
    signing_campaign: CampaignView,
    spool_dir: Path,
    form_token: str,
    data: st.DataObject,
) -> None:
    view = signing_campaign
    empty(
        engine,
        "hoax_text_band",
        "hoax_case_match",
        "hoax_report",
        "hoax_case",
        "media_print_band",
        "media_band",
        "media",
    )
    between_examples()
    fields = data.draw(report_forms(), label="fields")
    file = data.draw(screenshots(), label="screenshot")
    filename = data.draw(st.sampled_from(FILENAMES), label="filename")
    mime = data.draw(st.sampled_from(MIME_TYPES), label="mime")
    shape = data.draw(
        st.sampled_from(["file", "file", "file", "file", "as text", "two files", "url as file"]),
        label="shape",
    )

    parts = as_text_parts([("csrf_token", form_token), *flatten(fields)])
    if shape == "file":
        # No file chosen: the empty part a browser sends.
        parts.append(("screenshot", file or b"", filename if file else "", mime))
    elif shape == "as text" and file is not None:
        parts.append(("screenshot", file, None, ""))
    elif shape == "two files":
        parts.append(("screenshot", file or b"x", filename, mime))
        parts.append(("screenshot", file or b"y", filename, mime))
    elif shape == "url as file":
        parts = [p for p in parts if p[0] != "url"]
        parts.append(("url", b"https://contoh.id/x", "link.txt", "text/plain"))
    body, content_type = multipart(parts)
    if data.draw(NOW_AND_THEN, label="urlencoded?"):
        # The same fields, without the file, sent as a plain form.
        body = urlencode([("csrf_token", form_token), *flatten(fields)]).encode()
        content_type = "application/x-www-form-urlencoded"
    slug = view.slug
    if data.draw(NOW_AND_THEN, label="odd slug?"):
        slug = data.draw(odd_slug(), label="slug")

    before = snapshot(engine)
    response = post(client, f"/c/{quote(slug, safe='')}/report", body, content_type)
    assert_not_server_error(response)
    after = snapshot(engine)
    assert list(spool_dir.iterdir()) == [], "an upload was left on disk"

    if response.status_code != 303:
        assert_refused_cleanly(response, before, after)
        if response.status_code == 422:
            assert html(response).select_one("form input[name=csrf_token]") is not None
            assert errors_of(response), "a 422 without a message"
        return
    if response.headers["location"] == f"/c/{view.slug}/report/received":
        assert any(v for v in fields["website"])  # the honeypot
        assert changed(before, after) == {}
        return
    sent_file = file if shape == "file" else None
    check_report_stored(engine, view, fields, sent_file, response, before)
    status = client.get(response.headers["location"])
    assert status.status_code == 200, status.text[:500]


# --- signing in ---------------------------------------------------------------------------

PASSWORD = "kata-sandi-yang-panjang"
EMAIL = "ketua@lembaga.example"


@pytest.fixture
def staff(session: Session) -> User:
    user = accounts.create(session, email=EMAIL, password=PASSWORD, display_name="Ketua")
    session.commit()
    return user


def signed_in_as(client: TestClient) -> object:
    raw = client.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    return _serializer(get_settings()).loads(raw).get("uid")


@given(data=st.data())
def test_login_form_never_fails_and_signs_in_only_the_right_person(
    client: TestClient, engine: sa.Engine, staff: User, data: st.DataObject
) -> None:
    client.cookies.clear()
    between_examples()
    token = csrf_token(client, "/login")
    emails = st.one_of(
        st.sampled_from([EMAIL, EMAIL.upper(), f"  {EMAIL} ", EMAIL + "\x00", "ketua@lembaga"]),
        HOSTILE_CONTACTS,
    )
    passwords = st.one_of(
        st.sampled_from([PASSWORD, PASSWORD.upper(), PASSWORD + " ", PASSWORD + "\x00"]),
        HOSTILE_TEXT,
    )
    targets = st.sampled_from(
        [
            "/dashboard",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "https://evil.example",
            "/mod?x=1",
        ]
    )
    fields = {
        "email": data.draw(mangled(st.just(EMAIL), emails), label="email")
        if data.draw(st.booleans(), label="odd email?")
        else [EMAIL],
        "password": data.draw(mangled(st.just(PASSWORD), passwords), label="password")
        if data.draw(st.booleans(), label="odd password?")
        else [PASSWORD],
        "next": data.draw(
            st.one_of(st.just([]), single(targets), single(HOSTILE_TEXT)), label="next"
        ),
    }
    body, content_type = data.draw(encoded_body(flatten(fields), token), label="body")
    user_before = rows(engine, "user")

    before = snapshot(engine)
    response = post(client, "/login", body, content_type)
    assert_not_server_error(response)
    after = snapshot(engine)
    assert changed(before, after) == {}, "signing in stores no row"

    if response.status_code != 303:
        assert 400 <= response.status_code < 500
        assert signed_in_as(client) is None
        assert rows(engine, "user") == user_before
        if response.status_code == 422:
            alert = html(response).select_one("[role=alert]")
            assert alert is not None and alert.get_text(strip=True), "a 422 without a message"
        return
    # Only the right password (exactly as set) for the account's address opens a session.
    assert signed_in_as(client) == staff.id
    assert fields["password"] and fields["password"][-1][:1000] == PASSWORD
    assert fields["email"][-1][:254].strip().lower() == EMAIL
    location = response.headers["location"]
    assert location.startswith("/") and not location.startswith("//"), location
    assert "\\" not in location and not re.search(r"[\x00-\x1f\x7f]", location), location


# --- what PostgreSQL refuses to store -----------------------------------------------------


def test_a_nul_in_a_slug_or_an_address_is_refused_not_a_crash(
    client: TestClient, engine: sa.Engine, signing_campaign: CampaignView, form_token: str
) -> None:
    """PostgreSQL refuses a NUL in any text it is sent; the examples above may not draw one
    where it matters, so these are asked every time."""
    before = snapshot(engine)
    # An address holding a NUL is refused before any route reads it.
    for path in ("/c/a%00b/sign", "/c/%00/report"):
        response = client.post(path, data={"csrf_token": form_token})
        assert response.status_code == 400, (path, response.status_code)
    response = client.get("/c/a%00b")
    assert response.status_code == 400
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"csrf_token": token, "email": EMAIL + "\x00", "password": PASSWORD}
    )
    assert response.status_code == 422
    assert changed(before, snapshot(engine)) == {}
