"""What the files of a case said of where they came from: the findings of the moderators'
provenance panel, the label they suggest, and the note on Content Credentials that a published
verdict may carry.

Each report keeps what its own file said (``hoax_report.provenance``, read before the metadata
was stripped): the same picture can come once with its Content Credentials and a hundred times
as a screenshot. The panel shows each distinct finding once, strongest first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from pledge.hoaxes.models import Verdict, hoax_report_table
from pledge.hoaxes.provenance import Certainty, Provenance
from pledge.i18n import gettext as _

# Distinct findings a case page shows: a viral hoax sent a thousand times as screenshots has
# one "no information" finding, and rarely more than a few others.
SHOWN = 12
# Strongest first: what can be checked before what can be written by anyone.
_ORDER = {
    Certainty.SIGNED_VALID: 0,
    Certainty.SIGNED_INVALID: 1,
    Certainty.UNSIGNED: 2,
    Certainty.UNREADABLE: 3,
    Certainty.NOTHING: 4,
}
_NOTE_FIELD_MAX = 200


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the case's files said, and how many of its reports sent a file saying it."""

    provenance: Provenance
    reports: int
    first_report_id: int


def case_findings(session: Session, *, case_id: int) -> list[Finding]:
    """The distinct findings of the pictures sent with the case's reports, strongest first."""
    report_t = hoax_report_table
    rows = session.execute(
        sa.select(report_t.c.provenance, sa.func.count(), sa.func.min(report_t.c.id))
        .where(
            report_t.c.case_id == case_id,
            report_t.c.media_id.is_not(None),
            report_t.c.provenance != "",
        )
        .group_by(report_t.c.provenance)
        .order_by(sa.func.min(report_t.c.id))
        .limit(SHOWN * 4)
    ).all()
    findings = [
        Finding(Provenance.from_json(text), int(count), int(first)) for text, count, first in rows
    ]
    findings.sort(key=lambda found: (_ORDER[found.provenance.certainty], found.first_report_id))
    return findings[:SHOWN]


def suggested_label(findings: list[Finding]) -> Verdict | None:
    """The label the strongest finding that suggests one suggests: for a moderator to weigh,
    never applied by itself."""
    for found in findings:
        label = found.provenance.suggested_label()
        if label is not None:
            return Verdict(label)
    return None


@dataclass(frozen=True, slots=True)
class PublicCredentials:
    """What a published verdict says of the Content Credentials found in a reported file."""

    generator: str
    signer: str
    source_type: str  # an IPTC digital source type term, "" when none was recorded

    @property
    def source_words(self) -> str:
        """The source type in the reader's language."""
        return source_type_label(self.source_type) if self.source_type else ""

    def to_json(self) -> str:
        return json.dumps(
            {"generator": self.generator, "signer": self.signer, "source": self.source_type},
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> PublicCredentials | None:
        """The stored note; None when there is none or it cannot be read."""
        try:
            data = json.loads(text) if text else None
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        values = [data.get(key) for key in ("generator", "signer", "source")]
        if not all(isinstance(value, str) for value in values) or not values[0]:
            return None
        generator, signer, source = (str(value)[:_NOTE_FIELD_MAX] for value in values)
        return cls(generator=generator, signer=signer, source_type=source)


def public_credentials(findings: list[Finding]) -> PublicCredentials | None:
    """The note a verdict may publish: from valid Content Credentials only, since what merely
    sits in a file's metadata can be written by anyone."""
    for found in findings:
        credentials = found.provenance.credentials
        if found.provenance.certainty == Certainty.SIGNED_VALID and credentials is not None:
            return PublicCredentials(
                generator=credentials.generator[:_NOTE_FIELD_MAX] or "?",
                signer=credentials.signer[:_NOTE_FIELD_MAX],
                source_type=found.provenance.ai_source[:_NOTE_FIELD_MAX],
            )
    return None


# --- words for what the files say --------------------------------------------------------

# IPTC's digital source types (https://cv.iptc.org/newscodes/digitalsourcetype/), as the panel
# and a published verdict name them.
_SOURCE_TYPES: dict[str, Callable[[], str]] = {
    "trainedAlgorithmicMedia": lambda: _("made by a generative AI model"),
    "compositeWithTrainedAlgorithmicMedia": lambda: _(
        "a composite that includes AI-generated parts"
    ),
    "algorithmicMedia": lambda: _("made by a computer program alone"),
    "compositeSynthetic": lambda: _("a composite that includes computer-made parts"),
    "composite": lambda: _("a composite of several pictures"),
    "compositeCapture": lambda: _("a composite of several camera shots"),
    "algorithmicallyEnhanced": lambda: _("a camera picture enhanced by a computer program"),
    "digitalCapture": lambda: _("a picture taken by a digital camera"),
    "computationalCapture": lambda: _("a picture taken by a phone camera's processing"),
    "negativeFilm": lambda: _("a scan of a film negative"),
    "positiveFilm": lambda: _("a scan of a slide"),
    "print": lambda: _("a scan of a print"),
    "screenCapture": lambda: _("a screenshot"),
    "digitalArt": lambda: _("drawn or painted by a person with digital tools"),
    "humanEdits": lambda: _("edited by a person"),
    "minorHumanEdits": lambda: _("lightly edited by a person"),
    "dataDrivenMedia": lambda: _("drawn from data by a computer program"),
    "virtualRecording": lambda: _("a recording of a virtual scene"),
}
# C2PA's standard actions.
_ACTIONS: dict[str, Callable[[], str]] = {
    "c2pa.created": lambda: _("Created"),
    "c2pa.opened": lambda: _("Opened"),
    "c2pa.edited": lambda: _("Edited"),
    "c2pa.placed": lambda: _("Another picture placed in it"),
    "c2pa.converted": lambda: _("Converted to another format"),
    "c2pa.cropped": lambda: _("Cropped"),
    "c2pa.resized": lambda: _("Resized"),
    "c2pa.filtered": lambda: _("Filtered"),
    "c2pa.color_adjustments": lambda: _("Colours adjusted"),
    "c2pa.drawing": lambda: _("Drawn on"),
    "c2pa.removed": lambda: _("Something removed"),
    "c2pa.transcoded": lambda: _("Re-encoded"),
    "c2pa.published": lambda: _("Published"),
}


def source_type_label(term: str) -> str:
    """A digital source type in words; a term this version does not know, as written."""
    known = _SOURCE_TYPES.get(term)
    return known() if known is not None else term


def action_label(action: str) -> str:
    """A C2PA action in words; one this version does not know, as written."""
    known = _ACTIONS.get(action)
    return known() if known is not None else action
