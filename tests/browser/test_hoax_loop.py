"""The whole hoax loop in real headless Chromium, as the people who use it go through it.

A reporter on a phone on slow 3G, in Indonesian, reports a hoax with a link and a screenshot and
allows moderators to write to her; a moderator (on a phone, in English) asks her a question, she
answers from her tracking page with text and another screenshot, and the moderator reads the
answer and writes to her. Then the moderator proposes a verdict, a second moderator approves it,
the reporter is told by email and reads it on her tracking page; the second moderator records
that the hoax was reported to TikTok and removed; a correction is proposed, approved, and shown
on the verdict page.

A reader then shares a verdict from the gallery, in English and Indonesian: its share card, the
order of its share buttons, a picture that does not push the text when it loads, its short
link, its story picture; the tracking-code box; and the transparency page, on a phone, without
sideways scrolling.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, Route, expect
from sqlmodel import Session, select

from pledge import i18n
from pledge.accounts.models import Organization
from pledge.campaigns.models import CampaignView
from pledge.deps import moderator_access
from pledge.hoaxes.models import Correction, HoaxCase, HoaxReport, ReportAnswer
from pledge.mail import OutboxMessage
from pledge.moderation import service as moderation
from tests.support.appserver import LiveServer
from tests.support.db import fresh, outbox
from tests.support.factories import make_report
from tests.support.images import screenshot
from tests.support.people import Person
from tests.support.phone import OpenPhone, Phone
from tests.support.waiting import wait_until

REPORTER = "rina.pelapor@contoh.id"
HOAX_LINK = "https://www.tiktok.com/@kabarpemilu/video/7312345678901234567"
CLAIM = "Pemilih tanpa undangan C6 tidak boleh mencoblos"
FACT = "Pemilih tanpa undangan C6 tetap bisa mencoblos dengan membawa e-KTP."
EXPLANATION = "KPU menegaskan undangan C6 bukan syarat mencoblos.\n\nCukup bawa e-KTP ke TPS."
QUESTION = "Di grup mana kamu melihat video ini, dan kapan?"
ANSWER = "Di grup WhatsApp alumni SMA, kemarin malam. Ini tangkapan layar pesannya."
MESSAGE = "Terima kasih atas jawabanmu. Apakah videonya masih beredar di grup itu?"
REFERENCE = "TT-LAPOR-88231"
NOTE = "Versi pertama tidak menyebut bahwa surat keterangan dari desa juga diterima."
JAKARTA = ZoneInfo("Asia/Jakarta")

Shot = Callable[[Page, str], Path]


# --- what every step uses -------------------------------------------------------------


@pytest.fixture
def shot(tmp_path: Path) -> Shot:
    """A full-page screenshot of a key moment, kept in the test's temporary folder."""

    def take(page: Page, name: str) -> Path:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def upload(page: Page, field: str, seed: int, name: str) -> None:
    """Choose a screenshot in the phone's file picker, as a thumb does: tap, pick."""
    with page.expect_file_chooser() as chooser:
        page.locator(field).click()
    chooser.value.set_files({"name": name, "mimeType": "image/png", "buffer": screenshot(seed)})


def fits_the_screen(page: Page) -> None:
    """Nothing on the page scrolls sideways."""
    width, client = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width <= client, f"{page.url} is {width}px wide on a {client}px screen"


def signed_in(phone: Phone, url: str, person: Person) -> Page:
    """A moderator's page, signed in through the login form, in English (?lang=en keeps the
    choice in a cookie)."""
    page = phone.new_page()
    page.goto(f"{url}/login?lang=en")
    page.locator("#email").fill(person.email)
    page.locator("#password").fill(person.password or "")
    page.locator("form:has(#password) button[type=submit]").click()
    page.wait_for_url(f"{url}/mod")  # a moderator starts at the queue
    return page


def submit(page: Page, form: str, url_part: str) -> None:
    """Send a form and wait for the page it leads to."""
    with page.expect_navigation(url=re.compile(re.escape(url_part))):
        page.locator(f"{form} button[type=submit]").click()


def messages_to(session: Session, contact: str) -> list[OutboxMessage]:
    return [message for message in outbox(session) if message.to == contact]


def message_saying(session: Session, contact: str, subject: str) -> OutboxMessage:
    """The message to the contact with this subject, once the app has queued it with its text
    (a message being sent has its text only once sent)."""
    found: list[OutboxMessage] = []

    def queued() -> bool:
        found[:] = [m for m in messages_to(session, contact) if m.subject == subject and m.body]
        return bool(found)

    wait_until(queued, timeout=30, what=f"no message {subject!r} to {contact}")
    assert len(found) == 1, [m.subject for m in messages_to(session, contact)]
    return found[0]


def reload_until(page: Page, shown: Locator) -> None:
    """Reload until the element is there: a published page is drawn again at most a second
    after a change (hoaxes.routes), and a reload asks the server, not the phone's cache."""

    def there() -> bool:
        if shown.count():
            return True
        page.reload()
        return False

    wait_until(there, timeout=30, what=f"{shown} never showed on {page.url}")


def the_case(session: Session, code: str) -> HoaxCase:
    report = fresh(session).exec(select(HoaxReport).where(HoaxReport.tracking_code == code)).one()
    case = session.get(HoaxCase, report.case_id)
    assert case is not None
    return case


# --- 1. a question, an answer, a message ---------------------------------------------------


def report_a_hoax(reporter: Page, url: str, view: CampaignView) -> str:
    """From the campaign page to the tracking page; the tracking code."""
    reporter.goto(f"{url}/c/{view.slug}")
    assert reporter.locator("html").get_attribute("lang") == "id"
    reporter.locator(".report-link a").click()
    reporter.wait_for_url(f"{url}/c/{view.slug}/report")
    assert reporter.locator("h1").inner_text() == "Laporkan hoaks"
    reporter.locator("#url").fill(HOAX_LINK)
    upload(reporter, "#screenshot", 11, "tangkapan-layar.png")
    reporter.locator("#platform").select_option("tiktok")
    reporter.locator("#category").select_option("false_claim")
    reporter.locator("#description").fill("Video bilang tanpa undangan C6 tidak bisa mencoblos.")
    reporter.locator("#contact").fill(REPORTER)
    reporter.locator("input[name=may_contact]").check()
    reporter.locator("input[name=consent]").check()
    reporter.get_by_role("button", name="Kirim laporan").click()
    reporter.wait_for_url(re.compile(r".*/reports/[a-z0-9]+$"))
    code = reporter.locator(".tracking-code").inner_text()
    assert reporter.url == f"{url}/reports/{code}"
    assert reporter.locator("h1").inner_text() == "Laporan hoaksmu"
    assert reporter.locator(".status-text strong").inner_text() == "Sedang ditinjau."
    assert HOAX_LINK in reporter.locator(".your-link").inner_text()
    return code


def ask_a_question(mod: Page, url: str, case_id: int) -> str:
    """The moderator opens the case from the queue, claims it, asks; the case's address."""
    mod.goto(f"{url}/mod")
    mod.locator(f"#case-{case_id} a.open").click()
    case_url = f"{url}/mod/cases/{case_id}"
    mod.wait_for_url(case_url)
    assert mod.locator("#reports .report a.url").inner_text() == HOAX_LINK
    assert mod.locator("#details img.case-image").get_attribute("width")
    with mod.expect_navigation(url=re.compile(r"done=claimed")):
        mod.get_by_role("button", name="Claim this case").click()
    mod.locator("#form-needs_info summary").click()
    mod.locator("#needs_info-question").fill(QUESTION)
    mod.locator("#needs_info-reason").fill("Perlu tahu dari mana video ini beredar.")
    submit(mod, "#form-needs_info", "done=decided-needs_info")
    expect(mod.locator("#status")).to_have_text("Needs more information")
    assert mod.locator("#answers #question").inner_text() == QUESTION
    assert mod.locator("#no-answers").is_visible()
    return case_url


def answer_the_question(reporter: Page, shot: Shot) -> None:
    """The reporter reads the question on her tracking page and answers it."""
    reporter.reload()
    assert reporter.locator(".status").get_attribute("data-status") == "needs_info"
    status = reporter.locator(".status-text strong").inner_text()
    assert status == "Moderator butuh informasi tambahan."
    assert reporter.locator("#question-title").inner_text() == "Pertanyaan dari moderator"
    assert reporter.locator("#question-text").inner_text().strip() == QUESTION
    expect(reporter.locator("#answer-form")).to_be_visible()
    fits_the_screen(reporter)
    reporter.locator("#answer-form textarea[name=text]").fill(ANSWER)
    upload(reporter, "#answer-form input[type=file]", 12, "pesan-grup.png")
    shot(reporter, "1-reporter-answers")
    with reporter.expect_navigation(url=re.compile(r"done=answered")):
        reporter.get_by_role("button", name="Kirim jawabanku").click()
    assert (
        reporter.locator("#done").inner_text() == "Terima kasih: moderator akan membaca jawabanmu."
    )
    assert reporter.locator(".status-text strong").inner_text() == "Sedang ditinjau lagi."
    assert ANSWER in reporter.locator(".your-answer .answer-text").inner_text()
    # Answered once: the form is there still, to add what she forgot.
    expect(reporter.locator("#answer-form")).to_be_visible()
    fits_the_screen(reporter)
    shot(reporter, "2-reporter-answered")


def read_the_answer_and_write(
    mod: Page, url: str, case_url: str, case: HoaxCase, report: HoaxReport, shot: Shot
) -> None:
    """The queue marks the case answered; its page shows the answer, the reporter's contact;
    the moderator writes to her."""
    mod.goto(f"{url}/mod")
    row = mod.locator(f"#case-{case.id}")
    assert row.locator(".badge.answered").inner_text() == "Answered"
    row.locator("a.open").click()
    mod.wait_for_url(case_url)
    answers = mod.locator("#answers")
    assert "Answered" in answers.locator("h2").inner_text()
    assert answers.locator(".answer-text").inner_text() == ANSWER
    picture = answers.locator(".answer img")
    picture.scroll_into_view_if_needed()
    expect(picture).to_have_js_property("complete", True)
    assert picture.evaluate("img => img.naturalWidth") == 800
    reporter = mod.locator(f"#report-{report.id}")
    assert reporter.locator(".reporter-contact .contact").inner_text() == REPORTER
    fits_the_screen(mod)
    reporter.locator(f"#form-message-{report.id} summary").click()
    mod.locator(f"#message-{report.id}-message").fill(MESSAGE)
    shot(mod, "3-moderator-writes")
    submit(mod, f"#form-message-{report.id}", "done=messaged-email")
    assert "on its way to the reporter by email" in mod.locator("#done").inner_text()
    sent = mod.locator("#history tr[data-action='case.message']")
    expect(sent).to_have_count(1)
    assert sent.locator(".reason").inner_text() == MESSAGE
    assert sent.locator(".actor").inner_text() == "Ayu"
    fits_the_screen(mod)
    shot(mod, "4-moderator-case-page")


# --- 2. the verdict, reported elsewhere, corrected -----------------------------------------


def propose_verdict(mod: Page, case_url: str) -> None:
    mod.goto(case_url)
    with mod.expect_navigation(url=re.compile(r"done=claimed")):
        mod.get_by_role("button", name="Claim this case").click()
    mod.locator("#form-hoax summary").click()
    mod.locator("#hoax-label").select_option("SALAH")
    mod.locator("#hoax-public_title").fill(CLAIM)
    mod.locator("#hoax-correction").fill(FACT)
    mod.locator("#hoax-public_explanation").fill(EXPLANATION)
    mod.locator("#hoax-reason").fill("Dicek ke situs KPU dan jawaban pelapor.")
    submit(mod, "#form-hoax", "done=decided-hoax")
    assert mod.locator("#done").inner_text().startswith("The verdict is proposed.")
    assert mod.locator("#proposed-title").inner_text().strip('“”"') == CLAIM


def approve_verdict(second: Page, case_url: str) -> None:
    second.goto(case_url)
    assert second.locator("#proposer").inner_text() == "Ayu"
    with second.expect_navigation(url=re.compile(r"done=claimed")):
        second.get_by_role("button", name="Claim this case").click()
    second.locator("#approve-reason").fill("Sudah saya cek ulang di situs KPU.")
    submit(second, "#form-approve", "done=approved")
    assert second.locator("#done").inner_text() == "The verdict is published."
    assert second.locator("#label").inner_text() == "SALAH (False)"


def reporter_reads_the_verdict(reporter: Page, session: Session, case_id: int, code: str) -> None:
    told = message_saying(session, REPORTER, "Laporan hoaksmu sudah dicek: SALAH")
    assert f"“{CLAIM}”" in told.body
    assert f"Faktanya: {FACT}" in told.body
    assert re.search(rf"https?://\S+/hoaxes/{case_id}\n", told.body), told.body
    assert f"/reports/{code}" in told.body
    reporter.reload()
    assert reporter.locator(".status").get_attribute("data-status") == "published"
    box = reporter.locator(".verdict-box")
    assert box.locator(".verdict-label").inner_text() == "SALAH"
    assert box.locator(".claim-tag").text_content() == "Klaim:"
    assert box.locator(".claim-text").inner_text().strip('“”"') == CLAIM
    assert box.locator(".fact-tag").text_content() == "Faktanya:"
    assert box.locator(".fact-text").inner_text() == FACT


def public_day(value: str | datetime, locale: str) -> str:
    """A day as the public pages write it in a language: an ISO day, or a stored time (UTC)
    taken in Jakarta's time."""
    moment = date.fromisoformat(value) if isinstance(value, str) else value
    previous = i18n.get_locale()
    i18n.set_locale(locale)
    try:
        return i18n.day(moment)
    finally:
        i18n.set_locale(previous)


def report_to_tiktok(second: Page, case_url: str) -> str:
    """The second moderator records the report to TikTok, then that it was removed; the day."""
    second.goto(case_url)
    second.locator("#form-escalate summary").click()
    second.locator("#escalate-target").select_option("tiktok")
    day = second.locator("#escalate-reported_on").input_value()  # today, in Jakarta
    second.locator("#escalate-reference").fill(REFERENCE)
    submit(second, "#form-escalate", "done=escalated")
    escalation = second.locator("#escalations .escalation")
    assert escalation.locator(".recipient").inner_text() == "TikTok"
    assert escalation.locator(".reference").inner_text() == f"reference: {REFERENCE}"
    assert escalation.locator(".outcome").inner_text() == "Waiting for an answer"
    escalation.locator("details summary").click()
    escalation.locator("select[name=outcome]").select_option("removed")
    escalation.locator("input[name=outcome_on]").fill(day)
    submit(second, ".escalation details", "done=escalation-outcome")
    # The case page writes the day as people do ("7 December 2026"), like the public pages.
    assert (
        second.locator("#escalations .outcome").inner_text()
        == f"Removed on {public_day(day, 'en')}"
    )
    return day


def correct_verdict(mod: Page, second: Page, case_url: str) -> None:
    mod.goto(case_url)
    mod.locator("#form-correct summary").click()
    mod.locator("#correct-correction").fill(FACT + " Surat keterangan dari desa juga diterima.")
    mod.locator("#correct-note").fill(NOTE)
    mod.locator("#correct-reason").fill("Pembaca menunjukkan aturan KPU yang lengkap.")
    submit(mod, "#form-correct", "done=correction-proposed")
    expect(mod.locator("#own-correction")).to_be_visible()
    second.goto(case_url)
    assert second.locator("#correction-note").inner_text() == NOTE
    second.locator("#approve_correction-reason").fill("Benar, aturannya begitu.")
    submit(second, "#form-approve_correction", "done=corrected")
    assert second.locator("#done").inner_text().startswith("The correction is approved")


@pytest.mark.browser
def test_a_reporter_answers_the_moderators_and_hears_the_verdict(
    phone: OpenPhone,
    live_server: LiveServer,
    session: Session,
    make_campaign: Any,
    org: Organization,
    moderator: Person,
    second_moderator: Person,
    shot: Shot,
) -> None:
    view = make_campaign(title="Pemilu Damai", lead=org)
    url = live_server.url
    reporter = phone(locale="id-ID").new_page()
    mod = signed_in(phone(slow_3g=False), url, moderator)

    # 1. She reports; the moderator asks; she answers; the moderator reads it and writes.
    code = report_a_hoax(reporter, url, view)
    report = fresh(session).exec(select(HoaxReport).where(HoaxReport.tracking_code == code)).one()
    assert report.may_contact and report.contact_encrypted and report.locale == "id"
    assert REPORTER not in report.contact_encrypted  # stored encrypted
    case = the_case(session, code)
    case_url = ask_a_question(mod, url, case.id or 0)
    answer_the_question(reporter, shot)
    answers = fresh(session).exec(select(ReportAnswer)).all()
    assert [(a.report_id, a.text, a.media_id is not None) for a in answers] == [
        (report.id, ANSWER, True)
    ]
    assert the_case(session, code).answered_at is not None
    read_the_answer_and_write(mod, url, case_url, case, report, shot)
    written = message_saying(session, REPORTER, "Pesan dari moderator soal laporan hoaksmu")
    assert MESSAGE in written.body
    assert "Halaman laporanmu" in written.body
    assert f"{url}/reports/{code}" in written.body

    # 2. A verdict, approved by a second moderator; the reporter hears of it.
    second = signed_in(phone(slow_3g=False), url, second_moderator)
    propose_verdict(mod, case_url)
    approve_verdict(second, case_url)
    reporter_reads_the_verdict(reporter, session, case.id or 0, code)
    fits_the_screen(reporter)
    shot(reporter, "5-reporter-reads-the-verdict")
    day = report_to_tiktok(second, case_url)
    correct_verdict(mod, second, case_url)
    corrected = message_saying(session, REPORTER, "Putusan atas laporan hoaksmu dikoreksi: SALAH")
    assert "Surat keterangan dari desa juga diterima." in corrected.body

    # The verdict page, from the reporter's phone: the correction with its date and note, what
    # came of the report to TikTok without the moderators' reference.
    approved = fresh(session).exec(select(Correction)).one().approved_at
    assert approved is not None
    reporter.locator(".verdict-box a.button").click()
    reporter.wait_for_url(f"{url}/hoaxes/{case.id}")
    note = reporter.locator(".correction-note")
    reload_until(reporter, note)
    # Days as Indonesians write them, in Jakarta's time: "7 Desember 2026".
    corrected_on = public_day(approved, "id")
    assert note.inner_text() == f"Dikoreksi pada {corrected_on}: {NOTE}"
    next_steps = reporter.locator("#what-next").inner_text()
    assert f"Dilaporkan ke TikTok pada {public_day(day, 'id')}." in next_steps
    assert f"Dihapus pada {public_day(day, 'id')}." in next_steps
    assert REFERENCE not in reporter.content()
    fits_the_screen(reporter)
    shot(reporter, "6-verdict-corrected")


# --- 3. a reader shares a verdict; 4. the transparency page ---------------------------------

AI_CLAIM = "Rekaman suara ketua KPU menyuruh memilih calon tertentu"


def published_through_moderation(
    session: Session,
    view: CampaignView,
    proposer: Person,
    approver: Person,
    *,
    label: str,
    claim: str,
    link: str,
    image: bytes | None,
) -> HoaxReport:
    """A report, a verdict proposed by one moderator and approved by another, as their forms
    do it (the monthly counts follow); the report."""
    report = make_report(session, view, image=image, url=link, platform="tiktok")
    case_id = report.case_id
    first, second = (
        moderator_access(proposer.user, session),
        moderator_access(approver.user, session),
    )
    moderation.claim(session, access=first, case_id=case_id)
    fields = {"label": label, "public_title": claim, "correction": FACT}
    form = moderation.DecisionForm(
        decision="hoax", public_explanation=EXPLANATION, reason="Dicek ke KPU.", **fields
    )
    moderation.decide(session, access=first, case_id=case_id, form=form)
    moderation.claim(session, access=second, case_id=case_id)
    moderation.approve(session, access=second, case_id=case_id, reason="Benar.")
    return report


def reported_to_tiktok_and_removed(session: Session, report: HoaxReport, who: Person) -> str:
    """The second moderator's report to TikTok and its outcome, recorded as the forms do; the
    day (today in Jakarta)."""
    access = moderator_access(who.user, session)
    day = datetime.now(JAKARTA).date().isoformat()
    form = moderation.EscalationForm(target="tiktok", reported_on=day, reference=REFERENCE)
    escalation = moderation.escalate(session, access=access, case_id=report.case_id, form=form)
    outcome = moderation.OutcomeForm(outcome="removed", outcome_on=day)
    moderation.record_outcome(
        session,
        access=access,
        case_id=report.case_id,
        escalation_id=escalation.id or 0,
        form=outcome,
    )
    return day


def share_buttons(page: Page) -> list[str]:
    """The share buttons, in order, by the network each one opens."""
    return [
        next(c for c in (link.get_attribute("class") or "").split() if c != "button")
        for link in page.locator(".share-links a").all()
    ]


def whatsapp_text(page: Page) -> str:
    href = page.locator(".share-links a.whatsapp").get_attribute("href") or ""
    return parse_qs(urlsplit(href).query)["text"][0]


def meta(page: Page, key: str) -> str | None:
    return page.locator(f"meta[property='{key}'], meta[name='{key}']").get_attribute("content")


def picture_size(page: Page, address: str) -> tuple[str, tuple[int, int]]:
    """A picture fetched with the page's cookies: its type and size as Pillow reads it."""
    response = page.request.get(address)
    assert response.status == 200, address
    with Image.open(io.BytesIO(response.body())) as picture:
        return f"{response.headers['content-type']}|{picture.format}", picture.size


def filter_the_gallery(reader: Page, url: str, label: str) -> None:
    reader.goto(f"{url}/hoaxes?lang=en")
    expect(reader.locator(".cards.hoaxes .card")).to_have_count(2)
    reader.locator("#filters summary").click()
    reader.locator("#label").select_option(label)
    with reader.expect_navigation(url=re.compile(rf"label={label}")):
        reader.get_by_role("button", name="Show these verdicts").click()


def the_text_stays_put(reader: Page, held: list[Route]) -> None:
    """The verdict's picture, held back on its way, then let through: the heading under it is
    where it was before the picture came."""
    image = reader.locator("main img.hoax-image")
    heading = reader.get_by_role("heading", name="What we found")
    where = "el => el.getBoundingClientRect().top + window.scrollY"
    # The held request reaches this process with the events each call to the page lets in.
    wait_until(lambda: held or reader.evaluate("false"), what="the picture was never asked for")
    assert image.evaluate("img => img.complete") is False
    before = heading.evaluate(where)
    held[0].continue_()
    image.scroll_into_view_if_needed()
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0
    heading.scroll_into_view_if_needed()
    assert abs(heading.evaluate(where) - before) <= 2


def check_the_verdict_page(reader: Page, url: str, case_id: int, day: str) -> None:
    card = f"{url}/hoaxes/{case_id}/card.jpg?lang=en"
    assert meta(reader, "og:image") == card
    assert (meta(reader, "og:image:width"), meta(reader, "og:image:height")) == ("1200", "630")
    assert meta(reader, "twitter:card") == "summary_large_image"
    assert picture_size(reader, card) == ("image/jpeg|JPEG", (1200, 630))
    assert share_buttons(reader) == ["whatsapp", "telegram", "x", "facebook"]
    assert whatsapp_text(reader).startswith(f"SALAH (False): “{CLAIM}”.")
    for image in reader.locator("main img").all():
        assert image.get_attribute("width") and image.get_attribute("height"), image
    story = reader.get_by_role("link", name="Download the picture for your story")
    assert story.get_attribute("download") is not None
    assert picture_size(reader, url + (story.get_attribute("href") or "")) == (
        "image/jpeg|JPEG",
        (1080, 1920),
    )
    assert reader.locator("#share-url").input_value() == f"{url}/v/{case_id}"
    next_steps = reader.locator("#what-next")
    assert next_steps.locator("h2").inner_text() == "What happened next"
    assert next_steps.locator(".escalation").inner_text() == (
        f"Reported to TikTok on {public_day(day, 'en')}. Removed on {public_day(day, 'en')}."
    )
    assert REFERENCE not in reader.content()
    fits_the_screen(reader)


def months_row(page: Page, table: str, month: str) -> dict[str, str]:
    """A row of a transparency table, by its column headings."""
    headings = page.locator(f"#{table} thead th").all_inner_texts()
    cells = page.locator(f"#{table} tbody tr[data-month='{month}']").locator("th, td")
    return dict(zip(headings, cells.all_inner_texts(), strict=True))


@pytest.mark.browser
def test_a_reader_shares_a_verdict_and_reads_the_numbers(
    phone: OpenPhone,
    live_server: LiveServer,
    session: Session,
    make_campaign: Any,
    org: Organization,
    moderator: Person,
    second_moderator: Person,
    shot: Shot,
) -> None:
    view = make_campaign(title="Pemilu Damai", lead=org)
    url = live_server.url
    mine = published_through_moderation(
        session, view, moderator, second_moderator,
        label="SALAH", claim=CLAIM, link=HOAX_LINK, image=screenshot(21),
    )  # fmt: skip
    published_through_moderation(
        session, view, second_moderator, moderator, label="BUATAN AI", claim=AI_CLAIM,
        link="https://www.tiktok.com/@suarapalsu/video/7399999999999999999", image=None,
    )  # fmt: skip
    day = reported_to_tiktok_and_removed(session, mine, second_moderator)
    case_id = mine.case_id
    reader = phone(locale="en-US").new_page()

    # 3. In English: the gallery, filtered by label, leads to the verdict.
    filter_the_gallery(reader, url, "SALAH")
    cards = reader.locator(".cards.hoaxes .card")
    expect(cards).to_have_count(1)
    assert cards.locator(".claim-text").inner_text().strip('“”"') == CLAIM
    assert AI_CLAIM not in reader.locator("main").inner_text()
    held: list[Route] = []
    picture = re.compile(r"/hoaxes/\d+/image\.jpg")

    def hold(route: Route) -> None:
        held.append(route)

    reader.route(picture, hold)
    cards.locator(".claim-text a").click()
    reader.wait_for_url(f"{url}/hoaxes/{case_id}", wait_until="domcontentloaded")
    the_text_stays_put(reader, held)
    reader.unroute(picture, hold)
    check_the_verdict_page(reader, url, case_id, day)
    shot(reader, "7-verdict-in-english")

    # Its short link leads to it; in Indonesian the share text starts with the label too.
    reader.goto(f"{url}/v/{case_id}")
    assert reader.url == f"{url}/hoaxes/{case_id}"
    with reader.expect_navigation(url=re.compile(r"lang=id")):
        reader.locator("nav.lang").get_by_role("link", name="Bahasa Indonesia").click()
    assert reader.locator("h2").first.inner_text() == "Hasil pemeriksaan kami"
    assert whatsapp_text(reader).startswith(f"SALAH (Tidak benar): “{CLAIM}”.")
    assert share_buttons(reader) == ["whatsapp", "telegram", "x", "facebook"]
    assert meta(reader, "og:image") == f"{url}/hoaxes/{case_id}/card.jpg"
    assert reader.locator("#what-next .escalation").inner_text() == (
        f"Dilaporkan ke TikTok pada {public_day(day, 'id')}. Dihapus pada {public_day(day, 'id')}."
    )
    fits_the_screen(reader)

    # The reporter's code, typed as it was read out (capitals, spaces, a dash), finds her report.
    code = mine.tracking_code
    reader.goto(f"{url}/hoaxes")
    box = reader.locator("#lookup-code")
    box.fill(f" {code[:4].upper()}-{code[4:7].upper()} {code[7:]} ")
    with reader.expect_navigation(url=f"{url}/reports/{code}"):
        reader.get_by_role("button", name="Lihat laporanku").click()
    assert reader.locator(".tracking-code").inner_text() == code
    assert reader.locator(".status").get_attribute("data-status") == "published"

    # 4. The transparency page: this month's reports and verdicts, on a phone.
    reader.goto(f"{url}/transparansi")
    month = datetime.now(JAKARTA).strftime("%Y-%m")
    received = months_row(reader, "table-received", month)
    assert (received["Laporan"], received["Kasus"]) == ("2", "2")
    verdicts = months_row(reader, "table-verdicts", month)
    assert (verdicts["SALAH"], verdicts["BUATAN AI"], verdicts["Jumlah"]) == ("1", "1", "2")
    acted = months_row(reader, "table-acted", month)
    assert (acted["Dilaporkan"], acted["Ditindaklanjuti"]) == ("1", "1")
    fits_the_screen(reader)
    shot(reader, "8-transparency")
