"""Figure 5 analogue: MPJPE and wall time against the number of loop iterations.

The paper (Figure 5, Human3.6M, GT 2D) finds the time linear in the iterations and the error
lowest around its 1000 iterations, with no gain beyond. Here: CMU test, GT 2D, S = 1, the default
preset (Tweedie step 0.5, no warm-up, 100 iterations as shipped) swept over 10 ... 2000 iterations,
and the parity preset (the official update, warm-up 20 % of the iterations) at 200 and 1000 for
reference. Wall time is for the whole lift of all
frames on one CPU thread (initial fit included), so it is comparable between rows of one run,
not with the paper's GPU.

Rerun: ``python -c "from benchmarks.paper import figure5; figure5.run()"``.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.common import TestSet, views

FRAMES = 200
ITERATIONS = (10, 25, 50, 100, 200, 400, 1000, 2000)
PARITY_ITERATIONS = (200, 1000)

PAPER = {
    "source": "Figure 5 (Human3.6M, GT 2D, S = 1); numbers are not printed in the paper",
    "claim": "inference time grows linearly with the iterations; the error is lowest around "
    "1000 iterations (the paper's setting) and does not improve beyond",
    "iterations": 1000,
    "mpjpe_at_1000": 50.1,  # Table 4/7: H36M, GT 2D, S = 1
}


def run(quick: bool = False, *, prior: str = "default") -> dict[str, Any]:
    import torch

    from benchmarks.paper import LIFT, lift_settings, write
    from benchmarks.paper.table1 import prior_info
    from zedo_xr.estimator.driver import lift
    from zedo_xr.metrics import evaluate

    torch.set_num_threads(1)
    n = 20 if quick else FRAMES
    ds = views(TestSet("cmu-test", "in-domain", n).poses(), "exact")
    lift(ds.isel(frame=slice(0, 2)), hypotheses=1, prior=prior, iterations=5, progress=False)  # warm
    rows: list[dict[str, Any]] = []
    plan = [("default", it) for it in ITERATIONS] + [("parity", it) for it in PARITY_ITERATIONS]
    if quick:
        plan = [("default", 10), ("default", 50), ("parity", 50)]
    for settings, iterations in plan:
        t0 = time.perf_counter()
        shared = {k: v for k, v in LIFT.items() if k != "iterations"} if settings == "default" else {}
        out = lift(
            ds, hypotheses=1, prior=prior, settings=settings, iterations=iterations, progress=False, **shared
        )
        seconds = time.perf_counter() - t0
        a = evaluate(out).attrs
        rows.append(
            {
                "settings": settings,
                "iterations": iterations,
                "frames": int(out.sizes["frame"]),
                "mpjpe": a["mpjpe_mean"],
                "pa_mpjpe": a["pa_mpjpe_mean"],
                "seconds": round(seconds, 2),
                "ms_per_frame": round(1000 * seconds / out.sizes["frame"], 2),
            }
        )
        print(
            f"{settings:7} {iterations:5} it MPJPE {a['mpjpe_mean']:6.1f} PA {a['pa_mpjpe_mean']:6.1f} "
            f"{seconds:6.1f} s",
            flush=True,
        )
    payload = {
        "experiment": "Figure 5 analogue: MPJPE and wall time against iterations (CMU test, GT 2D, S = 1)",
        "protocol": f"make_views GT-2D views (seed 0), {n} evenly spaced CMU test frames, one batch, "
        "CPU, 1 torch thread (machine shared with other jobs); the presets as shipped, "
        "only the iterations changed",
        "prior": prior_info(prior),
        "lift_settings": lift_settings(),
        "paper": PAPER,
        "rows": rows,
    }
    return write("figure5", payload, quick=quick)


if __name__ == "__main__":
    run()
