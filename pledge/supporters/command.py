"""`pledge supporters invalidate`: what a filter matches in a campaign, then (without
--dry-run) the invalidation, a batch per transaction, with its progress; Ctrl-C cancels it
between two batches. Bad input is one line on standard error and exit code 2."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlmodel import Session

from pledge.campaigns import service as campaigns
from pledge.campaigns.models import CampaignView
from pledge.config import get_settings
from pledge.db import create_db_engine
from pledge.errors import Invalid, NotFound
from pledge.forms import Checks
from pledge.supporters import service as supporters


def invalidate(args: argparse.Namespace) -> int:
    """Invalidate what a filter matches in a campaign: the preview, then (without --dry-run)
    the run, a batch per transaction, cancelled between two batches by Ctrl-C."""
    engine = create_db_engine(get_settings())
    with Session(engine, expire_on_commit=False) as session:
        try:
            view, found, reason = _invalidation_of(session, args)
        except (Invalid, NotFound) as refused:
            messages = refused.errors.values() if isinstance(refused, Invalid) else [refused.detail]
            for message in messages:
                print(f"pledge: {message}", file=sys.stderr)
            return 2
        shown = supporters.preview(session, campaign_id=view.id, found=found)
        print(
            f"{shown.matched} signature(s) match in {view.slug}: {shown.counted} counted, "
            f"{shown.pending} waiting for confirmation, {shown.suspect} held for review."
        )
        if args.dry_run or not shown.matched:
            return 0
        run = supporters.start(session, view=view, found=found, reason=reason, actor_id=None)
        return _run_invalidation(session, run.id or 0, run.runner, view.id)


def _invalidation_of(
    session: Session, args: argparse.Namespace
) -> tuple[CampaignView, supporters.Filter, str]:
    """The campaign, the filter and the reason the command was given; Invalid or NotFound."""
    checks = Checks()
    view = campaigns.get_view(session, slug=args.campaign.strip().lower(), public=False)
    form = supporters.FilterForm(
        network=args.network or "",
        email_domain=args.email_domain or "",
        partner=args.partner or "",
        since=args.since or "",
        until=args.until or "",
        name=args.name or "",
    )
    found = form.check(view, checks)
    supporters.check_narrows(found, checks)
    reason = checks.run("reason", supporters.check_public_reason, args.reason) or ""
    checks.done()
    return view, found, reason


def _run_invalidation(session: Session, run_id: int, runner: str, campaign_id: int) -> int:
    """Move the run, printing its progress after each batch; Ctrl-C cancels it."""

    def report(run: Any) -> None:
        done = supporters.get_invalidation(session, campaign_id=campaign_id, run_id=run_id)
        print(f"{done.invalidated} of {done.matched} invalidated...", flush=True)

    try:
        supporters.advance(session, run_id=run_id, runner=runner, between=report)
    except KeyboardInterrupt:
        # The batch under way was rolled back whole: the run stops between two batches.
        session.rollback()
        supporters.cancel(
            session,
            campaign_id=campaign_id,
            run_id=run_id,
            reason="Cancelled from the command line (Ctrl-C).",
            actor_id=None,
        )
        supporters.advance(session, run_id=run_id, runner=runner)
    run = supporters.get_invalidation(session, campaign_id=campaign_id, run_id=run_id)
    print(
        f"Invalidation {run.id} {run.status.value}: {run.invalidated} signature(s) taken off, "
        f"{run.invalidated_counted} of them counted before."
    )
    return 130 if run.status == "cancelled" else 0
