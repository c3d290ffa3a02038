"""Screenshot-like pictures made from a seed, and the copies people make of them.

Every picture is drawn from its seed alone (the same seed gives the same pixels): a phone
screen in one of four app styles (a messenger forward, a news article, a post on a microblog,
a social post with a photo), with a status bar most of the time, a header, an avatar, a name,
3 to 12 lines of Indonesian text in one of the DejaVu fonts and often a photo-like area made
of gradients and shapes. `twin` draws the same template with one line of text changed: a
different number, name, date or sentence, in a line the screenshot shows.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

FONTS = Path("/usr/share/fonts/truetype/dejavu")
FACES = (
    "DejaVuSans.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSansCondensed.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSerifCondensed.ttf",
)
SIZES = ((1080, 2340), (1080, 2400), (720, 1600), (1170, 2532), (1080, 1920), (828, 1792))
STYLES = ("chat", "news", "tweet", "post")

NAMES = (
    "Budi Santoso",
    "Siti Rahmawati",
    "Andi Pratama",
    "Dewi Lestari",
    "Rizky Maulana",
    "Putri Ayu",
    "Agus Setiawan",
    "Nur Hidayah",
    "Fajar Nugroho",
    "Intan Permata",
    "Joko Susilo",
    "Maya Sari",
    "Hendra Gunawan",
    "Lina Marlina",
    "Yusuf Hakim",
)
PLACES = (
    "Jakarta",
    "Surabaya",
    "Bandung",
    "Medan",
    "Makassar",
    "Semarang",
    "Palembang",
    "Yogyakarta",
    "Denpasar",
    "Pontianak",
    "Manado",
    "Ambon",
    "Kupang",
    "Padang",
)
MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
SUBJECTS = (
    "Calon nomor urut {n}",
    "Tim sukses pasangan {n}",
    "Ketua panitia pemilu",
    "Warga {place}",
    "Relawan muda {place}",
    "Pemerintah daerah {place}",
    "Seorang saksi di TPS {n}",
    "Panitia pemungutan suara",
    "Kepala desa {place}",
)
VERBS = (
    "membagikan",
    "menolak",
    "mengumumkan",
    "membatalkan",
    "menjanjikan",
    "menyebarkan",
    "menemukan",
    "melaporkan",
    "membantah",
    "menghapus",
)
OBJECTS = (
    "bantuan sosial sebanyak {n} paket",
    "hasil hitung cepat di {place}",
    "surat suara yang sudah dicoblos",
    "daftar pemilih tambahan",
    "video kampanye palsu",
    "uang tunai Rp {n}00.000 per orang",
    "jadwal debat kedua",
    "foto bersama artis terkenal",
    "kotak suara di kecamatan {place}",
    "data pemilih ganda sebanyak {n} ribu",
)
TAILS = (
    "pada tanggal {d} {month} 2024.",
    "menurut sumber yang tidak mau disebut namanya.",
    "sebelum hari pemungutan suara.",
    "dan meminta warga untuk menyebarkan pesan ini.",
    "di depan kantor kelurahan {place}.",
    "tanpa izin dari Bawaslu.",
    "sejak pukul {d}.00 pagi.",
    "kata seorang pejabat kepada wartawan.",
)
HEADLINES = (
    "BREAKING: {place} Ricuh Jelang Pemilu",
    "Viral! Pesan Berantai Soal Surat Suara",
    "Fakta atau Hoaks? Video Calon Nomor {n}",
    "Heboh Kabar Bansos Rp {n}00 Ribu",
    "Warga {place} Diminta Waspada",
    "Klarifikasi KPU Soal Data Pemilih",
)


def sentence(rng: random.Random) -> str:
    def fill(text: str) -> str:
        return text.format(
            n=rng.randint(1, 48),
            place=rng.choice(PLACES),
            d=rng.randint(1, 28),
            month=rng.choice(MONTHS),
        )

    return " ".join(fill(rng.choice(part)) for part in (SUBJECTS, VERBS, OBJECTS, TAILS))


@cache
def font(face: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / face), size)


def wrap(text: str, face: ImageFont.FreeTypeFont, width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and face.getlength(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines


def colour(rng: random.Random, low: int = 0, high: int = 256) -> tuple[int, int, int]:
    return (rng.randrange(low, high), rng.randrange(low, high), rng.randrange(low, high))


def photo_area(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """Something like a photo: a gradient sky, blurred shapes, a little grain."""
    width, height = size
    sky = Image.linear_gradient("L").resize(size).rotate(rng.choice((0, 180)))
    top, bottom = colour(rng), colour(rng)
    base = Image.composite(Image.new("RGB", size, top), Image.new("RGB", size, bottom), sky)
    draw = ImageDraw.Draw(base)
    for _ in range(rng.randint(4, 9)):
        x, y = rng.randrange(width), rng.randrange(height)
        rx, ry = rng.randrange(width // 12, width // 3), rng.randrange(height // 12, height // 2)
        shape = draw.ellipse if rng.random() < 0.6 else draw.rectangle
        shape((x - rx, y - ry, x + rx, y + ry), fill=colour(rng))
    base = base.filter(ImageFilter.GaussianBlur(max(2, width // 90)))
    grain = Image.effect_noise(size, 25).convert("RGB")
    return Image.blend(base, grain, 0.08)


def status_bar(
    image: Image.Image, height: int, background: tuple[int, int, int], seed: int
) -> None:
    """A phone's status bar drawn over the top of `image`: the time, signal and battery."""
    rng = random.Random(seed)
    draw = ImageDraw.Draw(image)
    width = image.width
    draw.rectangle((0, 0, width, height), fill=background)
    ink = (255, 255, 255) if sum(background) < 384 else (20, 20, 20)
    face = font("DejaVuSans-Bold.ttf", max(8, height * 5 // 10))
    draw.text(
        (height // 2, height // 2),
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
        font=face,
        fill=ink,
        anchor="lm",
    )
    right = width - height // 2
    bar = max(4, height * 4 // 10)
    draw.rounded_rectangle(
        (right - bar * 2, height // 2 - bar // 2, right, height // 2 + bar // 2), 2, fill=ink
    )
    for index in range(4):
        x = right - bar * 3 - index * bar // 2
        draw.rectangle(
            (
                x,
                height // 2 + bar // 2 - index * bar // 4 - 2,
                x + bar // 3,
                height // 2 + bar // 2,
            ),
            fill=ink,
        )
    draw.text(
        (right - bar * 5, height // 2), f"{rng.randint(10, 99)}%", font=face, fill=ink, anchor="rm"
    )


@dataclass(frozen=True)
class Template:
    """What a picture is made of; `lines` is the text, one paragraph a line."""

    seed: int
    style: str
    size: tuple[int, int]
    face: str
    lines: tuple[str, ...]
    name: str
    title: str


def template(seed: int) -> Template:
    rng = random.Random(seed * 7919 + 17)
    style = STYLES[seed % len(STYLES)]
    count = rng.randint(3, 12)
    title = rng.choice(HEADLINES).format(n=rng.randint(1, 9), place=rng.choice(PLACES))
    return Template(
        seed=seed,
        style=style,
        size=rng.choice(SIZES),
        face=rng.choice(FACES),
        lines=tuple(sentence(rng) for _ in range(count)),
        name=rng.choice(NAMES),
        title=title,
    )


def twin_template(seed: int) -> Template:
    """The template of `seed` with one line changed: a number, a name, a date or a sentence."""
    base = template(seed)
    rng = random.Random(seed * 31 + 5)
    lines = list(base.lines)
    # A line the screenshot shows in full: a change below the screen's end is no twin.
    index = rng.randrange(max(1, draw(base).info["lines shown"]))
    line = lines[index]
    words = line.split()
    numbers = [i for i, word in enumerate(words) if any(c.isdigit() for c in word)]
    kind = seed % 3
    if kind == 0 and numbers:
        position = rng.choice(numbers)
        word = words[position]
        digits = "".join(c for c in word if c.isdigit())
        changed = str(int(digits) + rng.randint(1, 9))
        words[position] = word.replace(digits, changed, 1)
        lines[index] = " ".join(words)
    elif kind == 1:
        place = next((p for p in PLACES if p in line), None)
        if place is not None:
            other = rng.choice([p for p in PLACES if p != place])
            lines[index] = line.replace(place, other, 1)
        else:
            lines[index] = sentence(rng)
    else:
        lines[index] = sentence(rng)
    if lines[index] == line:
        lines[index] = sentence(rng)
    return Template(
        seed=base.seed,
        style=base.style,
        size=base.size,
        face=base.face,
        lines=tuple(lines),
        name=base.name,
        title=base.title,
    )


def draw(plan: Template) -> Image.Image:
    """The screenshot of a template."""
    rng = random.Random(plan.seed)
    width, height = plan.size
    unit = width / 1080
    dark = rng.random() < 0.25
    page = (18, 18, 22) if dark else rng.choice(((255, 255, 255), (246, 246, 246), (236, 229, 221)))
    ink = (232, 232, 232) if dark else (20, 20, 24)
    image = Image.new("RGB", plan.size, page)
    pen = ImageDraw.Draw(image)
    accent = colour(rng, 20, 200)
    header_height = round(rng.randint(130, 190) * unit)
    bar_height = round(rng.randint(60, 90) * unit) if rng.random() < 0.7 else 0
    pen.rectangle((0, 0, width, bar_height + header_height), fill=accent)
    if bar_height:
        status_bar(image, bar_height, accent, plan.seed)
    text_face = font(plan.face, round(rng.randint(36, 46) * unit))
    bold = font("DejaVuSans-Bold.ttf", round(rng.randint(40, 52) * unit))
    small = font("DejaVuSans.ttf", round(30 * unit))
    margin = round(rng.randint(36, 64) * unit)
    middle = bar_height + header_height // 2
    # The header: a back arrow, an avatar and the name (or the site's name).
    pen.polygon(
        [
            (margin, middle),
            (margin + 30 * unit, middle - 25 * unit),
            (margin + 30 * unit, middle + 25 * unit),
        ],
        fill=(255, 255, 255),
    )
    avatar = round(header_height * 0.6)
    left = round(margin + 60 * unit)
    pen.ellipse((left, middle - avatar // 2, left + avatar, middle + avatar // 2), fill=colour(rng))
    header_text = plan.name if plan.style in ("chat", "tweet") else plan.title.split(":")[0][:18]
    pen.text(
        (left + avatar + 24 * unit, middle),
        header_text,
        font=bold,
        fill=(255, 255, 255),
        anchor="lm",
    )
    y = bar_height + header_height + round(rng.randint(30, 80) * unit)
    line_gap = round(text_face.size * rng.uniform(1.3, 1.6))

    shown = 0

    def paragraph(
        lines: tuple[str, ...], x: int, right: int, y: int, fill: tuple[int, int, int]
    ) -> int:
        nonlocal shown
        for text in lines:
            for row in wrap(text, text_face, right - x):
                if y + line_gap > height - 60 * unit:
                    return y
                pen.text((x, y), row, font=text_face, fill=fill)
                y += line_gap
            y += line_gap // 3
            shown += 1
        return y

    if plan.style == "chat":
        pen.rounded_rectangle(
            (margin, y, width - margin * 3, y + 60 * unit),
            14,
            fill=(255, 255, 255) if not dark else (40, 40, 46),
        )
        pen.text(
            (margin + 20 * unit, y + 30 * unit),
            "↪ Diteruskan berkali-kali",
            font=small,
            fill=(120, 120, 120),
            anchor="lm",
        )
        y += round(90 * unit)
        bubble = (220, 248, 198) if not dark else (5, 80, 70)
        top = y
        if rng.random() < 0.5:
            area = (width - margin * 4 - 40, round(width * 0.55))
            image.paste(photo_area(rng, area), (margin + 20, y + 20))
            y += area[1] + 40
        end = paragraph(
            plan.lines, margin + 30, width - margin * 3 - 30, y + 20, ink if dark else (20, 20, 24)
        )
        pen.rounded_rectangle(
            (margin, top, width - margin * 2, end + 30), 24, outline=bubble, width=6
        )
        pen.text(
            (width - margin * 3, end + 10),
            f"{rng.randint(7, 22)}.{rng.randint(10, 59)}",
            font=small,
            fill=(130, 130, 130),
            anchor="rt",
        )
    elif plan.style == "news":
        title_face = font("DejaVuSerif-Bold.ttf", round(rng.randint(56, 70) * unit))
        for row in wrap(plan.title, title_face, width - 2 * margin):
            pen.text((margin, y), row, font=title_face, fill=ink)
            y += round(title_face.size * 1.25)
        pen.text(
            (margin, y + 10),
            f"{plan.name} · {rng.randint(1, 28)} {rng.choice(MONTHS)} 2024",
            font=small,
            fill=(120, 120, 120),
        )
        y += round(70 * unit)
        area = (width - 2 * margin, round(width * rng.uniform(0.45, 0.65)))
        image.paste(photo_area(rng, area), (margin, y))
        y += area[1] + round(40 * unit)
        paragraph(plan.lines, margin, width - margin, y, ink)
    elif plan.style == "tweet":
        size = round(110 * unit)
        pen.ellipse((margin, y, margin + size, y + size), fill=colour(rng))
        pen.text((margin + size + 24, y + 10), plan.name, font=bold, fill=ink)
        handle = "@" + plan.name.lower().replace(" ", "_") + str(rng.randint(1, 99))
        pen.text((margin + size + 24, y + 20 + bold.size), handle, font=small, fill=(110, 120, 130))
        y += size + round(40 * unit)
        y = paragraph(plan.lines, margin, width - margin, y, ink)
        if rng.random() < 0.5 and y < height * 0.6:
            area = (width - 2 * margin, round(width * 0.5))
            image.paste(photo_area(rng, area), (margin, y + 20))
            y += area[1] + 40
        pen.line((margin, y + 30, width - margin, y + 30), fill=(200, 200, 200), width=2)
        pen.text(
            (margin, y + 50),
            f"{rng.randint(1, 99)}rb Suka   {rng.randint(1, 40)}rb Repost",
            font=small,
            fill=(110, 120, 130),
        )
    else:  # a social post with a large photo
        area = (width, round(width * rng.uniform(0.8, 1.1)))
        image.paste(photo_area(rng, area), (0, y))
        y += area[1] + round(30 * unit)
        pen.text((margin, y), plan.name, font=bold, fill=ink)
        y += round(bold.size * 1.5)
        paragraph(plan.lines, margin, width - margin, y, ink)
    image.info["lines shown"] = shown  # lines of plan.lines drawn in full
    return image


def screenshot(seed: int) -> Image.Image:
    return draw(template(seed))


def twin(seed: int) -> Image.Image:
    return draw(twin_template(seed))


# --- copies -------------------------------------------------------------------------------


def encode(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def _crop(image: Image.Image, sides: str, share: float) -> Image.Image:
    width, height = image.size
    left = round(width * share) if "l" in sides else 0
    top = round(height * share) if "t" in sides else 0
    right = width - (round(width * share) if "r" in sides else 0)
    bottom = height - (round(height * share) if "b" in sides else 0)
    return image.crop((left, top, right, bottom))


def _with_status_bar(image: Image.Image, seed: int) -> Image.Image:
    rng = random.Random(seed)
    bar = round(image.width * rng.uniform(0.055, 0.08))
    out = Image.new("RGB", (image.width, image.height + bar))
    out.paste(image, (0, bar))
    status_bar(out, bar, colour(rng), seed)
    return out


def _with_border(image: Image.Image, seed: int) -> Image.Image:
    rng = random.Random(seed)
    side = round(image.width * rng.uniform(0.02, 0.06))
    top = round(image.height * rng.uniform(0.0, 0.05))
    fill = rng.choice(((0, 0, 0), (255, 255, 255), colour(rng)))
    out = Image.new("RGB", (image.width + 2 * side, image.height + 2 * top + 2), fill)
    out.paste(image, (side, top + 1))
    return out


def reshot(image: Image.Image, seed: int) -> Image.Image:
    """A screenshot of the picture shown on another phone: scaled into that phone's screen
    between its own status bar and navigation bar, on a background of another colour."""
    rng = random.Random(seed)
    width, height = rng.choice(SIZES)
    bar = round(width * rng.uniform(0.055, 0.075))
    navigation = round(width * rng.uniform(0.08, 0.12))
    background = rng.choice(((0, 0, 0), (30, 30, 30), (250, 250, 250)))
    screen = Image.new("RGB", (width, height), background)
    room = (width, height - bar - navigation)
    scale = min(room[0] / image.width, room[1] / image.height)
    shown = image.resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))),
        Image.Resampling.BILINEAR,
    )
    screen.paste(shown, ((width - shown.width) // 2, bar + (room[1] - shown.height) // 2))
    status_bar(screen, bar, colour(rng, 0, 80), seed + 1)
    pen = ImageDraw.Draw(screen)
    nav_colour = colour(rng, 0, 60)
    pen.rectangle((0, height - navigation, width, height), fill=nav_colour)
    middle = height - navigation // 2
    for index, x in enumerate((width // 4, width // 2, width * 3 // 4)):
        r = navigation // 5
        shape = (pen.rectangle, pen.ellipse, pen.polygon)[index]
        if index == 2:
            pen.polygon(
                [(x + r, middle - r), (x + r, middle + r), (x - r, middle)], fill=(230, 230, 230)
            )
        else:
            shape((x - r, middle - r, x + r, middle + r), outline=(230, 230, 230), width=3)
    return screen


def _sides(seed: int, count: int) -> str:
    rng = random.Random(seed * 13 + count)
    if count == 1:
        return rng.choice("tblr")
    return rng.choice(("tl", "tr", "bl", "br", "tb", "lr"))


COPIES: dict[str, Callable[[Image.Image, int], bytes]] = {
    "resized 50 %": lambda im, s: encode(
        im.resize((im.width // 2, im.height // 2), Image.Resampling.BILINEAR)
    ),
    "JPEG q=40": lambda im, s: encode(im, "JPEG", quality=40),
    "WebP": lambda im, s: encode(im, "WEBP", quality=75),
    "cropped 3 %": lambda im, s: encode(_crop(im, _sides(s, 1), 0.03)),
    "cropped 8 %": lambda im, s: encode(_crop(im, _sides(s, 1), 0.08)),
    "cropped 8 %, two sides": lambda im, s: encode(_crop(im, _sides(s, 2), 0.08)),
    "status bar added": lambda im, s: encode(_with_status_bar(im, s)),
    "border added": lambda im, s: encode(_with_border(im, s)),
    "brightened 20 %": lambda im, s: encode(
        ImageEnhance.Brightness(im).enhance(1.2), "JPEG", quality=90
    ),
    "screenshot of a screenshot": lambda im, s: encode(reshot(im, s), "JPEG", quality=85),
}
