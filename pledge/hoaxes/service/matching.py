"""How a new report finds the case of the same thing: by the post its link shows, by a picture
that shows the same and says the same, or by text that says the same claim. What comes close
without being the same is kept as a suggested match for the moderators (and, for a published
verdict, shown to the reporter as "maybe related"); it never joins by itself.

The order of the signals is their strength: a link keyed by its post decides alone; a picture
joins only when its text agrees too; text joins alone only when no picture says otherwise
(two screenshots from one template with one line changed read almost alike and are different
hoaxes)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import sqlalchemy as sa
from sqlmodel import Session

from pledge.config import get_settings
from pledge.hoaxes import fingerprint, media, textmatch
from pledge.hoaxes.embeddings import EmbeddingMatcher
from pledge.hoaxes.models import (
    MatchKind,
    hoax_case_table,
    hoax_report_table,
    hoax_text_band_table,
    media_band_table,
    media_print_band_table,
    media_table,
)
from pledge.hoaxes.service.duplicates import CaseRef, case_ref, follow_merges, matching_case
from pledge.hoaxes.states import CaseStatus

# Candidates compared in full, at most, per signal: the indexes narrow them to a few.
PICTURE_CANDIDATES = 40
TEXT_CANDIDATES = 30
# Rows read per band of a lookup, the newest first.
BAND_ROWS = 100
# Suggestions kept for one report.
SUGGESTIONS_KEPT = 5


@dataclass(frozen=True, slots=True)
class Signals:
    """What a new report can be matched by."""

    canonical: str | None
    media_id: int | None
    fingerprint: fingerprint.Fingerprint | None
    phash: int | None
    picture_text: str
    text: textmatch.Prepared | None  # None: too little text to compare


@dataclass(frozen=True, slots=True)
class Suggestion:
    case_id: int
    kind: MatchKind
    score: float
    why: str


@dataclass(slots=True)
class Found:
    """The case a report joins (None: it opens one), why, and the cases that come close."""

    case: CaseRef | None = None
    joined_by: str = ""
    suggestions: list[Suggestion] = field(default_factory=list)

    def offer(self, case: CaseRef, joins: bool, why: str, suggestion: Suggestion) -> None:
        """A case that matched: joined when it `joins` and nothing stronger was found first;
        suggested otherwise (never the case joined)."""
        if joins and self.case is None:
            self.case, self.joined_by = case, why
        elif self.case is None or case.id != self.case.id:
            self.suggestions.append(suggestion)


@lru_cache(maxsize=1)
def matcher() -> textmatch.TextMatcher:
    """The matcher of the process: the operator's sentence-embedding model when
    PLEDGE_TEXT_MODEL_DIR is set, else the character n-grams. Made once (the model loads in
    about a second); `matcher.cache_clear()` makes it again from the settings."""
    model_dir = get_settings().text_model_dir
    return EmbeddingMatcher(model_dir) if model_dir is not None else textmatch.default_matcher()


@lru_cache(maxsize=4096)
def _stored(method: str, text: str) -> textmatch.Prepared:
    """A stored report's text, prepared once per process by the matcher of that `method`
    (its name): the reports of a hoax that spreads are compared with every new one."""
    return matcher().prepare(text)


def decide(score: float) -> textmatch.Decision:
    """What a score of the process's matcher means, by that matcher's thresholds."""
    chosen = matcher()
    return textmatch.decide(score, chosen.suggest, chosen.join)


def prepare_text(description: str, picture_text: str) -> textmatch.Prepared | None:
    """The report's text as the matcher compares it: its description and what its picture
    says; None when there is too little to compare."""
    prepared = matcher().prepare(f"{description}\n{picture_text}".strip())
    return None if prepared.too_short else prepared


def find(session: Session, *, campaign_id: int, signals: Signals) -> Found:
    """The case of this campaign that the report belongs to, and the cases it resembles."""
    found = Found()
    if signals.canonical is not None:
        case = matching_case(
            session, campaign_id=campaign_id, canonical=signals.canonical, media_ids=[]
        )
        if case is not None:
            found.case, found.joined_by = case, "link"
    compared = _compare_media(session, signals)
    for case, match in _picture_matches(session, campaign_id=campaign_id, matched=compared):
        found.offer(
            case,
            match.verdict == "same",
            f"picture: {match.why}",
            Suggestion(case.id, MatchKind.PICTURE, match.score, match.why),
        )
    same = {media_id for media_id, match in compared.items() if match.verdict == "same"}
    for case, score, vetoed in _text_matches(
        session, campaign_id=campaign_id, signals=signals, same_pictures=same
    ):
        why = f"text {score:.2f}"
        found.offer(
            case,
            decide(score) == "join" and not vetoed,
            why,
            Suggestion(case.id, MatchKind.TEXT, score, why),
        )
    found.suggestions = _best_per_case(found.suggestions, joined=found.case)
    return found


def _best_per_case(suggestions: list[Suggestion], *, joined: CaseRef | None) -> list[Suggestion]:
    best: dict[int, Suggestion] = {}
    for suggestion in suggestions:
        if joined is not None and suggestion.case_id == joined.id:
            continue
        kept = best.get(suggestion.case_id)
        if kept is None or suggestion.score > kept.score:
            best[suggestion.case_id] = suggestion
    ranked = sorted(best.values(), key=lambda s: (-s.score, s.case_id))
    return ranked[:SUGGESTIONS_KEPT]


# --- the lookups -------------------------------------------------------------------------


def _sharing_most(
    session: Session,
    *,
    key: sa.ColumnElement[int],
    bands: list[tuple[int, int]],
    band: sa.ColumnElement[int],
    value: sa.ColumnElement[int],
    limit: int,
    where: sa.ColumnElement[bool] | None = None,
) -> list[int]:
    """The rows (by `key`) sharing the most of these bands, newest first among equals. Each
    band is read from its index, newest first, BAND_ROWS rows at most: a band that thousands
    of rows share (a claim template, a common app screen) costs no more than a rare one, and
    a true match shares several bands, rare ones among them."""
    selects = []
    for number, band_value in dict.fromkeys(bands):
        chosen = sa.select(key.label("key")).where(band == number, value == band_value)
        if where is not None:
            chosen = chosen.where(where)
        newest = chosen.order_by(key.desc()).limit(BAND_ROWS).subquery()
        selects.append(sa.select(newest.c.key))
    if not selects:
        return []
    shared = Counter(int(found) for found in session.execute(sa.union_all(*selects)).scalars())
    ranked = sorted(shared.items(), key=lambda item: (-item[1], -item[0]))
    return [found for found, _count in ranked[:limit]]


# --- pictures ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Stored:
    """A stored picture that may show the same as the report's."""

    media_id: int
    fingerprint: fingerprint.Fingerprint | None  # None: stored before fingerprints, or unread
    text: str
    near_hash: bool  # its difference hash is within media.SIMILAR_BITS


def _candidate_media(session: Session, signals: Signals) -> list[_Stored]:
    """Stored pictures that may show the same: by the bands of the fingerprint (those sharing
    the most bands first), and by the bands of the difference hash of the whole picture."""
    print_t, band_t, media_t = media_print_band_table, media_band_table, media_table
    ids: list[int] = []
    if signals.fingerprint is not None:
        ids.extend(
            _sharing_most(
                session,
                key=print_t.c.media_id,
                bands=signals.fingerprint.bands(),
                band=print_t.c.band,
                value=print_t.c.value,
                limit=PICTURE_CANDIDATES,
            )
        )
    near: set[int] = set()
    if signals.phash is not None:
        wanted = [
            sa.and_(band_t.c.band == band, band_t.c.value == value)
            for band, value in enumerate(media.bands(signals.phash))
        ]
        # Every picture sharing a byte of the hash (a few thousand among 100,000), whose
        # distance is counted here: the nearest are kept.
        hashed = session.execute(
            sa.select(media_t.c.id, media_t.c.phash).where(
                media_t.c.id.in_(sa.select(band_t.c.media_id).where(sa.or_(*wanted)))
            )
        ).all()
        distances = sorted(
            (distance, int(media_id))
            for media_id, other in hashed
            if (distance := media.hamming(signals.phash, other)) <= media.SIMILAR_BITS
        )
        near = {media_id for _distance, media_id in distances[:PICTURE_CANDIDATES]}
        ids.extend(media_id for _distance, media_id in distances[:PICTURE_CANDIDATES])
    if signals.media_id is not None:
        ids.append(signals.media_id)
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    rows = session.execute(
        sa.select(media_t.c.id, media_t.c.fingerprint, media_t.c.ocr_text).where(
            media_t.c.id.in_(ids)
        )
    ).all()
    return [_Stored(int(m), read_print(f), t or "", int(m) in near) for m, f, t in rows]


def read_print(data: bytes | None) -> fingerprint.Fingerprint | None:
    """A stored fingerprint, or None when there is none or it is of a format this version no
    longer reads (the picture is then matched by its difference hash alone)."""
    if not data:
        return None
    try:
        return fingerprint.Fingerprint.from_bytes(data)
    except ValueError:
        return None


def _compare_media(session: Session, signals: Signals) -> dict[int, fingerprint.Match]:
    """The stored pictures that show the same or nearly the same as the report's."""
    if signals.fingerprint is None and signals.phash is None:
        return {}
    matched: dict[int, fingerprint.Match] = {}
    for stored in _candidate_media(session, signals):
        if stored.media_id == signals.media_id:
            match = fingerprint.Match("same", "the same file", score=1.0)
        elif stored.fingerprint is None or signals.fingerprint is None:
            # Stored before fingerprints (and their text): the difference hash alone.
            match = fingerprint.Match("same", "picture (hash)", score=0.9)
        else:
            match = fingerprint.screenshots_match(
                signals.fingerprint, signals.picture_text, stored.fingerprint, stored.text
            )
            if match.verdict == "different" and stored.near_hash:
                # The whole pictures are near although the trimmed ones are not (a trim that
                # went differently): the text decides, as for any matching picture.
                match = _by_text(signals.picture_text, stored.text)
        if match.verdict != "different":
            matched[stored.media_id] = match
    return matched


def _by_text(text: str, other: str) -> fingerprint.Match:
    score, same = fingerprint.text_similarity(text, other)
    why = f"picture (hash), text {score:.2f}"
    if same:
        return fingerprint.Match("same", why, score=0.9)
    return fingerprint.Match("similar", why + ", text differs", score=0.9)


def _picture_matches(
    session: Session, *, campaign_id: int, matched: dict[int, fingerprint.Match]
) -> list[tuple[CaseRef, fingerprint.Match]]:
    """Cases of the campaign holding a picture that matches the report's, best first."""
    if not matched:
        return []
    cases = _cases_holding_media(session, campaign_id=campaign_id, media_ids=list(matched))
    results: dict[int, tuple[CaseRef, fingerprint.Match]] = {}
    for media_id, case in cases:
        match = matched[media_id]
        kept = results.get(case.id)
        if kept is None or _rank(match) > _rank(kept[1]):
            results[case.id] = (case, match)
    return sorted(results.values(), key=lambda pair: (_rank(pair[1]), -pair[0].id), reverse=True)


def _rank(match: fingerprint.Match) -> tuple[int, float]:
    return (1 if match.verdict == "same" else 0, match.score)


def _cases_holding_media(
    session: Session, *, campaign_id: int, media_ids: list[int]
) -> list[tuple[int, CaseRef]]:
    """(media, surviving case) for every case or report of the campaign holding one of them."""
    report_t, case_t = hoax_report_table, hoax_case_table
    pairs: set[tuple[int, int]] = set()
    for query in (
        sa.select(report_t.c.media_id, report_t.c.case_id).where(
            report_t.c.campaign_id == campaign_id, report_t.c.media_id.in_(media_ids)
        ),
        sa.select(case_t.c.media_id, case_t.c.id).where(
            case_t.c.campaign_id == campaign_id, case_t.c.media_id.in_(media_ids)
        ),
    ):
        pairs.update((int(m), int(c)) for m, c in session.execute(query).all())
    cases = _survivors(session, [case_id for _media_id, case_id in pairs], campaign_id)
    return [
        (media_id, cases[case_id])
        for media_id, case_id in sorted(pairs, key=lambda pair: pair[1])
        if case_id in cases
    ]


def _survivors(session: Session, case_ids: list[int], campaign_id: int) -> dict[int, CaseRef]:
    """The case each of these lives on in (itself, or the case it was merged into), read in one
    query but for the merged ones; cases of other campaigns and lost ones left out."""
    case_t = hoax_case_table
    refs = {
        int(row.id): CaseRef(*row)
        for row in session.execute(
            sa.select(
                case_t.c.id,
                case_t.c.campaign_id,
                case_t.c.status,
                case_t.c.merged_into_id,
                case_t.c.canonical_url,
                case_t.c.media_id,
            ).where(case_t.c.id.in_(set(case_ids)))
        )
    }
    found = {}
    for case_id, case in refs.items():
        case = follow_merges(case, lambda merged_id: case_ref(session, merged_id))
        if case.status != CaseStatus.DUPLICATE and case.campaign_id == campaign_id:
            found[case_id] = case
    return found


# --- text ----------------------------------------------------------------------------------


def _text_matches(
    session: Session, *, campaign_id: int, signals: Signals, same_pictures: set[int]
) -> list[tuple[CaseRef, float, bool]]:
    """Cases of the campaign with a report whose text is close: (case, score, vetoed), best
    first. Vetoed: both reports carry pictures that are not the same picture."""
    if signals.text is None:
        return []
    chosen = matcher()
    band_t, report_t = hoax_text_band_table, hoax_report_table
    candidates = _sharing_most(
        session,
        key=band_t.c.report_id,
        bands=chosen.bands(signals.text),
        band=band_t.c.band,
        value=band_t.c.value,
        limit=TEXT_CANDIDATES,
        where=band_t.c.campaign_id == campaign_id,
    )
    if not candidates:
        return []
    rows = session.execute(
        sa.select(report_t.c.case_id, report_t.c.match_text, report_t.c.media_id).where(
            report_t.c.id.in_(candidates)
        )
    ).all()
    scored = [
        (int(case_id), score, media_id)
        for case_id, text, media_id in rows
        if decide(score := chosen.score(signals.text, _stored(chosen.name, text))) != "none"
    ]
    cases = _survivors(session, [case_id for case_id, _score, _media in scored], campaign_id)
    best: dict[int, tuple[CaseRef, float, bool]] = {}
    for case_id, score, media_id in scored:
        case = cases.get(case_id)
        if case is None:
            continue
        vetoed = (
            signals.media_id is not None
            and media_id is not None
            and int(media_id) not in same_pictures
        )
        kept = best.get(case.id)
        if kept is None or score > kept[1]:
            best[case.id] = (case, score, vetoed)
    return sorted(best.values(), key=lambda item: (-item[1], item[0].id))


def stored_text(text: textmatch.Prepared | None) -> str:
    """The report's text as it is kept for later reports to be compared with."""
    return text.text if text is not None else ""


def index_text(
    session: Session, *, campaign_id: int, report_id: int, text: textmatch.Prepared | None
) -> None:
    """The bands of the report's text, for later reports to find it by."""
    if text is None:
        return
    rows = [
        {"report_id": report_id, "campaign_id": campaign_id, "band": band, "value": value}
        for band, value in dict.fromkeys(matcher().bands(text))
    ]
    if rows:
        session.execute(sa.insert(hoax_text_band_table), rows)
