"""Lighthouse on the pages the public reaches, as its default phone sees them (a mid-range
Android on slow 4G, simulated): the campaign page, a supporter's thank-you page, the hoax report
form, a published verdict with its stamped picture, and the gallery of verdicts. Each scores
performance at least 95, accessibility 100, best practices 100 and SEO at least 95, and nothing
on it moves as it loads (cumulative layout shift 0).

The thank-you page is a supporter's private link and keeps itself out of search engines
(``noindex``), which Lighthouse's SEO score counts against it: its SEO is scored without that
one audit, and the test checks that the page is still kept out."""

from __future__ import annotations

import time

import httpx2 as httpx
import pytest

from tests.support import IN_CI
from tests.support.appserver import LiveServer
from tests.support.factories import MakeCampaign, MakeReport, Publish, Sign
from tests.support.images import screenshot
from tests.support.lighthouse import Found, lighthouse_missing, run_all

FLOORS = {"performance": 95, "accessibility": 100, "best-practices": 100, "seo": 95}
PRIVATE = "thank-you page"  # noindex, on purpose
KEPT_OUT = "is-crawlable"  # Lighthouse's "Page is blocked from indexing"


@pytest.fixture(scope="module")
def lighthouse_ready() -> None:
    problem = lighthouse_missing()
    if problem is not None:
        if IN_CI:
            pytest.fail(problem)
        pytest.skip(problem)


def misses(name: str, found: Found) -> list[str]:
    """Each floor the page missed, with the titles of the audits that cost it points."""
    missed = []
    for category, floor in FLOORS.items():
        score = found.scores[category]
        if name == PRIVATE and category == "seo":
            score = found.score_without("seo", KEPT_OUT)
        if score < floor:
            lost = [t for t in found.failing[category] if name != PRIVATE or "indexing" not in t]
            missed.append(f"{name} {found.url}: {category} {score} < {floor}: " + "; ".join(lost))
    if found.cls != 0:
        missed.append(f"{name} {found.url}: cumulative layout shift {found.cls:.4f}, not 0")
    return missed


@pytest.mark.browser
def test_public_pages_meet_the_lighthouse_floors(
    lighthouse_ready: None,
    live_server: LiveServer,
    make_campaign: MakeCampaign,
    sign: Sign,
    make_report: MakeReport,
    publish: Publish,
) -> None:
    view = make_campaign(title="Suara Anak Muda", goal=1000)
    for n in range(3):
        sign(view, contact=f"teman{n}@contoh.id")
    signing = sign(view, contact="rina@contoh.id")
    assert signing.supporter is not None
    report = make_report(view, image=screenshot(7), url="https://contoh.id/kotak-suara")
    publish(report.case_id, title="Foto kotak suara dibakar di TPS Jakarta")
    site, slug = live_server.url, view.slug
    pages = {
        "campaign page": f"{site}/c/{slug}",
        PRIVATE: f"{site}/c/{slug}/thanks/{signing.supporter.token}?outcome=new",
        "report form": f"{site}/c/{slug}/report",
        "verdict page": f"{site}/hoaxes/{report.case_id}",
        "gallery": f"{site}/hoaxes",
    }

    for name, url in pages.items():  # what Lighthouse is about to score is the real page
        answer = httpx.get(url)
        assert answer.status_code == 200, f"{name}: {answer.status_code}"
    verdict_html = httpx.get(pages["verdict page"]).text
    assert f'src="/hoaxes/{report.case_id}/image.jpg"' in verdict_html

    started = time.monotonic()
    found = dict(zip(pages, run_all(list(pages.values())), strict=True))
    # Lighthouse times the pages' main-thread work on this machine, shared with other work:
    # a page that missed the performance floor is measured once more and keeps its better
    # score. A page that is really slow misses it twice.
    slow = [n for n, f in found.items() if f.scores["performance"] < FLOORS["performance"]]
    for name, again in zip(slow, run_all([pages[n] for n in slow]), strict=True):
        first = found[name]
        print(
            f"{name}: performance {first.scores['performance']} ({first.failing['performance']})"
            f", then {again.scores['performance']} ({again.failing['performance']})"
        )
        if again.scores["performance"] > found[name].scores["performance"]:
            found[name] = again
    for name, each in found.items():
        print(f"{name}: {each.scores}, CLS {each.cls:.3f}, LCP {each.lcp_ms:.0f} ms")
    print(f"Lighthouse took {time.monotonic() - started:.0f} s ({len(slow)} measured again)")

    assert found[PRIVATE].audit_score(KEPT_OUT) == 0, "the thank-you page must stay unindexed"
    problems = [line for name, each in found.items() for line in misses(name, each)]
    assert not problems, "\n".join(problems)


def test_a_page_whose_trace_lighthouse_failed_to_record_is_measured_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.support import lighthouse

    bad = {"runtimeError": {"code": "NO_NAVSTART", "message": "Please run Lighthouse again."}}
    broken = {"runtimeError": {"code": "ERRORED_DOCUMENT_REQUEST", "message": "status 500"}}
    answers = {"/a": [bad, bad, {"page": "a"}], "/b": [{"page": "b"}], "/c": [broken]}
    asked: list[str] = []

    def measure(urls: list[str]) -> list[dict[str, object]]:
        asked.extend(urls)
        return [answers[url].pop(0) for url in urls]

    monkeypatch.setattr(lighthouse, "_run_in_one_chromium", measure)
    monkeypatch.setattr(lighthouse, "read_report", lambda report: report)
    found = lighthouse.run_all(["/a", "/b", "/c"])
    # A recording fault is measured again; a page that failed to load is not.
    assert found == [{"page": "a"}, {"page": "b"}, broken]
    assert asked == ["/a", "/b", "/c", "/a", "/a"]

    monkeypatch.undo()  # one that still fails after its runs again says why
    with pytest.raises(RuntimeError, match="NO_NAVSTART"):
        lighthouse.read_report({**bad, "requestedUrl": "/a"})
