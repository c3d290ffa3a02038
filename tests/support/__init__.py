"""What the test suite shares (not tests themselves).

``factories`` builds rows by state, ``people`` names who acts and signs them in, ``pages`` and
``forms`` read and fill pages as a browser does, ``db`` reads what the app wrote; the servers
(``appserver``, ``pgserver``, ``redisserver``) and the phone (``phone``) run real processes.
"""

import os

# On CI a missing tool (Chromium, java, axe) fails the test it needs instead of skipping it.
IN_CI = os.environ.get("CI", "").lower() == "true"

# How the tests start Debian's Chromium (Playwright, Lighthouse, the contact sheets): no
# sandbox (root in a container), no GPU, nothing fetched from outside (the network is closed).
CHROMIUM = os.environ.get("PLEDGE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
