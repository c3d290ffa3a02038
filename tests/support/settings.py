"""Settings changed for one test through the environment, as an operator would change them
(the ``use_settings`` fixture: ``use_settings(env="production")``)."""

from __future__ import annotations

from collections.abc import Callable

from pledge.config import Settings

UseSettings = Callable[..., Settings]
