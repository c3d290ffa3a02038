"""The abuse console's pages, for the admins of a campaign's lead organisation (under
/dashboard) and for the site's administrators (under /admin): who may open them, what they
show, every action with its reason, every bad input with its message, and the note the
campaign page shows once signatures were invalidated."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from babel.dates import format_date
from fastapi.testclient import TestClient
from sqlmodel import Session

from pledge import audit
from pledge.accounts.models import Organization, Role
from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignView
from pledge.db import utcnow
from pledge.supporters import service as supporters
from pledge.supporters.models import (
    SUSPECT,
    TOTAL,
    InvalidationStatus,
    SupporterState,
    supporter_table,
)
from tests.support.dashboard import World
from tests.support.forms import sign_form
from tests.support.pages import errors_of, html
from tests.support.people import Person, make_person, sign_in
from tests.support.settings import UseSettings

CSRF = "abuse-console-csrf-token-01234567"
REASON = "Ratusan tanda tangan dari satu jaringan dalam dua menit"
NewClient = Callable[..., TestClient]


# --- who is who ----------------------------------------------------------------------------


def person(
    session: Session, org: Organization | None, role: Role = Role.ADMIN, **extra: Any
) -> Person:
    email = f"{role.value}-{org.slug if org else 'site'}@example.org"
    return make_person(session, email, "Orang", org=org, role=role, **extra)


@pytest.fixture
def lead_admin(session: Session, world: World) -> Person:
    return person(session, world.lead)


@pytest.fixture
def root(session: Session) -> Person:
    return person(session, None, site_admin=True)


def as_(new_client: NewClient, who: Person | None) -> TestClient:
    client = new_client()
    sign_in(client, who, csrf=CSRF)
    return client


def console(world: World, page: str = "", org: Organization | None = None) -> str:
    return f"/dashboard/{(org or world.lead).slug}/campaigns/{world.view.slug}/abuse{page}"


def admin_console(world: World, page: str = "") -> str:
    return f"/admin/abuse/{world.view.slug}{page}"


def counts(session: Session, view: CampaignView) -> dict[str, int]:
    session.rollback()
    found = {
        k: v for k, v in supporters.read_counts(session, campaign_id=view.id).by_key.items() if v
    }
    truth = supporters.true_counts(session, campaign_id=view.id)
    assert found == {k: v for k, v in truth.items() if v}
    return found


def signer(session: Session, view: CampaignView, n: int, **options: Any) -> Any:
    confirmed = options.pop("confirmed", True)
    fields = {key: options.pop(key) for key in ("ref", "contact") if key in options}
    fields.setdefault("contact", f"orang{n}@example.com")
    signing = supporters.sign(
        session, view=view, form=sign_form(name=f"Orang {n}", **fields), **options
    )
    if confirmed:
        supporters.confirm(session, link_digest=signing.ticket.link_digest)
    return signing


def held(session: Session, view: CampaignView, n: int, **options: Any) -> Any:
    return signer(session, view, n, suspect=True, network="203.0.113.0/24", **options)


def ids_of(session: Session, view: CampaignView) -> dict[str, int]:
    session.rollback()
    return {
        name: supporter_id
        for name, supporter_id in session.execute(
            sa.select(supporter_table.c.display_name, supporter_table.c.id).where(
                supporter_table.c.campaign_id == view.id
            )
        )
    }


def state(session: Session, supporter_id: int) -> SupporterState:
    session.rollback()
    return SupporterState(
        session.execute(
            sa.select(supporter_table.c.state).where(supporter_table.c.id == supporter_id)
        ).scalar_one()
    )


def post(client: TestClient, path: str, **data: Any) -> Any:
    return client.post(path, data={"csrf_token": CSRF, **data})


# --- who may open it -------------------------------------------------------------------------


def test_the_lead_organisations_admin_and_a_site_admin_open_the_campaigns_console(
    new_client: NewClient, session: Session, world: World, lead_admin: Person, root: Person
) -> None:
    for who in (lead_admin, root):
        page = as_(new_client, who).get(console(world))
        assert page.status_code == 200
        assert html(page).select_one("h1").get_text(strip=True) == "Signature review"  # type: ignore[union-attr]
    assert as_(new_client, root).get(admin_console(world)).status_code == 200


def test_everyone_else_is_kept_out_of_the_console(
    new_client: NewClient, session: Session, world: World, lead_admin: Person
) -> None:
    moderator = person(session, world.lead, Role.MODERATOR)
    co_partner = person(session, world.partner)
    stranger = person(session, world.stranger)

    anonymous = as_(new_client, None).get(console(world))
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
    assert as_(new_client, moderator).get(console(world)).status_code == 403
    refused = as_(new_client, co_partner).get(console(world, org=world.partner))
    assert refused.status_code == 403
    assert html(refused).select_one("p.detail").get_text(strip=True) == (  # type: ignore[union-attr]
        "Only the organisation that leads this campaign can review its signatures."
    )
    assert as_(new_client, stranger).get(console(world)).status_code == 403
    assert as_(new_client, stranger).get(console(world, org=world.stranger)).status_code == 404
    assert as_(new_client, lead_admin).get(admin_console(world)).status_code == 403
    assert as_(new_client, lead_admin).get("/admin/abuse").status_code == 403
    assert as_(new_client, lead_admin).get("/admin/abuse/tidak-ada").status_code == 403


def test_a_campaign_that_does_not_exist_is_not_found(new_client: NewClient, root: Person) -> None:
    page = as_(new_client, root).get("/admin/abuse/tidak-ada")

    assert page.status_code == 404


def test_a_co_partner_sees_no_link_to_the_console(
    new_client: NewClient, session: Session, world: World
) -> None:
    client = as_(new_client, person(session, world.partner))
    statistics = html(
        client.get(f"/dashboard/{world.partner.slug}/campaigns/{world.view.slug}/statistics")
    )

    assert html(client.get(f"/dashboard/{world.partner.slug}")).select("a.abuse") == []
    assert statistics.select_one("h1") is not None
    assert statistics.select("a.abuse") == []


def test_the_dashboard_links_the_lead_to_its_console(
    new_client: NewClient, world: World, lead_admin: Person
) -> None:
    client = as_(new_client, lead_admin)
    links = html(client.get(f"/dashboard/{world.lead.slug}")).select("a.abuse")
    statistics = html(
        client.get(f"/dashboard/{world.lead.slug}/campaigns/{world.view.slug}/statistics")
    )

    assert [a["href"] for a in links] == [console(world)]
    assert statistics.select_one("a.abuse")["href"] == console(world)  # type: ignore[index]


# --- where signatures come from ----------------------------------------------------------------


def test_the_console_flags_the_busiest_sources_of_the_hour_over_their_thresholds(
    new_client: NewClient,
    session: Session,
    world: World,
    lead_admin: Person,
    use_settings: UseSettings,
) -> None:
    use_settings(
        abuse_network_per_hour="3", abuse_email_domain_per_hour="3", abuse_partner_per_hour="3"
    )
    partner = world.view.partners[1]
    for n in range(4):
        signer(session, world.view, n, network="203.0.113.0/24", ref=partner.referral_code)
    for n in range(4, 8):
        signer(session, world.view, n, network="198.51.100.0/24", contact=f"orang{n}@gmail.com")
    held(session, world.view, 8, contact="orang8@mailinator.example")

    soup = html(as_(new_client, lead_admin).get(console(world)))

    networks = {row["data-key"]: row for row in soup.select("#busiest-network-table tbody tr")}
    assert set(networks) == {"203.0.113.0/24", "198.51.100.0/24"}
    top = networks["203.0.113.0/24"]
    assert "flagged" in top["class"]
    assert top.select_one("td[data-count=signatures]").get_text(strip=True) == "5"  # type: ignore[union-attr]
    assert (
        top.select_one("th .hint").get_text(strip=True)
        == "4 counted · 0 waiting · 1 held · 0 invalidated"
    )  # type: ignore[union-attr]
    review = top.select_one("a.review")
    assert review is not None and "network=203.0.113.0%2F24" in str(review["href"])
    domains = {row["data-key"]: row for row in soup.select("#busiest-email_domain-table tbody tr")}
    assert "flagged" not in (domains["gmail.com"].get("class") or [])  # a common provider
    assert "flagged" in domains["example.com"]["class"]
    (partner_row,) = soup.select("#busiest-partner-table tbody tr")
    assert partner_row["data-key"] == partner.slug
    assert partner_row.select_one(".source").get_text(strip=True) == partner.name  # type: ignore[union-attr]
    suspects = soup.select_one("[data-fact=suspects]")
    assert suspects is not None and suspects.get_text(strip=True) == "1 held for review"


def test_one_hour_of_the_window_can_be_chosen_and_another_is_refused(
    new_client: NewClient, session: Session, world: World, lead_admin: Person
) -> None:
    signer(session, world.view, 1, network="203.0.113.0/24")
    client = as_(new_client, lead_admin)
    options = html(client.get(console(world))).select("select#hour option")
    this_hour = str(options[1]["value"])
    assert len(options) == 49

    chosen = client.get(console(world), params={"hour": this_hour})
    refused = client.get(console(world), params={"hour": "2001-01-01T00:00"})

    assert chosen.status_code == 200
    assert len(html(chosen).select("#busiest-network-table tbody tr")) == 1
    assert refused.status_code == 422
    assert errors_of(refused) == {"hour": "Choose one of the last 48 hours."}


def test_the_site_admins_overview_lists_campaigns_with_what_they_hold(
    new_client: NewClient,
    session: Session,
    world: World,
    root: Person,
    use_settings: UseSettings,
) -> None:
    use_settings(abuse_network_per_hour="2", abuse_email_domain_per_hour="1000")
    held(session, world.view, 1)
    signer(session, world.view, 2, network="203.0.113.0/24")

    soup = html(as_(new_client, root).get("/admin/abuse"))

    card = soup.select_one(f"#abuse-{world.view.slug}")
    assert card is not None
    assert (
        card.select_one("[data-fact=suspects]").get_text(strip=True)
        == "1 signature held for review"
    )  # type: ignore[union-attr]
    flagged = card.select_one("[data-fact=flagged]")
    assert flagged is not None
    assert flagged.get_text(strip=True) == "1 hour and source over a threshold"
    assert soup.select_one(".abuse-campaigns li")["id"] == f"abuse-{world.view.slug}"  # type: ignore[index]
    assert (
        soup.select_one("nav.admin-nav a[aria-current=page]").get_text(strip=True)
        == "Signature review"
    )  # type: ignore[union-attr]


# --- held for review ---------------------------------------------------------------------------


def test_ticked_held_signatures_are_counted_after_all_with_a_reason_in_the_audit_log(
    new_client: NewClient, session: Session, world: World, lead_admin: Person
) -> None:
    for n in range(3):
        held(session, world.view, n)
    ids = ids_of(session, world.view)
    client = as_(new_client, lead_admin)
    listed = html(client.get(console(world, "/suspects")))
    assert [li["data-supporter"] for li in listed.select("ul.suspect-list li")] == [
        str(ids[f"Orang {n}"]) for n in (2, 1, 0)
    ]

    answer = post(
        client,
        console(world, "/suspects"),
        supporter=[ids["Orang 0"], ids["Orang 1"]],
        which="ticked",
        action="release",
        reason="Satu sekolah, satu wifi",
    )

    assert answer.status_code == 303
    notice = html(client.get(answer.headers["location"])).select_one("p.notice")
    assert notice is not None and notice.get_text(strip=True).startswith("2 signatures counted")
    assert counts(session, world.view)[TOTAL] == 2
    assert counts(session, world.view)[SUSPECT] == 1
    (event,) = audit.list_events(session, action=supporters.RELEASE)
    assert (event.actor_id, event.reason) == (lead_admin.id, "Satu sekolah, satu wifi")


def test_every_held_signature_matching_a_filter_can_be_invalidated_at_once(
    new_client: NewClient, session: Session, world: World, root: Person
) -> None:
    for n in range(3):
        held(session, world.view, n)
    signer(session, world.view, 9, suspect=True, network="198.51.100.0/24")
    signer(session, world.view, 10, network="203.0.113.0/24")  # counted: not held, left alone
    client = as_(new_client, root)

    answer = post(
        client,
        admin_console(world, "/suspects"),
        network="203.0.113.0/24",
        which="matching",
        action="invalidate",
        reason=REASON,
    )

    assert answer.status_code == 303
    run_page = client.get(answer.headers["location"])
    assert run_page.status_code == 200
    soup = html(run_page)
    assert soup.select_one("[data-status]")["data-status"] == InvalidationStatus.DONE  # type: ignore[index]
    assert soup.select_one("[data-invalidated]")["data-invalidated"] == "3"  # type: ignore[index]
    assert counts(session, world.view) == {
        SUSPECT: 1,
        TOTAL: 1,
        f"pledge:{world.view.pledges[0].id}": 1,
    }


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"which": "ticked", "action": "release", "reason": "x"},
            {"supporter": "Tick at least one signature, or choose all that match."},
        ),
        (
            {"which": "ticked", "action": "release", "reason": "", "supporter": "ID"},
            {"reason": "Write the reason for this action: it is kept in the audit log."},
        ),
        (
            {"which": "ticked", "action": "invalidate", "reason": " ", "supporter": "ID"},
            {
                "reason": "Write the reason: it is shown on the campaign page with the number taken off."
            },
        ),
        (
            {"which": "ticked", "action": "erase", "reason": "x", "supporter": "ID"},
            {"action": "Choose whether to count these signatures or invalidate them."},
        ),
        (
            {"which": "some", "action": "release", "reason": "x", "supporter": "ID"},
            {"which": "Choose the signatures ticked, or all that match the filter."},
        ),
        (
            {"which": "ticked", "action": "release", "reason": "x", "supporter": "satu"},
            {"supporter": "Tick the signatures again: the list changed."},
        ),
        (
            {"which": "ticked", "action": "release", "reason": "x" * 501, "supporter": "ID"},
            {"reason": "Use at most 500 characters for the reason."},
        ),
        (
            {"which": "matching", "action": "release", "reason": "x", "network": "1.2.3"},
            {"network": "Write a network like 203.0.113.0/24 or 2001:db8::/48, or one address."},
        ),
    ],
)
def test_a_bad_review_is_refused_with_its_message_and_changes_nothing(
    new_client: NewClient,
    session: Session,
    world: World,
    lead_admin: Person,
    data: dict[str, str],
    errors: dict[str, str],
) -> None:
    held(session, world.view, 1)
    data = {
        k: (str(ids_of(session, world.view)["Orang 1"]) if v == "ID" else v)
        for k, v in data.items()
    }
    client = as_(new_client, lead_admin)

    answer = post(client, console(world, "/suspects"), **data)

    assert answer.status_code == 422
    assert errors_of(answer) == errors
    assert counts(session, world.view) == {SUSPECT: 1}
    assert audit.list_events(session, action=supporters.RELEASE) == []


def test_a_bad_filter_on_the_held_list_is_refused_with_its_message(
    new_client: NewClient, world: World, lead_admin: Person
) -> None:
    page = as_(new_client, lead_admin).get(console(world, "/suspects"), params={"since": "kemarin"})

    assert page.status_code == 422
    assert errors_of(page) == {
        "since": "Write a time like 2026-03-10 14:00 (WIB) or 2026-03-10T07:00:00Z."
    }
    shown = html(page).select_one("input#since")
    assert shown is not None and (shown["type"], shown["value"]) == ("text", "kemarin")


def test_held_signatures_of_another_campaign_are_never_touched(
    new_client: NewClient, session: Session, world: World, lead_admin: Person
) -> None:
    held(session, world.elsewhere, 1)
    other_id = ids_of(session, world.elsewhere)["Orang 1"]

    answer = post(
        as_(new_client, lead_admin),
        console(world, "/suspects"),
        supporter=other_id,
        which="ticked",
        action="release",
        reason="Coba-coba",
    )

    assert answer.status_code == 303
    assert state(session, other_id) == SupporterState.SUSPECT


# --- invalidating -------------------------------------------------------------------------------


def test_the_preview_says_how_many_match_and_how_many_are_counted_and_that_the_reason_is_public(
    new_client: NewClient, session: Session, world: World, lead_admin: Person
) -> None:
    for n in range(3):
        signer(session, world.view, n, network="203.0.113.0/24")
    signer(session, world.view, 3, network="203.0.113.0/24", confirmed=False)
    client = as_(new_client, lead_admin)

    empty = html(client.get(console(world, "/invalidate")))
    page = html(client.get(console(world, "/invalidate"), params={"network": "203.0.113.0/24"}))

    assert empty.select_one(".preview-result") is None
    matched = page.select_one("[data-matched]")
    assert matched is not None
    assert (matched["data-matched"], matched["data-counted"]) == ("4", "3")
    hint = page.select_one("#reason-hint")
    assert hint is not None and hint.get_text(strip=True).startswith(
        "Public: the campaign page shows it"
    )
    assert page.select_one("form.run-form input[name=network]")["value"] == "203.0.113.0/24"  # type: ignore[index]


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        (
            {"network": "203.0.113.0/30"},
            {
                "network": "Signatures are recorded by their /24 (IPv4) or /64 (IPv6) network: give a prefix of /24 or shorter."
            },
        ),
        (
            {"email_domain": "a@b.id"},
            {
                "email_domain": "Write an email domain like contoh.id, without the part before the @."
            },
        ),
        (
            {"partner": "bukan-mitra"},
            {"partner": "This campaign has no partner with that short name."},
        ),
        (
            {"since": "2026-03-10T15:00", "until": "2026-03-10T14:00"},
            {"until": "The end of the time range must come after its start."},
        ),
        ({"name": "*"}, {"name": "A name pattern needs at least one letter or digit besides *."}),
        ({"network": "  "}, {}),
    ],
)
def test_a_bad_filter_is_refused_with_its_message_before_anything_is_shown(
    new_client: NewClient,
    world: World,
    lead_admin: Person,
    query: dict[str, str],
    errors: dict[str, str],
) -> None:
    page = as_(new_client, lead_admin).get(console(world, "/invalidate"), params=query)

    assert (page.status_code, errors_of(page)) == ((422, errors) if errors else (200, {}))
    assert html(page).select_one(".preview-result") is None


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"network": "203.0.113.0/24", "reason": ""},
            {
                "reason": "Write the reason: it is shown on the campaign page with the number taken off."
            },
        ),
        (
            {"reason": REASON},
            {
                "filter": "Choose at least one filter (network, email domain, partner, time or name): without one, every signature of the campaign would be invalidated."
            },
        ),
        (
            {"network": "nope", "reason": REASON},
            {"network": "Write a network like 203.0.113.0/24 or 2001:db8::/48, or one address."},
        ),
        (
            {"since": "2026-03-10 15:00", "until": "2026-03-10 15:00", "reason": REASON},
            {"until": "The end of the time range must come after its start."},
        ),
    ],
)
def test_a_bad_invalidation_is_refused_with_its_message_and_changes_nothing(
    new_client: NewClient,
    session: Session,
    world: World,
    lead_admin: Person,
    data: dict[str, str],
    errors: dict[str, str],
) -> None:
    signer(session, world.view, 1, network="203.0.113.0/24")

    answer = post(as_(new_client, lead_admin), console(world, "/invalidate"), **data)

    assert answer.status_code == 422
    assert errors_of(answer) == errors
    assert counts(session, world.view)[TOTAL] == 1
    assert supporters.list_runs(session, campaign_id=world.view.id) == []


def _invalidate(client: TestClient, path: str, **filters: str) -> str:
    answer = post(client, path, reason=REASON, **filters)
    assert answer.status_code == 303, answer.text[:1500]
    return str(answer.headers["location"])


def test_an_invalidation_runs_takes_signatures_off_and_the_campaign_page_says_so_until_restored(
    new_client: NewClient, session: Session, world: World, lead_admin: Person
) -> None:
    partner = world.view.partners[1]
    for n in range(3):
        signer(session, world.view, n, network="203.0.113.0/24", ref=partner.referral_code)
    signer(session, world.view, 5, network="198.51.100.0/24")
    client = as_(new_client, lead_admin)

    run_path = _invalidate(client, console(world, "/invalidate"), network="203.0.113.0/24")

    assert counts(session, world.view) == {TOTAL: 1, f"pledge:{world.view.pledges[0].id}": 1}
    page = html(client.get(run_path))
    assert page.select_one("[data-status]")["data-status"] == "done"  # type: ignore[index]
    assert page.select_one("[data-fact=reason]").get_text(strip=True) == REASON  # type: ignore[union-attr]
    assert page.select_one("meta[http-equiv=refresh]") is None
    public = new_client(lang="en")
    notes = html(public.get(f"/c/{world.view.slug}")).select("li.invalidation-note")
    day = format_date(utcnow().astimezone(campaigns.WIB), "long", locale="en")
    assert [note.get_text(strip=True) for note in notes] == [
        f"On {day}, 3 signatures were invalidated and taken off the count. Reason: {REASON}"
    ]
    (event,) = audit.list_events(session, action=supporters.INVALIDATE)
    assert (event.actor_id, event.reason) == (lead_admin.id, REASON)
    assert json.loads(event.data)["counted"] == 3

    restored = post(client, run_path + "/restore", reason="Ternyata satu sekolah")

    assert restored.status_code == 303
    assert counts(session, world.view)[TOTAL] == 4
    assert counts(session, world.view)[f"partner:{partner.id}"] == 3
    assert html(public.get(f"/c/{world.view.slug}")).select("li.invalidation-note") == []
    page = html(client.get(run_path))
    assert page.select_one("[data-status]")["data-status"] == "restored"  # type: ignore[index]
    assert page.select_one("[data-restored]")["data-restored"] == "3"  # type: ignore[index]


def test_the_public_note_reads_in_indonesian(
    new_client: NewClient, session: Session, world: World, root: Person
) -> None:
    signer(session, world.view, 1, network="203.0.113.0/24")
    _invalidate(
        as_(new_client, root), admin_console(world, "/invalidate"), network="203.0.113.0/24"
    )

    notes = html(new_client(lang="id").get(f"/c/{world.view.slug}")).select("li.invalidation-note")

    day = format_date(utcnow().astimezone(campaigns.WIB), "long", locale="id")
    assert [note.get_text(strip=True) for note in notes] == [
        f"Pada {day}, 1 tanda tangan dibatalkan dan dikeluarkan dari hitungan. Alasan: {REASON}"
    ]


def test_a_running_invalidation_shows_its_progress_and_is_cancelled_before_its_next_batch(
    new_client: NewClient, session: Session, world: World, lead_admin: Person
) -> None:
    for n in range(3):
        signer(session, world.view, n, network="203.0.113.0/24")
    found = supporters.Filter(email_domain="example.com")
    run = supporters.start(session, view=world.view, found=found, reason=REASON, actor_id=None)
    client = as_(new_client, lead_admin)
    path = console(world, f"/invalidations/{run.id}")

    moving = html(client.get(path))
    refused = post(client, path + "/cancel", reason="")
    cancelled = post(client, path + "/cancel", reason="Salah filter")
    supporters.advance(session, run_id=run.id or 0, runner=run.runner)  # its next batch
    again = post(client, path + "/cancel", reason="Sekali lagi")

    assert moving.select_one("meta[http-equiv=refresh]")["content"] == "3"  # type: ignore[index]
    assert moving.select_one("form.cancel") is not None
    assert refused.status_code == 422
    assert errors_of(refused) == {
        "reason": "Write the reason for this action: it is kept in the audit log."
    }
    assert cancelled.status_code == 303
    done = supporters.get_invalidation(session, campaign_id=world.view.id, run_id=run.id or 0)
    assert (done.status, done.invalidated) == (InvalidationStatus.CANCELLED, 0)
    assert counts(session, world.view)[TOTAL] == 3
    assert again.status_code == 409
    assert errors_of(again) == {
        "reason": "This invalidation is not running: there is nothing to cancel."
    }


def test_resuming_a_run_that_is_moving_is_refused(
    new_client: NewClient, session: Session, world: World, lead_admin: Person
) -> None:
    signer(session, world.view, 1, network="203.0.113.0/24")
    run = supporters.start(
        session,
        view=world.view,
        found=supporters.Filter(email_domain="example.com"),
        reason=REASON,
        actor_id=None,
    )

    answer = post(
        as_(new_client, lead_admin),
        console(world, f"/invalidations/{run.id}/resume"),
        reason="Lanjut",
    )

    assert answer.status_code == 409
    assert errors_of(answer) == {
        "reason": "This invalidation is moving on already: there is nothing to resume."
    }


def test_an_invalidation_of_another_campaign_or_a_bad_id_is_not_shown(
    new_client: NewClient, session: Session, world: World, lead_admin: Person, root: Person
) -> None:
    signer(session, world.elsewhere, 1, network="203.0.113.0/24")
    run = supporters.start(
        session,
        view=world.elsewhere,
        found=supporters.Filter(email_domain="example.com"),
        reason=REASON,
        actor_id=None,
    )
    client = as_(new_client, lead_admin)

    assert client.get(console(world, f"/invalidations/{run.id}")).status_code == 404
    assert (
        post(client, console(world, f"/invalidations/{run.id}/cancel"), reason="x").status_code
        == 404
    )
    assert client.get(console(world, "/invalidations/satu")).status_code == 422
    assert (
        as_(new_client, root).get(admin_console(world, "/invalidations/99999999999")).status_code
        == 422
    )


def test_the_console_refuses_a_form_without_its_csrf_token(
    new_client: NewClient, session: Session, world: World, lead_admin: Person
) -> None:
    signer(session, world.view, 1, network="203.0.113.0/24")
    client = as_(new_client, lead_admin)

    for path, data in [
        (console(world, "/invalidate"), {"network": "203.0.113.0/24", "reason": REASON}),
        (console(world, "/suspects"), {"which": "matching", "action": "release", "reason": "x"}),
    ]:
        answer = client.post(path, data=data)
        assert answer.status_code == 403

    assert counts(session, world.view)[TOTAL] == 1
    assert supporters.list_runs(session, campaign_id=world.view.id) == []
