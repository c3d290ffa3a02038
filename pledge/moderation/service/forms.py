"""The forms moderators post: a decision on a case (with a verdict's public text when it is a
hoax), many cases rejected at once, and the reason every change of a case carries.

Each is read from the posted form (``read``) and its fields checked with the shared field
checks; the services add what depends on the case (a claim held, a case to merge into)."""

from __future__ import annotations

from dataclasses import dataclass

from pledge import forms
from pledge.forms import Checks, Posted, PostedForm, form_text, posted
from pledge.hoaxes.models import Verdict
from pledge.hoaxes.states import Decision
from pledge.i18n import gettext as _

REASON_MAX = 500
TITLE_MAX = 200
EXPLANATION_MAX = 4000
URL_MAX = 2048
BULK_MAX = 100
QUESTION_MAX = 1000
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


@dataclass(frozen=True, slots=True)
class Proposal:
    """A verdict as a moderator proposes it for a second moderator to approve."""

    label: Verdict
    public_title: str
    public_explanation: str
    fact_check_url: str | None


@dataclass(frozen=True, slots=True)
class DecisionForm(PostedForm):
    """The decision form as posted: strings, so that bad input can be shown back."""

    decision: str = posted(limit=40)
    reason: str = posted(limit=REASON_FIELD_MAX)
    label: str = posted(limit=40)
    public_title: str = posted(limit=TITLE_MAX * 2)
    public_explanation: str = posted(limit=EXPLANATION_MAX * 2)
    fact_check_url: str = posted(limit=URL_MAX * 2)
    target_case_id: str = posted(limit=40)
    question: str = posted(limit=QUESTION_MAX * 2)

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
        """The verdict's label, public title, explanation and fact-check link."""
        label = checks.run(
            "label",
            forms.member,
            self.label,
            Verdict,
            message=_("Choose the label the verdict carries."),
        )
        title = checks.run(
            "public_title",
            forms.text,
            self.public_title,
            max_length=TITLE_MAX,
            required=_("Write the title the public will read."),
            too_long=_("Keep the title to %(max)s characters.") % {"max": TITLE_MAX},
        )
        checks.run(
            "public_explanation",
            forms.text,
            self.public_explanation,
            max_length=EXPLANATION_MAX,
            required=_("Explain to the public what is wrong, and how you know."),
            too_long=_("Keep the explanation to %(max)s characters.") % {"max": EXPLANATION_MAX},
        )
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
            public_title=title or "",
            public_explanation=self.public_explanation.replace("\r\n", "\n").strip(),
            fact_check_url=link,
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
