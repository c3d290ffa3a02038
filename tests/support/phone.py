"""The phone every browser journey runs on: a 360x740 touch screen on a slow 3G network."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from playwright.sync_api import BrowserContext, CDPSession, Error, Frame, Page

# A small Android phone held upright, as most supporters hold theirs.
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
}

# WebPageTest's "3G Slow" connectivity profile: 400 ms round trip, 400 kbit/s down and
# 400 kbit/s up (https://github.com/WPO-Foundation/webpagetest/blob/master/www/settings/connectivity.ini.sample).
# The DevTools protocol takes milliseconds and bytes per second.
SLOW_3G: dict[str, Any] = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400 * 1000 / 8,
    "uploadThroughput": 400 * 1000 / 8,
}


def on_slow_3g(context: BrowserContext, target: Page | Frame) -> CDPSession:
    """Throttle a page (with the frames it renders itself) to slow 3G from its next request."""
    session = context.new_cdp_session(target)
    session.send("Network.emulateNetworkConditions", SLOW_3G)
    return session


class Phone:
    """One person's phone: its own cookies and cache, every page it opens on slow 3G.

    A frame from another site (a widget on a partner's page) runs in a process of its own.
    Its document comes through the page's throttling, but what the frame loads itself does
    not: the frame is throttled as soon as the page reports that it navigated, by which time
    its stylesheet may already be on the way; its event stream, opened by its script, is
    slowed. A tab that a page opens is likewise throttled as soon as it is reported.
    """

    def __init__(self, context: BrowserContext, *, slow_3g: bool = True) -> None:
        self.context = context
        self.slow_3g = slow_3g
        self.closed = False

    def new_page(self) -> Page:
        page = self.context.new_page()
        if self.slow_3g:
            self._throttle(page)
        return page

    def _throttle(self, page: Page) -> None:
        on_slow_3g(self.context, page)
        page.on("framenavigated", self._throttle_frame)
        # A tab opened by a link (target="_blank") is slowed from its next request on.
        page.on("popup", self._throttle)

    def _throttle_frame(self, frame: Frame) -> None:
        if frame.parent_frame is None or frame.is_detached():
            return
        try:
            on_slow_3g(self.context, frame)
        except Error as error:
            # A frame of the page's own site shares the page's process and its throttling;
            # a frame gone meanwhile needs none.
            shared = "does not have a separate CDP session" in error.message
            if not shared and not frame.is_detached():
                raise

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.context.close()

    def __enter__(self) -> Phone:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Closing the phone ends its event streams before the server stops.
        self.close()


OpenPhone = Callable[..., Phone]
