"""The moderators' forms as objects: the fact-check link checked as every other web address
is, the reason every change carries, many cases rejected at once, and the queue's filters."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import Session
from starlette.datastructures import FormData, QueryParams

from pledge.campaigns.models import Campaign
from pledge.db import utcnow
from pledge.errors import Invalid
from pledge.forms import Checks, FieldError
from pledge.hoaxes.models import CaseStatus, Category, HoaxCase, Platform, Verdict
from pledge.moderation import service as moderation
from pledge.moderation.service.forms import check_reason
from pledge.moderation.service.queue import CleanFilters
from tests.support.db import reload
from tests.support.factories import MakeCase
from tests.support.moderation import HOAX_FIELDS, Browser, World, case_url, post
from tests.support.pages import errors_of, html

LINK_MESSAGE = "Enter a full web address starting with http:// or https://, or leave it empty."


def held(session: Session, case: HoaxCase, user: Any) -> HoaxCase:
    case = reload(session, case)
    case.claimed_by_id = user.id
    case.claim_expires_at = utcnow() + timedelta(minutes=10)
    session.add(case)
    session.commit()
    return case


@pytest.mark.parametrize(
    "url",
    [
        "https://user@cekfakta.example.id/tps",
        "https://cekfakta.example.id:99999/tps",
        "https://cekfakta.example.id:port/tps",
    ],
)
def test_a_fact_check_link_the_other_link_fields_refuse_is_refused(
    session: Session, world: World, make_case: MakeCase, browser: Browser, url: str
) -> None:
    case = held(session, make_case(world.a), world.mod_a)

    refused = post(
        browser(world.mod_a), case_url(case, "decide"), **{**HOAX_FIELDS, "fact_check_url": url}
    )

    assert refused.status_code == 422
    assert errors_of(refused) == {"hoax-fact_check_url": LINK_MESSAGE}
    field = html(refused).select_one("#form-hoax [name=fact_check_url]")
    assert field is not None
    assert field["value"] == url
    stored = reload(session, case)
    assert (stored.status, stored.label, stored.fact_check_url) == (CaseStatus.NEW, None, None)


def test_the_decision_form_reads_the_post_cut_past_twice_each_limit() -> None:
    posted = FormData(
        [
            ("decision", "hoax"),
            ("reason", "r" * 5000),
            ("label", "SALAH"),
            ("public_title", "t" * 5000),
            ("correction", "c" * 5000),
            ("claim_author", "a" * 5000),
            ("claim_date", "2" * 5000),
            ("public_explanation", "e" * 20_000),
            ("fact_check_url", "https://x.id/" + "u" * 10_000),
            ("target_case_id", "#12"),
        ]
    )
    form = moderation.DecisionForm.read(posted)
    assert len(form.reason) == moderation.REASON_MAX * 2
    assert len(form.public_title) == moderation.TITLE_MAX * 2
    assert len(form.correction) == moderation.CORRECTION_MAX * 2
    assert len(form.claim_author) == moderation.CLAIM_AUTHOR_MAX * 2
    assert len(form.claim_date) == 40
    assert len(form.public_explanation) == moderation.EXPLANATION_MAX * 2
    assert len(form.fact_check_url) == moderation.URL_MAX * 2
    assert form.target_case_id == "#12"


def test_a_proposed_verdict_is_cleaned() -> None:
    form = moderation.DecisionForm(
        decision="hoax",
        reason="  Dicek ke KPU. ",
        label="BUATAN AI",
        public_title="  Foto kotak suara\r\n dibakar di TPS ",
        correction=" Foto itu  buatan AI. ",
        claim_author=" Akun TikTok @kabar ",
        claim_date=" 2024-01-05 ",
        public_explanation=" Satu.\r\nDua. ",
        fact_check_url=" https://cekfakta.example.id/ai ",
    )
    checks = Checks()
    reason, proposal = form.clean(checks, form.chosen())
    assert checks.errors == {}
    assert reason == "Dicek ke KPU."
    assert proposal == moderation.Proposal(
        label=Verdict.BUATAN_AI,
        public_title="Foto kotak suara dibakar di TPS",
        correction="Foto itu buatan AI.",
        claim_author="Akun TikTok @kabar",
        claim_date=date(2024, 1, 5),
        public_explanation="Satu.\nDua.",
        fact_check_url="https://cekfakta.example.id/ai",
    )
    assert (
        moderation.DecisionForm(decision="not_hoax").clean(Checks(), moderation.Decision.NOT_HOAX)[
            1
        ]
        is None
    )


def test_an_unknown_decision_is_refused() -> None:
    with pytest.raises(Invalid) as raised:
        moderation.DecisionForm(decision="delete").chosen()
    assert raised.value.errors == {"decision": "Choose one of the decisions offered."}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("  ", "Give a reason: it is kept in the case's history."),
        ("r" * 501, "Keep the reason to 500 characters."),
    ],
)
def test_the_reason_every_change_carries(raw: str, message: str) -> None:
    with pytest.raises(FieldError) as raised:
        check_reason(raw)
    assert str(raised.value) == message
    assert check_reason(" Spam. ") == "Spam."
    with pytest.raises(Invalid) as invalid:
        moderation.clean_reason(raw)
    assert invalid.value.errors == {"reason": message}


@pytest.mark.parametrize(
    ("case_ids", "reason", "errors"),
    [
        (
            (),
            "",
            {
                "reason": "Give a reason: it is kept in the case's history.",
                "case_ids": "Choose at least one case.",
            },
        ),
        (
            tuple(str(n) for n in range(101)),
            "Spam.",
            {"case_ids": "Choose at most 100 cases at a time."},
        ),
    ],
)
def test_a_bulk_rejection_says_every_problem_at_once(
    case_ids: tuple[str, ...], reason: str, errors: dict[str, str]
) -> None:
    with pytest.raises(Invalid) as raised:
        moderation.BulkRejectForm(case_ids=case_ids, reason=reason).check()
    assert raised.value.errors == errors


def test_the_bulk_form_reads_its_cases_and_reason() -> None:
    posted = FormData([("case_ids", "12"), ("case_ids", "#13" + "9" * 40), ("reason", " Spam. ")])
    form = moderation.BulkRejectForm.read(posted)
    assert form == moderation.BulkRejectForm(
        case_ids=("12", ("#13" + "9" * 40)[:20]), reason=" Spam. "
    )
    assert form.check() == "Spam."


# --- the queue's filters ---------------------------------------------------------------


def test_the_queue_filters_are_read_from_the_address_and_checked_into_what_they_select() -> None:
    query = QueryParams("status=open&platform=tiktok&campaign=kampanye-a&after=3.41&x=1")
    filters = moderation.QueueFilters.read(query)
    assert filters == moderation.QueueFilters(
        status="open", platform="tiktok", campaign="kampanye-a", after="3.41"
    )
    assert filters.check([Campaign(slug="kampanye-a")]) == CleanFilters(
        statuses=CaseStatus.OPEN,
        platform=Platform.TIKTOK,
        category=None,
        campaign="kampanye-a",
        cursor=(3, 41),
    )
    everything = moderation.QueueFilters().check([])
    assert (everything.statuses, everything.cursor) == (CaseStatus.IN_QUEUE, None)
    single = moderation.QueueFilters(status="published", category="ai_generated").check([])
    assert (single.statuses, single.category) == (
        frozenset({CaseStatus.PUBLISHED}),
        Category.AI_GENERATED,
    )


def test_every_bad_queue_filter_is_named_at_once_in_the_order_of_the_page() -> None:
    bad = moderation.QueueFilters(
        status="gone", platform="myspace", category="gossip", campaign="lain", after="1.-2"
    )
    with pytest.raises(Invalid) as raised:
        bad.check([Campaign(slug="kampanye-a")])
    assert list(raised.value.errors.items()) == [
        ("status", "Choose a status from the list."),
        ("platform", "Choose a platform from the list."),
        ("category", "Choose a category from the list."),
        ("campaign", "Choose one of the campaigns your organisation takes part in."),
        ("after", "This page link is broken. Start again from the first page."),
    ]


@pytest.mark.parametrize("after", ["3", "3.", ".41", "3.4.1", "12345678901.1", "1.1e3", "١.٢"])
def test_a_page_key_that_is_not_two_numbers_is_a_broken_link(after: str) -> None:
    with pytest.raises(Invalid) as raised:
        moderation.QueueFilters(after=after).check([])
    assert raised.value.errors == {
        "after": "This page link is broken. Start again from the first page."
    }
