"""The paper's experiments (Tables 1-7, Figure 5, failure cases) on the open data.

Each experiment is a module with ``run(quick=False) -> dict`` that computes its numbers and
writes ``benchmarks/results/paper_<name>.json``; the notebooks under ``notebooks/`` read those
files through :func:`results` and recompute them when asked (``ZEDO_RECOMPUTE=1`` or
``recompute=True``). ``nox -s bench -- paper`` (``python -m benchmarks.run paper``) recomputes
them all; the experiment priors they need come from ``scripts/paper_priors_queue.sh``.
"""

from __future__ import annotations

import importlib
import json
import os
from typing import Any

from benchmarks.common import RESULTS

EXPERIMENTS = ("table1", "table2", "table3", "table4", "table5", "table6", "table7", "figure5", "failures")


LIFT: dict[str, Any] = {}
"""Overrides of the lift settings shared by every experiment: none, so they run the library's
``"default"`` preset as it is; each result file records the resolved settings and the commit."""


def lift_settings(**overrides: Any) -> dict[str, Any]:
    """The resolved lift settings of the experiments (``LIFT`` and ``overrides`` on the default preset)."""
    from dataclasses import asdict

    from zedo_xr.estimator.settings import resolve_settings

    return asdict(resolve_settings("default", **{**LIFT, **overrides}))


def lift_overrides(stored: dict[str, Any]) -> dict[str, Any]:
    """The ``lift(**overrides)`` that reproduce stored :func:`lift_settings` (nested loop flattened)."""
    from dataclasses import asdict

    from zedo_xr.estimator.pipeline import DEFAULT_KNOBS

    flat = {k: v for k, v in stored.items() if k != "loop"}
    flat.update(stored.get("loop") or {})
    flat = {k: tuple(v) if isinstance(v, list) else v for k, v in flat.items()}
    # Recorded before one hypothesis started from the best of a pool: the mean pose.
    flat.setdefault("initial_pool", 1)
    # Older result files also record the pipeline's internal search knobs, always at their defaults.
    # The default selection rule changed since some were computed ('consensus', then 'size', now
    # 'start'): it only marks `best_hypothesis`, the poses are the same, so it is not an error to
    # re-lift them.
    knobs = asdict(DEFAULT_KNOBS)
    for key, value in knobs.items():
        got = flat.pop(key, value)
        if got != value and key != "select":
            raise ValueError(f"{key}: expected the default {value!r} (no longer a lift setting), got {got!r}")
    return flat


def results(name: str, *, recompute: bool | None = None, quick: bool = False) -> dict[str, Any]:
    """The stored results of experiment ``name``, computed first if missing or asked to.

    ``recompute=None`` reads the environment variable ``ZEDO_RECOMPUTE`` ("1" recomputes).
    """
    if recompute is None:
        recompute = os.environ.get("ZEDO_RECOMPUTE", "0") == "1"
    path = RESULTS / f"paper_{name}{'_quick' if quick else ''}.json"
    if recompute or not path.exists():
        return importlib.import_module(f"benchmarks.paper.{name}").run(quick=quick)
    return json.loads(path.read_text())


def write(name: str, payload: dict[str, Any], *, quick: bool = False) -> dict[str, Any]:
    """Store ``payload`` as the results of experiment ``name`` and return it."""
    from benchmarks.common import _plain, machine

    payload = {"machine": machine(), "quick": quick, **payload}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"paper_{name}{'_quick' if quick else ''}.json"
    path.write_text(json.dumps(payload, indent=2, default=_plain) + "\n")
    return payload


def table(rows: list[dict[str, Any]], columns: list[str] | None = None, *, decimals: int = 1) -> Any:
    """Rows as a rounded pandas DataFrame (pandas comes with xarray), for notebooks."""
    import pandas as pd

    df = pd.DataFrame(rows)
    if columns is not None:
        df = df[[c for c in columns if c in df.columns]]
    return df.round(decimals)
