"""Text similarity of Indonesian hoax claims: normalisation, a score, and bands for a lookup index.

Pure and offline (standard library only). How it decides, and what was measured, is in
docs/matching-text.md; the measurements come from bench/text_matching.py over
tests/data/claims_id.json.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Literal, Protocol

# --- thresholds (measured: docs/matching-text.md) ----------------------------------------

SUGGEST = 0.35  # "maybe related": shown to the moderator and to the reporter
JOIN = 0.60  # joins the case on its own
SWAP_WORDS = 2  # a name of this many words put in place of another: the same template
MIN_WORDS = 4  # fewer meaningful words than this: never matched (score 0, no bands)
GUARD_MARGIN = 0.01  # a number, a name or a negation differs: at most JOIN - this

Decision = Literal["join", "suggest", "none"]


def decide(score: float, suggest: float = SUGGEST, join: float = JOIN) -> Decision:
    """What a score means: join the case, suggest it, or nothing."""
    if score >= join:
        return "join"
    if score >= suggest:
        return "suggest"
    return "none"


# --- the vocabulary ----------------------------------------------------------------------


def words(spaced: str) -> frozenset[str]:
    """A set of words written one space apart."""
    return frozenset(spaced.split())


# Social-media spellings and abbreviations, and the standard word each stands for. A value is
# never a key itself, so that normalising twice gives the same text.
SLANG: dict[str, str] = {
    # negation
    "gak": "tidak", "ga": "tidak", "gk": "tidak", "nggak": "tidak", "ngga": "tidak",
    "enggak": "tidak", "engga": "tidak", "tdk": "tidak", "tak": "tidak",
    "kagak": "tidak", "gx": "tidak", "ndak": "tidak", "nda": "tidak", "ngak": "tidak",
    "bkn": "bukan", "blm": "belum", "blum": "belum", "jgn": "jangan", "jangn": "jangan",
    # function words
    "yg": "yang", "dgn": "dengan", "dg": "dengan", "utk": "untuk", "untk": "untuk",
    "buat": "untuk", "krn": "karena", "karna": "karena", "krna": "karena", "sm": "sama",
    "jg": "juga", "dr": "dari", "kpd": "kepada", "tp": "tapi", "tpi": "tapi", "aja": "saja",
    "aj": "saja", "doang": "saja", "sj": "saja", "dn": "dan", "sdgkan": "sedangkan",
    "klo": "kalau", "kalo": "kalau", "kl": "kalau", "klu": "kalau", "spy": "supaya",
    "biar": "supaya", "pd": "pada", "pdhl": "padahal", "dlm": "dalam", "ttg": "tentang",
    "sblm": "sebelum", "sebelom": "sebelum", "stlh": "setelah", "abis": "setelah",
    "sesudah": "setelah", "trs": "terus", "trus": "terus", "lg": "lagi", "lgi": "lagi",
    "sdh": "sudah", "udh": "sudah", "udah": "sudah", "dah": "sudah", "sudh": "sudah",
    "bs": "bisa", "bsa": "bisa", "hrs": "harus", "msh": "masih", "masi": "masih",
    "ttp": "tetap", "tetep": "tetap", "jd": "jadi", "jdi": "jadi", "cm": "hanya",
    "cuma": "hanya", "cuman": "hanya", "bgt": "banget", "bngt": "banget", "sgt": "sangat",
    "kyk": "seperti", "kayak": "seperti", "gmn": "bagaimana",
    "gimana": "bagaimana", "knp": "kenapa", "napa": "kenapa", "tau": "tahu", "tw": "tahu",
    "ketauan": "ketahuan", "blh": "boleh", "bole": "boleh", "pny": "punya", "pnya": "punya",
    "skrg": "sekarang", "skr": "sekarang", "skrang": "sekarang", "bsk": "besok",
    "besuk": "besok", "kmrn": "kemarin", "kemaren": "kemarin", "tgl": "tanggal",
    "thn": "tahun", "th": "tahun", "bln": "bulan", "hr": "hari", "mlm": "malam",
    "malem": "malam", "dpn": "depan", "dtg": "datang", "dateng": "datang",
    "smua": "semua", "smw": "semua", "bnyk": "banyak", "byk": "banyak",
    "sy": "saya", "gw": "saya", "gue": "saya", "aku": "saya", "km": "kamu", "lu": "kamu",
    "lo": "kamu", "elo": "kamu", "kalian": "kamu", "org": "orang", "orng": "orang",
    "tmn": "teman", "temen": "teman", "kluarga": "keluarga", "klg": "keluarga",
    "emak": "ibu", "rmh": "rumah", "jln": "jalan",
    "brarti": "berarti", "trnyt": "ternyata", "ternyta": "ternyata", "bener": "benar",
    "beneran": "benar", "gampang": "mudah", "ilang": "hilang", "sampe": "sampai",
    "smp": "sampai", "nyampe": "sampai", "plg": "paling", "dapet": "dapat",
    "ketemu": "ditemukan", "nemu": "menemukan", "kasih": "beri", "dikasih": "diberi",
    "pake": "pakai", "pakek": "pakai", "liat": "lihat", "ngasih": "memberi",
    "bilang": "berkata", "blg": "berkata", "prnh": "pernah", "pas": "saat", "wkt": "waktu",
    "duit": "uang", "doku": "uang", "gratisan": "gratis",
    # numbers and money
    "rb": "ribu", "rebu": "ribu", "jt": "juta", "jeti": "juta", "milyar": "miliar",
    "triliyun": "triliun", "no": "nomor", "nmr": "nomor",
    # election words (pemilu, pilpres, capres, cawapres, KPU, Bawaslu and the like are kept)
    "kab": "kabupaten", "kec": "kecamatan", "kel": "kelurahan", "prov": "provinsi",
    "pemda": "pemerintah daerah", "timses": "tim sukses",
    "nyoblos": "mencoblos", "nyoblosin": "mencoblos", "coblos": "mencoblos",
    "milih": "memilih", "pilih": "memilih", "dipilih": "memilih", "kepilih": "terpilih",
    "nolak": "menolak", "hoax": "hoaks", "hoaxs": "hoaks", "hoak": "hoaks",
    "ktpel": "ktp", "ektp": "ktp", "wna": "warga negara asing",
    "pns": "asn", "qc": "hitung cepat", "psu": "pemungutan suara ulang", "nyebar": "menyebarkan", "nyebarin": "menyebarkan",
    "ngubah": "mengubah", "nunjukin": "menunjukkan", "nangkep": "menangkap",
    "umumin": "mengumumkan", "ngumumin": "mengumumkan", "dihentiin": "dihentikan",
    "dibatalin": "dibatalkan", "disiarin": "disiarkan", "janjiin": "menjanjikan",
    "ngurus": "mengurus", "masukin": "masukkan", "bakal": "akan", "bakalan": "akan",
    "beda": "berbeda", "rs": "rumah sakit", "feb": "februari", "agt": "agustus",
}  # fmt: skip
# Several words that say one thing, in the words of the other spellings.
PHRASES: dict[str, str] = {
    "daftar pemilih tetap": "dpt", "ktp el": "ktp", "e ktp": "ktp", "quick count": "hitung cepat",
}  # fmt: skip

# Words that carry no claim: counted out of the meaningful words and out of the score.
STOPWORDS = words(
    "yang di ke dari dan atau ini itu ada akan untuk dengan pada juga saja sudah kalau jadi "
    "karena bahwa tapi ya kok sih dong deh nih lah loh kan si sang para oleh dalam sebagai "
    "lagi terus banget sangat saya kamu mereka dia kita kami nya pun tuh eh oh wah nah "
    "katanya kata sebuah suatu hal seperti bagaimana kenapa apa siapa gitu begitu sama "
    "cek lihat coba rupiah per semua setiap tiap sebelum setelah hanya masih supaya agar "
    "sampai tentang padahal lalu kemudian bahkan ternyata tahu biar"
)
# What a forward adds around a claim: left out of the score, kept in the normalised text.
FORWARD_NOISE = words(
    "sebarkan sebarin viralkan share disebarkan bagikan forward forwarded diteruskan berkali "
    "many times penting info informasi grup group sebelah wa whatsapp copas repost mohon "
    "tolong buruan breaking news waspada awas hati innalillahi fyp dihapus kehabisan "
    "disembunyikan laporkan usut tuntas parah tega alumni"
)
# Words nearly every election claim has: they weigh less in the score and stay out of the
# index's shingles, so that two claims must share more than "surat suara" to look alike.
COMMON_WORDS = words(
    "surat suara pemilih memilih mencoblos dicoblos tps pemilu pilpres kpu bawaslu capres "
    "cawapres paslon caleg kpps kotak hari pencoblosan warga ktp dpt partai kampanye calon "
    "hasil tanggal besok"
)
COMMON_WEIGHT = 0.6
# The words after which a name, a number or a place follows: who or where a claim is about.
ROLE_WORDS = words(
    "capres cawapres paslon caleg calon partai tps nomor desa kelurahan kecamatan kabupaten "
    "kota provinsi pak bu bapak ibu kades bupati gubernur walikota camat lurah stadion"
)
# A claim and its correction: a word negated in one stands plainly in the other ("tidak bisa"
# against "tetap bisa"), or one says the opposite word of the other.
NEGATORS = words("tidak bukan belum jangan")
MODALS = words("bisa boleh pernah perlu harus mau ingin sedang sempat dapat")
OPPOSITES = (
    ("palsu", "asli"), ("editan", "asli"), ("boleh", "dilarang"), ("menang", "kalah"),
    ("sah", "batal"), ("wajib", "dilarang"), ("hoaks", "fakta"),
)  # fmt: skip
_NUMBER_UNITS = {
    "nol": 0, "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6, "tujuh": 7,
    "delapan": 8, "sembilan": 9, "sepuluh": 10, "sebelas": 11, "seratus": 100,
}  # fmt: skip
_NUMBER_BIG = {
    "ribu": 1_000, "juta": 1_000_000, "miliar": 1_000_000_000, "triliun": 10**12,
    "seribu": -1_000, "sejuta": -1_000_000,
}  # fmt: skip
_NUMBER_GROUP = {"belas": 10, "puluh": 10, "ratus": 100}
_NUMBER_WORDS = frozenset({*_NUMBER_UNITS, *_NUMBER_BIG, *_NUMBER_GROUP, "setengah"})

_URL = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|id|co|net|org|ly|xyz|info|me|io|gl|link)\b(?:/\S*)?"
)
_MENTION = re.compile(r"(?<!\w)@\w+")
_RUPIAH = re.compile(r"\brp\.?\s*(?=\d)")
_THOUSANDS = re.compile(r"\b\d{1,3}(?:\.\d{3})+\b")
_MULTIPLIED = re.compile(r"\b(\d+)(?:[.,](\d+))?\s*(rb|ribu|k|jt|juta|miliar|milyar)\b")
_MULTIPLIERS = {
    "rb": 1_000, "ribu": 1_000, "k": 1_000, "jt": 1_000_000, "juta": 1_000_000,
    "miliar": 1_000_000_000, "milyar": 1_000_000_000,
}  # fmt: skip
_TIMES = re.compile(r"\b(\d+)\s*x\b")
_PERCENT = re.compile(r"(\d)\s*%")
_PUNCTUATION = re.compile(r"[^\w\s]+|_+")  # and emoji: every sign that ends a number
_LETTER_DIGIT = re.compile(r"(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)")
_PHRASE = re.compile(r"\b(?:" + "|".join(PHRASES) + r")\b")
_REPEATED = re.compile(r"([^\W\d_])\1{2,}")
_DOUBLED = re.compile(r"([^\W\d_])\1")
_LAUGHTER = re.compile(r"[wk]{4,}|(?:ha|he|hi|hu|xi){2,}[aehiuk]*|a?wo?k(?:wo?k)+\w*")
_REDUPLICATED = re.compile(r"\b(?!ke2)([^\W\d_]{2,})2\b")  # "bagi2": "bagi bagi"


# --- normalisation -----------------------------------------------------------------------


def normalise(text: str) -> str:
    """The claim in plain standard Indonesian words and digits, lower case, one space apart.

    Normalising a normalised text gives it back unchanged, so the stored form can be
    prepared again to the same score."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _MENTION.sub(" ", _URL.sub(" ", text)).replace("#", " ")
    text = _digits(_REDUPLICATED.sub(r"\1 \1", text))
    words: list[str] = []
    for piece in _PUNCTUATION.split(_LETTER_DIGIT.sub(" ", text)):
        standard = [word for token in piece.split() for word in _standard_word(token)]
        words.extend(_numbers_in_words(standard))
    return _PHRASE.sub(lambda match: PHRASES[match.group()], " ".join(words))


def _digits(text: str) -> str:
    """Money and counts written with digits as one integer: "Rp 500.000", "500rb", "1,5 jt"."""
    text = _RUPIAH.sub("", text)
    text = _THOUSANDS.sub(lambda match: match.group().replace(".", ""), text)
    text = _MULTIPLIED.sub(_multiplied, text)
    text = _TIMES.sub(r"\1 kali", text)
    return _PERCENT.sub(r"\1 persen", text)


def _multiplied(match: re.Match[str]) -> str:
    whole, fraction, unit = match.groups()
    value = float(f"{whole}.{fraction}") if fraction else int(whole)
    return f" {round(value * _MULTIPLIERS[unit])} "


def _standard_word(token: str) -> list[str]:
    """One token as standard words: laughter dropped, stretched letters shortened, slang
    replaced, a number without its leading zeros."""
    if token.isdigit():
        return [str(int(token))]
    if _LAUGHTER.fullmatch(token):
        return []
    token = _REPEATED.sub(r"\1", token)
    if token not in SLANG:
        shorter = _DOUBLED.sub(r"\1", token)
        if shorter in SLANG:
            token = shorter
    return SLANG.get(token, token).split()


def _numbers_in_words(words: list[str]) -> list[str]:
    """Runs of number words as one integer: "dua juta" → "2000000", "lima ratus ribu" →
    "500000"; an ordinal "ketiga" → "ke 3"."""
    out: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if word in _NUMBER_WORDS:
            run.append(word)
            continue
        if run:
            out.extend(_spoken_number(run))
            run = []
        if word.startswith("ke") and word[2:] in _NUMBER_UNITS:
            out.extend(["ke", str(_NUMBER_UNITS[word[2:]])])
        elif word:
            out.append(word)
    return out


def _spoken_number(run: list[str]) -> list[str]:
    """The value of a run of number words, or the words themselves when they are no integer."""
    total, group, pending = 0.0, 0.0, 0.0
    for word in run:
        if word in _NUMBER_UNITS:
            pending += _NUMBER_UNITS[word]
        elif word == "setengah":
            pending += 0.5
        elif word in _NUMBER_GROUP:
            factor = _NUMBER_GROUP[word]
            group += pending + factor if word == "belas" else (pending or 1) * factor
            pending = 0
        else:
            size = _NUMBER_BIG[word]
            total += abs(size) * (1 if size < 0 else (group + pending or 1))
            group = pending = 0
    total += group + pending
    if total != int(total) or run == ["setengah"]:
        return run
    return [str(int(total))]


# --- what the score compares -------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """One claim ready to compare: its normalised text (the stored form) and what is read
    from it. Any matcher's features go in `vector`, a sparse unit vector."""

    text: str
    words: tuple[str, ...]  # meaningful words: no stopwords, no forwarding noise
    numbers: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()  # the word after a role word: "capres a", "tps 5"
    negated: frozenset[str] = frozenset()  # the first meaningful word after a negator
    plain: frozenset[str] = frozenset()  # meaningful words standing once at least unnegated
    vector: Mapping[str, float] = field(default_factory=dict)

    @property
    def too_short(self) -> bool:
        return len(self.words) < MIN_WORDS


def claim_features(text: str) -> Prepared:
    """The normalised text and the parts every matcher's guard reads; `vector` left empty."""
    normal = normalise(text)
    tokens = normal.split()
    words = tuple(w for w in tokens if w not in STOPWORDS and w not in FORWARD_NOISE)
    names = {
        after
        for before, after in pairwise(tokens)
        if before in ROLE_WORDS and after not in STOPWORDS and after not in ROLE_WORDS
    }
    negated, plain = _negations(tokens)
    return Prepared(
        text=normal,
        words=words,
        numbers=frozenset(w for w in tokens if w.isdigit()),
        names=frozenset(names),
        negated=negated,
        plain=plain,
    )


def _negations(tokens: list[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The words a negator applies to (the next meaningful one, and the one after a modal:
    "tidak bisa mencoblos"), and the words that stand at least once without one."""
    negated: set[str] = set()
    plain: set[str] = set()
    pending = False
    for token in tokens:
        if token in NEGATORS:
            pending = True
        elif token not in STOPWORDS:
            (negated if pending else plain).add(token)
            pending = pending and token in MODALS
    return frozenset(negated), frozenset(plain)


def conflicts(a: Prepared, b: Prepared) -> bool:
    """Whether the two claims differ where a copy of one would not: each names a number, a
    person or a place the other lacks; a word negated in one stands only plainly in the other;
    one says a word the other says the opposite of; or the same sentence has other names in
    it (see `_swapped`)."""
    if a.numbers - b.numbers and b.numbers - a.numbers:
        return True
    mine, theirs = a.names - b.names, b.names - a.names
    if any(not any(_spelling(m, t) for t in theirs) for m in mine) and theirs:
        return True
    for one, other in ((a, b), (b, a)):
        if one.negated & other.plain - other.negated:
            return True
        for word, opposite in OPPOSITES:
            if word in one.plain and opposite in other.plain and word not in other.plain:
                return True
    return _swapped(a, b)


def _swapped(a: Prepared, b: Prepared) -> bool:
    """The same sentence with a two-word name in place of another: "... menunjukkan Budi
    Santoso kehilangan ..." and "... menunjukkan Wahyu Hidayat kehilangan ...". A single word
    in place of another is as often a synonym ("padam", "mati") and is let through."""
    mine = [w for w in a.words if not w.isdigit()]
    theirs = [w for w in b.words if not w.isdigit()]
    same = 0
    while same < min(len(mine), len(theirs)) and mine[same] == theirs[same]:
        same += 1
    mine, theirs = mine[same:][::-1], theirs[same:][::-1]
    tail = 0
    while tail < min(len(mine), len(theirs)) and mine[tail] == theirs[tail]:
        tail += 1
    mine, theirs = mine[tail:], theirs[tail:]
    return (
        len(mine) == len(theirs) == SWAP_WORDS
        and same + tail >= MIN_WORDS
        and not any(_spelling(m, t) for m in mine for t in theirs)
    )


def _spelling(one: str, other: str) -> bool:
    """Whether two words may be spellings of one word: a typo, an affix, a stretched letter."""
    stem = min(len(one), len(other), 4)
    if one[:stem] == other[:stem] or one[-stem:] == other[-stem:]:
        return True
    return stem >= 4 and (one in other or other in one)


def guarded(score: float, a: Prepared, b: Prepared, join: float = JOIN) -> float:
    """A raw similarity made safe to act on: 0 for a short text, just below `join` (the
    matcher's own JOIN) on a conflict, so that it is suggested but never joined."""
    if a.too_short or b.too_short:
        return 0.0
    return min(score, join - GUARD_MARGIN) if conflicts(a, b) else score


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """The dot product of two unit vectors (0 to 1 for non-negative weights)."""
    if len(a) > len(b):
        a, b = b, a
    return sum(weight * b.get(key, 0.0) for key, weight in a.items())


# --- the matchers ------------------------------------------------------------------------


class TextMatcher(Protocol):
    """A method to compare claims. `prepare` is cheap to keep; `bands` feed the lookup index:
    two claims that score at least its `suggest` share a (band, value) with high probability;
    `decide(score, matcher.suggest, matcher.join)` reads its scores."""

    name: str
    suggest: float
    join: float

    def prepare(self, text: str) -> Prepared: ...

    def score(self, a: Prepared, b: Prepared) -> float: ...

    def bands(self, prepared: Prepared) -> list[tuple[int, int]]: ...


_MERSENNE = (1 << 61) - 1
STEM_LETTERS = 5


def _hash64(data: str) -> int:
    return int.from_bytes(hashlib.blake2b(data.encode(), digest_size=8).digest())


def _signed64(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


class CharNgramMatcher:
    """Cosine of the character 3- to 5-grams of the meaningful words (TF weights), guarded;
    MinHash bands over the word set for the index."""

    suggest = SUGGEST
    join = JOIN

    def __init__(self, sizes: Iterable[int] = (3, 4, 5), bands: int = 16, rows: int = 1) -> None:
        self.sizes = tuple(sizes)
        self.band_count = bands
        self.rows = rows
        self.name = f"char-{min(self.sizes)}-{max(self.sizes)}-cosine"
        seeds = [_hash64(f"textmatch-{i}") for i in range(bands * rows)]
        self._permutations = [(seed % (_MERSENNE - 1) + 1, seed >> 3) for seed in seeds]

    def prepare(self, text: str) -> Prepared:
        features = claim_features(text)
        counts: dict[str, float] = defaultdict(float)
        for word in features.words:
            weight = COMMON_WEIGHT if word in COMMON_WORDS else 1.0
            padded = f" {word} "
            for size in self.sizes:
                for i in range(len(padded) - size + 1):
                    counts[padded[i : i + size]] += weight
        norm = math.sqrt(sum(n * n for n in counts.values())) or 1.0
        vector = {gram: n / norm for gram, n in counts.items()}
        return replace(features, vector=vector)

    def score(self, a: Prepared, b: Prepared) -> float:
        return guarded(cosine(a.vector, b.vector), a, b)

    def bands(self, prepared: Prepared) -> list[tuple[int, int]]:
        if prepared.too_short:
            return []
        shingles = {_hash64(stem) % _MERSENNE for stem in _stems(prepared.words)}
        if not shingles:
            return []
        minima = [
            min((multiplier * s + offset) % _MERSENNE for s in shingles)
            for multiplier, offset in self._permutations
        ]
        rows = self.rows
        return [
            (band, _signed64(_hash64(repr(minima[band * rows : (band + 1) * rows]))))
            for band in range(self.band_count)
        ]


def _stems(words: Iterable[str]) -> set[str]:
    """The first five letters of each uncommon word: cheap stemming for the index."""
    return {word[:STEM_LETTERS] for word in words if word not in COMMON_WORDS}


def default_matcher() -> TextMatcher:
    """The character n-grams: offline, with no model files. The site chooses between it and
    an `EmbeddingMatcher` (pledge/hoaxes/embeddings.py) in `service.matching.matcher()`."""
    return CharNgramMatcher()
