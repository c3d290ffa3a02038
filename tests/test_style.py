"""The site speaks one voice: the glossary of docs/style-id.md, held on every message.

The tables below mirror the guide's "ruled out" column. A failure names each message that
uses a ruled-out word; fix the message (or, if the guide changes, change both)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from pledge import demo, demo_hoaxes

ROOT = Path(__file__).resolve().parent.parent
POT = ROOT / "pledge" / "translations" / "messages.pot"
PO = ROOT / "pledge" / "translations" / "id" / "LC_MESSAGES" / "messages.po"

ANY_CASE = re.IGNORECASE
# Indonesian: (pattern, what the guide says instead).
INDONESIAN_RULED_OUT: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bAnda\b", ANY_CASE), "speak to the reader as “kamu”"),
    (re.compile(r"\bSaudara\b", ANY_CASE), "speak to the reader as “kamu”"),
    (re.compile(r"\btautan(nya|mu|ku)?\b", ANY_CASE), "“link”"),
    (re.compile(r"\bpranala\b", ANY_CASE), "“link”"),
    (re.compile(r"\blinkmu\b", ANY_CASE), "“link-mu”"),
    (re.compile(r"\bemailmu\b", ANY_CASE), "“email-mu”"),
    (re.compile(r"\bsurel\b", ANY_CASE), "“email”"),
    (re.compile(r"\be-mail\b", ANY_CASE), "“email”"),
    (re.compile(r"tayang", ANY_CASE), "“terbitkan”, “diterbitkan”"),
    (re.compile(r"\b(di)?publikasikan(nya)?\b", ANY_CASE), "“terbitkan”, “diterbitkan”"),
    (re.compile(r"\bikrar", ANY_CASE), "“janji” for a pledge"),
    (
        re.compile(r"menandatangan", ANY_CASE),
        "“ikut berjanji” (supporters) or “tanda tangan” (staff)",
    ),
    (re.compile(r"\bpenanda ?tangan\b", ANY_CASE), "“pendukung”"),
    (re.compile(r"\bteken\b", ANY_CASE), "“ikut berjanji”"),
    (re.compile(r"\bpetisi\b", ANY_CASE), "“kampanye”"),
    (re.compile(r"\bhoax", ANY_CASE), "“hoaks”"),
    (re.compile(r"\bperiksa fakta\b|\bpengecekan fakta\b", ANY_CASE), "“cek fakta”"),
    (re.compile(r"\bvonis\b", ANY_CASE), "“putusan”"),
    (re.compile(r"\bkode pelacak(an)?\b", ANY_CASE), "“kode lacak”"),
    (re.compile(r"\bdipegang\b", ANY_CASE), "“diklaim” for a case a moderator holds"),
    (re.compile(r"pemberitahuan privasi", ANY_CASE), "“Kebijakan Privasi”"),
    (re.compile(r"\bkebijakan privasi\b"), "“Kebijakan Privasi”, capitalised as the page's name"),
    (re.compile(r"peristiwa langsung|siaran langsung", ANY_CASE), "“pembaruan langsung”"),
    (
        re.compile(r"\bnomor ponsel\b|\btelepon seluler\b", ANY_CASE),
        "“nomor HP” or “nomor WhatsApp”",
    ),
    (re.compile(r"\bdashboard\b", ANY_CASE), "“dasbor”"),
    (re.compile(r"\bscreenshot\b", ANY_CASE), "“tangkapan layar”"),
    (re.compile(r"\blog ?(in|out)\b", ANY_CASE), "“masuk” / “keluar”"),
    (re.compile(r"\bsilakan\b|\bmohon\b|\bapabila\b|\bterlebih dahulu\b", ANY_CASE), "plain words"),
    # Ordinals are “ke-86”; a # stays only before the number of a case or a report.
    (re.compile(r"#\s*%\((?!id\)|into\)|report\))"), "ordinals as “ke-%(n)s”"),
    (re.compile(r"#\d"), "ordinals as “ke-86”"),
    (re.compile(r"\b\d{1,3},\d{3}\b|\b\d{4,5}\s+(karakter|orang|pendukung)\b"), "“12.345”"),
]
# Dates and times as people read them. An example of what to type in a field keeps the
# format the field reads (“for example 2029-02-14 23:59”): a match that the English msgid
# holds word for word is such an example.
READ_FORMATS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b\d{4}-\d{2}-\d{2}\b"), "dates as “6 Desember 2026”"),
    (re.compile(r"\b\d{1,2}:\d{2}\b"), "times as “10.36 WIB”"),
]
SAYA = re.compile(r"\bsaya\b", ANY_CASE)
# The pledge statements themselves stay “Saya …”: the supporter says them. In the catalogue
# that is only the heading that opens them and the example of one in the campaign form.
PLEDGE_STATEMENTS = {
    "I pledge:",
    "What the supporter promises, in the first person, for example “I reject money "
    "politics”. At most 200 characters.",
}

ENGLISH_RULED_OUT: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\be-mail\b", ANY_CASE), "“email”"),
    (re.compile(r"\bclick here\b|\bclick this\b", ANY_CASE), "name where the link goes"),
    (re.compile(r"\borganiz", ANY_CASE), "British spelling: “organisation”"),
    (re.compile(r"\b(color|behavior|favor|honor|center|canceled|license)\b", ANY_CASE), "British"),
    (re.compile(r"\b(recogni|apologi|reali|minimi|summari)z", ANY_CASE), "British spelling: -ise"),
    (re.compile(r"\blog ?in\b|\blog ?out\b", ANY_CASE), "“sign in” / “sign out”"),
    (re.compile(r"\bhoaxs\b", ANY_CASE), "“hoaxes”"),
]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=locale)


def _texts(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else [text for text in value if text]


def _shown(msgid: str | tuple[str, ...]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


def _offences(text: str, rules: list[tuple[re.Pattern[str], str]]) -> Iterator[str]:
    for pattern, instead in rules:
        found = pattern.search(text)
        if found:
            yield f"“{found.group(0)}” (use {instead})"


def _indonesian_offences(text: str, *, statement: bool, source: str = "") -> list[str]:
    found = list(_offences(text, INDONESIAN_RULED_OUT))
    for pattern, instead in READ_FORMATS:
        found += [
            f"“{match}” (use {instead})"
            for match in (m.group(0) for m in pattern.finditer(text))
            if match not in source
        ]
    if not statement and SAYA.search(text):
        found.append("“saya” (the site says “kamu”, the supporter “aku”)")
    return found


def test_the_indonesian_catalogue_uses_the_glossary() -> None:
    problems = []
    for message in _read(PO, "id"):
        if not message.id:
            continue
        statement = _shown(message.id) in PLEDGE_STATEMENTS
        source = " ".join(_texts(message.id))
        for text in _texts(message.string):
            for offence in _indonesian_offences(text, statement=statement, source=source):
                problems.append(f"{_shown(message.id)!r} → {text!r}: {offence}")
    assert not problems, "\n".join(problems)


def test_the_english_messages_follow_the_english_rules() -> None:
    problems = []
    for message in _read(POT):
        for text in _texts(message.id):
            problems += [f"{text!r}: {offence}" for offence in _offences(text, ENGLISH_RULED_OUT)]
    assert not problems, "\n".join(problems)


def test_the_rules_catch_what_users_reported() -> None:
    """The table is not empty words: each complaint is caught, each good sentence passes."""
    reported = [
        "Anda sudah mendukung kampanye ini.",
        "Salin tautan ini.",
        "Kamu pendukung #86.",
        "Kamu pendukung #%(number)s.",
        "Tayangkan kampanye",
        "Peristiwa langsung",
        "Baca pemberitahuan privasi",
        "0 teman sudah menandatangani lewat tautan ini.",
        "Dikirim 2026-12-06 pukul 10:36",
        "Saya setuju dukungan saya disimpan",
        "Tambahkan ikrar barumu",
    ]
    for text in reported:
        assert _indonesian_offences(text, statement=False), text
    good = [
        "Kamu pendukung ke-86.",
        "Kasus #%(id)s digabungkan ke kasus #%(into)s",
        "Belum ada teman yang ikut lewat link-mu.",
        "Terbitkan kampanye",
        "6 Desember 2026, 10.36 WIB",
        "Baca Kebijakan Privasi",
        "Aku setuju dukunganku disimpan sesuai Kebijakan Privasi",
    ]
    for text in good:
        assert not _indonesian_offences(text, statement=False), text
    assert not _indonesian_offences("Saya menolak politik uang.", statement=True)
    # What to type in a field keeps the field's format; a date to read does not.
    example = "misalnya 2029-02-14 23:59"
    assert not _indonesian_offences(example, statement=False, source="for example 2029-02-14 23:59")
    assert _indonesian_offences(example, statement=False, source="on %(date)s")


def test_every_message_has_an_indonesian_text_with_its_placeholders_and_markup() -> None:
    problems = []
    for message in _read(PO, "id"):
        if not message.id:
            continue
        source = _texts(message.id)
        # Indonesian has one plural form: it reads like the English plural, the last msgid.
        wanted = sorted(PLACEHOLDER.findall(source[-1]))
        tags = sorted(TAG.findall(source[-1]))
        forms = _texts_of_form(message.string)
        if not all(forms):
            problems.append(f"{source[0]!r}: no Indonesian text")
            continue
        for text in _texts(message.string):
            if sorted(PLACEHOLDER.findall(text)) != wanted:
                problems.append(f"{source[0]!r} → {text!r}: placeholders {wanted}")
            if sorted(TAG.findall(text)) != tags:
                problems.append(f"{source[0]!r} → {text!r}: markup {tags}")
    assert not problems, "\n".join(problems)


def _texts_of_form(value: str | tuple[str, ...] | list[str] | None) -> list[str | None]:
    if value is None:
        return [None]
    return [value] if isinstance(value, str) else list(value)


def _demo_texts() -> Iterator[tuple[str, str, bool]]:
    """Every Indonesian text the demo shows: (where, text, is a pledge statement)."""
    for slug, text in demo.PLEDGES:
        yield f"pledge {slug}", text, True
    yield "campaign title", demo.CAMPAIGN_TITLE, False
    yield "campaign summary", demo.CAMPAIGN_SUMMARY, False
    yield "campaign body", demo.BODY, False
    for case in demo_hoaxes.CASES:
        for name in ("description", "label", "claim", "correction", "explanation"):
            yield f"case {case.key} {name}", getattr(case, name), False
        yield f"case {case.key} claim_author", case.claim_author, False
        yield f"case {case.key} question", case.question, False
        if case.post is not None:
            yield f"case {case.key} post", case.post.caption, False
    for decision, reason in demo_hoaxes.REASONS.items():
        yield f"reason {decision}", reason, False
    yield "correction note", demo_hoaxes.CORRECTION_NOTE, False


def test_the_demo_speaks_the_same_voice() -> None:
    problems = []
    texts = list(_demo_texts())
    assert len(texts) > 40
    for where, text, statement in texts:
        for offence in _indonesian_offences(text, statement=statement):
            problems.append(f"{where}: {text!r}: {offence}")
    assert not problems, "\n".join(problems)


def test_the_demo_pledges_are_statements_in_the_first_person() -> None:
    for _slug, text in demo.PLEDGES:
        assert text.startswith("Saya "), text
