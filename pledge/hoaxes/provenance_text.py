"""Unsigned traces of where a picture comes from: XMP, PNG text chunks, EXIF tags, comments,
and the generators and prompts they name. Every function reads bounded input and raises only
Unreadable."""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from xml.parsers import expat

_Order = Literal["little", "big"]

PROMPT_MAX = 1000
COMMENT_MAX = 300
FIELD_MAX = 200
# A PNG keyword is 1 to 79 bytes (PNG specification, 11.3.4).
_KEYWORD_MAX = 79
XMP_KEYWORD = "XML:com.adobe.xmp"
MAX_XMP_BYTES = 512 * 1024
# Real packets nest about a dozen elements (Photoshop's history and ingredients included).
MAX_XMP_DEPTH = 100

# Control characters, and the bidirectional overrides and isolates that could make a moderator
# read a value in another order than it is written.
_HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

_RDF_RESOURCE = "http://www.w3.org/1999/02/22-rdf-syntax-ns# resource"
_XMP_PROPERTIES = {
    "http://iptc.org/std/Iptc4xmpExt/2008-02-29/ DigitalSourceType": "source_type",
    "http://ns.adobe.com/xap/1.0/ CreatorTool": "creator_tool",
    # Read only to recognise a generator ("Made with Google AI"), never shown.
    "http://ns.adobe.com/photoshop/1.0/ Credit": "credit",
    # Where a manifest stored outside the file is (C2PA specification 11.4).
    "http://purl.org/dc/terms/ provenance": "remote_manifest",
}
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# EXIF (TIFF) tags read, and where they are: IFD0, then the Exif IFD it points to.
_MAKE, _MODEL, _SOFTWARE, _EXIF_IFD = 0x010F, 0x0110, 0x0131, 0x8769
_USER_COMMENT = 0x9286
_BYTE, _ASCII, _UNDEFINED, _LONG = 1, 2, 7, 4
_WANTED = frozenset({_MAKE, _MODEL, _SOFTWARE, _EXIF_IFD, _USER_COMMENT})
# Real directories hold a few dozen entries: more is a file built to make us loop.
_IFD_ENTRIES_MAX = 512
_TIFF_TYPE_SIZES = {_BYTE: 1, _ASCII: 1, _UNDEFINED: 1, _LONG: 4}

# Known generators, by marker, matched case-insensitively as whole words in the text values a
# tool writes (software, creator tool, credit line, comments, PNG text). The first that matches
# names it: specific front ends before the models they run ("NovelAI" files also say "Stable
# Diffusion"). Markers are narrow on purpose: "imagen" alone is Spanish for "picture".
_GENERATORS: tuple[tuple[str, str], ...] = (
    ("Stable Diffusion (AUTOMATIC1111)", r"automatic1111|stable[ -]diffusion[ -]web[ -]?ui"),
    ("ComfyUI", r"comfyui"),
    ("InvokeAI", r"invoke[ -]?ai"),
    ("NovelAI", r"novel[ -]?ai"),
    ("Fooocus", r"fooocus"),
    ("Midjourney", r"midjourney"),
    ("DALL·E", r"dall[·\-_ ]?e(?:[ -]?[23])?"),
    ("OpenAI", r"openai|chatgpt|gpt-4o|gpt-image-\d"),
    ("Adobe Firefly", r"adobe[ _]firefly|firefly[ _]image(?:[ _]\d)?"),
    (
        "Google AI (Imagen/Gemini)",
        r"made with google ai|edited with google ai|google imagen|imagen \d|google gemini|gemini ai",
    ),
    ("Meta AI", r"meta ai|imagined with ai"),
    ("Grok", r"grok(?: \d)?|xai aurora"),
    ("Ideogram", r"ideogram"),
    ("Leonardo.Ai", r"leonardo\.ai|leonardo ai"),
    ("Stable Diffusion", r"stable[ _-]?diffusion|stability ai|sdxl"),
)
_GENERATOR_PATTERNS = tuple(
    (name, re.compile(rf"(?<!\w)(?:{marker})(?!\w)", re.IGNORECASE)) for name, marker in _GENERATORS
)
# PNG text keys whose values name the tool that wrote the file (matched against the table).
_TOOL_KEYS = ("Software", "Source", "Generator", "Title", "Author", "Description", "Comment")
# AUTOMATIC1111 writes the prompt, then these lines.
_A1111_TAIL = re.compile(r"^(?:Negative prompt:|Steps: )", re.MULTILINE)
# Midjourney's Description: the prompt, its parameters ("--ar 3:2 --v 6"), then the job.
_MIDJOURNEY_TAIL = re.compile(r"\s--[a-z]|\bJob ID:", re.IGNORECASE)
# InvokeAI's "Dream" chunk: the prompt in quotes, then its switches.
_DREAM = re.compile(r'^\s*"(.*?)"', re.DOTALL)


class Unreadable(ValueError):
    """A part of the file that cannot be read within the limits."""


def clean(value: str, limit: int = FIELD_MAX) -> str:
    """One line of visible text, at most `limit` characters."""
    value = _HIDDEN.sub("", value[: limit * 8])
    return " ".join(value.split())[:limit]


def source_term(value: str) -> str:
    """The term of an IPTC digital source type, from its URI or alone."""
    return clean(value.strip().rstrip("/").rpartition("/")[2], 100)


def lenient(data: bytes) -> str:
    """Text from bytes: UTF-8, as most tools write it, or Latin-1, as PNG and EXIF define it."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def inflate(data: bytes, cap: int) -> bytes:
    """zlib data expanded, refused past `cap` bytes without expanding further."""
    try:
        out = zlib.decompressobj().decompress(data, cap + 1)
    except zlib.error as error:
        raise Unreadable("damaged compressed text") from error
    if len(out) > cap:
        raise Unreadable("compressed text expands past the limit")
    return out


def png_text(kind: bytes, data: bytes, cap: int) -> tuple[str, bytes, bool]:
    """A tEXt, zTXt or iTXt chunk: its keyword, its value's bytes (expanded, at most `cap`), and
    whether the value is UTF-8 by definition (iTXt)."""
    keyword, separator, rest = data.partition(b"\0")
    if not separator or not 1 <= len(keyword) <= _KEYWORD_MAX:
        raise Unreadable("text chunk without a keyword")
    name = keyword.decode("latin-1")
    if kind == b"tEXt":
        value, utf8 = rest, False
    elif kind == b"zTXt":
        if not rest or rest[0] != 0:
            raise Unreadable("unknown compression")
        value, utf8 = inflate(rest[1:], cap), False
    else:
        if len(rest) < 2:
            raise Unreadable("short iTXt chunk")
        _language, _, after = rest[2:].partition(b"\0")
        _translated, _, value = after.partition(b"\0")
        value = inflate(value, cap) if rest[0] else value
        utf8 = True
    if len(value) > cap:
        raise Unreadable("text past the limit")
    return name, value, utf8


# --- XMP -------------------------------------------------------------------------------------


def read_xmp(packet: bytes) -> dict[str, str]:
    """The properties of _XMP_PROPERTIES an XMP packet holds, by their short names. Refused
    (Unreadable): packets past MAX_XMP_BYTES or MAX_XMP_DEPTH, any DTD or entity."""
    if len(packet) > MAX_XMP_BYTES:
        raise Unreadable("XMP past the limit")
    if packet[:2] in (b"\xff\xfe", b"\xfe\xff"):
        document = packet.decode("utf-16", "replace")
    else:
        document = packet.decode("utf-8", "replace")
    # A DTD is the door to entity expansion; XMP never has one.
    if "<!DOCTYPE" in document or "<!ENTITY" in document:
        raise Unreadable("XMP with a DTD")
    handler = _XmpHandler()
    parser = expat.ParserCreate(encoding="UTF-8", namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = handler.refuse
    parser.EntityDeclHandler = handler.refuse
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.characters
    try:
        parser.Parse(_XML_INVALID.sub("", document).encode("utf-8"), True)
    except expat.ExpatError as error:
        raise Unreadable("malformed XMP") from error
    return handler.found


class _XmpHandler:
    """Expat handlers: the properties wanted, in attribute or element form."""

    def __init__(self) -> None:
        self.found: dict[str, str] = {}
        self.depth = 0
        self.open: str | None = None  # the property element whose text is being read
        self.open_depth = 0
        self.text: list[str] = []
        self.text_size = 0

    def refuse(self, *_args: object) -> None:
        raise Unreadable("XMP with a DTD")

    def start(self, name: str, attributes: dict[str, str]) -> None:
        self.depth += 1
        if self.depth > MAX_XMP_DEPTH:
            raise Unreadable("XMP nested too deep")
        for key, value in attributes.items():
            if key in _XMP_PROPERTIES:
                self.note(key, value)
        if self.open is None and name in _XMP_PROPERTIES:
            if _RDF_RESOURCE in attributes:
                self.note(name, attributes[_RDF_RESOURCE])
            else:
                self.open, self.open_depth, self.text, self.text_size = name, self.depth, [], 0

    def end(self, name: str) -> None:
        if self.open == name and self.depth == self.open_depth:
            self.note(name, "".join(self.text))
            self.open = None
        self.depth -= 1

    def characters(self, data: str) -> None:
        if self.open is not None and self.text_size < FIELD_MAX * 8:
            self.text.append(data)
            self.text_size += len(data)

    def note(self, name: str, value: str) -> None:
        if value.strip():
            self.found.setdefault(_XMP_PROPERTIES[name], value[: FIELD_MAX * 8])


# --- EXIF ------------------------------------------------------------------------------------


def exif_tags(data: bytes) -> dict[str, str]:
    """Software, Make, Model and the Exif UserComment of a TIFF-structured EXIF block (with or
    without the "Exif\\0\\0" prefix of JPEG and WebP). Only IFD0 and the Exif IFD are read."""
    if data.startswith(b"Exif\0\0"):
        data = data[6:]
    order: _Order | None = {b"II": "little", b"MM": "big"}.get(data[:2])  # type: ignore[assignment]
    if order is None or len(data) < 8 or _int(data, 2, 2, order) != 42:
        raise Unreadable("not a TIFF header")
    entries = _ifd(data, _int(data, 4, 4, order), order)
    found = {
        name: clean(lenient(entries[tag]).rstrip("\0"))
        for name, tag in (("make", _MAKE), ("model", _MODEL), ("software", _SOFTWARE))
        if tag in entries
    }
    pointer = entries.get(_EXIF_IFD)
    if pointer is not None and len(pointer) == 4:
        comment = _ifd(data, _int(pointer, 0, 4, order), order).get(_USER_COMMENT)
        if comment is not None:
            found["user_comment"] = _user_comment(comment)
    return found


def _int(data: bytes, offset: int, size: int, order: _Order) -> int:
    return int.from_bytes(data[offset : offset + size], order)


def _ifd(data: bytes, offset: int, order: _Order) -> dict[int, bytes]:
    """The raw values of the entries read (_WANTED) of the directory at `offset`."""
    if not 8 <= offset <= len(data) - 2:
        raise Unreadable("directory outside the block")
    count = _int(data, offset, 2, order)
    if count > _IFD_ENTRIES_MAX or offset + 2 + 12 * count > len(data):
        raise Unreadable("directory past the block")
    values: dict[int, bytes] = {}
    for index in range(count):
        entry = offset + 2 + 12 * index
        tag, kind = _int(data, entry, 2, order), _int(data, entry + 2, 2, order)
        if tag not in _WANTED or kind not in _TIFF_TYPE_SIZES:
            continue
        size = _TIFF_TYPE_SIZES[kind] * _int(data, entry + 4, 4, order)
        start = entry + 8 if size <= 4 else _int(data, entry + 8, 4, order)
        if start + size > len(data):
            raise Unreadable("value outside the block")
        values[tag] = data[start : start + size]
    return values


def _user_comment(value: bytes) -> str:
    """An EXIF UserComment: eight bytes naming its character code, then the text."""
    code, text = value[:8], value[8:]
    if code.startswith(b"UNICODE"):
        if text[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return text.decode("utf-16", "replace").rstrip("\0")
        # Tools disagree on the byte order (the block's, or always big-endian as piexif, which
        # AUTOMATIC1111 uses): Latin text has its zero bytes first in big-endian.
        head = text[:64]
        big = head[0::2].count(0) >= head[1::2].count(0)
        return text.decode("utf-16-be" if big else "utf-16-le", "replace").rstrip("\0")
    return lenient(text).rstrip("\0")


# --- generators and prompts ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Traces:
    generator: str = ""
    prompt: str = ""
    software: str = ""
    make: str = ""
    model: str = ""
    comment: str = ""


def traces(
    texts: Sequence[tuple[str, str]],
    comments: Sequence[str],
    exif: dict[str, str],
    tools: Sequence[str],
) -> Traces:
    """What the unsigned metadata says: `texts` are PNG text chunks (keyword, value), `comments`
    JPEG comments, `exif` the tags of exif_tags, `tools` other values naming a tool (XMP)."""
    values: dict[str, str] = {}
    for key, value in texts:
        values.setdefault(key, value)
    if "parameters" not in values and "Steps: " in exif.get("user_comment", ""):
        values["parameters"] = exif["user_comment"]  # AUTOMATIC1111's JPEG and WebP
    generator, prompt = _structured(values)
    if not generator:
        named = [exif.get("software", ""), *tools, *comments]
        generator = generator_named([*named, *(values.get(key, "") for key in _TOOL_KEYS)])
    said = [*comments, values.get("Comment", ""), values.get("Description", "")]
    # NovelAI's Comment is its settings as JSON, not something a person wrote.
    comment = next((c for c in said if c.strip() and not c.lstrip().startswith("{")), "")
    return Traces(
        generator=generator,
        prompt=clean(prompt, PROMPT_MAX),
        software=exif.get("software") or clean(values.get("Software", "")),
        make=exif.get("make") or clean(values.get("Make", "")),
        model=exif.get("model") or clean(values.get("Model", "")),
        comment=clean(comment, COMMENT_MAX),
    )


def generator_named(values: Sequence[str]) -> str:
    """The first known generator a value names, or ""."""
    for name, pattern in _GENERATOR_PATTERNS:
        if any(pattern.search(value[:4096]) for value in values if value):
            return name
    return ""


def _structured(values: dict[str, str]) -> tuple[str, str]:
    """The generator and prompt of the text chunks a known front end writes."""
    readers: tuple[tuple[str, Callable[[dict[str, str]], tuple[str, str]]], ...] = (
        ("parameters", _parameters),
        ("prompt", _comfy),
        ("workflow", _comfy),
        ("invokeai_metadata", _invoke),
        ("sd-metadata", _invoke),
        ("Dream", _invoke),
        ("invokeai_graph", _invoke),
        ("Software", _novelai_or_midjourney),
        ("Description", _novelai_or_midjourney),
    )
    for key, reader in readers:
        if key in values:
            generator, prompt = reader(values)
            if generator or prompt:
                return generator, prompt
    return "", ""


def _json(value: str) -> Any:
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return None


def _parameters(values: dict[str, str]) -> tuple[str, str]:
    """AUTOMATIC1111 (and Forge, SD.Next): the prompt, then "Negative prompt:" and "Steps:"
    lines. Fooocus writes a JSON object instead."""
    text = values["parameters"]
    data = _json(text) if text.lstrip().startswith("{") else None
    if isinstance(data, dict):
        prompt = data.get("prompt", data.get("Prompt", ""))
        return generator_named([text]) or "Stable Diffusion", prompt if isinstance(
            prompt, str
        ) else ""
    tail = _A1111_TAIL.search(text)
    if tail is None:
        return "", ""
    return "Stable Diffusion (AUTOMATIC1111)", text[: tail.start()]


def _comfy(values: dict[str, str]) -> tuple[str, str]:
    """ComfyUI: the API graph in "prompt", the editor's graph in "workflow"."""
    graph = _json(values.get("prompt", ""))
    if isinstance(graph, dict) and any(
        isinstance(node, dict) and "class_type" in node for node in graph.values()
    ):
        return "ComfyUI", _comfy_graph_prompt(graph)
    workflow = _json(values.get("workflow", ""))
    if isinstance(workflow, dict) and isinstance(workflow.get("nodes"), list):
        return "ComfyUI", _comfy_workflow_prompt(workflow["nodes"])
    plain = values.get("prompt", "")
    # Some tools write the prompt as plain text under this key.
    return "", plain if graph is None else ""


def _comfy_graph_prompt(graph: dict[str, Any]) -> str:
    """The text encoder feeding a sampler's positive input, or else the first text encoder."""
    nodes = {str(key): node for key, node in graph.items() if isinstance(node, dict)}
    for node in nodes.values():
        inputs = node.get("inputs")
        link = inputs.get("positive") if isinstance(inputs, dict) else None
        if isinstance(link, list) and link:
            text = _comfy_text(nodes.get(str(link[0])))
            if text:
                return text
    return next(filter(None, map(_comfy_text, nodes.values())), "")


def _comfy_text(node: Any) -> str:
    if not isinstance(node, dict) or not str(node.get("class_type", "")).startswith(
        "CLIPTextEncode"
    ):
        return ""
    inputs = node.get("inputs")
    if not isinstance(inputs, dict):
        return ""
    for key in ("text", "text_g", "text_l"):
        if isinstance(inputs.get(key), str) and inputs[key].strip():
            return str(inputs[key])
    return ""


def _comfy_workflow_prompt(nodes: list[Any]) -> str:
    for node in nodes:
        if isinstance(node, dict) and str(node.get("type", "")).startswith("CLIPTextEncode"):
            widgets = node.get("widgets_values")
            if isinstance(widgets, list) and widgets and isinstance(widgets[0], str):
                return widgets[0]
    return ""


def _invoke(values: dict[str, str]) -> tuple[str, str]:
    """InvokeAI: "invokeai_metadata" (3.x and later), "sd-metadata" (2.x), "Dream" (1.x)."""
    metadata = _json(values.get("invokeai_metadata", ""))
    if isinstance(metadata, dict) and isinstance(metadata.get("positive_prompt"), str):
        return "InvokeAI", metadata["positive_prompt"]
    legacy = _json(values.get("sd-metadata", ""))
    image = legacy.get("image") if isinstance(legacy, dict) else None
    if isinstance(image, dict):
        prompt = image.get("prompt")
        if isinstance(prompt, list) and prompt and isinstance(prompt[0], dict):
            prompt = prompt[0].get("prompt")
        return "InvokeAI", prompt if isinstance(prompt, str) else ""
    dream = _DREAM.match(values.get("Dream", ""))
    return "InvokeAI", dream.group(1) if dream else ""


def _novelai_or_midjourney(values: dict[str, str]) -> tuple[str, str]:
    """NovelAI: Software "NovelAI", the prompt in Description and in the Comment's JSON.
    Midjourney: the prompt and its parameters in Description, the job's id after them."""
    software, description = values.get("Software", ""), values.get("Description", "")
    if generator_named([software, values.get("Source", "")]) == "NovelAI":
        comment = _json(values.get("Comment", ""))
        prompt = comment.get("prompt") if isinstance(comment, dict) else None
        return "NovelAI", prompt if isinstance(prompt, str) else description
    if generator_named([software, description, values.get("Author", "")]) == "Midjourney" or (
        "Job ID:" in description
    ):
        tail = _MIDJOURNEY_TAIL.search(description)
        return "Midjourney", description[: tail.start()] if tail else description
    return "", ""
