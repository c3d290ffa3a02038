"""A published verdict's pictures: the stamped picture, the share card and the story image,
stamped so that no crop of them carries the hoax without the verdict."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageChops, ImageDraw, ImageFont
from sqlmodel import Session, select

from pledge.campaigns.models import Campaign, CampaignStatus, CampaignView
from pledge.hoaxes.models import CaseStatus, Verdict
from tests.support.factories import MakeReport, Publish, set_case_status
from tests.support.images import encoded, screenshot

MakeCampaign = Callable[..., CampaignView]
PICTURES = ("image.jpg", "card.jpg", "story.jpg")
GRID = 4  # every quarter by quarter of a picture is checked


def tall_screenshot() -> bytes:
    """A 1080 × 2340 phone screenshot: black words on white from edge to edge, top to bottom,
    as a forwarded hoax is (its headline at the top, a call to share at the bottom)."""
    image = Image.new("RGB", (1080, 2340), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 44)
    for row in range(0, 2340, 66):
        draw.text((4, row + 8), "HOAKS PEMILU SEBARKAN SEKARANG JUGA", font=font, fill=(0, 0, 0))
    return encoded(image)


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return image.convert("RGB")


def cells(image: Image.Image) -> list[Image.Image]:
    width, height = image.size
    return [
        image.crop(
            (
                column * width // GRID,
                row * height // GRID,
                (column + 1) * width // GRID,
                (row + 1) * height // GRID,
            )
        )
        for row in range(GRID)
        for column in range(GRID)
    ]


Mask = Callable[[Image.Image], Image.Image]


def share(cell: Image.Image, mask: Mask) -> float:
    """The share of the cell's pixels that the mask picks (255 in it)."""
    picked = mask(cell).histogram()[255]
    return picked / (cell.width * cell.height)


def above(channel: Image.Image, level: int) -> Image.Image:
    return channel.point(lambda value: 255 if value > level else 0)


def below(channel: Image.Image, level: int) -> Image.Image:
    return channel.point(lambda value: 255 if value < level else 0)


def stamp_red(image: Image.Image) -> Image.Image:
    """The stamp's red: red high, green and blue low."""
    red, green, blue = image.split()
    return ImageChops.multiply(
        ImageChops.multiply(above(red, 150), below(green, 80)), below(blue, 80)
    )


def reddish(image: Image.Image) -> Image.Image:
    """Red over the other two by more than 30: the stripes, faint ones included."""
    red, green, blue = image.split()
    return above(ImageChops.subtract(red, ImageChops.lighter(green, blue)), 30)


def near_white(image: Image.Image) -> Image.Image:
    red, green, blue = image.split()
    return above(ImageChops.darker(ImageChops.darker(red, green), blue), 200)


@pytest.fixture
def verdict(
    make_campaign: MakeCampaign, make_report: MakeReport, publish: Publish, session: Session
) -> int:
    """A published verdict about a tall screenshot, with a short correction."""
    report = make_report(make_campaign(), image=tall_screenshot())
    publish(report.case_id, label=Verdict.SALAH, title="Pemilih tanpa undangan C6 ditolak")
    set_case_status(
        session, report.case_id, CaseStatus.PUBLISHED, correction="KTP saja sudah cukup."
    )
    return report.case_id


def test_the_card_and_the_story_have_their_exact_sizes(client: TestClient, verdict: int) -> None:
    card = client.get(f"/hoaxes/{verdict}/card.jpg")
    story = client.get(f"/hoaxes/{verdict}/story.jpg")
    assert card.status_code == story.status_code == 200
    assert decoded(card.content).size == (1200, 630)
    assert decoded(story.content).size == (1080, 1920)
    # The picture keeps the stored screenshot's size (shrunk to 2048 at most on upload).
    assert decoded(client.get(f"/hoaxes/{verdict}/image.jpg").content).size == (945, 2048)


def test_every_quarter_of_the_stamped_picture_carries_the_stamp(
    client: TestClient, verdict: int
) -> None:
    """However it is cropped, a piece of the picture has red stripes on it and no longer
    shows the hoax's white page: a band across the middle alone leaves the top and the
    bottom as they were, and fails here."""
    image = decoded(client.get(f"/hoaxes/{verdict}/image.jpg").content)
    for index, cell in enumerate(cells(image)):
        assert share(cell, stamp_red) > 0.03, index
        assert share(cell, near_white) < 0.1, index


@pytest.mark.parametrize("name", ["card.jpg", "story.jpg"])
def test_every_quarter_of_the_card_and_the_story_carries_the_stamp(
    client: TestClient, verdict: int, name: str
) -> None:
    image = decoded(client.get(f"/hoaxes/{verdict}/{name}").content)
    for index, cell in enumerate(cells(image)):
        assert share(cell, reddish) > 0.03, index
        # The screenshot's white page is dimmed wherever it is: only our own words are white.
        assert share(cell, near_white) < 0.25, index


@pytest.mark.parametrize(("name", "size"), [("card.jpg", (1200, 630)), ("story.jpg", (1080, 1920))])
def test_a_verdict_without_a_picture_gets_a_card_and_a_story_of_words(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    publish: Publish,
    name: str,
    size: tuple[int, int],
) -> None:
    report = make_report(make_campaign())
    publish(report.case_id, label=Verdict.MENYESATKAN)
    response = client.get(f"/hoaxes/{report.case_id}/{name}")
    assert response.status_code == 200
    image = decoded(response.content)
    assert image.size == size
    # The verdict's red badge is on it.
    assert share(image, stamp_red) > 0.01
    # The stamped picture exists only where there is a picture.
    assert client.get(f"/hoaxes/{report.case_id}/image.jpg").status_code == 404


def test_the_pictures_are_served_like_the_stamped_picture_and_the_story_is_saved(
    client: TestClient, verdict: int
) -> None:
    for name in PICTURES:
        response = client.get(f"/hoaxes/{verdict}/{name}")
        assert response.headers["content-type"] == "image/jpeg"
        assert response.headers["cache-control"] == "public, max-age=3600"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
    story = client.get(f"/hoaxes/{verdict}/story.jpg")
    assert story.headers["content-disposition"].startswith("attachment;")
    assert f"verdict-{verdict}-story.jpg" in story.headers["content-disposition"]


@pytest.mark.parametrize("name", PICTURES)
def test_pictures_of_unpublished_cases_are_never_served(
    client: TestClient,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
    session: Session,
    name: str,
) -> None:
    report = make_report(make_campaign(), image=screenshot(1))
    for status in (CaseStatus.NEW, CaseStatus.AWAITING_APPROVAL, CaseStatus.REJECTED):
        set_case_status(session, report.case_id, status, label=Verdict.SALAH, public_title="X")
        assert client.get(f"/hoaxes/{report.case_id}/{name}").status_code == 404
    assert client.get(f"/hoaxes/999999/{name}").status_code == 404
    assert client.get(f"/hoaxes/2147483648/{name}").status_code == 422


def test_pictures_of_a_campaign_no_longer_public_are_not_served(
    client: TestClient, verdict: int, session: Session
) -> None:
    for campaign in session.exec(select(Campaign)).all():
        campaign.status = CampaignStatus.DRAFT
        session.add(campaign)
    session.commit()
    for name in PICTURES:
        assert client.get(f"/hoaxes/{verdict}/{name}").status_code == 404


def test_a_corrected_verdict_is_drawn_anew_and_an_unchanged_one_is_not(
    client: TestClient, verdict: int, session: Session
) -> None:
    first = client.get(f"/hoaxes/{verdict}/card.jpg").content
    assert client.get(f"/hoaxes/{verdict}/card.jpg").content == first
    set_case_status(session, verdict, CaseStatus.PUBLISHED, correction="Cukup bawa KTP-el.")
    corrected = client.get(f"/hoaxes/{verdict}/card.jpg").content
    assert corrected != first
    # The words are in the language the address names, whatever the reader's cookie says.
    english = client.get(f"/hoaxes/{verdict}/card.jpg?lang=en").content
    indonesian = client.get(f"/hoaxes/{verdict}/card.jpg?lang=id").content
    assert english != indonesian
    assert client.get(f"/hoaxes/{verdict}/card.jpg").content == indonesian
