"""The provenance of uploaded pictures, read from files made by the real tools: c2pa signs
Content Credentials with a test certificate chain, exiftool writes XMP and EXIF, Pillow writes
the PNG text chunks image generators leave. Tampered, stripped and hostile files show what is
reported when the signals are broken, gone or built to be costly."""

from __future__ import annotations

import functools
import io
import random
import subprocess
import sys
import threading
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import c2pa
import pytest

from pledge.hoaxes import provenance, provenance_c2pa, provenance_text
from pledge.hoaxes.models import Verdict
from pledge.hoaxes.provenance import Certainty, Credentials, Provenance
from tests.support import provenance_files as files
from tests.support.images import encoded, picture, screenshot
from tests.support.settings import UseSettings

ROOT = Path(__file__).resolve().parent.parent
# Generous: a hang is what this catches, never a slow machine.
SAFETY_SECONDS = 60


def read_within(data: bytes) -> Provenance:
    """provenance.read, which must return within SAFETY_SECONDS (a safety net, not a timing
    check) and without its last-resort catch-all."""
    result: list[Provenance] = []
    worker = threading.Thread(target=lambda: result.append(provenance.read(data)), daemon=True)
    worker.start()
    worker.join(SAFETY_SECONDS)
    assert not worker.is_alive(), "reading the provenance did not return"
    assert result[0].unreadable != provenance.PARTS, "read() needed its catch-all"
    return result[0]


# --- Content Credentials -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_signed_pictures_show_their_generator_signer_and_ai_source(fmt: str) -> None:
    result = read_within(files.signed(fmt))
    assert result.credentials == Credentials(
        generator="TestGen/1.0",
        signer=files.SIGNER_ORGANISATION,
        signature_valid=True,
        binding_valid=True,
        trusted=False,  # a test certificate is on no trust list: valid, not trusted
        actions=(("c2pa.created", "trainedAlgorithmicMedia"),),
    )
    assert result.certainty is Certainty.SIGNED_VALID
    assert result.ai_source == "trainedAlgorithmicMedia"
    assert result.suggested_label() is Verdict.BUATAN_AI
    assert result.unreadable == ()
    assert not result.stripped


def test_a_signer_is_trusted_only_when_its_root_is_on_the_trust_list(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = files.signed_jpeg()
    assert read_within(data).credentials == Credentials(
        "TestGen/1.0",
        files.SIGNER_ORGANISATION,
        True,
        True,
        False,
        (("c2pa.created", "trainedAlgorithmicMedia"),),
    )
    # The operator names a PEM file of trust anchors (the C2PA trust list, say).
    anchors = tmp_path / "trust-anchors.pem"
    anchors.write_bytes(files.signing_chain().root_pem)
    monkeypatch.setenv(provenance_c2pa.TRUST_ANCHORS_ENV, str(anchors))
    trusted = read_within(data).credentials
    assert trusted is not None and trusted.trusted and trusted.signature_valid
    # A file that holds no certificate, or none at all, trusts nobody.
    for path in (tmp_path / "missing.pem", files_without_certificates(tmp_path)):
        monkeypatch.setenv(provenance_c2pa.TRUST_ANCHORS_ENV, str(path))
        untrusted = read_within(data).credentials
        assert untrusted is not None and not untrusted.trusted and untrusted.signature_valid


def files_without_certificates(folder: Path) -> Path:
    path = folder / "empty.pem"
    path.write_text("no certificates here\n")
    return path


def test_an_edit_with_generated_parts_suggests_manipulated() -> None:
    result = read_within(files.signed_jpeg(source_type=files.COMPOSITE_AI))
    assert result.ai_source == "compositeWithTrainedAlgorithmicMedia"
    assert result.suggested_label() is Verdict.DIMANIPULASI


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_pixels_changed_after_signing_break_the_binding_not_the_signature(fmt: str) -> None:
    result = read_within(files.pixels_changed(files.signed(fmt)))
    assert result.credentials is not None
    assert result.credentials.signature_valid
    assert not result.credentials.binding_valid
    assert result.certainty is Certainty.SIGNED_INVALID
    # The claim still says how the picture was made: a moderator may weigh it.
    assert result.credentials.actions == (("c2pa.created", "trainedAlgorithmicMedia"),)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_flipped_signature_byte_breaks_the_signature(fmt: str) -> None:
    result = read_within(files.signature_flipped(files.signed(fmt)))
    assert result.credentials is not None
    assert not result.credentials.signature_valid
    assert result.credentials.binding_valid  # the pixels are still those hashed
    assert result.certainty is Certainty.SIGNED_INVALID


@pytest.mark.parametrize(
    "damage",
    [
        lambda: files.manifest_garbled(files.signed_jpeg()),
        lambda: files.manifest_garbled(files.signed_png()),
        lambda: files.manifest_truncated(files.signed_jpeg()),
    ],
    ids=["garbled JPEG", "garbled PNG", "truncated JPEG"],
)
def test_a_damaged_manifest_store_is_unreadable_not_invalid(damage: Callable[[], bytes]) -> None:
    # c2pa cannot parse the store into a claim at all ("unexpected end of file", "invalid CBOR
    # box"): there is no signature to judge, so nothing is SIGNED_INVALID; the panel says the
    # credentials could not be read, which outweighs any unsigned metadata.
    result = read_within(damage())
    assert result.credentials is None
    assert result.unreadable == ("c2pa",)
    assert result.certainty is Certainty.UNREADABLE
    assert result.suggested_label() is None


def test_a_manifest_store_past_the_cap_is_not_given_to_c2pa(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    given: list[bytes] = []
    monkeypatch.setattr(provenance, "read_credentials", lambda raw, mime: given.append(raw))
    result = read_within(files.oversized_store_jpeg())
    assert result.unreadable == ("c2pa",)
    assert given == []


class _CountingHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        self.send_response(404)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def manifest_server() -> Iterator[tuple[str, list[str]]]:
    """A loopback server that counts the requests it gets, and a manifest's address on it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/manifest.c2pa", server.requests  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def test_content_credentials_kept_elsewhere_are_never_fetched(
    manifest_server: tuple[str, list[str]],
) -> None:
    url, requests = manifest_server
    data = files.remote_manifest_jpeg(url)
    result = read_within(data)
    assert result.unreadable == ("c2pa",)
    assert result.certainty is Certainty.UNREADABLE
    with pytest.raises(provenance_c2pa.CredentialsUnreadable):
        provenance_c2pa.read_credentials(data, "image/jpeg")  # c2pa itself, with our settings
    assert requests == []
    # c2pa's defaults would have asked the server: the settings are what keeps it quiet.
    with pytest.raises(c2pa.C2paError):
        c2pa.Reader("image/jpeg", io.BytesIO(data))
    assert requests == ["/manifest.c2pa"]


def test_an_upload_without_credentials_never_loads_c2pa(tmp_path: Path) -> None:
    plain, signed = tmp_path / "plain.png", tmp_path / "signed.jpg"
    plain.write_bytes(files.sd_png())
    signed.write_bytes(files.signed_jpeg())
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from pledge.hoaxes import provenance\n"
        "plain = provenance.read(Path(sys.argv[1]).read_bytes())\n"
        "print(plain.generator, 'c2pa' in sys.modules, 'pledge.hoaxes.models' in sys.modules)\n"
        "signed = provenance.read(Path(sys.argv[2]).read_bytes())\n"
        "print(signed.certainty, 'c2pa' in sys.modules)\n"
    )
    answer = subprocess.run(
        [sys.executable, "-c", script, str(plain), str(signed)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=SAFETY_SECONDS,
    )
    assert answer.stdout.splitlines() == [
        "Stable Diffusion (AUTOMATIC1111) False False",
        "signed_valid True",
    ]


def test_reading_a_signed_photo_holds_little_python_memory() -> None:
    data = files.signed_jpeg(size=(1920, 1080))  # two megapixels
    provenance.read(data)  # c2pa loaded before measuring
    tracemalloc.start()
    try:
        result = provenance.read(data)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.certainty is Certainty.SIGNED_VALID
    assert peak < 20 * 1024 * 1024


def _store(success: list[str], failure: list[str], state: str) -> dict[str, object]:
    def codes(names: list[str]) -> list[dict[str, str]]:
        return [{"code": name, "url": "self#jumbf=/c2pa", "explanation": ""} for name in names]

    return {
        "active_manifest": "urn:c2pa:1",
        "manifests": {"urn:c2pa:1": {"claim_generator_info": [{"name": "Gen"}]}},
        "validation_results": {
            "activeManifest": {"success": codes(success), "failure": codes(failure)}
        },
        "validation_state": state,
    }


SIGNED_AND_BOUND = ["claimSignature.validated", "assertion.dataHash.match"]


@pytest.mark.parametrize(
    ("success", "failure", "state", "expected"),
    [
        (SIGNED_AND_BOUND, ["signingCredential.untrusted"], "Valid", (True, True, False)),
        ([*SIGNED_AND_BOUND, "signingCredential.trusted"], [], "Trusted", (True, True, True)),
        (
            ["claimSignature.validated"],
            ["assertion.dataHash.mismatch"],
            "Invalid",
            (True, False, False),
        ),
        (
            ["assertion.dataHash.match"],
            ["claimSignature.mismatch"],
            "Invalid",
            (False, True, False),
        ),
        (SIGNED_AND_BOUND, ["assertion.hashedURI.mismatch"], "Invalid", (False, True, False)),
        (SIGNED_AND_BOUND, ["signingCredential.revoked"], "Invalid", (False, True, False)),
        (SIGNED_AND_BOUND, ["a.code.not.known.yet"], "Invalid", (False, True, False)),
        (SIGNED_AND_BOUND, [], "Invalid", (False, True, False)),
        (["claimSignature.validated"], [], "Valid", (True, False, False)),
        (
            ["assertion.boxesHash.match", "claimSignature.validated"],
            [],
            "Valid",
            (True, True, False),
        ),
    ],
    ids=[
        "untrusted but valid",
        "trusted",
        "pixels changed",
        "signature changed",
        "assertion changed",
        "revoked",
        "unknown failure fails closed",
        "invalid without a code",
        "no binding checked",
        "box hash",
    ],
)
def test_status_codes_tell_signature_binding_and_trust_apart(
    success: list[str], failure: list[str], state: str, expected: tuple[bool, bool, bool]
) -> None:
    credentials = provenance_c2pa.credentials_from_store(_store(success, failure, state))
    assert (credentials.signature_valid, credentials.binding_valid, credentials.trusted) == expected


@pytest.mark.parametrize(
    "store", [None, {}, {"manifests": {}}, {"manifests": [], "active_manifest": 1}]
)
def test_a_store_without_an_active_manifest_is_unreadable(store: object) -> None:
    with pytest.raises(provenance_c2pa.CredentialsUnreadable):
        provenance_c2pa.credentials_from_store(store)


# --- XMP, EXIF and comments --------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_xmp_and_exif_written_by_exiftool_are_read(fmt: str) -> None:
    comment = "made for a contest" if fmt == "JPEG" else ""
    result = read_within(files.tagged(fmt, comment=comment))
    assert (result.source_type, result.creator_tool) == (
        "trainedAlgorithmicMedia",
        "Image Creator 2.1",
    )
    assert (result.software, result.make, result.model) == ("Photo Studio 5", "Canon", "EOS R5")
    assert result.comment == comment
    assert result.credentials is None
    assert result.certainty is Certainty.UNSIGNED
    assert result.suggested_label() is Verdict.BUATAN_AI


def test_a_camera_capture_suggests_nothing() -> None:
    result = read_within(files.xmp_jpeg(source_type=files.CAMERA, creator_tool="Camera 1.0"))
    assert result.ai_source == "digitalCapture"
    assert result.certainty is Certainty.UNSIGNED
    assert result.suggested_label() is None


@pytest.mark.parametrize(
    "description",
    [
        f" Iptc4xmpExt:DigitalSourceType='{files.TRAINED}'>",
        f"><Iptc4xmpExt:DigitalSourceType rdf:resource='{files.TRAINED}'/>",
        "><Iptc4xmpExt:DigitalSourceType> trainedAlgorithmicMedia </Iptc4xmpExt:DigitalSourceType>",
    ],
    ids=["attribute", "resource", "element"],
)
def test_the_source_type_is_read_in_every_rdf_form(description: str) -> None:
    result = read_within(files.xmp_in_jpeg(files.xmp_packet(description)))
    assert result.source_type == "trainedAlgorithmicMedia"


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_exif_is_read_from_png_and_webp_chunks(fmt: str) -> None:
    block = files.exif_block(software="GIMP 2.10", make="Nikon", model="Z 6")
    result = read_within(files.with_exif(fmt, block))
    assert (result.software, result.make, result.model) == ("GIMP 2.10", "Nikon", "Z 6")
    assert result.generator == ""
    assert result.suggested_label() is None  # an editor and a camera are no sign of AI


# --- generators and prompts --------------------------------------------------------------


@pytest.mark.parametrize("chunk", ["tEXt", "zTXt", "iTXt", "iTXt-z"])
def test_automatic1111_parameters_give_the_prompt_before_its_settings(chunk: str) -> None:
    result = read_within(files.sd_png(chunk=chunk))
    assert result.generator == "Stable Diffusion (AUTOMATIC1111)"
    assert result.prompt == files.A1111_PROMPT
    assert result.certainty is Certainty.UNSIGNED
    assert result.suggested_label() is Verdict.BUATAN_AI


def test_automatic1111_jpeg_parameters_are_read_from_the_exif_user_comment() -> None:
    block = files.exif_block(user_comment=files.A1111_PARAMETERS)
    result = read_within(files.with_exif("JPEG", block))
    assert (result.generator, result.prompt) == (
        "Stable Diffusion (AUTOMATIC1111)",
        files.A1111_PROMPT,
    )


@pytest.mark.parametrize("graph", [True, False], ids=["api graph", "workflow only"])
def test_comfyui_gives_the_text_of_the_positive_encoder(graph: bool) -> None:
    result = read_within(files.comfy_png(graph=graph))
    assert (result.generator, result.prompt) == ("ComfyUI", files.COMFY_PROMPT)


@pytest.mark.parametrize(
    ("build", "generator", "prompt"),
    [
        (files.novelai_png, "NovelAI", "a politician riding a dragon over Jakarta"),
        (files.invokeai_png, "InvokeAI", "a crowd cheering a giant banner"),
        (files.midjourney_png, "Midjourney", "a minister in a spacesuit waving"),
    ],
    ids=["NovelAI", "InvokeAI", "Midjourney"],
)
def test_other_generators_are_named_with_their_prompt(
    build: Callable[[], bytes], generator: str, prompt: str
) -> None:
    result = read_within(build())
    assert (result.generator, result.prompt) == (generator, prompt)
    assert result.suggested_label() is Verdict.BUATAN_AI


@pytest.mark.parametrize(
    ("value", "generator"),
    [
        ("Adobe Firefly Image 3", "Adobe Firefly"),
        ("DALL·E 3", "DALL·E"),
        ("dall-e-3", "DALL·E"),
        ("Made with Google AI", "Google AI (Imagen/Gemini)"),
        ("Imagined with AI", "Meta AI"),
        ("ChatGPT", "OpenAI"),
        ("MIDJOURNEY", "Midjourney"),
        ("imagen de la playa", ""),  # Spanish for "picture"
        ("midjourneys", ""),  # whole words only
        ("GIMP 2.10", ""),
    ],
)
def test_generators_are_named_by_whole_words_in_any_case(value: str, generator: str) -> None:
    assert provenance_text.generator_named([value]) == generator
    result = read_within(files.xmp_jpeg(source_type=files.CAMERA, creator_tool=value))
    assert result.generator == generator


def test_texts_are_one_bounded_line_without_control_characters() -> None:
    prompt = "a\tcandidate\n\n  at\x07 the \u202edoor\x00 " + "very " * 1000
    result = read_within(files.sd_png(f"{prompt}\nSteps: 20, Sampler: Euler"))
    assert result.prompt.startswith("a candidate at the door very very")
    assert len(result.prompt) == provenance_text.PROMPT_MAX
    comment = files.jpeg_with_segments((0xFE, ("note\x1b[31m\u2066 " * 100).encode()))
    result = read_within(comment)
    assert result.comment.startswith("note[31m note[31m")
    assert len(result.comment) == provenance_text.COMMENT_MAX


def test_invalid_utf8_is_replaced_not_refused() -> None:
    result = read_within(files.bad_utf8_png())
    assert result.unreadable == ()
    assert result.prompt == "a cat \ufffd\ufffd in a hat"
    assert result.creator_tool == "Gen \ufffd(\ufffd 9"


# --- stripped and re-encoded -------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [files.signed_jpeg, files.signed_png, files.xmp_jpeg, files.sd_png, files.comfy_png],
    ids=["signed JPEG", "signed PNG", "XMP JPEG", "A1111 PNG", "ComfyUI PNG"],
)
def test_a_stripped_copy_gives_no_information_and_suggests_nothing(
    build: Callable[[], bytes],
) -> None:
    original = read_within(build())
    assert original.certainty in (Certainty.SIGNED_VALID, Certainty.UNSIGNED)
    result = read_within(files.stripped(build()))
    assert result == Provenance(stripped=True)
    assert result.certainty is Certainty.NOTHING
    assert result.suggested_label() is None


@pytest.mark.parametrize(
    ("longest", "app"),
    [(1600, "WhatsApp"), (1280, "Telegram"), (2560, "WhatsApp/Telegram"), (1500, ""), (2048, "")],
)
def test_a_jfif_only_jpeg_of_a_messaging_size_hints_at_the_app(longest: int, app: str) -> None:
    result = read_within(files.messenger_copy(files.signed_jpeg(), longest))
    assert result == Provenance(stripped=True, messaging_app=app)
    assert result.certainty is Certainty.NOTHING  # a hint, not a fact about the picture


def test_whatsapp_and_telegram_copies_are_told_apart() -> None:
    assert read_within(files.whatsapp_copy(files.sd_png())).messaging_app == "WhatsApp"
    assert read_within(files.telegram_copy(files.signed_png())).messaging_app == "Telegram"


def test_metadata_or_another_format_is_no_messaging_hint() -> None:
    with_exif = files.exif_block(make="Canon")
    jpeg = encoded(picture(2, (1600, 1200)), "JPEG", exif=with_exif)
    assert read_within(jpeg).messaging_app == ""
    commented = files.jpeg_with_segments(
        (0xFE, b"saved"), source=encoded(picture(2, (1600, 900)), "JPEG")
    )
    assert read_within(commented).messaging_app == ""
    assert read_within(encoded(picture(2, (1600, 1200)), "PNG")) == Provenance(stripped=True)


def test_a_plain_screenshot_has_no_information() -> None:
    result = read_within(screenshot())
    assert result == Provenance(stripped=True)
    assert result.certainty is Certainty.NOTHING


# --- what the certainty and the label rest on --------------------------------------------


CAPTURE = (("c2pa.created", "digitalCapture"),)


@pytest.mark.parametrize(
    ("result", "certainty"),
    [
        (
            Provenance(credentials=Credentials("G", "S", True, True, False, CAPTURE)),
            Certainty.SIGNED_VALID,
        ),
        (
            Provenance(credentials=Credentials("G", "S", True, False, True, CAPTURE)),
            Certainty.SIGNED_INVALID,
        ),
        (Provenance(unreadable=("c2pa",), make="Canon"), Certainty.UNREADABLE),
        (Provenance(unreadable=("xmp",), make="Canon"), Certainty.UNSIGNED),
        (Provenance(unreadable=("text",)), Certainty.UNREADABLE),
        (Provenance(stripped=True, messaging_app="WhatsApp"), Certainty.NOTHING),
        (Provenance(), Certainty.NOTHING),
    ],
)
def test_certainty_ranks_the_signals(result: Provenance, certainty: Certainty) -> None:
    assert result.certainty is certainty


@pytest.mark.parametrize(
    ("term", "label"),
    [
        ("trainedAlgorithmicMedia", Verdict.BUATAN_AI),
        ("algorithmicMedia", Verdict.BUATAN_AI),
        ("compositeWithTrainedAlgorithmicMedia", Verdict.DIMANIPULASI),
        ("compositeSynthetic", Verdict.DIMANIPULASI),
        ("composite", Verdict.DIMANIPULASI),
        ("digitalCapture", None),
        ("digitalArt", None),
        ("humanEdits", None),
        ("algorithmicallyEnhanced", None),
        ("", None),
    ],
)
def test_each_source_type_suggests_its_label(term: str, label: Verdict | None) -> None:
    assert Provenance(source_type=term).suggested_label() == label


def test_credentials_come_before_xmp_and_valid_ones_before_generator_traces() -> None:
    valid = Credentials("G", "S", True, True, False, CAPTURE)
    made = Provenance(credentials=valid, source_type="trainedAlgorithmicMedia")
    assert made.ai_source == "digitalCapture"
    assert made.suggested_label() is None
    assert Provenance(credentials=valid, generator="Midjourney").suggested_label() is None
    tampered = Credentials("G", "S", False, True, False, CAPTURE)
    assert (
        Provenance(credentials=tampered, generator="Midjourney").suggested_label()
        is Verdict.BUATAN_AI
    )
    mixed = (
        ("c2pa.opened", "digitalCapture"),
        ("c2pa.edited", "compositeWithTrainedAlgorithmicMedia"),
    )
    assert Provenance(credentials=Credentials("G", "S", True, True, False, mixed)).ai_source == (
        "compositeWithTrainedAlgorithmicMedia"
    )


# --- hostile files -----------------------------------------------------------------------


def _exif_past_its_block() -> bytes:
    tiff = b"MM\x00\x2a\x00\x00\x00\x08\xff\xff" + bytes(40)  # 65535 entries declared
    return files.jpeg_with_segments((0xE1, b"Exif\0\0" + tiff))


def _cut_in_exif() -> bytes:
    data = files.xmp_jpeg()
    return data[: data.index(b"Exif\0\0") + 30]


HOSTILE: dict[str, tuple[Callable[[], bytes], tuple[str, ...], Certainty]] = {
    "XMP past the cap": (files.huge_xmp_png, ("xmp",), Certainty.UNREADABLE),
    "XMP 70,000 levels deep": (files.deep_xmp_png, ("xmp",), Certainty.UNREADABLE),
    "XMP 100,000 levels open": (
        lambda: files.deep_xmp_png(100_000, closed=False),
        ("xmp",),
        Certainty.UNREADABLE,
    ),
    "billion laughs": (files.laughs_xmp_png, ("xmp",), Certainty.UNREADABLE),
    "zTXt bomb": (files.ztxt_bomb_png, ("text",), Certainty.UNREADABLE),
    "JUMBF lengths past the end": (files.jumbf_outside_jpeg, ("c2pa",), Certainty.UNREADABLE),
    "manifest store past the cap": (files.oversized_store_jpeg, ("c2pa",), Certainty.UNREADABLE),
    "EXIF directory past its block": (_exif_past_its_block, ("exif",), Certainty.UNREADABLE),
    "file cut inside EXIF": (_cut_in_exif, ("exif",), Certainty.UNREADABLE),
    "random bytes": (lambda: random.Random(1).randbytes(50_000), (), Certainty.NOTHING),
    "empty": (lambda: b"", (), Certainty.NOTHING),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_files_report_unreadable_parts_and_never_raise(name: str) -> None:
    build, unreadable, certainty = HOSTILE[name]
    result = read_within(build())
    assert result.unreadable == unreadable
    assert result.certainty is certainty
    assert result.suggested_label() is None


def test_compressed_text_is_expanded_a_bounded_number_of_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expanded: list[int] = []
    real = provenance_text.inflate
    monkeypatch.setattr(
        provenance_text, "inflate", lambda data, cap: expanded.append(cap) or real(data, cap)
    )
    bomb = b"Comment\0\0" + zlib.compress(bytes(1 << 20), 9)  # 1 MiB from 1 KB
    data = files.png_with_chunks(*[(b"zTXt", bomb)] * 1000)
    result = read_within(data)
    assert result.unreadable == ("text",)
    assert len(expanded) == provenance.MAX_TEXT_CHUNKS


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_and_mangled_files_never_raise(fmt: str) -> None:
    sources = [
        files.signed(fmt),
        files.tagged(fmt),
        files.sd_png() if fmt == "PNG" else files.signed(fmt),
    ]
    rng = random.Random(fmt)
    for source in sources:
        for cut in (1, 3, 12, 40, len(source) // 3, len(source) // 2, len(source) - 5):
            read_within(source[:cut])
        for _ in range(25):
            mangled = bytearray(source)
            for _ in range(rng.randrange(1, 8)):
                position = rng.randrange(2, min(len(source), 4000))  # where the metadata is
                mangled[position] = rng.randrange(256)
            read_within(bytes(mangled))


def test_garbage_behind_an_image_signature_has_no_information() -> None:
    noise = random.Random(2).randbytes(20_000)
    for head in (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x00\x00\x00WEBP"):
        assert read_within(head + noise).certainty in (Certainty.NOTHING, Certainty.UNREADABLE)


# --- stored as JSON ----------------------------------------------------------------------


KINDS: dict[str, Callable[[], bytes]] = {
    "signed JPEG": files.signed_jpeg,
    "signed PNG": files.signed_png,
    **{f"tampered: {how}": functools.partial(files.tampered_jpeg, how) for how in files.TAMPERINGS},
    "XMP JPEG": lambda: files.xmp_jpeg(comment='a comment, "quoted" — with ü'),
    "A1111": files.sd_png,
    "ComfyUI": files.comfy_png,
    "NovelAI": files.novelai_png,
    "invalid UTF-8": files.bad_utf8_png,
    "stripped": lambda: files.stripped(files.signed_jpeg()),
    "WhatsApp": lambda: files.whatsapp_copy(files.signed_jpeg()),
    "XMP past the cap": files.huge_xmp_png,
    "zTXt bomb": files.ztxt_bomb_png,
}


@pytest.mark.parametrize("kind", KINDS)
def test_json_gives_back_the_same_provenance(kind: str) -> None:
    result = read_within(KINDS[kind]())
    stored = result.to_json()
    assert Provenance.from_json(stored) == result
    assert Provenance.from_json(stored).to_json() == stored


def test_no_facts_are_an_empty_object() -> None:
    assert Provenance().to_json() == "{}"
    assert Provenance.from_json("{}") == Provenance()


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param("", id="empty"),
        pytest.param("{", id="cut"),
        pytest.param("[]", id="list"),
        pytest.param("null", id="null"),
        pytest.param('"text"', id="string"),
        pytest.param("[" * 100_000, id="nested"),
        pytest.param('{"credentials": 5, "unreadable": "xmp", "stripped": "yes"}', id="types"),
    ],
)
def test_anything_but_stored_json_reads_as_no_information(stored: str) -> None:
    assert Provenance.from_json(stored) == Provenance()


def test_the_settings_refuse_a_trust_list_that_would_trust_nobody(
    use_settings: UseSettings, tmp_path: Path
) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="PLEDGE_C2PA_TRUST_ANCHORS: cannot read"):
        use_settings(c2pa_trust_anchors=str(tmp_path / "missing.pem"))
    with pytest.raises(ValidationError, match="holds no PEM certificate"):
        use_settings(c2pa_trust_anchors=str(files_without_certificates(tmp_path)))
    assert use_settings(c2pa_trust_anchors="").c2pa_trust_anchors is None
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(files.signing_chain().root_pem)
    assert use_settings(c2pa_trust_anchors=str(anchors)).c2pa_trust_anchors == anchors
