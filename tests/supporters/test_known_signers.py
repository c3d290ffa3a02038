"""The signers of a batch that a campaign knows already: found by their contact digests on the
campaign's unique index, however old the database's statistics are."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from pledge import bulk
from pledge.campaigns.models import CampaignView
from pledge.supporters.models import SupporterState, supporter_table
from pledge.supporters.service import known

MakeCampaign = Callable[..., CampaignView]
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _supporters(campaign_id: int, numbers: range, **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "campaign_id": campaign_id,
            "contact_digest": f"{campaign_id}-{n:060x}",
            "token": f"token-{campaign_id}-{n}",
            "display_name": f"Signer {n}",
            "province": "ID-JK",
            "show_name": False,
            "invite_code": f"inv-{campaign_id}-{n}",
            "number": n,
            "locale": "id",
            "created_at": NOW,
            "state": SupporterState.COUNTED if n % 2 else SupporterState.PENDING,
            "network": "10.1.0.0/16",
            **extra,
        }
        for n in numbers
    ]


def test_signers_are_found_by_digest_in_their_own_campaign_only(
    engine: sa.Engine, make_campaign: MakeCampaign
) -> None:
    first, second = make_campaign(slug="first"), make_campaign(slug="second")
    with engine.begin() as conn:
        bulk.insert_rows(conn, supporter_table, _supporters(first.id, range(1, 6)))
        bulk.insert_rows(conn, supporter_table, _supporters(second.id, range(1, 3)))

    wanted = {f"{first.id}-{n:060x}" for n in (1, 2, 5)} | {"unknown", f"{second.id}-{1:060x}"}
    with engine.connect() as conn:
        found = sorted(known.find_supporters(conn, first.id, wanted))
        nobody = list(known.find_supporters(conn, first.id, []))

    assert found == [
        (f"{first.id}-{n:060x}", found[i][1], f"token-{first.id}-{n}", state)
        for i, (n, state) in enumerate(
            [(1, SupporterState.COUNTED), (2, SupporterState.PENDING), (5, SupporterState.COUNTED)]
        )
    ]
    assert nobody == []


# --- the plans PostgreSQL chooses --------------------------------------------------------


def _plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _plan_nodes(child)


def _scans(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The nodes that read a table or an index (not the list of keys asked for)."""
    return [node for node in nodes if "Relation Name" in node or "Index Name" in node]


def _executed_plan(conn: sa.Connection, statement: sa.Select, params: dict[str, Any]) -> Any:
    """Every node of the plan PostgreSQL executed for the statement, and the whole plan."""
    expanded = statement.compile(dialect=conn.dialect).construct_expanded_state(params)
    (explained,) = conn.exec_driver_sql(
        f"EXPLAIN (ANALYZE, FORMAT JSON) {expanded.statement}", expanded.parameters
    ).scalar_one()
    return list(_plan_nodes(explained["Plan"])), explained


@pytest.mark.postgres_only  # the planner of SQLite has no statistics to be misled by
def test_a_campaign_grown_past_its_statistics_is_read_by_the_unique_indexes_only(
    engine: sa.Engine, session: Session, make_campaign: MakeCampaign
) -> None:
    earlier, campaign = make_campaign(slug="earlier"), make_campaign(slug="viral")
    with engine.begin() as conn:
        bulk.insert_rows(conn, supporter_table, _supporters(earlier.id, range(1, 201)))
    with engine.connect() as conn:
        # The statistics as autovacuum last saw them, before the new campaign was launched...
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE supporter")
    with engine.begin() as conn:
        # ... and the thousands who signed it since, in one network. Autovacuum analyzes the
        # table again once a tenth of it has changed: on a big table, long after this.
        bulk.insert_rows(conn, supporter_table, _supporters(campaign.id, range(1, 3001)))

    digests = [f"{campaign.id}-{n:060x}" for n in (5, 2500, 3000)] + [f"new-{n}" for n in range(13)]
    codes = [f"inv-{campaign.id}-{n}" for n in (7, 8)]
    with engine.connect() as conn:
        for statement, params, unique_index in (
            (
                known._FIND_SUPPORTERS["postgresql"],
                {"digests": digests},
                "uq_supporter_contact_digest_campaign_id",
            ),
            (known._INVITERS["postgresql"], {"codes": codes}, "uq_supporter_invite_code"),
        ):
            nodes, explained = _executed_plan(conn, statement, params)
            assert [node["Index Name"] for node in nodes if "Index Name" in node] == [
                unique_index
            ], explained
            assert all(node["Node Type"] != "Seq Scan" for node in nodes), explained
            # Only the rows asked for were read: none of the campaign's others.
            assert all(node.get("Rows Removed by Filter", 0) == 0 for node in nodes), explained
            assert all(node["Actual Rows"] <= 3 for node in _scans(nodes)), explained

    found = known.find_supporters(session.connection(), campaign.id, digests)
    assert sorted(digest for digest, *_rest in found) == sorted(digests[:3])


@pytest.mark.postgres_only
def test_a_table_never_analyzed_is_read_by_its_unique_indexes_only(engine: sa.Engine) -> None:
    """A new site's tables, or a restored dump's, have no statistics until autovacuum first
    analyzes them, and a statement prepared meanwhile keeps its plan. Asked for 16 keys of a
    table that grew to 3,000 rows unanalyzed, PostgreSQL's own choice read all of them."""
    with engine.connect() as conn:
        # A table of this connection's own, without statistics, in place of the shared one:
        # autovacuum never analyzes a temporary table.
        conn.exec_driver_sql(
            "CREATE TEMPORARY TABLE supporter (LIKE public.supporter INCLUDING ALL)"
        )
        bulk.insert_rows(conn, supporter_table, _supporters(1, range(1, 3001)))
        assert (
            conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stats WHERE schemaname = pg_my_temp_schema()::regnamespace::text AND tablename = 'supporter'"
            ).scalar_one()
            == 0
        )
        digests = [f"1-{n:060x}" for n in (5, 2500, 3000)] + [f"new-{n}" for n in range(13)]
        codes = [f"inv-1-{n}" for n in (7, 8)] + [f"new-{n}" for n in range(14)]
        for statement, params, index_column, found in (
            (known._FIND_SUPPORTERS["postgresql"], {"digests": digests}, "contact_digest", 3),
            (known._INVITERS["postgresql"], {"codes": codes}, "invite_code", 2),
        ):
            nodes, explained = _executed_plan(conn, statement, params)
            assert all(node["Node Type"] != "Seq Scan" for node in nodes), explained
            indexes = {node["Index Name"] for node in nodes if "Index Name" in node}
            assert len(indexes) == 1 and index_column in indexes.pop(), explained
            assert all(node["Actual Rows"] <= 1 for node in _scans(nodes)), explained
            assert explained["Plan"]["Actual Rows"] == found, explained
        conn.rollback()
