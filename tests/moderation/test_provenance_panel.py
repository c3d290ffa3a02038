"""The provenance of reported pictures: read from the file as sent, kept on the report, shown
to the case's moderators only, never left in the stored picture; and the Content Credentials a
verdict may quote."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from pledge.hoaxes import provenance
from pledge.hoaxes.models import CaseStatus, HoaxCase, HoaxReport, Media
from tests.support import provenance_files as files
from tests.support.db import reload
from tests.support.factories import make_report
from tests.support.moderation import CSRF, HOAX_FIELDS, Browser, World, case_url, post
from tests.support.pages import errors_of, html
from tests.support.people import sign_in


def reported(session: Session, world: World, image: bytes, **fields: Any) -> HoaxReport:
    """A report of campaign A with this picture, through the report service."""
    return make_report(session, world.a, image=image, **fields)


def panel(client: Any, case_id: int) -> Any:
    page = html(client.get(case_url(case_id)))
    found = page.select_one("#provenance")
    assert found is not None, "no provenance panel"
    return found


def text(node: Any) -> str:
    return node.get_text(" ", strip=True) if node is not None else ""


def hold(session: Session, case_id: int, user: Any) -> None:
    from datetime import timedelta

    from pledge.db import utcnow

    case = session.get(HoaxCase, case_id)
    assert case is not None
    case.claimed_by_id = user.id
    case.claim_expires_at = utcnow() + timedelta(minutes=10)
    session.add(case)
    session.commit()


def test_signed_credentials_are_kept_on_the_report_and_none_of_them_in_the_stored_picture(
    session: Session, world: World
) -> None:
    report = reported(session, world, files.signed_jpeg())
    found = provenance.Provenance.from_json(report.provenance)
    assert found.certainty == provenance.Certainty.SIGNED_VALID
    assert found.credentials is not None and found.credentials.generator.startswith("TestGen")
    assert found.ai_source == "trainedAlgorithmicMedia"
    stored = session.get(Media, report.media_id)
    assert stored is not None
    # The stored picture is re-encoded: no manifest, no XMP, nothing to read in it.
    assert b"c2pa" not in stored.data and b"jumb" not in stored.data
    assert provenance.read(stored.data) == provenance.Provenance(stripped=True)


def test_xmp_and_exif_written_by_exiftool_reach_the_report_and_not_the_stored_picture(
    session: Session, world: World
) -> None:
    report = reported(session, world, files.xmp_jpeg(comment="dibuat dengan AI"))
    found = provenance.Provenance.from_json(report.provenance)
    assert (found.source_type, found.creator_tool) == (
        "trainedAlgorithmicMedia",
        "Image Creator 2.1",
    )
    assert (found.software, found.make, found.model) == ("Photo Studio 5", "Canon", "EOS R5")
    stored = session.get(Media, report.media_id)
    assert stored is not None
    for trace in (b"Iptc4xmpExt", b"Image Creator", b"Photo Studio", b"EOS R5", b"dibuat"):
        assert trace not in stored.data


def test_the_panel_shows_valid_credentials_and_suggests_a_label_it_never_sets(
    session: Session, world: World, browser: Browser
) -> None:
    report = reported(session, world, files.signed_jpeg())
    found = panel(browser(world.mod_a), report.case_id)
    card = found.select_one("#provenance-1")
    assert text(card.select_one(".badge")) == "Content Credentials, signed and valid"
    assert text(card.select_one(".generator")).startswith("TestGen")
    assert "not on a trust list" in text(card.select_one(".signer"))
    assert text(card.select_one(".signature")) == "intact"
    assert text(card.select_one(".binding")) == "yes"
    assert "Created: made by a generative AI model" in text(card.select_one(".actions"))
    assert text(found.select_one("#provenance-suggestion")).startswith(
        "Suggested label: BUATAN AI (AI-generated)"
    )
    assert "never applied by itself" in text(found.select_one("#provenance-suggestion"))
    case = session.get(HoaxCase, report.case_id)
    assert case is not None and case.label is None and case.status == CaseStatus.NEW


def test_the_panel_says_tampered_credentials_do_not_validate(
    session: Session, world: World, browser: Browser
) -> None:
    report = reported(session, world, files.tampered_jpeg("pixels"))
    card = panel(browser(world.mod_a), report.case_id).select_one("#provenance-1")
    assert text(card.select_one(".badge")) == "Content Credentials that do not validate"
    assert text(card.select_one(".binding")) == "no: the picture was changed after signing"
    assert "Do not rely on what they say" in text(card)


def test_a_stripped_copy_is_no_information_never_authentic(
    session: Session, world: World, browser: Browser
) -> None:
    copy = files.messenger_copy(files.signed_jpeg(size=(1600, 1200)), 1600)
    report = reported(session, world, copy)
    found = panel(browser(world.mod_a), report.case_id)
    card = found.select_one("#provenance-1")
    assert text(card.select_one(".badge")) == "No information"
    assert "does not mean the picture is authentic" in text(card)
    assert "re-encoded by WhatsApp" in text(card.select_one(".reencoded"))
    assert found.select_one("#provenance-suggestion") is None


def test_a_prompt_is_shown_to_the_moderators_and_nowhere_public(
    session: Session, world: World, browser: Browser
) -> None:
    prompt = "a politician riding a dragon over Jakarta"
    report = reported(session, world, files.novelai_png(prompt))
    found = panel(browser(world.mod_a), report.case_id)
    assert text(found.select_one("#provenance-1 .trace")) == "NovelAI"
    assert prompt in text(found.select_one("#provenance-1 details.prompt blockquote"))
    # The reporter's own page, the public pages and the open data never carry it.
    anonymous = browser(None)
    for path in (f"/reports/{report.tracking_code}", "/hoaxes", "/api/v1/hoaxes"):
        assert prompt not in anonymous.get(path).text
    # A moderator of another campaign's organisation does not see the case at all.
    assert browser(world.mod_b).get(case_url(report.case_id)).status_code == 404


def test_each_finding_is_shown_once_strongest_first_with_its_reports(
    session: Session, world: World, browser: Browser
) -> None:
    link = "https://www.facebook.com/hoaks/posts/777"
    first = reported(session, world, files.messenger_copy(files.signed_jpeg(), 1280), url=link)
    second = reported(session, world, files.signed_jpeg(), url=link)
    reported(session, world, files.messenger_copy(files.signed_jpeg(), 1280), url=link)
    assert first.case_id == second.case_id
    found = panel(browser(world.mod_a), first.case_id)
    cards = found.select("li.provenance")
    assert [text(card.select_one(".badge")) for card in cards] == [
        "Content Credentials, signed and valid",
        "No information",
    ]
    assert f"first #{second.id}" in text(cards[0])
    assert "In the files of 2 reports" in text(cards[1])


def test_the_panel_reads_in_indonesian(session: Session, world: World, new_client: Any) -> None:
    report = reported(session, world, files.signed_jpeg())
    client = sign_in(new_client(lang="id"), world.mod_a, csrf=CSRF)
    found = panel(client, report.case_id)
    assert text(found.select_one("#provenance-title")) == "Asal-usul"
    assert (
        text(found.select_one("#provenance-1 .badge"))
        == "Content Credentials, bertanda tangan dan sah"
    )
    assert text(found.select_one("#provenance-suggestion")).startswith("Saran label: BUATAN AI")


# --- the note a verdict may publish --------------------------------------------------------


def test_a_verdict_quotes_valid_credentials_when_the_moderator_chooses(
    session: Session, world: World, browser: Browser
) -> None:
    report = reported(session, world, files.signed_jpeg())
    case_id = report.case_id
    hold(session, case_id, world.mod_a)
    proposer = browser(world.mod_a)
    page = html(proposer.get(case_url(case_id)))
    hint = text(page.select_one("#hoax-show_credentials-hint"))
    assert "Content Credentials in the file said it was made with TestGen" in hint
    fields = {**HOAX_FIELDS, "label": "BUATAN AI", "show_credentials": "1"}
    assert post(proposer, case_url(case_id, "decide"), **fields).status_code == 303
    stored = reload(session, session.get(HoaxCase, case_id))
    assert '"generator":"TestGen' in stored.credentials_note
    page = html(proposer.get(case_url(case_id)))
    assert text(page.select_one("#proposed-credentials")).startswith(
        "Content Credentials in the file said it was made with TestGen"
    )
    second = browser(world.mod_a2)
    assert post(second, case_url(case_id, "claim")).status_code == 303
    assert post(second, case_url(case_id, "approve"), reason="Sumber kuat.").status_code == 303
    public = html(browser(None).get(f"/hoaxes/{case_id}"))
    sentence = text(public.select_one("#credentials"))
    assert sentence.startswith("Content Credentials in the file said it was made with TestGen")
    assert "They describe the picture as made by a generative AI model." in sentence


def test_a_verdict_without_the_box_ticked_quotes_nothing(
    session: Session, world: World, browser: Browser
) -> None:
    report = reported(session, world, files.signed_jpeg())
    hold(session, report.case_id, world.mod_a)
    client = browser(world.mod_a)
    fields = {**HOAX_FIELDS, "label": "BUATAN AI"}
    assert post(client, case_url(report.case_id, "decide"), **fields).status_code == 303
    assert reload(session, session.get(HoaxCase, report.case_id)).credentials_note == ""


@pytest.mark.parametrize("image", ["unsigned", "tampered"])
def test_only_valid_credentials_can_be_quoted(
    session: Session, world: World, browser: Browser, image: str
) -> None:
    picture = files.xmp_jpeg() if image == "unsigned" else files.tampered_jpeg("signature")
    report = reported(session, world, picture)
    hold(session, report.case_id, world.mod_a)
    client = browser(world.mod_a)
    assert html(client.get(case_url(report.case_id))).select_one("#hoax-show_credentials") is None
    fields = {**HOAX_FIELDS, "label": "BUATAN AI", "show_credentials": "1"}
    refused = post(client, case_url(report.case_id, "decide"), **fields)
    assert refused.status_code == 422
    assert errors_of(refused)["hoax-show_credentials"].startswith(
        "No file of this case carries valid Content Credentials"
    )
    stored = reload(session, session.get(HoaxCase, report.case_id))
    assert stored.status == CaseStatus.NEW and stored.credentials_note == ""


def test_sending_a_verdict_back_drops_its_note(
    session: Session, world: World, browser: Browser
) -> None:
    report = reported(session, world, files.signed_jpeg())
    hold(session, report.case_id, world.mod_a)
    proposer, second = browser(world.mod_a), browser(world.mod_a2)
    fields = {**HOAX_FIELDS, "label": "BUATAN AI", "show_credentials": "1"}
    assert post(proposer, case_url(report.case_id, "decide"), **fields).status_code == 303
    assert post(second, case_url(report.case_id, "claim")).status_code == 303
    sent = post(second, case_url(report.case_id, "send-back"), reason="Periksa lagi.")
    assert sent.status_code == 303
    stored = reload(session, session.get(HoaxCase, report.case_id))
    assert stored.status == CaseStatus.NEW and stored.credentials_note == ""


@pytest.mark.parametrize("how", ["garbled", "truncated"])
def test_a_damaged_manifest_never_fails_a_report_and_reads_as_unreadable(
    session: Session, world: World, browser: Browser, new_client: Any, how: str
) -> None:
    from sqlmodel import select

    from tests.support.forms import code_of, post_report

    sent = post_report(
        new_client(lang="en"), world.a, image=files.tampered_jpeg(how), mime="image/jpeg"
    )
    code = code_of(sent)  # taken: a 303 to the report's page
    report = session.exec(select(HoaxReport).where(HoaxReport.tracking_code == code)).one()
    card = panel(browser(world.mod_a), report.case_id).select_one("#provenance-1")
    assert text(card.select_one(".badge")) == "Unreadable"
    assert text(card.select_one(".unreadable")) == "c2pa"
