"""Property-based tests of ``lift``'s edge (a few hundred generated cases; ``nox -s fuzz`` runs
10,000+): every call either succeeds with finite outputs where the input is usable, or fails with
a clear "name: expected X, got Y" error; the same data in another form gives the same result."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.estimator.lift_cases import PROPERTIES, Case, cases, run_case, run_property, valid_cases

FAST = settings(
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@settings(FAST, max_examples=100)
@given(cases())
def test_generated_calls_succeed_or_fail_clearly(case: Case):
    outcome, detail = run_case(case)
    assert outcome in ("success", "clear error"), f"{outcome}: {detail}"


@pytest.mark.parametrize("prop", PROPERTIES)
@settings(FAST, max_examples=8)
@given(case=valid_cases(), seed=st.integers(0, 2**32 - 1))
def test_metamorphic_properties(prop: str, case: Case, seed: int):
    outcome, detail = run_property(prop, case, seed)
    assert outcome == "success", detail
