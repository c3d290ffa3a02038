"""``pledge supporters invalidate``: the preview, the run in batches, Ctrl-C between two of
them, and every bad input as a clear message with exit code 2."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session

from pledge import audit
from pledge.campaigns.models import CampaignView
from pledge.cli import main
from pledge.supporters import service as supporters
from pledge.supporters.models import TOTAL, InvalidationStatus
from tests.support.forms import sign_form
from tests.support.settings import UseSettings

MakeCampaign = Callable[..., CampaignView]
REASON = "Bot dari satu jaringan"


def signer(session: Session, view: CampaignView, n: int, network: str, **options: Any) -> None:
    signing = supporters.sign(
        session,
        view=view,
        form=sign_form(name=f"Orang {n}", contact=f"orang{n}@example.com", **options),
        network=network,
    )
    assert signing.ticket is not None
    supporters.confirm(session, link_digest=signing.ticket.link_digest)


@pytest.fixture
def view(session: Session, make_campaign: MakeCampaign) -> CampaignView:
    view = make_campaign(slug="kampanye-uji")
    for n in range(5):
        signer(session, view, n, "203.0.113.0/24")
    signer(session, view, 9, "198.51.100.0/24")
    return view


def total(session: Session, view: CampaignView) -> int:
    session.rollback()
    counts = supporters.read_counts(session, campaign_id=view.id).by_key
    truth = supporters.true_counts(session, campaign_id=view.id)
    assert {k: v for k, v in counts.items() if v} == {k: v for k, v in truth.items() if v}
    return counts[TOTAL]


def invalidate(*extra: str) -> int:
    return main(["supporters", "invalidate", "--campaign", "kampanye-uji", *extra])


def test_a_dry_run_prints_what_matches_and_changes_nothing(
    session: Session, view: CampaignView, capsys: pytest.CaptureFixture[str]
) -> None:
    code = invalidate("--network", "203.0.113.0/24", "--reason", REASON, "--dry-run")

    assert code == 0
    assert capsys.readouterr().out.strip() == (
        "5 signature(s) match in kampanye-uji: 5 counted, 0 waiting for confirmation, "
        "0 held for review."
    )
    assert total(session, view) == 6
    assert supporters.list_runs(session, campaign_id=view.id) == []


def test_a_run_invalidates_in_batches_and_reports_each(
    session: Session,
    view: CampaignView,
    capsys: pytest.CaptureFixture[str],
    use_settings: UseSettings,
) -> None:
    use_settings(invalidation_batch="2")

    code = invalidate(
        "--network", "203.0.113.0/24", "--since", "2020-01-01 00:00", "--reason", REASON
    )

    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    (run,) = supporters.list_runs(session, campaign_id=view.id)
    assert lines == [
        "5 signature(s) match in kampanye-uji: 5 counted, 0 waiting for confirmation, "
        "0 held for review.",
        "2 of 5 invalidated...",
        "4 of 5 invalidated...",
        f"Invalidation {run.id} done: 5 signature(s) taken off, 5 of them counted before.",
    ]
    assert total(session, view) == 1
    (event,) = audit.list_events(session, action=supporters.INVALIDATE)
    assert (event.actor_id, event.reason) == (None, REASON)
    assert json.loads(event.data)["filter"]["network"] == "203.0.113.0/24"


def test_ctrl_c_cancels_between_two_batches(
    session: Session,
    view: CampaignView,
    capsys: pytest.CaptureFixture[str],
    use_settings: UseSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_settings(invalidation_batch="2")
    real_print = print
    seen: list[str] = []

    def interrupted(*args: Any, **kwargs: Any) -> None:
        real_print(*args, **kwargs)
        seen.append(str(args[0]))
        if str(args[0]).endswith("invalidated..."):
            raise KeyboardInterrupt  # Ctrl-C while it reports its first batch

    monkeypatch.setattr("builtins.print", interrupted)
    code = invalidate("--network", "203.0.113.0/24", "--reason", REASON)
    monkeypatch.undo()

    assert code == 130
    (run,) = supporters.list_runs(session, campaign_id=view.id)
    assert (run.status, run.invalidated) == (InvalidationStatus.CANCELLED, 2)
    assert (
        seen[-1]
        == f"Invalidation {run.id} cancelled: 2 signature(s) taken off, 2 of them counted before."
    )
    assert total(session, view) == 4
    (event,) = audit.list_events(session, action=supporters.INVALIDATE_CANCEL)
    assert event.reason == "Cancelled from the command line (Ctrl-C)."


def test_times_may_be_iso_8601_or_wib_minutes(
    session: Session, view: CampaignView, capsys: pytest.CaptureFixture[str]
) -> None:
    assert invalidate("--until", "2020-01-01T00:00:00Z", "--reason", REASON, "--dry-run") == 0
    assert capsys.readouterr().out.startswith("0 signature(s) match")
    assert invalidate("--since", "2020-01-01 07:00", "--reason", REASON, "--dry-run") == 0
    assert capsys.readouterr().out.startswith("6 signature(s) match")


def test_nothing_to_invalidate_changes_nothing(
    session: Session, view: CampaignView, capsys: pytest.CaptureFixture[str]
) -> None:
    assert invalidate("--email-domain", "tidak-ada.example", "--reason", REASON) == 0
    assert capsys.readouterr().out.startswith("0 signature(s) match")
    assert supporters.list_runs(session, campaign_id=view.id) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--network", "203.0.113.0/33", "--reason", REASON],
            "Write a network like 203.0.113.0/24 or 2001:db8::/48, or one address.",
        ),
        (
            ["--network", "203.0.113.5/32", "--reason", REASON],
            "Signatures are recorded by their /24 (IPv4) or /64 (IPv6) network: give a prefix of /24 or shorter.",
        ),
        (
            ["--email-domain", "x@y.id", "--reason", REASON],
            "Write an email domain like contoh.id, without the part before the @.",
        ),
        (
            ["--partner", "bukan-mitra", "--reason", REASON],
            "This campaign has no partner with that short name.",
        ),
        (
            ["--since", "2026-03-10 15:00", "--until", "2026-03-10 14:00", "--reason", REASON],
            "The end of the time range must come after its start.",
        ),
        (
            ["--since", "besok", "--reason", REASON],
            "Write a time like 2026-03-10 14:00 (WIB) or 2026-03-10T07:00:00Z.",
        ),
        (
            ["--reason", REASON],
            "Choose at least one filter (network, email domain, partner, time or name): without one, every signature of the campaign would be invalidated.",
        ),
        (
            ["--name", "budi", "--reason", "  "],
            "Write the reason: it is shown on the campaign page with the number taken off.",
        ),
    ],
)
def test_bad_input_is_a_clear_message_and_exit_code_2(
    session: Session,
    view: CampaignView,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    code = invalidate(*args)

    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.strip() == f"pledge: {message}"
    assert "Traceback" not in captured.err
    assert total(session, view) == 6


def test_an_unknown_campaign_is_a_clear_message_and_exit_code_2(
    view: CampaignView, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["supporters", "invalidate", "--campaign", "tidak-ada", "--name", "x", "--reason", REASON]
    )

    assert code == 2
    assert capsys.readouterr().err.strip() == "pledge: We could not find that campaign."


def test_a_missing_reason_or_campaign_is_argparses_usage_and_exit_code_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["supporters", "invalidate", "--campaign", "kampanye-uji", "--name", "x"])

    assert exited.value.code == 2
    assert "the following arguments are required: --reason" in capsys.readouterr().err


def test_the_run_does_not_touch_another_campaign(
    session: Session, view: CampaignView, make_campaign: MakeCampaign
) -> None:
    other = make_campaign()
    signer(session, other, 1, "203.0.113.0/24")

    assert invalidate("--network", "203.0.113.0/24", "--reason", REASON) == 0

    session.rollback()
    assert supporters.read_counts(session, campaign_id=other.id).total == 1


def test_serving_with_several_workers_and_limits_in_memory_warns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two workers counting in their own memory let one address sign twice the limit."""
    import uvicorn

    served: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **options: served.append(options))

    assert main(["serve", "--workers", "2"]) == 0
    assert main(["serve", "--workers", "1"]) == 0

    warnings = capsys.readouterr().err.strip().splitlines()
    assert [options["workers"] for options in served] == [2, 1]
    # One log line, formatted as the server's own are.
    assert len(warnings) == 1
    assert "WARNING" in warnings[0]
    assert warnings[0].endswith(
        "each of the 2 workers counts the rate limits on its own, so one address may "
        "sign 2 times as often: set PLEDGE_RATELIMIT_STORAGE=redis://... to count them together"
    )
