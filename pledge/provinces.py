"""Indonesia's 38 provinces, keyed by their ISO 3166-2:ID codes."""

from __future__ import annotations

PROVINCES: dict[str, str] = {
    "ID-AC": "Aceh",
    "ID-SU": "Sumatera Utara",
    "ID-SB": "Sumatera Barat",
    "ID-RI": "Riau",
    "ID-KR": "Kepulauan Riau",
    "ID-JA": "Jambi",
    "ID-BE": "Bengkulu",
    "ID-SS": "Sumatera Selatan",
    "ID-BB": "Kepulauan Bangka Belitung",
    "ID-LA": "Lampung",
    "ID-BT": "Banten",
    "ID-JK": "DKI Jakarta",
    "ID-JB": "Jawa Barat",
    "ID-JT": "Jawa Tengah",
    "ID-YO": "DI Yogyakarta",
    "ID-JI": "Jawa Timur",
    "ID-BA": "Bali",
    "ID-NB": "Nusa Tenggara Barat",
    "ID-NT": "Nusa Tenggara Timur",
    "ID-KB": "Kalimantan Barat",
    "ID-KT": "Kalimantan Tengah",
    "ID-KS": "Kalimantan Selatan",
    "ID-KI": "Kalimantan Timur",
    "ID-KU": "Kalimantan Utara",
    "ID-SA": "Sulawesi Utara",
    "ID-GO": "Gorontalo",
    "ID-ST": "Sulawesi Tengah",
    "ID-SR": "Sulawesi Barat",
    "ID-SN": "Sulawesi Selatan",
    "ID-SG": "Sulawesi Tenggara",
    "ID-MA": "Maluku",
    "ID-MU": "Maluku Utara",
    "ID-PA": "Papua",
    "ID-PB": "Papua Barat",
    "ID-PD": "Papua Barat Daya",
    "ID-PS": "Papua Selatan",
    "ID-PT": "Papua Tengah",
    "ID-PE": "Papua Pegunungan",
}

# Age bands offered on the form; optional, used only for aggregate statistics.
AGE_BANDS: tuple[str, ...] = ("17-19", "20-24", "25-29", "30-39", "40+")


def province_name(code: str | None) -> str:
    return PROVINCES.get(code or "", "")
