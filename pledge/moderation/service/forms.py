"""The forms moderators post: a decision on a case (with a verdict's public text when it is a
hoax), many cases rejected at once, and the reason every change of a case carries.

Each is read from the posted form (``read``) and its fields checked with the shared field
checks; the services add what depends on the case (a claim held, a case to merge into)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pledge import forms
from pledge.campaigns.service.times import WIB
from pledge.db import utcnow
from pledge.forms import Checks, Posted, PostedForm, form_text, posted
from pledge.hoaxes.models import Verdict
from pledge.hoaxes.states import Decision
from pledge.i18n import gettext as _

REASON_MAX = 500
TITLE_MAX = 200
CORRECTION_MAX = 280
CLAIM_AUTHOR_MAX = 200
EXPLANATION_MAX = 4000
URL_MAX = 2048
NOTE_MAX = 500
BULK_MAX = 100
QUESTION_MAX = 1000
# No election hoax this site checks appeared before this day: an earlier date is a typing slip.
CLAIM_DATE_EARLIEST = date(2000, 1, 1)
# Longer than any valid value, so that "too long" is reported rather than cut silently.
REASON_FIELD_MAX = REASON_MAX * 2


def check_reason(raw: str) -> str:
    """The reason a moderator gives for a change, kept in the case's history."""
    return forms.text(
        raw,
        max_length=REASON_MAX,
        required=_("Give a reason: it is kept in the case's history."),
        too_long=_("Keep the reason to %(max)s characters.") % {"max": REASON_MAX},
    )


def read_reason(form: Posted) -> str:
    """The reason alone, for the changes that ask for nothing else."""
    return form_text(form, "reason", REASON_FIELD_MAX)


# --- a verdict's public text, shared by the decision and the correction forms -----------


def check_label(checks: Checks, raw: str) -> Verdict | None:
    return checks.run(
        "label", forms.member, raw, Verdict, message=_("Choose the label the verdict carries.")
    )


def check_claim(checks: Checks, raw: str) -> str:
    """The claim as it circulates: what the label says is false, never the truth."""
    return (
        checks.run(
            "public_title",
            forms.text,
            raw,
            max_length=TITLE_MAX,
            collapse=True,
            required=_("Write the claim as it circulates: what the hoax says."),
            too_long=_("Keep the claim to %(max)s characters.") % {"max": TITLE_MAX},
        )
        or ""
    )


def check_correction(checks: Checks, raw: str, label: Verdict | None) -> str:
    """The correction in one sentence: what is true instead. Satire corrects nothing (it
    never claimed to be fact), so there it may be left empty."""
    required = None if label == Verdict.SATIRE else _("Write the correction: what is true instead.")
    return (
        checks.run(
            "correction",
            forms.text,
            raw,
            max_length=CORRECTION_MAX,
            collapse=True,
            required=required,
            too_long=_("Keep the correction to one sentence of at most %(max)s characters.")
            % {"max": CORRECTION_MAX},
        )
        or ""
    )


def check_explanation(checks: Checks, raw: str) -> str:
    checks.run(
        "public_explanation",
        forms.text,
        raw,
        max_length=EXPLANATION_MAX,
        required=_("Explain to the public what is wrong, and how you know."),
        too_long=_("Keep the explanation to %(max)s characters.") % {"max": EXPLANATION_MAX},
    )
    return raw.replace("\r\n", "\n").strip()


def check_claim_author(checks: Checks, raw: str) -> str:
    return (
        checks.run(
            "claim_author",
            forms.text,
            raw,
            max_length=CLAIM_AUTHOR_MAX,
            collapse=True,
            too_long=_("Keep who spread it to %(max)s characters.") % {"max": CLAIM_AUTHOR_MAX},
        )
        or ""
    )


def check_claim_date(checks: Checks, raw: str) -> date | None:
    """The day the claim first appeared: not after today in Jakarta, not before 2000."""
    return checks.run(
        "claim_date",
        forms.day,
        raw,
        earliest=CLAIM_DATE_EARLIEST,
        latest=utcnow().astimezone(WIB).date(),
        message=_("Enter the date as YYYY-MM-DD, or leave it empty."),
        too_early=_("Enter a date from %(year)s on.") % {"year": CLAIM_DATE_EARLIEST.year},
        too_late=_("The claim cannot have appeared after today."),
    )


@dataclass(frozen=True, slots=True)
class Proposal:
    """A verdict as a moderator proposes it for a second moderator to approve."""

    label: Verdict
    public_title: str  # the claim as it circulates
    public_explanation: str
    fact_check_url: str | None
    correction: str = ""
    claim_author: str = ""
    claim_date: date | None = None
    # The verdict says what valid Content Credentials in a reported file said, and shows the
    # original beside the picture.
    show_credentials: bool = False
    show_original: bool = False


@dataclass(frozen=True, slots=True)
class DecisionForm(PostedForm):
    """The decision form as posted: strings, so that bad input can be shown back."""

    decision: str = posted(limit=40)
    reason: str = posted(limit=REASON_FIELD_MAX)
    label: str = posted(limit=40)
    public_title: str = posted(limit=TITLE_MAX * 2)
    correction: str = posted(limit=CORRECTION_MAX * 2)
    claim_author: str = posted(limit=CLAIM_AUTHOR_MAX * 2)
    claim_date: str = posted(limit=40)
    public_explanation: str = posted(limit=EXPLANATION_MAX * 2)
    fact_check_url: str = posted(limit=URL_MAX * 2)
    target_case_id: str = posted(limit=40)
    question: str = posted(limit=QUESTION_MAX * 2)
    show_credentials: str = posted(limit=8)  # a checkbox: "1" when ticked
    show_original: str = posted(limit=8)  # a checkbox: "1" when ticked

    def chosen(self) -> Decision:
        """The decision, one of those offered; Invalid otherwise."""
        message = _("Choose one of the decisions offered.")
        return forms.field("decision", forms.member, self.decision, Decision, message=message)

    def clean(self, checks: Checks, decision: Decision) -> tuple[str, Proposal | None]:
        """The reason, and for a hoax the verdict proposed, checked into `checks`."""
        reason = checks.run("reason", check_reason, self.reason) or ""
        proposal = self._proposal(checks) if decision == Decision.HOAX else None
        return reason, proposal

    def _proposal(self, checks: Checks) -> Proposal:
        """The verdict's label, claim, correction, explanation, fact-check link, and who
        spread the claim and when, where known."""
        label = check_label(checks, self.label)
        claim = check_claim(checks, self.public_title)
        correction = check_correction(checks, self.correction, label)
        author = check_claim_author(checks, self.claim_author)
        day = check_claim_date(checks, self.claim_date)
        explanation = check_explanation(checks, self.public_explanation)
        link = checks.run(
            "fact_check_url",
            forms.http_url,
            self.fact_check_url,
            max_length=URL_MAX,
            message=_(
                "Enter a full web address starting with http:// or https://, or leave it empty."
            ),
        )
        return Proposal(
            label=label or Verdict.SALAH,
            public_title=claim,
            public_explanation=explanation,
            fact_check_url=link,
            correction=correction,
            claim_author=author,
            claim_date=day,
            show_credentials=bool(self.show_credentials),
            show_original=bool(self.show_original),
        )


@dataclass(frozen=True, slots=True)
class Amendment:
    """A published verdict's new text, as a moderator proposes it, with the public note
    saying what changed and why."""

    label: Verdict
    public_title: str
    correction: str
    public_explanation: str
    note: str
    reason: str


@dataclass(frozen=True, slots=True)
class CorrectionForm(PostedForm):
    """The form that proposes a correction of a published verdict."""

    label: str = posted(limit=40)
    public_title: str = posted(limit=TITLE_MAX * 2)
    correction: str = posted(limit=CORRECTION_MAX * 2)
    public_explanation: str = posted(limit=EXPLANATION_MAX * 2)
    note: str = posted(limit=NOTE_MAX * 2)
    reason: str = posted(limit=REASON_FIELD_MAX)

    def check(self) -> Amendment:
        """The new text; Invalid with every field's message at once."""
        with Checks() as checks:
            label = check_label(checks, self.label)
            claim = check_claim(checks, self.public_title)
            correction = check_correction(checks, self.correction, label)
            explanation = check_explanation(checks, self.public_explanation)
            note = checks.run(
                "note",
                forms.text,
                self.note,
                max_length=NOTE_MAX,
                required=_("Tell the public what changed and why."),
                too_long=_("Keep the note to %(max)s characters.") % {"max": NOTE_MAX},
            )
            reason = checks.run("reason", check_reason, self.reason)
        return Amendment(
            label=label or Verdict.SALAH,
            public_title=claim,
            correction=correction,
            public_explanation=explanation,
            note=note or "",
            reason=reason or "",
        )


def check_question(raw: str) -> str:
    """The question a "needs more information" decision asks the reporters, on their pages."""
    return forms.text(
        raw.replace("\r\n", "\n"),
        max_length=QUESTION_MAX,
        required=_(
            "Write what you need from the reporter: they will read it on their tracking page."
        ),
        too_long=_("Keep the question to %(max)s characters.") % {"max": QUESTION_MAX},
    )


@dataclass(frozen=True, slots=True)
class BulkRejectForm(PostedForm):
    """Many cases rejected at once from the queue, for one reason."""

    case_ids: tuple[str, ...] = posted((), limit=20)
    reason: str = posted(limit=REASON_FIELD_MAX)

    def check(self) -> str:
        """The reason; Invalid when it is missing or too long, or when no case, or too many,
        were chosen."""
        with Checks() as checks:
            reason = checks.run("reason", check_reason, self.reason)
            if not self.case_ids:
                checks.refuse("case_ids", _("Choose at least one case."))
            elif len(self.case_ids) > BULK_MAX:
                checks.refuse(
                    "case_ids", _("Choose at most %(max)s cases at a time.") % {"max": BULK_MAX}
                )
        return reason or ""
