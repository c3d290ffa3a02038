"""Where an uploaded picture says it comes from, read from its bytes before re-encoding strips
them: Content Credentials (C2PA), the IPTC digital source type in XMP, EXIF and the traces
image generators leave. Only facts are kept, and an absence of them is no information."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pledge.hoaxes import provenance_text as text
from pledge.hoaxes.headers import TooManyParts, read_header, sniff
from pledge.hoaxes.provenance_c2pa import (
    Credentials,
    CredentialsUnreadable,
    read_credentials,
)

if TYPE_CHECKING:
    from pledge.hoaxes.models import Verdict

# Parts of a file's metadata that may be unreadable.
C2PA, XMP, EXIF, TEXT = "c2pa", "xmp", "exif", "text"
PARTS = (C2PA, XMP, EXIF, TEXT)

# A manifest store past this size is not parsed (real ones hold a few kilobytes, with a
# thumbnail up to a few hundred).
MAX_MANIFEST_BYTES = 2 * 1024 * 1024
MAX_XMP_BYTES = text.MAX_XMP_BYTES
MAX_EXIF_BYTES = 256 * 1024
# One PNG text chunk, expanded, and all of them together; and how many are looked at.
MAX_TEXT_BYTES = 256 * 1024
MAX_TEXT_TOTAL = 1024 * 1024
MAX_TEXT_CHUNKS = 64
MAX_COMMENTS = 16
# Parts of a file walked before giving up: JPEG segments before the first scan, PNG chunks,
# WebP chunks. Real files have a few dozen (a large PNG, about a thousand).
MAX_PARTS = 10_000

_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_XMP_ID = b"http://ns.adobe.com/xap/1.0/\0"
_XMP_EXTENSION_ID = b"http://ns.adobe.com/xmp/extension/\0"
# The description box that opens a C2PA manifest store: "jumd", then the type UUID beginning
# with "c2pa" (ISO 19566-5, C2PA specification 11.1).
_C2PA_STORE = b"jumdc2pa"
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_JPEG_APP0, _JPEG_APP1, _JPEG_APP11, _JPEG_APP13, _JPEG_COM = 0xE0, 0xE1, 0xEB, 0xED, 0xFE
_JPEG_APPS = frozenset(range(0xE0, 0xF0))
_JPEG_END = frozenset({0xD8, 0xD9, 0xDA})  # a second start, the end, or the first scan
_PNG_PIXELS = frozenset({b"IDAT", b"fdAT"})

# Longest sides messaging apps resize photos to, as reported for their current versions:
# WhatsApp 1600 (standard) and 2560 (HD), Telegram 1280 (standard) and 2560 (HD). A JPEG with
# nothing but JFIF at such a size is a hint, never proof: any editor may write one.
_MESSAGING_SIZES = {1600: "WhatsApp", 1280: "Telegram", 2560: "WhatsApp/Telegram"}


# IPTC digital source types (https://cv.iptc.org/newscodes/digitalsourcetype/), most telling of
# a made picture first; ai_source reports the first found.
_SOURCE_RANK = (
    *("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "algorithmicMedia"),
    *("compositeSynthetic", "composite", "algorithmicallyEnhanced", "dataDrivenMedia"),
    *("digitalCreation", "digitalArt", "humanEdits", "minorHumanEdits", "compositeCapture"),
    *("computationalCapture", "screenCapture", "virtualRecording", "negativeFilm"),
    *("positiveFilm", "print", "digitalCapture"),
)
# Made by a model (trained or not) from nothing a camera saw: "BUATAN AI".
_MADE = frozenset({"trainedAlgorithmicMedia", "algorithmicMedia"})
# Real captures combined with generated parts, or with each other into a scene that never was:
# "DIMANIPULASI". Not suggested: edits by hand or by a phone's camera pipeline
# (humanEdits, algorithmicallyEnhanced, compositeCapture: HDR, panoramas), drawings
# (digitalCreation, formerly digitalArt: an illustration is neither a fake photo nor a
# generated one; whether it misleads depends on the claim around it), and captures.
_MANIPULATED = frozenset(
    {"compositeWithTrainedAlgorithmicMedia", "compositeSynthetic", "composite"}
)


class Certainty(StrEnum):
    """How sure the provenance is, strongest first."""

    SIGNED_VALID = "signed_valid"  # Content Credentials whose signature and binding validate
    SIGNED_INVALID = "signed_invalid"  # Content Credentials that fail: altered after signing
    UNSIGNED = "unsigned"  # only unsigned metadata (XMP, EXIF, PNG text, comments)
    NOTHING = "nothing"  # no signal at all (stripped, or never had any): no information
    UNREADABLE = "unreadable"  # something was there but could not be read within the limits


@dataclass(frozen=True, slots=True)
class Provenance:
    credentials: Credentials | None = None
    unreadable: tuple[str, ...] = ()  # parts that could not be read: of PARTS
    source_type: str = ""  # IPTC term from XMP, e.g. "trainedAlgorithmicMedia"
    creator_tool: str = ""  # XMP CreatorTool
    software: str = ""
    make: str = ""
    model: str = ""
    generator: str = ""  # a known generator named by unsigned metadata
    prompt: str = ""
    comment: str = ""
    stripped: bool = False  # no EXIF, XMP, Content Credentials, text or comment at all
    messaging_app: str = ""  # a hint that the file was re-encoded by a messaging app

    @property
    def certainty(self) -> Certainty:
        if self.credentials is not None:
            valid = self.credentials.signature_valid and self.credentials.binding_valid
            return Certainty.SIGNED_VALID if valid else Certainty.SIGNED_INVALID
        # Credentials that cannot be read outweigh unsigned metadata: the strongest statement
        # the file made is the one in doubt.
        if C2PA in self.unreadable:
            return Certainty.UNREADABLE
        if any(getattr(self, name) for name in _FACTS):
            return Certainty.UNSIGNED
        return Certainty.UNREADABLE if self.unreadable else Certainty.NOTHING

    @property
    def ai_source(self) -> str:
        """The most telling digital source type: the credentials' actions first, then XMP."""
        return self._signed_source() or self.source_type

    def _signed_source(self) -> str:
        actions = self.credentials.actions if self.credentials is not None else ()
        return min((term for _action, term in actions if term), key=_rank, default="")

    def suggested_label(self) -> Verdict | None:
        """The verdict the metadata points to, for a moderator to confirm; None without basis."""
        # Imported here: the models pull the database layer into the decoder process otherwise.
        from pledge.hoaxes.models import Verdict

        source = self.ai_source
        if source in _MADE:
            return Verdict.BUATAN_AI
        if source in _MANIPULATED:
            return Verdict.DIMANIPULASI
        # Unsigned traces do not outweigh valid credentials that say otherwise.
        signed = self.certainty is Certainty.SIGNED_VALID and self._signed_source()
        if self.generator and not signed:
            return Verdict.BUATAN_AI
        return None

    def to_json(self) -> str:
        """Compact and stable (sorted keys, default values left out): "{}" for no facts."""
        data: dict[str, Any] = {name: getattr(self, name) for name in _TEXTS if getattr(self, name)}
        if self.unreadable:
            data["unreadable"] = list(self.unreadable)
        if self.stripped:
            data["stripped"] = True
        if self.credentials is not None:
            data["credentials"] = asdict(self.credentials)  # actions: lists of two strings
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, value: str) -> Provenance:
        """What to_json wrote; Provenance() for "" or anything else that is not."""
        try:
            data = json.loads(value)
        except (TypeError, ValueError, RecursionError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        unreadable = data.get("unreadable")
        found = cls(
            credentials=_credentials_json(data.get("credentials")),
            unreadable=tuple(p for p in unreadable if p in PARTS)
            if isinstance(unreadable, list)
            else (),
            stripped=data.get("stripped") is True,
        )
        texts: dict[str, Any] = {name: _string(data.get(name)) for name in _TEXTS}
        return replace(found, **texts)


_FACTS = (
    "source_type",
    "creator_tool",
    "software",
    "make",
    "model",
    "generator",
    "prompt",
    "comment",
)
_TEXTS = (*_FACTS, "messaging_app")


def _rank(term: str) -> int:
    return _SOURCE_RANK.index(term) if term in _SOURCE_RANK else len(_SOURCE_RANK)


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""


def _credentials_json(data: object) -> Credentials | None:
    if not isinstance(data, dict):
        return None
    actions = data.get("actions")
    return Credentials(
        generator=_string(data.get("generator")),
        signer=_string(data.get("signer")),
        signature_valid=data.get("signature_valid") is True,
        binding_valid=data.get("binding_valid") is True,
        trusted=data.get("trusted") is True,
        actions=tuple(
            (a[0], a[1])
            for a in (actions if isinstance(actions, list) else [])
            if isinstance(a, list) and len(a) == 2 and all(isinstance(v, str) for v in a)
        ),
    )


# --- reading -----------------------------------------------------------------------------------


def read(raw: bytes) -> Provenance:
    """The provenance of an upload (JPEG, PNG or WebP); never raises. Parts that cannot be read
    within the limits are named in `unreadable`."""
    try:
        return _read(raw)
    except Exception:
        # A safety net: a fault here must neither refuse an upload nor pass for "no metadata".
        return Provenance(unreadable=PARTS)


def _read(raw: bytes) -> Provenance:
    kind = sniff(raw)
    if kind is None:
        return Provenance()
    found = _Found()
    _WALKERS[kind](raw, found)
    xmp = _xmp_facts(found)
    credentials = _credentials(raw, kind, found, remote=bool(xmp.get("remote_manifest")))
    exif = _exif_facts(found)
    tools = [xmp.get("creator_tool", ""), xmp.get("credit", "")]
    traced = text.traces(found.texts, found.comments, exif, tools)
    stripped = not found.metadata
    return Provenance(
        credentials=credentials,
        unreadable=tuple(part for part in PARTS if part in found.unreadable),
        source_type=text.source_term(xmp.get("source_type", "")),
        creator_tool=text.clean(xmp.get("creator_tool", "")),
        software=traced.software,
        make=traced.make,
        model=traced.model,
        generator=traced.generator,
        prompt=traced.prompt,
        comment=traced.comment,
        stripped=stripped,
        messaging_app=_messaging_app(raw, kind, found) if stripped else "",
    )


@dataclass(slots=True)
class _Found:
    """The metadata parts of a file, as its container holds them."""

    exif: list[bytes] = field(default_factory=list)
    xmp: list[bytes] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)
    manifest: bool = False  # an embedded C2PA manifest store
    manifest_bytes: int = 0
    metadata: bool = False  # any metadata part at all
    other_segments: bool = False  # JPEG: an application segment or comment besides JFIF
    text_bytes: int = 0
    text_chunks: int = 0

    def add(self, part: str, data: bytes, target: list[bytes], *, cut: bool = False) -> None:
        self.metadata = True
        if cut:
            self.unreadable.add(part)
        elif not target:  # the first of its kind is the one read
            target.append(data)

    def add_text(self, kind: bytes, data: bytes) -> None:
        """A PNG text chunk: XMP, or a keyword and its value."""
        self.metadata = True
        is_xmp = data.partition(b"\0")[0] == text.XMP_KEYWORD.encode()
        part = XMP if is_xmp else TEXT
        self.text_chunks += 1  # counted before reading: a damaged chunk costs its expansion too
        if self.text_chunks > MAX_TEXT_CHUNKS or self.text_bytes > MAX_TEXT_TOTAL:
            self.unreadable.add(part)
            return
        try:
            name, value, utf8 = text.png_text(
                kind, data, MAX_XMP_BYTES if is_xmp else MAX_TEXT_BYTES
            )
        except text.Unreadable:
            self.unreadable.add(part)
            return
        self.text_bytes += len(value)
        if is_xmp:
            self.xmp.append(value)
        else:
            decoded = value.decode("utf-8", "replace") if utf8 else text.lenient(value)
            self.texts.append((name, decoded))


def _jpeg(raw: bytes, found: _Found) -> None:
    """The segments before the first scan, where encoders put their metadata."""
    position = 2
    for _ in range(MAX_PARTS):
        if position + 4 > len(raw) or raw[position] != 0xFF:
            return
        marker = raw[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _JPEG_STANDALONE:
            position += 2
            continue
        length = int.from_bytes(raw[position + 2 : position + 4], "big")
        if marker in _JPEG_END or length < 2:
            return
        end = position + 2 + length
        _jpeg_segment(marker, raw[position + 4 : end], found, cut=end > len(raw))
        position = end


def _jpeg_segment(marker: int, segment: bytes, found: _Found, *, cut: bool) -> None:
    if marker == _JPEG_APP0 and segment.startswith(b"JFIF\0"):
        return
    if marker in _JPEG_APPS or marker == _JPEG_COM:
        found.other_segments = True
    if marker == _JPEG_APP1:
        _app1(segment, found, cut=cut)
    elif marker == _JPEG_APP11 and segment.startswith(b"JP"):
        # JUMBF in segments (ISO 19566-5): "JP", instance, sequence number, then the box; the
        # first segment of a C2PA store holds its description box.
        found.metadata = True
        found.manifest = found.manifest or _C2PA_STORE in segment[:64]
        found.manifest_bytes += len(segment)
        if cut:
            found.unreadable.add(C2PA)
    elif marker == _JPEG_COM:
        found.metadata = True
        if cut:
            found.unreadable.add(TEXT)
        elif len(found.comments) < MAX_COMMENTS:
            found.comments.append(text.lenient(segment))
    elif marker == _JPEG_APP13:
        found.metadata = True  # Photoshop's resources (IPTC IIM): not read


def _app1(segment: bytes, found: _Found, *, cut: bool) -> None:
    if segment.startswith(b"Exif\0\0"):
        found.add(EXIF, segment, found.exif, cut=cut)
    elif segment.startswith(_XMP_ID):
        found.add(XMP, segment[len(_XMP_ID) :], found.xmp, cut=cut)
    elif segment.startswith(_XMP_EXTENSION_ID):
        found.metadata = True  # the rest of a large packet: the main packet says what matters


def _png(raw: bytes, found: _Found) -> None:
    position = 8
    for _ in range(MAX_PARTS):
        if position + 8 > len(raw):
            return
        length = int.from_bytes(raw[position : position + 4], "big")
        kind = raw[position + 4 : position + 8]
        cut = position + 8 + length > len(raw)
        # Sliced only when read: the pixel data is most of the file.
        data = b"" if kind in _PNG_PIXELS or cut else raw[position + 8 : position + 8 + length]
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            if cut:
                found.metadata = True
                found.unreadable.add(TEXT)
            else:
                found.add_text(kind, data)
        elif kind == b"eXIf":
            found.add(EXIF, data, found.exif, cut=cut)
        elif kind == b"caBX":
            _store_chunk(length, cut, found)
        if kind == b"IEND" or cut:
            return
        position += 12 + length


def _webp(raw: bytes, found: _Found) -> None:
    position = 12
    for _ in range(MAX_PARTS):
        if position + 8 > len(raw):
            return
        kind = raw[position : position + 4]
        length = int.from_bytes(raw[position + 4 : position + 8], "little")
        cut = position + 8 + length > len(raw)
        data = raw[position + 8 : position + 8 + length] if kind in (b"EXIF", b"XMP ") else b""
        if kind == b"EXIF":
            found.add(EXIF, data, found.exif, cut=cut)
        elif kind == b"XMP ":
            found.add(XMP, data, found.xmp, cut=cut)
        elif kind == b"C2PA":
            _store_chunk(length, cut, found)
        position += 8 + length + (length & 1)


def _store_chunk(length: int, cut: bool, found: _Found) -> None:
    """A chunk that holds a whole C2PA manifest store (PNG caBX, WebP C2PA)."""
    found.metadata = found.manifest = True
    found.manifest_bytes += length
    if cut:
        found.unreadable.add(C2PA)


_WALKERS: dict[str, Callable[[bytes, _Found], None]] = {"JPEG": _jpeg, "PNG": _png, "WEBP": _webp}


def _messaging_app(raw: bytes, kind: str, found: _Found) -> str:
    if kind != "JPEG" or found.other_segments:
        return ""
    try:
        header = read_header(kind, raw, max_parts=MAX_PARTS)
    except TooManyParts:
        return ""
    if header is None:
        return ""
    return _MESSAGING_SIZES.get(max(header.width, header.height), "")


# --- EXIF and XMP ------------------------------------------------------------------------------


def _exif_facts(found: _Found) -> dict[str, str]:
    if not found.exif:
        return {}
    data = found.exif[0]
    try:
        if len(data) > MAX_EXIF_BYTES:
            raise text.Unreadable("EXIF past the limit")
        return text.exif_tags(data)
    except text.Unreadable:
        found.unreadable.add(EXIF)
        return {}


def _xmp_facts(found: _Found) -> dict[str, str]:
    if not found.xmp:
        return {}
    try:
        return text.read_xmp(found.xmp[0])
    except text.Unreadable:
        found.unreadable.add(XMP)
        return {}


# --- Content Credentials -----------------------------------------------------------------------


def _credentials(raw: bytes, kind: str, found: _Found, *, remote: bool) -> Credentials | None:
    if not found.manifest:
        if remote:  # a manifest kept elsewhere: never fetched
            found.unreadable.add(C2PA)
        return None
    if found.manifest_bytes > MAX_MANIFEST_BYTES or C2PA in found.unreadable:
        found.unreadable.add(C2PA)
        return None
    try:
        return read_credentials(raw, _MIME[kind])
    except CredentialsUnreadable:
        found.unreadable.add(C2PA)
        return None
