"""What the test suite shares (not tests themselves).

``factories`` builds rows by state, ``people`` names who acts and signs them in, ``pages`` and
``forms`` read and fill pages as a browser does, ``db`` reads what the app wrote; the servers
(``appserver``, ``pgserver``, ``redisserver``) and the phone (``phone``) run real processes.
"""

import os

# On CI a missing tool (Chromium, java, axe) fails the test it needs instead of skipping it.
IN_CI = os.environ.get("CI", "").lower() == "true"
