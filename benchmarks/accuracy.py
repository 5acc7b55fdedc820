"""Accuracy benchmark: in-domain and cross-domain, exact / noisy / dropped 2D, S = 1, 50.

Rerun: ``nox -s bench -- accuracy`` (or ``python -m benchmarks.run accuracy``). Writes
``benchmarks/results/accuracy.{json,md}``.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.common import CONDITIONS, TestSet, machine, markdown_table, views, write_results

TEST_SETS = [
    TestSet("cmu-test", "in-domain", 300),
    TestSet("bandai1", "cross-domain", 300),
    # The default prior trains on these very clips (acrobatics: flips, cartwheels, rolls), so they
    # test hard poses, not another domain; Table 1 tests them with a CMU-only prior.
    TestSet("deepmimic", "seen clips", 300),
]
# Multi-hypothesis runs are 50x the work: a smaller, evenly spaced subset of the same frames.
FRAMES_S50 = 40

PAPER = {
    # Human3.6M, GT 2D (Table 4): S=1 MPJPE / PA-MPJPE, S=50 oracle MPJPE / PA-MPJPE
    "in-domain": {"S1_mpjpe": 50.1, "S1_pa_mpjpe": 35.8, "S50_mpjpe_min": 37.0, "S50_pa_mpjpe_min": 27.5},
    # 3DPW cross-dataset, GT 2D (Table 1): S=1 PA-MPJPE / MPJPE
    "cross-domain": {"S1_mpjpe": 69.7, "S1_pa_mpjpe": 40.3},
}


def run(
    *,
    quick: bool = False,
    settings: str = "default",
    prior: str = "default",
    seed: int = 0,
    threads: int | None = None,
) -> dict[str, Any]:
    import torch

    from zedo_xr.estimator.driver import lift
    from zedo_xr.metrics import evaluate

    if threads:
        torch.set_num_threads(threads)
    rows: list[dict[str, Any]] = []
    for test in TEST_SETS:
        frames = 60 if quick else test.frames
        poses = TestSet(test.name, test.role, frames).poses()
        for condition in CONDITIONS:
            ds = views(poses, condition, seed=seed)
            for S in (1, 50):
                n_multi = 20 if quick else FRAMES_S50
                step = max(1, ds.sizes["frame"] // n_multi)
                part = ds if S == 1 else ds.isel(frame=slice(None, None, step))
                start = time.perf_counter()
                out = lift(part, hypotheses=S, settings=settings, prior=prior, seed=seed, progress=False)
                seconds = time.perf_counter() - start
                a = evaluate(out).attrs
                row = {
                    "dataset": test.name,
                    "role": test.role,
                    "condition": condition,
                    "S": S,
                    "frames": int(out.sizes["frame"]),
                    "seconds": round(seconds, 1),
                    "mpjpe": a["mpjpe_mean"],
                    "pa_mpjpe": a["pa_mpjpe_mean"],
                    "mpjpe_min": a["mpjpe_min_mean"],
                    "pa_mpjpe_min": a["pa_mpjpe_min_mean"],
                    "mpjpe_best": a["mpjpe_best_mean"],
                    "pa_mpjpe_best": a["pa_mpjpe_best_mean"],
                    "pck": a["pck_min_mean"],
                    "auc": a["auc_min_mean"],
                }
                rows.append(row)
                print(
                    f"{test.name:10} {condition:9} S={S:<3} MPJPE {row['mpjpe']:6.1f} "
                    f"PA {row['pa_mpjpe']:6.1f} "
                    f"min {row['mpjpe_min']:6.1f}/{row['pa_mpjpe_min']:6.1f} "
                    f"best {row['mpjpe_best']:6.1f}/{row['pa_mpjpe_best']:6.1f} ({seconds:.0f} s)",
                    flush=True,
                )
    provenance = {k: v for k, v in out.attrs.items() if k.startswith("zedo_")}
    payload = {
        "machine": machine(),
        "settings": settings,
        "prior": prior,
        "seed": seed,
        "quick": quick,
        "paper": PAPER,
        "rows": rows,
        "lift_attrs": provenance,
    }
    md = [
        "# Accuracy (GT-2D protocol of zedo_xr.datasets.make_views)",
        "",
        f"Settings `{settings}`, prior `{prior}` (hash {provenance.get('zedo_prior_hash')}), "
        f"seed {seed}. Millimetres. S = 1 rows: MPJPE/PA-MPJPE of the single hypothesis; S = 50 rows: "
        "`*_min` is the oracle minimum over hypotheses, `*_best` the non-oracle `best_hypothesis`.",
        "",
        markdown_table(
            rows,
            [
                "dataset",
                "role",
                "condition",
                "S",
                "frames",
                "mpjpe",
                "pa_mpjpe",
                "mpjpe_min",
                "pa_mpjpe_min",
                "mpjpe_best",
                "pa_mpjpe_best",
                "seconds",
            ],
        ),
        "",
        "Roles: `in-domain` = held-out frames of a dataset the prior trains on (CMU test vs CMU "
        "train); `cross-domain` = data the prior never saw; `seen clips` = the DeepMimic clips are "
        "in the default prior's training data, so they test hard (acrobatic) poses, not another "
        "domain (the Table 1 notebook tests them with a CMU-only prior).",
        "",
        "Paper (Human3.6M in-domain, GT 2D, Table 4): S = 1 MPJPE 50.1, PA-MPJPE 35.8; "
        "S = 50 min MPJPE 37.0, PA 27.5. Paper cross-domain (3DPW, Table 1): S = 1 PA-MPJPE 40.3, "
        "MPJPE 69.7.",
        "",
        f"Machine: {payload['machine'].get('cpu_model', payload['machine']['cpu'])}, "
        f"{payload['machine']['torch_threads']} torch threads, torch {payload['machine']['torch']}. "
        f"Command: `{payload['machine']['command']}`.",
    ]
    write_results("accuracy" if not quick else "accuracy_quick", payload, "\n".join(md))
    return payload
