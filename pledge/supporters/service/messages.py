"""What a signer is sent: the email after signing, its reminders, and the WhatsApp replies,
each in the signer's language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pledge.config import get_settings
from pledge.i18n import translations
from pledge.supporters.models import SignOutcome


@dataclass(frozen=True, slots=True)
class SignerLinks:
    """Where a message's links point: addresses that end where a secret goes."""

    confirm: str  # + the confirmation link's secret: the page with the button that confirms
    private: str  # + the supporter's token: their own page, with the way to withdraw

    def confirm_url(self, secret: str) -> str:
        return self.confirm + secret

    def private_url(self, token: str) -> str:
        return self.private + token


# Stands for a secret in an address made by a route's name, and is cut off again.
_STAND_IN = "-"


def signer_links(base: str, path_for: Callable[..., str], slug: str) -> SignerLinks:
    """A campaign's links on a site: its origin, and what makes a path from a route's name."""
    confirm = path_for("supporters_confirm_page", slug=slug, secret=_STAND_IN)
    private = path_for("supporters_thanks", slug=slug, token=_STAND_IN)
    return SignerLinks(confirm=base + confirm[:-1], private=base + private[:-1])


@dataclass(frozen=True, slots=True)
class WhatsAppLink:
    """How a signer confirms by WhatsApp: the text to send, and the link that opens WhatsApp
    with it, addressed to the campaign number (None while no number is set)."""

    text: str
    url: str | None
    number: str | None


def signing_email(
    links: SignerLinks,
    *,
    locale: str,
    title: str,
    secret: str,
    code: str,
    token: str,
    counted: bool,
    new: bool,
    adds: bool,
) -> tuple[str, str]:
    """The subject and body of the email a signing sends. ``counted``: the supporter is in
    the count already; ``new``: this signing made them a supporter; ``adds``: it ticked
    pledges they had not signed."""
    t = translations(locale)
    values = {
        "title": title,
        "link": links.confirm_url(secret),
        "code": code,
        "private": links.private_url(token),
        "site": get_settings().site_name,
    }
    if not counted:
        return _to_confirm(locale, values)
    if new:
        subject = t.gettext("Thank you for signing: %(title)s")
        body = t.gettext(
            "Thank you for signing “%(title)s”.\n\n"
            "Your personal page, with your invite link and the way to withdraw:\n%(private)s"
        )
    elif adds:
        subject = t.gettext("Add your new pledges: %(title)s")
        body = t.gettext(
            "You had already signed “%(title)s”, so you are still counted once. To add the "
            "pledges you ticked, open this link and press the button:\n%(link)s\n\n"
            "Or type this code on the page where you signed: %(code)s\n\n"
            "Your personal page, with your invite link and the way to withdraw:\n%(private)s"
        )
    else:
        subject = t.gettext("You had already signed: %(title)s")
        body = t.gettext(
            "You had already signed “%(title)s” with this email address, so you are still "
            "counted once and nothing has changed.\n\n"
            "Your personal page, with your invite link and the way to withdraw:\n%(private)s\n\n"
            "Or type this code on the page where you signed: %(code)s\n\n"
            "If it was not you who signed again, you can ignore this email."
        )
    return subject % values, body % values


def _to_confirm(locale: str, values: dict[str, str]) -> tuple[str, str]:
    """The email that asks a pending signer to confirm."""
    t = translations(locale)
    days = get_settings().pending_days
    subject = t.gettext("Confirm your signature: %(title)s")
    body = (
        t.gettext(
            "Someone, hopefully you, signed “%(title)s” on %(site)s with this email address. "
            "Your signature counts once you confirm it: open this link and press the button:\n"
            "%(link)s\n\n"
            "Or type this code on the page where you signed: %(code)s\n\n"
        )
        + t.ngettext(
            "The link and the code expire in %(days)s day.",
            "The link and the code expire in %(days)s days.",
            days,
        )
        + " "
        + t.gettext(
            "If it was not you, ignore this email: nothing is counted, and the signature is "
            "deleted."
        )
    )
    return subject % values, body % {**values, "days": days}


def reminder_email(
    links: SignerLinks, *, locale: str, title: str, secret: str, code: str
) -> tuple[str, str]:
    """A reminder to a signer who has not confirmed yet: a new link and code."""
    t = translations(locale)
    values = {"title": title, "link": links.confirm_url(secret), "code": code}
    subject = t.gettext("Reminder: confirm your signature: %(title)s")
    body = t.gettext(
        "You signed “%(title)s” but have not confirmed it yet, so it is not counted. "
        "Open this link and press the button:\n%(link)s\n\n"
        "Or type this code on the page where you signed: %(code)s\n\n"
        "If it was not you, ignore this email: nothing is counted, and the signature is "
        "deleted."
    )
    return subject % values, body % values


def whatsapp_code_text(locale: str, code: str) -> str:
    """What a signer sends from WhatsApp to confirm: a sentence that says why, and the code."""
    return translations(locale).gettext("Confirm my signature: %(code)s") % {"code": code}


def whatsapp_reply(
    links: SignerLinks, *, locale: str, title: str, outcome: SignOutcome, token: str
) -> str:
    """The WhatsApp reply to a confirmation, with the supporter's private link."""
    t = translations(locale)
    values = {"title": title, "private": links.private_url(token)}
    if outcome == SignOutcome.NEW:
        text = t.gettext(
            "Thank you! Your signature for “%(title)s” is confirmed and counted.\n\n"
            "Your personal page, with your invite link and the way to withdraw:\n%(private)s"
        )
    elif outcome == SignOutcome.ADDED:
        text = t.gettext(
            "Done: your new pledges for “%(title)s” are added.\n\n"
            "Your personal page, with your invite link and the way to withdraw:\n%(private)s"
        )
    else:
        text = t.gettext(
            "You had already signed “%(title)s”, so you are counted once.\n\n"
            "Your personal page, with your invite link and the way to withdraw:\n%(private)s"
        )
    return text % values


def whatsapp_unknown(locale: str) -> str:
    """The reply to a message that confirms nothing."""
    return translations(locale).gettext(
        "We found no signature waiting for this code from this number. Sign on the campaign "
        "page with this WhatsApp number, then send the code the page shows you."
    )


def whatsapp_expired(locale: str) -> str:
    return translations(locale).gettext(
        "This code has expired. Sign again on the campaign page to get a new one."
    )
