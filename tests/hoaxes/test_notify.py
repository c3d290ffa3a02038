"""Reporters hear back: publishing a verdict tells every reporter who left a contact, by email
or (where it is set up) WhatsApp, in the language they reported in; a report joining a
published verdict is told at once; a correction is told again; and the contacts a published
verdict keeps for that are erased once the correction window has passed."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge import mail
from pledge.audit import AuditAction
from pledge.campaigns.models import CampaignView
from pledge.db import utcnow, writing
from pledge.deps import ModeratorContext, moderator_access
from pledge.hoaxes import service as hoaxes
from pledge.hoaxes.models import HoaxCase, HoaxReport, Verdict, hoax_report_table
from pledge.hoaxes.states import CaseStatus
from pledge.i18n import translations
from pledge.moderation import service as moderation
from pledge.moderation.service import DecisionForm
from pledge.privacy import retention
from tests.support.db import events, fresh, outbox
from tests.support.factories import set_case_status
from tests.support.forms import code_of, post_report, report_fields
from tests.support.moderation import World, make_world
from tests.support.pages import html

ORIGIN = "https://suara.example.id"
CLAIM = "Foto kotak suara dibakar di Bekasi"
CORRECTION = "Foto itu diambil di Filipina pada 2019."


@pytest.fixture
def world(session: Session) -> World:
    return make_world(session)


@pytest.fixture
def access(session: Session) -> Callable[..., ModeratorContext]:
    return lambda user: moderator_access(user, session)


@pytest.fixture(autouse=True)
def _public_url(use_settings: Callable[..., object]) -> None:
    use_settings(public_url=ORIGIN)


def reported(
    session: Session,
    view: CampaignView,
    *,
    url: str = "https://example.org/kotak-suara",
    contact: str = "",
    locale: str = "id",
    description: str = "Katanya kotak suara dibakar, padahal fotonya lama.",
) -> HoaxReport:
    """A report sent through the service in a language, as the form would."""
    fields = report_fields(url=url, contact=contact, description=description)
    fields.pop("website", None)
    report = hoaxes.submit(session, view=view, form=hoaxes.ReportForm(**fields), locale=locale)
    assert report is not None
    return report


def propose(session: Session, world: World, case_id: int, **fields: object) -> None:
    """A verdict proposed by the first moderator, held by the second to approve."""
    set_case_status(
        session,
        case_id,
        CaseStatus.AWAITING_APPROVAL,
        label=fields.get("label", Verdict.MENYESATKAN),
        public_title=CLAIM,
        correction=fields.get("correction", CORRECTION),
        public_explanation="Foto ini sudah beredar sejak 2019.",
        proposed_by_id=world.mod_a.id,
        claimed_by_id=world.mod_a2.id,
        claim_expires_at=utcnow() + timedelta(minutes=10),
    )


def approve(session: Session, world: World, access: Callable[..., ModeratorContext], case_id: int):
    moderation.approve(session, access=access(world.mod_a2), case_id=case_id, reason="Sumber kuat.")
    return fresh(session).get(HoaxCase, case_id)


def report_row(session: Session, report: HoaxReport) -> sa.Row:
    return (
        fresh(session)
        .execute(sa.select(hoax_report_table).where(hoax_report_table.c.id == report.id))
        .one()
    )


def notify_events(session: Session, case_id: int) -> list[dict[str, object]]:
    return [
        json.loads(event.data)
        for event in events(session, case_id)
        if event.action == AuditAction.CASE_NOTIFY
    ]


# --- publishing -------------------------------------------------------------------------


def test_approving_tells_each_reporter_in_their_language(
    session: Session, world: World, access: Callable[..., ModeratorContext]
) -> None:
    english = reported(session, world.a, contact="Rina@Example.com", locale="en")
    indonesian = reported(session, world.a, contact="budi@example.com", locale="id")
    silent = reported(session, world.a)
    case_id = english.case_id
    assert indonesian.case_id == silent.case_id == case_id
    propose(session, world, case_id)

    case = approve(session, world, access, case_id)

    assert case.status == CaseStatus.PUBLISHED
    messages = outbox(session)
    assert [(m.channel, m.to) for m in messages] == [
        (mail.Channel.EMAIL, "Rina@example.com"),  # as normalised when reported
        (mail.Channel.EMAIL, "budi@example.com"),
    ]
    to_rina, to_budi = messages
    verdict_link = f"{ORIGIN}/hoaxes/{case_id}"
    assert to_rina.subject == "Your hoax report was checked: MENYESATKAN"
    assert "MENYESATKAN (Misleading)" in to_rina.body
    assert f"“{CLAIM}”" in to_rina.body
    assert f"In fact: {CORRECTION}" in to_rina.body
    assert verdict_link in to_rina.body.split()
    assert f"{ORIGIN}/reports/{english.tracking_code}" in to_rina.body.split()
    assert indonesian.tracking_code not in to_rina.body
    # In Indonesian: the verdict's meaning as the Indonesian catalogue says it.
    meaning = translations("id").gettext("Misleading")
    assert meaning != "Misleading"
    assert f"MENYESATKAN ({meaning})" in to_budi.body
    assert verdict_link in to_budi.body.split()
    assert f"{ORIGIN}/reports/{indonesian.tracking_code}" in to_budi.body.split()

    assert report_row(session, english).notified_at is not None
    assert report_row(session, indonesian).notified_at is not None
    assert report_row(session, silent).notified_at is None  # no contact, no message
    told = notify_events(session, case_id)
    assert told == [{"told": 2, "corrected": False}]
    assert "example.com" not in json.dumps([e.data for e in events(session, case_id)]).lower()


def test_the_reports_of_merged_cases_are_told(
    session: Session, world: World, access: Callable[..., ModeratorContext]
) -> None:
    first = reported(session, world.a, contact="rina@example.com")
    other = reported(
        session,
        world.a,
        url="https://example.org/lain-sama-sekali",
        description="Video lama tentang surat suara tercoblos diunggah ulang.",
        contact="sari@example.com",
    )
    assert other.case_id != first.case_id
    set_case_status(
        session,
        other.case_id,
        CaseStatus.NEW,
        claimed_by_id=world.mod_a.id,
        claim_expires_at=utcnow() + timedelta(minutes=10),
    )
    moderation.decide(
        session,
        access=access(world.mod_a),
        case_id=other.case_id,
        form=DecisionForm(
            decision="duplicate", target_case_id=str(first.case_id), reason="Sama persis."
        ),
    )
    assert outbox(session) == []  # merged into an open case: nothing decided yet
    propose(session, world, first.case_id)

    approve(session, world, access, first.case_id)

    assert sorted(m.to for m in outbox(session)) == ["rina@example.com", "sari@example.com"]
    assert report_row(session, other).notified_at is not None


def test_a_mobile_number_without_whatsapp_set_up_gets_no_message(
    session: Session, world: World, access: Callable[..., ModeratorContext], client: TestClient
) -> None:
    report = reported(session, world.a, contact="0812 3456 7890", locale="en")
    propose(session, world, report.case_id)

    approve(session, world, access, report.case_id)

    assert outbox(session) == []
    assert report_row(session, report).notified_at is None
    assert notify_events(session, report.case_id) == [{"told": 0, "corrected": False}]
    # The tracking page remains the way to hear back.
    page = html(client.get(f"/reports/{report.tracking_code}?lang=en"))
    assert page.select_one(".status")["data-status"] == "published"
    assert page.select_one("#verdict-title .claim-text").get_text() == CLAIM


def test_a_mobile_number_gets_a_whatsapp_message_where_it_is_set_up(
    session: Session,
    world: World,
    access: Callable[..., ModeratorContext],
    use_settings: Callable[..., object],
) -> None:
    use_settings(
        public_url=ORIGIN, whatsapp_access_token="token", whatsapp_phone_number_id="1234567"
    )
    report = reported(session, world.a, contact="+62 812-3456-7890", locale="en")
    propose(session, world, report.case_id, correction="")

    approve(session, world, access, report.case_id)

    (message,) = outbox(session)
    assert (message.channel, message.to) == (mail.Channel.WHATSAPP, "+6281234567890")
    # No subject line on WhatsApp: the message opens with it.
    assert message.body.startswith("Your hoax report was checked: MENYESATKAN\n\n")
    assert "In fact" not in message.body  # no correction written
    assert f"{ORIGIN}/reports/{report.tracking_code}" in message.body.split()
    assert report_row(session, report).notified_at is not None


def test_a_contact_sealed_with_another_key_is_not_written_to(
    session: Session, world: World, access: Callable[..., ModeratorContext]
) -> None:
    report = reported(session, world.a, contact="rina@example.com")
    session.execute(
        sa.update(hoax_report_table)
        .where(hoax_report_table.c.id == report.id)
        .values(contact_encrypted="not-a-sealed-contact")
    )
    session.commit()
    propose(session, world, report.case_id)

    approve(session, world, access, report.case_id)

    assert outbox(session) == []
    assert report_row(session, report).notified_at is None


# --- joining a published verdict ----------------------------------------------------------


def test_a_report_joining_a_published_verdict_is_told_at_once(
    session: Session,
    world: World,
    access: Callable[..., ModeratorContext],
    new_client: Callable[..., TestClient],
) -> None:
    first = reported(session, world.a, contact="rina@example.com")
    propose(session, world, first.case_id)
    approve(session, world, access, first.case_id)
    assert len(outbox(session)) == 1

    client = new_client(lang="en")
    code = code_of(
        post_report(client, world.a, url="https://example.org/kotak-suara", contact="sari@x.id")
    )

    page = html(client.get(f"/reports/{code}"))
    assert page.select_one("#already-checked") is not None
    messages = outbox(session)
    assert [m.to for m in messages] == ["rina@example.com", "sari@x.id"]
    assert messages[-1].subject == "Your hoax report was checked: MENYESATKAN"
    assert f"{ORIGIN}/reports/{code}" in messages[-1].body.split()
    joined = fresh(session).exec(sa.select(HoaxReport).where(HoaxReport.tracking_code == code))
    assert joined.one()[0].notified_at is not None
    # One more event, for the one reporter told; the first one is not told again.
    assert notify_events(session, first.case_id)[-1] == {"told": 1, "corrected": False}
    assert report_row(session, first).notified_at is not None


def test_a_report_without_contact_joining_a_published_verdict_records_nothing(
    session: Session, world: World, access: Callable[..., ModeratorContext]
) -> None:
    first = reported(session, world.a)
    propose(session, world, first.case_id)
    approve(session, world, access, first.case_id)

    joined = reported(session, world.a)

    assert joined.case_id == first.case_id
    assert outbox(session) == []
    assert notify_events(session, first.case_id) == [{"told": 0, "corrected": False}]


# --- corrections -------------------------------------------------------------------------


def test_a_correction_tells_every_reporter_again(
    session: Session, world: World, access: Callable[..., ModeratorContext]
) -> None:
    english = reported(session, world.a, contact="rina@example.com", locale="en")
    reported(session, world.a, contact="budi@example.com", locale="id")
    propose(session, world, english.case_id)
    approve(session, world, access, english.case_id)
    # The correction approved: the case shows the new verdict.
    case = set_case_status(
        session,
        english.case_id,
        CaseStatus.PUBLISHED,
        label=Verdict.KONTEKS_KELIRU,
        correction="Fotonya asli, tetapi dari pemilu 2019.",
        corrected_at=utcnow(),
    )

    with writing(fresh(session)):
        told = hoaxes.tell_reporters(session, case=case, now=utcnow(), corrected=True)

    assert told == 2
    messages = outbox(session)[2:]
    assert [m.to for m in messages] == ["rina@example.com", "budi@example.com"]
    assert messages[0].subject == "The verdict on your hoax report was corrected: KONTEKS KELIRU"
    assert "KONTEKS KELIRU (False context)" in messages[0].body
    assert "In fact: Fotonya asli, tetapi dari pemilu 2019." in messages[0].body
    meaning = translations("id").gettext("False context")
    assert f"KONTEKS KELIRU ({meaning})" in messages[1].body  # in Indonesian
    assert notify_events(session, case.id or 0)[-1] == {"told": 2, "corrected": True}


def test_approving_a_correction_tells_the_reporters_and_moves_the_labels_count(
    session: Session, world: World, access: Callable[..., ModeratorContext]
) -> None:
    report = reported(session, world.a, contact="rina@example.com", locale="en")
    propose(session, world, report.case_id)
    case = approve(session, world, access, report.case_id)
    assert [m.subject for m in outbox(session)] == ["Your hoax report was checked: MENYESATKAN"]
    form = moderation.CorrectionForm(
        label="KONTEKS KELIRU",
        public_title=CLAIM,
        correction="Fotonya asli, tetapi dari pemilu 2019.",
        public_explanation="Foto ini sudah beredar sejak 2019.",
        note="Label pertama kurang tepat.",
        reason="Sumber asli ditemukan.",
    )
    waiting = moderation.propose_correction(
        session, access=access(world.mod_a), case_id=case.id, form=form
    )
    assert len(outbox(session)) == 1  # nothing told while the correction waits
    moderation.approve_correction(
        session,
        access=access(world.mod_a2),
        case_id=case.id,
        correction_id=waiting.id,
        reason="Benar.",
    )

    messages = outbox(session)
    assert [m.subject for m in messages] == [
        "Your hoax report was checked: MENYESATKAN",
        "The verdict on your hoax report was corrected: KONTEKS KELIRU",
    ]
    body = messages[1].body
    assert "In fact: Fotonya asli, tetapi dari pemilu 2019." in body
    assert f"{ORIGIN}/hoaxes/{case.id}" in body
    assert notify_events(session, case.id)[-1] == {"told": 1, "corrected": True}
    assert events(session, case.id)[-1].action == AuditAction.CASE_CORRECT
    # The monthly counts move the verdict from its old label to its new one.
    counts = {
        row.metric: row.count
        for row in fresh(session).execute(
            sa.text("SELECT metric, count FROM hoax_month WHERE campaign_id = :c"),
            {"c": world.a.id},
        )
    }
    assert counts["verdict:MENYESATKAN"] == 0
    assert counts["verdict:KONTEKS KELIRU"] == 1


# --- how long contacts are kept -------------------------------------------------------------


def test_a_published_verdict_keeps_its_reporters_contacts_for_the_correction_window(
    session: Session, world: World, access: Callable[..., ModeratorContext]
) -> None:
    report = reported(session, world.a, contact="rina@example.com")
    propose(session, world, report.case_id)
    case = approve(session, world, access, report.case_id)
    assert case.published_at is not None
    assert report_row(session, report).contact_encrypted is not None  # kept, encrypted
    assert "rina" not in report_row(session, report).contact_encrypted

    within = case.published_at + hoaxes.CORRECTION_WINDOW - timedelta(hours=1)
    assert retention.run(session, now=within).reporter_contacts == 0
    assert report_row(session, report).contact_encrypted is not None

    after = case.published_at + hoaxes.CORRECTION_WINDOW + timedelta(hours=1)
    assert retention.run(session, now=after).reporter_contacts == 1
    assert report_row(session, report).contact_encrypted is None
    # Nothing left to tell of a correction.
    with writing(fresh(session)):
        assert hoaxes.tell_reporters(session, case=case, now=after, corrected=True) == 0


@pytest.mark.parametrize("decision", ["not_hoax", "rejected", "duplicate"])
def test_every_other_closing_erases_the_contacts_at_once(
    session: Session, world: World, access: Callable[..., ModeratorContext], decision: str
) -> None:
    target = reported(
        session,
        world.a,
        url="https://example.org/kasus-lain",
        description="Pesan berantai tentang jam buka TPS yang diubah.",
    )
    report = reported(session, world.a, contact="rina@example.com")
    case_id = report.case_id
    assert case_id != target.case_id
    set_case_status(
        session,
        case_id,
        CaseStatus.NEW,
        claimed_by_id=world.mod_a.id,
        claim_expires_at=utcnow() + timedelta(minutes=10),
    )
    target_id = str(target.case_id) if decision == "duplicate" else ""
    moderation.decide(
        session,
        access=access(world.mod_a),
        case_id=case_id,
        form=DecisionForm(decision=decision, target_case_id=target_id, reason="Sudah dicek."),
    )
    assert fresh(session).get(HoaxCase, case_id).status == decision
    if decision == "duplicate":
        # Merged into an open case: its reporter may still be asked, and told the verdict.
        assert report_row(session, report).contact_encrypted is not None
        set_case_status(
            session,
            target.case_id,
            CaseStatus.NEW,
            claimed_by_id=world.mod_a.id,
            claim_expires_at=utcnow() + timedelta(minutes=10),
        )
        moderation.decide(
            session,
            access=access(world.mod_a),
            case_id=target.case_id,
            form=DecisionForm(decision="rejected", reason="Bukan soal pemilu."),
        )
    assert report_row(session, report).contact_encrypted is None
    assert outbox(session) == []


def test_merging_into_a_published_verdict_tells_the_merged_reporters(
    session: Session, world: World, access: Callable[..., ModeratorContext]
) -> None:
    published = reported(session, world.a, contact="rina@example.com")
    propose(session, world, published.case_id)
    approve(session, world, access, published.case_id)
    late = reported(
        session,
        world.a,
        url="https://example.org/salinan",
        description="Salinan foto yang sama diunggah akun lain dengan keterangan baru.",
        contact="sari@example.com",
        locale="en",
    )
    assert late.case_id != published.case_id
    set_case_status(
        session,
        late.case_id,
        CaseStatus.NEW,
        claimed_by_id=world.mod_a.id,
        claim_expires_at=utcnow() + timedelta(minutes=10),
    )

    moderation.decide(
        session,
        access=access(world.mod_a),
        case_id=late.case_id,
        form=DecisionForm(
            decision="duplicate", target_case_id=str(published.case_id), reason="Sama."
        ),
    )

    assert [m.to for m in outbox(session)] == ["rina@example.com", "sari@example.com"]
    assert f"{ORIGIN}/hoaxes/{published.case_id}" in outbox(session)[-1].body.split()
    assert report_row(session, late).contact_encrypted is not None  # within the window


def test_the_privacy_notice_says_how_long_a_reporters_contact_is_kept(
    new_client: Callable[..., TestClient],
) -> None:
    assert timedelta(days=30) == hoaxes.CORRECTION_WINDOW
    text = " ".join(html(new_client(lang="en").get("/privacy")).get_text().split())
    assert "used to send you the verdict on your report" in text
    assert (
        "Only if you tick the box that allows it, the moderators checking your report see it"
        in text
    )
    assert (
        "except when a verdict is published: then it is kept for 30 days after publication, "
        "only to tell you if the verdict is corrected, and deleted after that."
    ) in text
