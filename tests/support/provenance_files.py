"""Pictures that say where they come from, made by the real tools: Content Credentials signed
by c2pa with a certificate chain made here, XMP and EXIF written by exiftool, PNG text chunks as
image generators write them; the same pictures after a re-encode stripped them; and files built
to be costly to read."""

from __future__ import annotations

import datetime
import functools
import io
import json
import subprocess
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image, PngImagePlugin

from tests.support.images import encoded, picture

EXIFTOOL = "/usr/bin/exiftool"
SOURCE_TYPES = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED = SOURCE_TYPES + "trainedAlgorithmicMedia"
COMPOSITE_AI = SOURCE_TYPES + "compositeWithTrainedAlgorithmicMedia"
CAMERA = SOURCE_TYPES + "digitalCapture"
SIGNER_ORGANISATION = "Pledge Test Signing"
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
XMP_ID = b"http://ns.adobe.com/xap/1.0/\0"

A1111_PROMPT = "a photo of a candidate shaking hands with a robot, detailed, 8k"
A1111_PARAMETERS = (
    f"{A1111_PROMPT}\n"
    "Negative prompt: blurry, lowres, watermark\n"
    "Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234, Size: 512x512, "
    "Model: sd_xl_base_1.0"
)
COMFY_PROMPT = "a candidate giving a speech in a flooded stadium, press photo"


# --- Content Credentials -----------------------------------------------------------------


@dataclass(frozen=True)
class SigningChain:
    chain_pem: bytes  # the signing certificate, then the intermediate
    key_pem: bytes
    root_pem: bytes


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
    )


def _certificate(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    path_length: int | None,
) -> x509.Certificate:
    """A CA certificate when path_length is given, else one for signing manifests, with the
    profile c2pa requires: digitalSignature, and an extended key usage it accepts."""
    now = datetime.datetime.now(datetime.UTC)
    ca = path_length is not None
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


@functools.cache
def signing_chain() -> SigningChain:
    """A root CA, an intermediate and an ES256 (P-256) signing certificate, made once."""
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(3)]
    root_name = _name("Pledge Test Root CA", "Pledge Test CA")
    middle_name = _name("Pledge Test Intermediate CA", "Pledge Test CA")
    root = _certificate(root_name, keys[0], root_name, keys[0], path_length=1)
    middle = _certificate(middle_name, keys[1], root_name, keys[0], path_length=0)
    leaf_name = _name("Pledge Test Signer", SIGNER_ORGANISATION)
    leaf = _certificate(leaf_name, keys[2], middle_name, keys[1], path_length=None)

    def pem(certificate: x509.Certificate) -> bytes:
        return certificate.public_bytes(serialization.Encoding.PEM)

    key = keys[2].private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return SigningChain(pem(leaf) + pem(middle), key, pem(root))


def manifest(
    source_type: str = TRAINED, *, action: str = "c2pa.created", generator: str = "TestGen"
) -> dict[str, Any]:
    actions: dict[str, Any] = {"action": action}
    if source_type:
        actions["digitalSourceType"] = source_type
    return {
        "claim_generator_info": [{"name": generator, "version": "1.0"}],
        "title": "picture",
        "assertions": [{"label": "c2pa.actions", "data": {"actions": [actions]}}],
    }


def sign(source: bytes, fmt: str, definition: dict[str, Any], *, remote_url: str = "") -> bytes:
    """The picture with a manifest signed by the test chain (no thumbnail, to stay small)."""
    chain = signing_chain()
    signer = c2pa.Signer.from_info(
        c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain.chain_pem, chain.key_pem, None)
    )
    out = io.BytesIO()
    with (
        c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}}) as context,
        c2pa.Builder(definition, context) as builder,
    ):
        if remote_url:
            builder.set_no_embed()
            builder.set_remote_url(remote_url)
        builder.sign(signer, MIME[fmt], io.BytesIO(source), out)
    return out.getvalue()


def signed(
    fmt: str = "JPEG",
    *,
    source_type: str = TRAINED,
    size: tuple[int, int] = (640, 480),
    generator: str = "TestGen",
) -> bytes:
    """A generated-looking picture in `fmt` with Content Credentials: created, `source_type`."""
    source = encoded(picture(3, size), fmt)
    return sign(source, fmt, manifest(source_type, generator=generator))


def signed_jpeg(**options: Any) -> bytes:
    return signed("JPEG", **options)


def signed_png(**options: Any) -> bytes:
    return signed("PNG", **options)


def signed_webp(**options: Any) -> bytes:
    return signed("WEBP", **options)


def remote_manifest_jpeg(url: str) -> bytes:
    """A JPEG whose manifest is kept at `url`: the file holds only XMP pointing there."""
    return sign(encoded(picture(4), "JPEG"), "JPEG", manifest(), remote_url=url)


# --- tampering -----------------------------------------------------------------------------


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, position = [], 8
    while position + 12 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        chunks.append(
            (data[position + 4 : position + 8], data[position + 8 : position + 8 + length])
        )
        position += 12 + length
    return chunks


def png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")


def png_from_chunks(chunks: list[tuple[bytes, bytes]]) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"".join(png_chunk(kind, data) for kind, data in chunks)


def pixels_changed(data: bytes) -> bytes:
    """The signed picture with some pixels changed after signing (the manifest untouched)."""
    if data.startswith(b"\x89PNG"):
        chunks = png_chunks(data)
        index = next(i for i, (kind, _) in enumerate(chunks) if kind == b"IDAT")
        raw = bytearray(zlib.decompress(chunks[index][1]))
        for position in range(len(raw) // 2, len(raw) // 2 + 30):
            raw[position] ^= 0x55
        chunks[index] = (b"IDAT", zlib.compress(bytes(raw)))
        return png_from_chunks(chunks)
    # JPEG: a byte of the entropy-coded data, away from any FF (a marker or its stuffing).
    scan = data.rfind(b"\xff\xda")
    position = (scan + len(data)) // 2
    while 0xFF in data[position - 1 : position + 1] or data[position] ^ 0x01 == 0xFF:
        position += 1
    changed = bytearray(data)
    changed[position] ^= 0x01
    return bytes(changed)


def _with_png_crcs(data: bytes) -> bytes:
    return png_from_chunks(png_chunks(data)) if data.startswith(b"\x89PNG") else data


def signature_flipped(data: bytes) -> bytes:
    """The signed picture with one byte of the claim's signature (the last field of the COSE
    structure in the c2pa.signature box) flipped."""
    label = data.index(b"c2pa.signature")
    cbor = data.index(b"cbor", label) - 4
    box = data[cbor : cbor + int.from_bytes(data[cbor : cbor + 4], "big")]
    # The box ends with the signature, a 64-byte string (ES256's r and s): found by where it
    # ends, as its random bytes may hold its own header's two bytes.
    signature = len(box) - 64
    assert box[signature - 2 : signature] == b"\x58\x40"
    changed = bytearray(data)
    changed[cbor + signature + 10] ^= 0x01
    return _with_png_crcs(bytes(changed))


def manifest_garbled(data: bytes) -> bytes:
    """The signed picture with 200 bytes in the middle of its manifest store overwritten."""
    start = data.index(b"jumdc2pa")
    changed = bytearray(data)
    changed[start + 200 : start + 400] = b"A" * 200
    return _with_png_crcs(bytes(changed))


def manifest_truncated(data: bytes) -> bytes:
    """The signed JPEG with its manifest segment cut to half, the segment's length fixed."""
    start = data.index(b"\xff\xeb")
    length = int.from_bytes(data[start + 2 : start + 4], "big")
    half = length // 2
    segment = b"\xff\xeb" + half.to_bytes(2, "big") + data[start + 4 : start + 2 + half]
    return data[:start] + segment + data[start + 2 + length :]


TAMPERINGS = {
    "pixels": pixels_changed,
    "signature": signature_flipped,
    "garbled": manifest_garbled,
    "truncated": manifest_truncated,
}


def tampered_jpeg(how: str = "pixels") -> bytes:
    """A signed JPEG tampered with after signing, in one of the TAMPERINGS."""
    return TAMPERINGS[how](signed_jpeg())


# --- XMP, EXIF and comments ----------------------------------------------------------------


def exiftool(data: bytes, suffix: str, *arguments: str) -> bytes:
    """The file after exiftool wrote `arguments` (e.g. "-Make=Canon") into it."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"picture{suffix}"
        path.write_bytes(data)
        subprocess.run(
            [EXIFTOOL, "-q", "-q", "-overwrite_original", *arguments, str(path)],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return path.read_bytes()


def tagged(
    fmt: str = "JPEG",
    *,
    source_type: str = TRAINED,
    creator_tool: str = "Image Creator 2.1",
    software: str = "Photo Studio 5",
    make: str = "Canon",
    model: str = "EOS R5",
    comment: str = "",
) -> bytes:
    """A picture with XMP (digital source type, creator tool) and EXIF written by exiftool."""
    arguments = [
        f"-XMP-iptcExt:DigitalSourceType={source_type}",
        f"-XMP-xmp:CreatorTool={creator_tool}",
        f"-Software={software}",
        f"-Make={make}",
        f"-Model={model}",
    ]
    if comment:
        arguments.append(f"-Comment={comment}")
    suffix = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}[fmt]
    return exiftool(encoded(picture(5), fmt), suffix, *arguments)


def xmp_jpeg(**options: Any) -> bytes:
    return tagged("JPEG", **options)


def xmp_png(**options: Any) -> bytes:
    return tagged("PNG", **options)


def xmp_packet(description: str, *, namespaces: str = "") -> bytes:
    """An XMP packet around one rdf:Description's attributes and content."""
    return (
        "<?xpacket begin='\ufeff' id='W5M0MpCehiHzreSzNTczkc9d'?>"
        "<x:xmpmeta xmlns:x='adobe:ns:meta/'>"
        "<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
        "<rdf:Description rdf:about='' "
        "xmlns:Iptc4xmpExt='http://iptc.org/std/Iptc4xmpExt/2008-02-29/' "
        f"xmlns:xmp='http://ns.adobe.com/xap/1.0/' {namespaces}{description}"
        "</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end='w'?>"
    ).encode()


def jpeg_with_segments(*segments: tuple[int, bytes], source: bytes | None = None) -> bytes:
    """A JPEG (by default a small plain one) with these segments (marker, content) after SOI."""
    raw = source if source is not None else encoded(picture(6, (320, 240)), "JPEG")
    built = b"".join(
        bytes([0xFF, marker]) + (len(content) + 2).to_bytes(2, "big") + content
        for marker, content in segments
    )
    return raw[:2] + built + raw[2:]


def xmp_in_jpeg(packet: bytes) -> bytes:
    return jpeg_with_segments((0xE1, XMP_ID + packet))


def png_with_chunks(*chunks: tuple[bytes, bytes], source: bytes | None = None) -> bytes:
    """A PNG (by default a small plain one) with these chunks (type, data) after IHDR."""
    raw = source if source is not None else encoded(picture(7, (320, 240)), "PNG")
    parts = png_chunks(raw)
    return png_from_chunks([parts[0], *chunks, *parts[1:]])


def itxt(keyword: str, value: bytes, *, compressed: bool = False) -> tuple[bytes, bytes]:
    body = zlib.compress(value) if compressed else value
    return b"iTXt", keyword.encode("latin-1") + b"\0" + bytes([compressed, 0]) + b"\0\0" + body


def xmp_in_png(packet: bytes) -> bytes:
    return png_with_chunks(itxt("XML:com.adobe.xmp", packet))


def exif_block(
    *, software: str = "", make: str = "", model: str = "", user_comment: str = ""
) -> bytes:
    """EXIF as Pillow writes it (TIFF, little-endian), with these tags."""
    exif = Image.Exif()
    for tag, value in ((0x0131, software), (0x010F, make), (0x0110, model)):
        if value:
            exif[tag] = value
    if user_comment:
        # As piexif writes it for AUTOMATIC1111: big-endian UTF-16 whatever the block's order.
        exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + user_comment.encode("utf-16-be")
    return exif.tobytes()


def with_exif(fmt: str, block: bytes) -> bytes:
    """A picture in `fmt` whose EXIF (APP1, eXIf, EXIF chunk) is `block`, saved by Pillow."""
    return encoded(picture(8), fmt, exif=block)


# --- generators' PNG text chunks -------------------------------------------------------------


def png_text(*items: tuple[str, str], chunk: str = "tEXt") -> bytes:
    """A PNG with these text chunks written by Pillow: tEXt, zTXt or iTXt (compressed: iTXt-z)."""
    info = PngImagePlugin.PngInfo()
    for key, value in items:
        if chunk == "tEXt":
            info.add_text(key, value)
        elif chunk == "zTXt":
            info.add_text(key, value, zip=True)
        else:
            info.add_itxt(key, value, zip=chunk == "iTXt-z")
    return encoded(picture(9), "PNG", pnginfo=info)


def sd_png(parameters: str = A1111_PARAMETERS, *, chunk: str = "tEXt") -> bytes:
    """AUTOMATIC1111: the prompt, negative prompt and settings in a "parameters" chunk."""
    return png_text(("parameters", parameters), chunk=chunk)


def comfy_graph(prompt: str = COMFY_PROMPT) -> dict[str, Any]:
    """ComfyUI's API graph; the negative encoder comes first, as it often does."""
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sdxl.safetensors"}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry, text", "clip": ["4", 1]}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": prompt, "clip": ["4", 1]}},
        "3": {
            "class_type": "KSampler",
            "inputs": {"seed": 7, "steps": 20, "positive": ["6", 0], "negative": ["7", 0]},
        },
    }


def comfy_png(prompt: str = COMFY_PROMPT, *, graph: bool = True) -> bytes:
    """ComfyUI: the API graph in "prompt" and the editor's graph in "workflow"."""
    workflow = {"nodes": [{"id": 6, "type": "CLIPTextEncode", "widgets_values": [prompt]}]}
    items = [("workflow", json.dumps(workflow))]
    if graph:
        items.insert(0, ("prompt", json.dumps(comfy_graph(prompt))))
    return png_text(*items)


def novelai_png(prompt: str = "a politician riding a dragon over Jakarta") -> bytes:
    comment = {"prompt": prompt, "steps": 28, "uc": "lowres, bad anatomy", "seed": 42}
    return png_text(
        ("Title", "AI generated image"),
        ("Description", prompt),
        ("Software", "NovelAI"),
        ("Source", "NovelAI Diffusion V3 4BDE2A90"),
        ("Comment", json.dumps(comment)),
    )


def invokeai_png(prompt: str = "a crowd cheering a giant banner") -> bytes:
    metadata = {"positive_prompt": prompt, "negative_prompt": "blurry", "seed": 5}
    return png_text(("invokeai_metadata", json.dumps(metadata)))


def midjourney_png(prompt: str = "a minister in a spacesuit waving") -> bytes:
    description = f"{prompt} --ar 16:9 --v 6.1 Job ID: 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    return png_text(("Author", "someone"), ("Description", description))


# --- re-encoded copies ---------------------------------------------------------------------


def stripped(data: bytes, fmt: str | None = None) -> bytes:
    """The same picture saved again by Pillow with nothing but its pixels."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        copy = image.convert("RGB")
        out_format = fmt or image.format or "PNG"
    copy.info.clear()  # Pillow would write a comment or colour profile found there
    return encoded(copy, out_format)


def messenger_copy(data: bytes, longest: int, quality: int = 80) -> bytes:
    """The picture as a messaging app sends it: its longest side `longest`, a JPEG with
    nothing but JFIF."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        copy = image.convert("RGB")
    scale = longest / max(copy.size)
    copy = copy.resize((round(copy.width * scale), round(copy.height * scale)))
    copy.info.clear()
    return encoded(copy, "JPEG", quality=quality)


def whatsapp_copy(data: bytes) -> bytes:
    return messenger_copy(data, 1600)


def telegram_copy(data: bytes) -> bytes:
    return messenger_copy(data, 1280)


# --- costly to read ------------------------------------------------------------------------


def huge_xmp_png(size: int = 600 * 1024) -> bytes:
    """Valid XMP past the 512 KiB cap (a creator tool padded with spaces)."""
    packet = xmp_packet(f"><xmp:CreatorTool>Tool{' ' * size}</xmp:CreatorTool>")
    return xmp_in_png(packet)


def deep_xmp_png(levels: int = 70_000, *, closed: bool = True) -> bytes:
    """Well-formed XMP nested `levels` elements deep, under the size cap (7 bytes a level); or,
    not closed, 3 bytes a level."""
    body = b"<a>" * levels + (b"</a>" * levels if closed else b"")
    return xmp_in_png(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>" + body + b"</x:xmpmeta>" * closed)


def laughs_xmp_png() -> bytes:
    """The billion laughs: entities of ten entities each, nine levels deep."""
    entities = "<!ENTITY l0 'lol'>" + "".join(
        f"<!ENTITY l{n} '{f'&l{n - 1};' * 10}'>" for n in range(1, 10)
    )
    packet = (
        f"<?xml version='1.0'?><!DOCTYPE x:xmpmeta [{entities}]>"
        "<x:xmpmeta xmlns:x='adobe:ns:meta/'><x:lol>&l9;</x:lol></x:xmpmeta>"
    )
    return xmp_in_png(packet.encode())


def bad_utf8_png() -> bytes:
    """Invalid UTF-8 in an iTXt parameters chunk and in the XMP creator tool."""
    parameters = b"a cat \xff\xfe in a hat\nSteps: 20, Sampler: Euler"
    packet = xmp_packet("><xmp:CreatorTool>Gen MARK 9</xmp:CreatorTool>")
    packet = packet.replace(b"MARK", b"\xc3\x28\xff")
    return png_with_chunks(itxt("parameters", parameters), itxt("XML:com.adobe.xmp", packet))


def ztxt_bomb_png(expanded: int = 64 * 1024 * 1024) -> bytes:
    """A zTXt chunk of about 64 KB that expands to `expanded` bytes."""
    compressor = zlib.compressobj(9)
    block = bytes(1 << 20)
    body = b"".join(compressor.compress(block) for _ in range(expanded >> 20)) + compressor.flush()
    return png_with_chunks((b"zTXt", b"Comment\0\0" + body))


def jumbf_outside_jpeg() -> bytes:
    """A JPEG with a C2PA JUMBF segment whose boxes claim lengths far past the file's end."""
    description = (
        (0x7FFFFFF0).to_bytes(4, "big")
        + b"jumd"
        + b"c2pa\x00\x11\x00\x10\x80\x00\x00\xaa\x00\x38\x9b\x71"
        + b"\x03c2pa\0"
    )
    box = (0x7FFFFFFF).to_bytes(4, "big") + b"jumb" + description
    return jpeg_with_segments((0xEB, b"JP\x02\x11\x00\x00\x00\x01" + box))


def oversized_store_jpeg(total: int = 2 * 1024 * 1024 + 1) -> bytes:
    """A JPEG whose C2PA JUMBF segments add up to more than `total` bytes."""
    header = b"JP\x02\x11"
    first = header + (1).to_bytes(4, "big") + (total + 16).to_bytes(4, "big") + b"jumb"
    first += (40).to_bytes(4, "big") + b"jumdc2pa\x00\x11\x00\x10\x80\x00\x00\xaa\x00\x38\x9b\x71"
    segments = [(0xEB, first + bytes(60_000))]
    sequence = 2
    while sum(len(content) for _, content in segments) <= total:
        content = header + sequence.to_bytes(4, "big") + (total + 16).to_bytes(4, "big") + b"jumb"
        segments.append((0xEB, content + bytes(60_000)))
        sequence += 1
    return jpeg_with_segments(*segments)
