"""Hypothesis settings for the fuzzing tests: a short, repeatable run in CI, a longer one by hand.

``HYPOTHESIS_PROFILE=deep pytest tests/hostile`` searches much longer with fresh random
examples; every other run uses ``ci``: the same examples each time (derandomized, so a
failure in CI fails again on a laptop), no per-example deadline (a shared machine is slow
at times; speed is the benchmarks' business), and few enough examples to stay short.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

# The fuzzing tests drive the app through one client per test: the fixtures are shared by
# the examples on purpose, and each example cleans up what it needs itself.
_SHARED_FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
# Explaining a failure reruns its example hundreds of times: minutes through the app.
_NO_EXPLAIN = [phase for phase in Phase if phase != Phase.explain]

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=40,
    database=None,  # nothing written to .hypothesis/ in the tree
    print_blob=True,
    suppress_health_check=_SHARED_FIXTURES,
    phases=_NO_EXPLAIN,
)
settings.register_profile(
    "deep",
    deadline=None,
    max_examples=1000,
    database=None,
    print_blob=True,
    suppress_health_check=_SHARED_FIXTURES,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
