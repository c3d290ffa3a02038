"""The sign form as a phone user meets it: a button near the top that goes to the form, a
WhatsApp or email choice that opens the right keyboard (without JavaScript), a summary of
refused fields that links to each and takes the focus, and messages that say what is wrong
with a number."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.support.factories import MakeCampaign
from tests.support.forms import post_report
from tests.support.pages import errors_of, html
from tests.support.signing import emails_to, post_sign, whatsapp_text


@pytest.fixture
def english(client: TestClient) -> TestClient:
    client.cookies.set("lang", "en")
    return client


def test_a_button_near_the_top_goes_to_the_form(
    english: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()

    soup = html(english.get(f"/c/{view.slug}"))

    jump = soup.select_one("article.campaign > p.jump a.button")
    assert jump is not None and jump.get_text(strip=True) == "Make the pledge"
    assert jump["href"] == "#sign"
    assert soup.select_one("section#sign form") is not None
    # Before the counts, so that it shows on a phone's first screen.
    order = [
        el.name + "." + " ".join(el.get("class", [])) for el in soup.select("article.campaign > *")
    ]
    assert order.index("p.jump") < order.index("section.tally")


def test_a_closed_campaign_has_no_button_to_a_form(
    english: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign(status="closed")

    soup = html(english.get(f"/c/{view.slug}"))

    assert soup.select_one("p.jump") is None
    assert soup.select_one("section#sign") is None


def test_whatsapp_and_email_each_have_a_field_with_its_keyboard(
    english: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()

    soup = html(english.get(f"/c/{view.slug}"))

    choice = soup.select_one("fieldset.contact-choice")
    assert choice is not None
    assert choice.select_one("legend").get_text(strip=True) == "How can we reach you?"
    labels = [label.get_text(strip=True) for label in choice.select(".toggles label")]
    assert labels == ["WhatsApp", "Email"]
    whatsapp = choice.select_one("#contact-kind-whatsapp")
    assert whatsapp is not None and whatsapp.has_attr("checked")  # most signers use WhatsApp
    assert not choice.select_one("#contact-kind-email").has_attr("checked")
    phone = choice.select_one(".contact-whatsapp input#contact")
    assert (phone["type"], phone["autocomplete"], phone["name"]) == ("tel", "tel", "contact")
    email = choice.select_one(".contact-email input#contact_email")
    assert (email["type"], email["autocomplete"]) == ("email", "email")
    # The radio buttons come before both fields: the page's style shows one field by them.
    controls = [el.get("id") for el in choice.select("input")]
    assert controls == ["contact-kind-whatsapp", "contact-kind-email", "contact", "contact_email"]
    assert 'inputmode="email"' not in str(soup.select_one("section#sign"))


def test_a_campaign_that_takes_one_kind_shows_one_field_of_that_kind(
    english: TestClient, make_campaign: MakeCampaign
) -> None:
    by_email = make_campaign(confirm_by_whatsapp=False)
    by_whatsapp = make_campaign(confirm_by_email=False)

    email_page = html(english.get(f"/c/{by_email.slug}"))
    whatsapp_page = html(english.get(f"/c/{by_whatsapp.slug}"))

    for soup, kind in ((email_page, "email"), (whatsapp_page, "tel")):
        assert soup.select_one("fieldset.contact-choice") is None
        assert soup.select_one('input[name="contact_email"]') is None
        assert soup.select_one('input[name="contact"]')["type"] == kind
    assert (
        email_page.select_one('label[for="contact"]').get_text(strip=True) == "Your email address"
    )
    assert whatsapp_page.select_one('label[for="contact"]').get_text(strip=True) == (
        "Your WhatsApp number"
    )


def test_choosing_email_signs_with_the_email_field(
    english: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()

    # What was typed in the WhatsApp field before switching is left aside.
    answer = post_sign(
        english, view, contact="0812", contact_kind="email", contact_email="Rina@Contoh.id"
    )

    assert answer.status_code == 303
    assert [e.subject for e in emails_to(session, "Rina@contoh.id")]


def test_choosing_whatsapp_signs_with_the_number(
    english: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()

    answer = post_sign(
        english, view, contact="0812 3456 7890", contact_kind="whatsapp", contact_email=""
    )

    assert answer.status_code == 303
    waiting = english.get(answer.headers["location"])
    assert whatsapp_text(waiting)  # the page gives the WhatsApp message to send


def test_a_client_posting_contact_alone_signs_with_an_email_in_it(
    english: TestClient, make_campaign: MakeCampaign, session: Session
) -> None:
    view = make_campaign()

    answer = post_sign(english, view, contact="dewi@contoh.id")

    assert answer.status_code == 303
    assert emails_to(session, "dewi@contoh.id")


def test_an_empty_email_is_refused_beside_the_email_field_and_the_choice_is_kept(
    english: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()

    answer = post_sign(english, view, contact="", contact_kind="email", contact_email="")

    assert answer.status_code == 422
    assert errors_of(answer) == {"contact_email": "Enter your email address."}
    soup = html(answer)
    assert soup.select_one("#contact-kind-email").has_attr("checked")
    assert not soup.select_one("#contact-kind-whatsapp").has_attr("checked")
    assert soup.select_one("#contact_email")["aria-invalid"] == "true"


def test_an_empty_whatsapp_number_is_asked_for_as_such(
    english: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()

    answer = post_sign(english, view, contact="", contact_kind="whatsapp")

    assert answer.status_code == 422
    assert errors_of(answer) == {"contact": "Enter your WhatsApp number."}


def test_a_bad_email_keeps_what_was_typed(english: TestClient, make_campaign: MakeCampaign) -> None:
    view = make_campaign()

    answer = post_sign(english, view, contact_kind="email", contact_email="rina@")

    assert answer.status_code == 422
    assert set(errors_of(answer)) == {"contact_email"}
    assert html(answer).select_one("#contact_email")["value"] == "rina@"


def test_a_short_number_is_told_it_is_too_short_not_how_it_must_start(
    english: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()

    answer = post_sign(english, view, contact="0812-345", contact_kind="whatsapp")

    assert answer.status_code == 422
    assert errors_of(answer)["contact"] == (
        "That mobile number is too short. Indonesian mobile numbers have 10 to 13 digits, "
        "like 0812 3456 7890."
    )


def test_the_error_summary_links_every_message_to_its_field_in_page_order(
    english: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()

    answer = post_sign(
        english,
        view,
        name="",
        contact="0812-345",
        province="",
        age_ok=None,
        consent=None,
        pledges=[],
        contact_kind="whatsapp",
    )

    assert answer.status_code == 422
    soup = html(answer)
    summary = soup.select_one("#form-errors")
    assert summary is not None
    # It takes the focus as the page opens, and is announced.
    assert summary.has_attr("autofocus") and summary["tabindex"] == "-1"
    assert summary["role"] == "alert"
    links = [(a["href"], a.get_text(strip=True)) for a in summary.select("li a")]
    assert [href for href, _text in links] == [
        "#pledges",
        "#name",
        "#contact",
        "#province",
        "#age_ok",
        "#consent",
    ]
    shown = errors_of(answer)
    assert dict((href[1:], text) for href, text in links if href != "#pledges") == {
        key: text for key, text in shown.items() if key != "pledges"
    }
    assert links[0][1] == shown["pledges"]
    # Every link lands on a control of the form, the consent box among them.
    for href, _text in links:
        target = soup.select_one(href)
        assert target is not None and target.name in ("input", "select"), href
    assert soup.select_one("#consent")["name"] == "consent"
    assert soup.select_one("#pledges")["name"] == "pledges"


def test_the_report_form_sums_up_its_refusals_the_same_way(
    english: TestClient, make_campaign: MakeCampaign
) -> None:
    view = make_campaign()

    answer = post_report(english, view, url="", platform="", consent="")

    assert answer.status_code == 422
    summary = html(answer).select_one("#form-errors")
    assert summary is not None and summary.has_attr("autofocus")
    links = [a["href"] for a in summary.select("li a")]
    assert links == ["#url", "#platform", "#consent"]
    assert set(errors_of(answer)) == {"url", "platform", "consent"}
    # A contact may be a WhatsApp number: no email keyboard forced on it.
    assert not html(answer).select_one("#contact").has_attr("inputmode")
