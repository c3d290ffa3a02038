"""Screenshots matched through their copies, twins told apart (pictures from the benchmark's
corpus: bench/screenshot_corpus.py)."""

from __future__ import annotations

import io
from functools import cache

import pytest
from PIL import Image, ImageDraw

from bench import screenshot_corpus as corpus
from pledge.hoaxes import fingerprint, ocr
from pledge.hoaxes.fingerprint import Fingerprint, screenshots_match

SEED = 5


@cache
def original() -> Image.Image:
    return corpus.screenshot(SEED)


@cache
def original_print() -> Fingerprint:
    return fingerprint.fingerprint(original())


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


@pytest.mark.parametrize("name", list(corpus.COPIES))
def test_each_kind_of_copy_is_the_same_picture(name: str) -> None:
    copy = fingerprint.fingerprint(opened(corpus.COPIES[name](original(), SEED)))

    assert fingerprint.same_picture(original_print(), copy)
    assert fingerprint.compare(original_print(), copy) > 0.6
    shared = set(original_print().bands()) & set(copy.bands())
    assert shared, "near copies share a band of the index"


def test_distinct_screenshots_are_different_pictures() -> None:
    other = fingerprint.fingerprint(corpus.screenshot(SEED + 1))

    assert not fingerprint.same_picture(original_print(), other)
    assert screenshots_match(original_print(), "", other, "").verdict == "different"


def test_a_twin_is_similar_not_the_same() -> None:
    plan, twin = corpus.template(SEED), corpus.twin_template(SEED)
    twin_print = fingerprint.fingerprint(corpus.draw(twin))

    match = screenshots_match(
        original_print(), "\n".join(plan.lines), twin_print, "\n".join(twin.lines)
    )

    assert match.verdict == "similar"
    assert match.why.startswith("picture ")


def test_identical_pictures_without_text_are_the_same() -> None:
    match = screenshots_match(original_print(), "", original_print(), "")

    assert match == fingerprint.Match("same", "picture 1.00, text 1.00", score=1.0)


@pytest.mark.parametrize(
    ("other", "same"),
    [
        ("Relawan muda Jakarta menemukan 12 kotak suara\npada tanggal 3 Mei.", True),
        ("Relawan muda Jakarta menemukan 12 kotak suars\npada tanggal 3 Mei.", True),  # OCR
        ("Relawan muda Jakarta menemukan 12 kotak suara", True),  # a line missed
        ("Relawan muda Jakarta menemukan 13 kotak suara\npada tanggal 3 Mei.", False),
        ("Relawan muda Bandung menemukan 12 kotak suara\npada tanggal 3 Mei.", False),
        ("Relawan muda Jakarta menemukan 12 kotak suara\npada tanggal 8 Mei.", False),
        ("Warga Medan menolak jadwal debat kedua\npada tanggal 3 Mei.", False),
    ],
)
def test_texts_differ_by_a_changed_line_not_by_ocr_noise(other: str, same: bool) -> None:
    header = "Kabar Pemilu Terkini\nDiteruskan berkali-kali\n"
    footer = "\nWarga diminta tidak menyebarkan pesan berantai\nsebelum ada klarifikasi resmi."
    text = header + "Relawan muda Jakarta menemukan 12 kotak suara\npada tanggal 3 Mei." + footer

    assert ocr.text_similarity(text, header + other + footer)[1] is same


@pytest.mark.parametrize(
    ("copy", "same"),
    [
        # OCR confusions: digits and letters, a letter misread, words split or joined.
        ("Intan Permatal9 menemukan 12 kotak suara\npada tanggal 3 Mei.", True),
        ("Intan Permata19 rnenemukan l2 kotak suara\npada tanggal 3 Mei.", True),
        ("Intan Permata19 menemukan 12 kotak su ara\npada tanggal 3 Mei.", True),
        ("Intan Permata19 menemukan 12 kotaksuara\npada tangga1 3 Mei.", True),
        # A crop of the left side: the first letters of each line cut, one misread.
        ("tan Permata19 menemukan 12 kotak suara\nda tanggal 3 Mei.", True),
        ("ntan Permata19 menemukan 12 kotak suara\nzda tanggal 3 Mei.", True),
        # Changes: another number, place, month, name.
        ("Intan Permata19 menemukan 18 kotak suara\npada tanggal 3 Mei.", False),
        ("Intan Permata19 menemukan 12 kotak suara\npada tanggal 3 Juni.", False),
        ("Intan Permata19 menemukan 12 kotak suara\npada tanggal 13 Mei.", False),
        ("Budi Santoso menemukan 12 kotak suara\npada tanggal 3 Mei.", False),
    ],
)
def test_ocr_confusions_are_noise_and_changes_are_not(copy: str, same: bool) -> None:
    header = "Kabar Pemilu Terkini\nDiteruskan berkali-kali\nWarga Yogyakarta bertanya\n"
    footer = "\nWarga diminta tidak menyebarkan pesan berantai\nsebelum ada klarifikasi resmi."
    text = header + "Intan Permata19 menemukan 12 kotak suara\npada tanggal 3 Mei." + footer

    assert ocr.text_similarity(text, header + copy + footer)[1] is same


def test_a_place_replaced_by_one_with_a_like_name_is_a_change() -> None:
    text = "Kabar Pemilu Terkini\nDiteruskan berkali-kali\nRelawan muda menemukan 12 kotak"
    assert not ocr.text_similarity(
        text + "\ndi kantor kelurahan Yogyakarta hari ini.",
        text + "\ndi kantor kelurahan Jakarta hari ini.",
    )[1]


def test_a_smooth_vertical_gradient_is_not_trimmed() -> None:
    sky = Image.linear_gradient("L").resize((1080, 2340))
    picture = Image.merge(
        "RGB", [sky, sky.point(lambda v: 100 + v // 3), sky.point(lambda v: 255 - v)]
    )

    assert fingerprint.trim(picture).size == picture.size


def test_a_border_and_a_status_bar_are_trimmed() -> None:
    content = corpus.photo_area(__import__("random").Random(3), (600, 900))
    framed = Image.new("RGB", (700, 1100), (0, 0, 0))
    framed.paste(content, (50, 140))
    bar = Image.new("RGB", (700, 60), (40, 40, 200))
    ImageDraw.Draw(bar).text((20, 20), "12:45      87%", fill="white")
    framed.paste(bar, (0, 0))

    trimmed = fingerprint.trim(framed)

    assert abs(trimmed.width - 600) <= 4 and abs(trimmed.height - 900) <= 90
    assert fingerprint.same_picture(
        fingerprint.fingerprint(trimmed), fingerprint.fingerprint(content)
    )


def test_an_ordinary_photo_is_not_trimmed() -> None:
    sky = Image.linear_gradient("L").rotate(30).resize((800, 600))
    photo = Image.merge(
        "RGB", [sky, sky.point(lambda v: 90 + v // 2), sky.point(lambda v: 255 - v)]
    )
    photo.paste(corpus.photo_area(__import__("random").Random(4), (800, 300)), (0, 300))
    photo = Image.blend(photo, Image.effect_noise((800, 600), 30).convert("RGB"), 0.15)

    assert fingerprint.trim(photo).size == photo.size


def test_serialisation_round_trip() -> None:
    data = original_print().to_bytes()

    assert data[0] == fingerprint.FORMAT
    assert Fingerprint.from_bytes(data) == original_print()
    with pytest.raises(ValueError):
        Fingerprint.from_bytes(b"\x00" + data[1:])
    with pytest.raises(ValueError):  # the first format (15 or 16 hashes, no wholes)
        Fingerprint.from_bytes(bytes([1, 15]) + bytes(8 * 15))
    with pytest.raises(ValueError):
        Fingerprint.from_bytes(data[:-1])
