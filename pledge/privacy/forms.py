"""The forms of a personal data request: the contact it is about, and an erasure's reason.

Each is read from the posted form (``read``) and checked with the shared field checks: the
contact as signing and reporting store it, so that a search finds what they stored."""

from __future__ import annotations

from dataclasses import dataclass

from pledge import forms
from pledge.forms import Checks, PostedForm, posted
from pledge.i18n import gettext as _

REASON_MAX = 500


@dataclass(frozen=True, slots=True)
class ContactForm(PostedForm):
    """The contact a request is about: an email address or an Indonesian mobile number."""

    contact: str = posted(limit=300)

    def check(self) -> str:
        """The contact as stored; Invalid with its message when it is not one."""
        return forms.field("contact", forms.contact, self.contact)


@dataclass(frozen=True, slots=True)
class ErasureRequest:
    contact: str
    reason: str


@dataclass(frozen=True, slots=True)
class ErasureForm(PostedForm):
    """An erasure: the contact, and the reason kept in the audit log."""

    contact: str = posted(limit=300)
    reason: str = posted(limit=2000)

    def check(self) -> ErasureRequest:
        with Checks() as checks:
            contact = checks.run("contact", forms.contact, self.contact)
            reason = checks.run(
                "reason",
                forms.text,
                self.reason,
                max_length=REASON_MAX,
                required=_("Give a reason for the audit log."),
                too_long=_("Keep the reason to at most 500 characters."),
                collapse=True,
            )
        return ErasureRequest(contact=contact or "", reason=reason or "")
