"""The game's pages: the start page, a picture's question and its answer, the score with its
share card; the pictures; and the moderators' choice of the verdicts that play.

Played without JavaScript and without an account: the game's state is in the signed token the
pages carry in their addresses and forms (``service.tokens``). The pages answer from memory
(``pages``): only an answer writes, once per game and picture."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from pledge import i18n
from pledge.config import get_settings
from pledge.db import SessionDep
from pledge.deps import Moderator, public_campaign
from pledge.errors import NotFound
from pledge.game import card, pages
from pledge.game import service as game
from pledge.game.pages import Setting, hole
from pledge.hoaxes.models import HoaxCase
from pledge.i18n import gettext as _
from pledge.moderation.case_pages import act_on_case
from pledge.sharedreads import shared_reads
from pledge.supporters import service as supporters
from pledge.web import (
    CheckedForm,
    RowId,
    absolute_url,
    form_text,
    path_for,
    render,
    share_links,
)
from pledge.web.drawn import VersionReader
from pledge.web.templates import templates

_version = VersionReader("game.version", game.version)
PICTURE_HEADERS = {
    "Cache-Control": "public, max-age=3600",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}
SCORE_MAX = game.PICTURES_MAX


async def _setting(request: Request) -> Setting:
    """The campaign of the address (404 unless public) and its game's pictures."""
    view = await public_campaign(request.path_params["slug"], request)
    engine = request.app.state.engine
    at = await _version.current(engine)
    items = game.cached_items(view.id, at)
    if items is None:
        key = ("game-items", id(engine), view.id, at)
        items = await shared_reads.read(key, game.read_items, engine, view.id, at)
    return Setting.of(view, at, items)


def _invite(raw: str) -> str:
    """A supporter's invite code as given, or "" for anything else."""
    return raw if supporters.INVITE_CODE.match(raw) else ""


def _url(request: Request, name: str, slug: str, token: str) -> str:
    return path_for(request, name, slug=slug) + "?" + urlencode({"t": token})


def _state(request: Request, setting: Setting, token: str | None = None) -> game.GameState:
    raw = token if token is not None else request.query_params.get("t", "")
    return game.load(raw[:2000], campaign_id=setting.view.id)


def _problem(
    request: Request, setting: Setting, message: str, *, status_code: int = 400, back: str = ""
) -> HTMLResponse:
    """A game that cannot go on: why, and a new game (or back to the picture)."""
    context = {"view": setting.view, "campaign": setting.view.campaign, "message": message}
    page = render(request, "game/problem.html", {**context, "back": back})
    return HTMLResponse(bytes(page.body), status_code=status_code, headers=pages.PRIVATE)


# --- starting -------------------------------------------------------------------------------


async def game_start_page(request: Request) -> Response:
    """``GET /c/{slug}/game``: what the game is, how many pictures, and its Start button;
    ``?invite=`` keeps a supporter's invite code for the share buttons at the end."""
    setting = await _setting(request)
    invite = _invite(request.query_params.get("invite", ""))
    context = {
        "view": setting.view,
        "campaign": setting.view.campaign,
        "ready": game.is_ready(setting.items),
        "pictures": game.pictures_in_a_game(setting.items),
        "invite": hole("invite") if invite else "",
    }
    query = {"invite": str(hole("invite"))} if invite else {}
    key = (setting.view.id, setting.version, bool(invite))
    html = await pages.drawn(request, key, "game/start.html", context, query)
    return pages.filled(request, html, {"invite": invite})


async def game_start(request: Request, form: CheckedForm) -> Response:
    """``POST /c/{slug}/game``: a new game, and its first picture."""
    setting = await _setting(request)
    slug = setting.view.slug
    if not game.is_ready(setting.items):
        return RedirectResponse(path_for(request, "game_start_page", slug=slug), status_code=303)
    invite = _invite(form_text(form, "invite", 40))
    state = game.new_game(setting.items, campaign_id=setting.view.id, invite=invite)
    return RedirectResponse(_url(request, "game_question", slug, game.dump(state)), 303)


# --- a picture ------------------------------------------------------------------------------


async def game_question(request: Request) -> Response:
    """``GET /c/{slug}/game/play?t=``: the picture to judge, and the two buttons."""
    setting = await _setting(request)
    slug = setting.view.slug
    try:
        state = _state(request, setting)
    except game.BadToken as error:
        return _problem(request, setting, error.detail)
    if state.over:
        return RedirectResponse(_url(request, "game_score", slug, game.dump(state)), 303)
    item = setting.by_key.get(state.current)
    if item is None:  # taken out of the game since the game began: the next one
        return RedirectResponse(
            _url(request, "game_question", slug, game.dump(state.skipping())), 303
        )
    context = {
        "view": setting.view,
        "campaign": setting.view.campaign,
        "item": item,
        "picture": path_for(request, "game_picture", slug=slug, key=item.key),
    }
    key = (item.key, setting.version)
    html = await pages.drawn(request, key, "game/question.html", context, {"t": str(hole("token"))})
    return pages.filled(request, html, _numbers(request, state))


def _numbers(request: Request, state: game.GameState) -> dict[str, object]:
    return {
        "token": request.query_params.get("t", ""),
        "n": state.answered + 1,
        "answered": state.answered,
        "total": state.total,
        "score": state.score,
    }


async def game_answer(request: Request, form: FormData) -> Response:
    """``POST /c/{slug}/game/play``: the answer, counted once; then its page."""
    setting = await _setting(request)
    slug = setting.view.slug
    token = form_text(form, "t", 2000)
    try:
        state = _state(request, setting, token)
        if state.over:
            raise game.BadToken(game.TokenProblem.OVER)
    except game.BadToken as error:
        return _problem(request, setting, error.detail)
    item = setting.by_key.get(state.current)
    if item is None:
        return RedirectResponse(_url(request, "game_question", slug, token), 303)
    said = form_text(form, "answer", 10)
    if said not in set(game.Answer):
        back = _url(request, "game_question", slug, token)
        message = _("Choose “Real” or “Fake”.")
        return _problem(request, setting, message, status_code=422, back=back)
    after = await run_in_threadpool(_answered, request, state, item, game.Answer(said))
    return RedirectResponse(_url(request, "game_result", slug, game.dump(after)), 303)


def _answered(
    request: Request, state: game.GameState, item: game.Item, said: game.Answer
) -> game.GameState:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        return game.answer(session, state=state, item=item, said=said)


async def game_result(request: Request) -> Response:
    """``GET /c/{slug}/game/result?t=``: right or wrong, the clue, and the next picture."""
    setting = await _setting(request)
    slug = setting.view.slug
    try:
        state = _state(request, setting)
    except game.BadToken as error:
        return _problem(request, setting, error.detail)
    item = setting.by_key.get(state.previous) if state.position and state.last else None
    if item is None:
        return RedirectResponse(
            _url(request, "game_question", slug, request.query_params["t"]), 303
        )
    right = game.is_right(item, game.Answer(state.last))
    context = {
        "view": setting.view,
        "campaign": setting.view.campaign,
        "item": item,
        "right": right,
        "over": state.over,
        "clue": item.clue.text,
        "picture": _answer_picture(request, slug, item),
        "next": path_for(request, "game_score" if state.over else "game_question", slug=slug),
    }
    key = (item.key, right, state.over, setting.version)
    html = await pages.drawn(request, key, "game/result.html", context, {"t": str(hole("token"))})
    return pages.filled(request, html, _numbers(request, state))


def _answer_picture(request: Request, slug: str, item: game.Item) -> str:
    """The answer's picture, in the page's language (in its address, so that it is cached)."""
    locale = i18n.get_locale()
    query = "" if locale == i18n.DEFAULT_LOCALE else "?" + urlencode({"lang": locale})
    return path_for(request, "game_answer_picture", slug=slug, key=item.key) + query


# --- the score ------------------------------------------------------------------------------


async def game_score(request: Request) -> Response:
    """``GET /c/{slug}/game/score?t=``: the score, its share card and the share buttons, whose
    link credits the invite code the player came with."""
    setting = await _setting(request)
    slug = setting.view.slug
    try:
        state = _state(request, setting)
    except game.BadToken as error:
        return _problem(request, setting, error.detail)
    if not state.over:
        return RedirectResponse(
            _url(request, "game_question", slug, request.query_params["t"]), 303
        )
    context = _score_context(request, setting, state)
    key = (setting.view.id, state.score, state.total, state.invite, setting.version)
    html = await pages.drawn(request, key, "game/score.html", context, {"t": str(hole("token"))})
    return pages.filled(request, html, _numbers(request, state))


def _score_context(request: Request, setting: Setting, state: game.GameState) -> dict[str, Any]:
    view = setting.view
    link = absolute_url(request, "campaigns_show", slug=view.slug)
    if state.invite:
        link += "?" + urlencode({"invite": state.invite})
    text = _(
        "I spotted %(score)s of %(total)s pictures right in the game “Asli atau palsu?”. "
        "Can you beat me? Play, and join the campaign “%(title)s”:"
    ) % {"score": state.score, "total": state.total, "title": view.campaign.title}
    locale = i18n.get_locale()
    query = {"score": str(state.score), "of": str(state.total)}
    if locale != i18n.DEFAULT_LOCALE:
        query["lang"] = locale
    card_url = path_for(request, "game_card", slug=view.slug) + "?" + urlencode(query)
    return {
        "view": view,
        "campaign": view.campaign,
        "score": state.score,
        "total": state.total,
        "share": share_links(link, view.campaign.title, text=text),
        "card": card_url,
        "card_size": card.CARD_SIZE,
        "again": path_for(request, "game_start_page", slug=view.slug)
        + ("?" + urlencode({"invite": state.invite}) if state.invite else ""),
    }


# --- pictures -------------------------------------------------------------------------------


async def _item(request: Request) -> game.Item:
    """The picture of the address, while it is in its campaign's game."""
    setting = await _setting(request)
    item = setting.by_key.get(request.path_params["key"])
    if item is None:
        raise NotFound(_("We could not find that image."))
    return item


def _drawing(request: Request, draw: Callable[..., bytes], options: dict[str, Any]) -> bytes:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        return draw(session, **options)


async def _picture(
    request: Request, key: tuple[Hashable, ...], draw: Callable[..., bytes], **options: Any
) -> Response:
    """A picture as drawn (by key), or drawn now in the thread pool, once for all who ask."""
    found = game.kept(key)
    if found is None:
        found = await shared_reads.read(("game-picture", *key), _drawing, request, draw, options)
    return Response(found, media_type="image/jpeg", headers=PICTURE_HEADERS)


async def game_picture(request: Request) -> Response:
    """``GET /c/{slug}/game/pictures/{key}.jpg``: a picture as its question shows it."""
    item = await _item(request)
    site_name = get_settings().site_name
    key = game.question_key(item, site_name)
    return await _picture(request, key, game.question_picture, item=item, site_name=site_name)


async def game_answer_picture(request: Request) -> Response:
    """``GET /c/{slug}/game/answers/{key}.jpg``: a picture as its answer shows it, in the
    language its address names (never the reader's cookie: the picture is cached publicly)."""
    i18n.set_locale(i18n.negotiate(request.query_params.get("lang")) or i18n.DEFAULT_LOCALE)
    item = await _item(request)
    site_name = get_settings().site_name
    address = absolute_url(request, "hoaxes_short", case_id=item.case_id).split("://", 1)[-1]
    key = game.answer_key(item, address, site_name)
    options = {"item": item, "address": address, "site_name": site_name}
    return await _picture(request, key, game.answer_picture, **options)


async def game_card(request: Request) -> Response:
    """``GET /c/{slug}/game/card.jpg?score=&of=``: a score's share card (1200 × 630)."""
    i18n.set_locale(i18n.negotiate(request.query_params.get("lang")) or i18n.DEFAULT_LOCALE)
    view = await public_campaign(request.path_params["slug"], request)
    score, total = (request.query_params.get(name, "") for name in ("score", "of"))
    if not (score.isdigit() and total.isdigit() and int(score) <= int(total) <= SCORE_MAX):
        raise NotFound(_("We could not find that image."))
    if int(total) < game.PICTURES_MIN:
        raise NotFound(_("We could not find that image."))
    address = absolute_url(request, "campaigns_show", slug=view.slug).split("://", 1)[-1]
    title = view.campaign.title

    def draw() -> bytes:
        return game.share_card(score=int(score), total=int(total), campaign=title, address=address)

    data = await run_in_threadpool(draw)
    return Response(data, media_type="image/jpeg", headers=PICTURE_HEADERS)


# --- moderators -----------------------------------------------------------------------------


def game_choose(
    request: Request, session: SessionDep, access: Moderator, case_id: RowId, form: CheckedForm
) -> Response:
    """``POST /mod/cases/{case_id}/game``: put a published verdict in its campaign's game, or
    take it out, for a reason; back to the case's game section."""
    posted = game.ChoiceForm.read(form)

    def change() -> str:
        game.choose(session, access=access, case_id=case_id, form=posted)
        return "game"

    shown = {"reason": posted.reason, "play": posted.play}
    response = act_on_case(request, session, access, case_id, change, failed="game", posted=shown)
    if response.status_code == 303:
        _version.forget()  # this process shows the change at once; the others within a second
        # The case page's notices are its own: the game's section says what was done.
        path = path_for(request, "moderation_case", case_id=case_id)
        response.headers["location"] = f"{path}?{urlencode({'game': posted.play})}#game"
    return response


# --- the case page's section ----------------------------------------------------------------


def _case_game(request: Request, case: HoaxCase) -> game.CaseGame:
    """What the case page's game section shows (templates/moderation/_game.html). Moderation
    draws that page and knows nothing of the game: the section asks for its own figures."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        return game.case_game(session, case=case)


templates.env.globals["game_case"] = _case_game
