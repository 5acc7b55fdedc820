"""Video benchmark: sequence lifting vs frame-by-frame lifting on detector-like 2D.

Clips of real mocap (CMU test, Bandai-1, HDM05) as 25-30 fps sequences, one fixed virtual camera
per clip (GT-2D protocol), with detector-like corruption (5 px Gaussian noise, 2 % dropped joints,
1 % gross outliers of 30-80 px, 5 % frames without the person; :mod:`benchmarks.video_data`).
Rows, S = 1:

* ``frame-by-frame``: today's default lift of every frame independently;
* ``baseline``: frame-by-frame followed by a Gaussian filter over time (sigma 2 frames) over the
  lifted frames;
* ``sequence``: :func:`zedo_xr.estimator.sequence.lift_sequence_arrays` with its defaults;
* ``sequence-keyframes``: the keyframe warm start (every 4th frame lifted fully, then 16 joint
  iterations from the interpolations).

Metrics: MPJPE and PA-MPJPE (mm) over the frames a row returns a pose for, acceleration error
(mm/frame^2: second differences of root-relative joints against the ground truth's, over frame
triples all lifted), frames/s (1 torch thread, all rows timed in the same process), the share of
made-up frames (a finite pose on a frame without enough 2D evidence that is not flagged
``interpolated``; must be 0), and the share of frames returned.

A second table scores robust reprojection weights on the frames with an injected outlier, and a
third the focal length estimated from the keypoints (true field of view 40-80 degrees).

Rerun: ``nox -s bench -- video`` (or ``python -m benchmarks.run video [--quick]``); writes
``benchmarks/results/video.{json,md}``. Bandai-1 is research-only data: only aggregate numbers
are written.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import machine, markdown_table, write_results
from benchmarks.video_data import SHARED_DATA, SOURCES, Corruption, clip_views, clips, corrupt, load_source

N_CLIPS = 6
FRAMES = 100
BASELINE_SIGMA = 2.0
FOVS = (40.0, 50.0, 60.0, 70.0, 80.0)


def acceleration_error(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean per-joint acceleration error (mm/frame^2) of root-relative poses ``(F, J, 3)``."""

    def acc(p: np.ndarray) -> np.ndarray:
        r = p - p[:, :1]
        return r[2:] - 2 * r[1:-1] + r[:-2]

    err = np.linalg.norm(acc(pred) - acc(gt), axis=-1).mean(-1) * 1000
    return float(np.nanmean(err)) if np.isfinite(err).any() else float("nan")


def gaussian_over_time(pose: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian filter over frames that skips NaN frames (normalised convolution); NaN stays NaN."""
    from scipy.ndimage import gaussian_filter1d

    ok = np.isfinite(pose).all((-1, -2))
    w = gaussian_filter1d(ok.astype(float), sigma, mode="constant")
    v = gaussian_filter1d(np.where(ok[:, None, None], pose, 0.0), sigma, axis=0, mode="constant")
    out = v / np.maximum(w, 1e-9)[:, None, None]
    out[~ok] = np.nan
    return out


def _scores(pred: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    import xarray as xr

    from zedo_xr.metrics import mpjpe, pa_mpjpe

    dims = ("frame", "joint", "coord")
    p, g = xr.DataArray(pred, dims=dims), xr.DataArray(gt, dims=dims)
    return {
        "mpjpe": float(np.nanmean(mpjpe(p, g).values)),
        "pa_mpjpe": float(np.nanmean(pa_mpjpe(p, g).values)),
        "accel": acceleration_error(pred, gt),
    }


def _made_up(pose: np.ndarray, confidence: np.ndarray, interpolated: np.ndarray) -> int:
    import torch

    from zedo_xr.estimator.validity import frame_validity

    valid = frame_validity(torch.as_tensor(confidence)).numpy()
    finite = np.isfinite(pose).all((-1, -2))
    return int((finite & ~valid & ~interpolated).sum())


def lift_clip(ds: Any, method: str, *, robust: str = "geman_mcclure") -> tuple[dict[str, np.ndarray], float]:
    """One method on one clip: pose (F, 17, 3), interpolated (F,), and the seconds it took."""
    from zedo_xr.estimator import lift_arrays
    from zedo_xr.estimator.sequence import SequenceSettings, lift_sequence_arrays
    from zedo_xr.estimator.settings import resolve_settings
    from zedo_xr.estimator.validity import void_invalid

    uv, conf, K = (np.array(ds[v].values, dtype=float) for v in ("keypoints", "confidence", "K"))
    settings = resolve_settings("default", robust=robust)
    start = time.perf_counter()
    if method in ("frame-by-frame", "baseline", "frame-by-frame-nonrobust"):
        out = void_invalid(lift_arrays(uv, conf, K, settings=settings, device="cpu"), conf)
        pose, interp = out["pose3d"][:, 0], out["interpolated"]
        if method == "baseline":
            pose = gaussian_over_time(pose, BASELINE_SIGMA)
    else:
        seq = (
            SequenceSettings()
            if method == "sequence"
            else SequenceSettings(key_step=4, key_iterations=100, refine_iterations=16, refine_t_max=0.03)
        )
        out = lift_sequence_arrays(
            uv[:, None],
            conf[:, None],
            K[:, None],
            fps=float(ds.attrs["fps"]),
            settings=settings,
            sequence=seq,
            device="cpu",
        )
        pose, interp = out["pose3d"][:, 0, 0], out["interpolated"][:, 0]
    return {"pose": pose, "interpolated": interp}, time.perf_counter() - start


METHODS = ("frame-by-frame", "baseline", "sequence", "sequence-keyframes")


def _done(checkpoint: Path | None) -> dict[tuple[str, int], dict]:
    """Clips already measured, from the checkpoint file (one JSON object per clip)."""
    if checkpoint is None or not checkpoint.exists():
        return {}
    entries = [json.loads(line) for line in checkpoint.read_text().splitlines() if line.strip()]
    return {(e["source"], e["clip"]): e for e in entries}


def run_sources(
    n_clips: int, frames: int, sources: tuple[str, ...], checkpoint: Path | None = None
) -> tuple[list[dict], list[dict]]:
    """Per-clip rows of every method, and the outlier rows (robust weights on/off).

    With ``checkpoint``, every finished clip is appended to that file and clips found there are
    not lifted again (an interrupted run resumes).
    """
    rows, outlier_rows = [], []
    done = _done(checkpoint)
    for source in sources:
        try:
            poses = load_source(source)
        except (OSError, KeyError) as err:
            print(f"{source}: skipped ({err})", flush=True)
            continue
        for i, clip in enumerate(clips(poses, n_clips, frames)):
            if (source, i) in done:
                rows += done[(source, i)]["rows"]
                outlier_rows += done[(source, i)]["outlier_rows"]
                continue
            n_rows, n_out = len(rows), len(outlier_rows)
            ds = clip_views(clip, Corruption(), seed=i)
            gt = ds.pose3d_gt.values
            conf = ds.confidence.values
            cache: dict[str, tuple[dict, float]] = {}
            for method in ("frame-by-frame", "sequence", "sequence-keyframes", "frame-by-frame-nonrobust"):
                cache[method] = lift_clip(
                    ds, method, robust="none" if method.endswith("nonrobust") else "geman_mcclure"
                )
            fbf, seconds = cache["frame-by-frame"]
            cache["baseline"] = (
                {
                    "pose": gaussian_over_time(fbf["pose"], BASELINE_SIGMA),
                    "interpolated": fbf["interpolated"],
                },
                seconds,
            )
            for method in METHODS:
                out, sec = cache[method]
                row = {
                    "source": source,
                    "clip": i,
                    "method": method,
                    "frames": len(gt),
                    "seconds": sec,
                    **_scores(out["pose"], gt),
                    "made_up": _made_up(out["pose"], conf, out["interpolated"]),
                    "returned": int(np.isfinite(out["pose"]).all((-1, -2)).sum()),
                }
                rows.append(row)
            has = ds.outlier.values.any(-1) & np.isfinite(fbf["pose"]).all((-1, -2))
            for method in ("frame-by-frame-nonrobust", "frame-by-frame"):
                pose = cache[method][0]["pose"]
                outlier_rows.append(
                    {
                        "source": source,
                        "clip": i,
                        "method": method,
                        "frames_with_outlier": int(has.sum()),
                        **{k: v for k, v in _scores(pose[has], gt[has]).items() if k != "accel"},
                        "mpjpe_clean_frames": _scores(pose[~has], gt[~has])["mpjpe"],
                    }
                )
            print(
                f"{source} clip {i}: "
                + ", ".join(
                    f"{r['method']} {r['mpjpe']:.1f}/{r['accel']:.1f}" for r in rows[-len(METHODS) :]
                ),
                flush=True,
            )
            if checkpoint is not None:
                entry = {
                    "source": source,
                    "clip": i,
                    "rows": rows[n_rows:],
                    "outlier_rows": outlier_rows[n_out:],
                }
                with checkpoint.open("a") as f:
                    f.write(json.dumps(entry) + "\n")
    return rows, outlier_rows


def run_intrinsics(n_clips: int, frames: int) -> list[dict]:
    """S = 1 frame-by-frame MPJPE with the true, the default and the estimated focal length."""
    import torch

    from zedo_xr.datasets import make_views
    from zedo_xr.estimator import lift_arrays
    from zedo_xr.estimator.intrinsics import (
        DEFAULT_FOV_DEG,
        estimate_focal,
        focal_from_fov,
        fov_from_focal,
        intrinsics,
    )
    from zedo_xr.estimator.pipeline import load_model
    from zedo_xr.estimator.settings import resolve_settings

    size = (1000, 1000)
    settings = resolve_settings("default", robust="geman_mcclure")
    model = load_model("default", torch.device("cpu"), torch.float32)
    canonical = model.initial_poses(1)
    rows = []
    for i, clip in enumerate(clips(load_source("cmu-test"), n_clips, frames)):
        for fov in FOVS:
            f_true = focal_from_fov(size, fov)
            ds = make_views(clip, seed=i, camera="fixed", focal=f_true, image_size=size)
            ds = corrupt(ds, Corruption(drop_joints=0.0, outliers=0.0, missing_frames=0.0), i)
            uv, conf = ds.keypoints.values, ds.confidence.values
            with torch.no_grad():
                f_est, _ = estimate_focal(
                    model,
                    canonical,
                    torch.as_tensor(uv, dtype=torch.float32),
                    torch.as_tensor(conf, dtype=torch.float32),
                    size,
                    settings,
                )
            row: dict[str, Any] = {"clip": i, "true_fov": fov, "estimated_fov": fov_from_focal(size, f_est)}
            for name, focal in (
                ("true", f_true),
                ("default", focal_from_fov(size, DEFAULT_FOV_DEG)),
                ("estimated", f_est),
            ):
                K = np.broadcast_to(intrinsics(size, focal, dtype=torch.float64).numpy(), (len(uv), 3, 3))
                out = lift_arrays(uv, conf, np.ascontiguousarray(K), settings=settings, device="cpu")
                s = _scores(out["pose3d"][:, 0], ds.pose3d_gt.values)
                row[f"mpjpe_{name}_K"], row[f"pa_mpjpe_{name}_K"] = s["mpjpe"], s["pa_mpjpe"]
            rows.append(row)
            print(
                f"fov {fov}: est {row['estimated_fov']:.1f}, MPJPE true/default/est "
                f"{row['mpjpe_true_K']:.1f}/{row['mpjpe_default_K']:.1f}/{row['mpjpe_estimated_K']:.1f}",
                flush=True,
            )
    return rows


def _mean_rows(rows: list[dict], keys: tuple[str, ...], by: tuple[str, ...]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in by), []).append(r)
    out = []
    for key, members in groups.items():
        row = dict(zip(by, key, strict=True))
        for k in keys:
            row[k] = float(np.nanmean([m[k] for m in members]))
        out.append(row)
    return out


def summarise(rows: list[dict]) -> list[dict]:
    """Per source and method (and all sources): means of the clip metrics, frames/s, shares."""
    table = []
    for source in [*dict.fromkeys(r["source"] for r in rows), "all"]:
        for method in METHODS:
            mine = [r for r in rows if r["method"] == method and source in ("all", r["source"])]
            if not mine:
                continue
            frames = sum(r["frames"] for r in mine)
            table.append(
                {
                    "source": source,
                    "method": method,
                    "clips": len(mine),
                    "mpjpe": float(np.mean([r["mpjpe"] for r in mine])),
                    "pa_mpjpe": float(np.mean([r["pa_mpjpe"] for r in mine])),
                    "accel": float(np.mean([r["accel"] for r in mine])),
                    "frames_per_second": frames / sum(r["seconds"] for r in mine),
                    "made_up_share": sum(r["made_up"] for r in mine) / frames,
                    "returned_share": sum(r["returned"] for r in mine) / frames,
                }
            )
    return table


def _targets(summary: list[dict]) -> dict[str, Any]:
    by = {r["method"]: r for r in summary if r["source"] == "all"}
    if not {"baseline", "sequence", "frame-by-frame"} <= set(by):
        return {}
    seq, base, fbf = by["sequence"], by["baseline"], by["frame-by-frame"]
    return {
        "mpjpe_reduction_vs_baseline": 1 - seq["mpjpe"] / base["mpjpe"],
        "accel_sequence_over_baseline": seq["accel"] / base["accel"],
        "speedup_vs_frame_by_frame": seq["frames_per_second"] / fbf["frames_per_second"],
        "made_up_share_sequence": seq["made_up_share"],
    }


def run(
    *,
    quick: bool = False,
    intrinsics_check: bool = True,
    sources: tuple[str, ...] = SOURCES,
    work: Path | None = None,
    intrinsic_clips: int = 2,
    write: bool = True,
) -> dict[str, Any]:
    """Measure and write ``results/video.{json,md}``.

    ``work``: a folder for checkpoints (``sources.jsonl``, ``intrinsics.json``); a rerun with the
    same folder resumes, and parts can run in separate processes (``python -m benchmarks.video
    --work DIR --sources hdm05 --no-write``; then one run without ``--no-write`` assembles them).
    """
    import torch

    torch.set_num_threads(1)
    n_clips, frames = (2, 60) if quick else (N_CLIPS, FRAMES)
    rows, outlier_rows = run_sources(
        n_clips, frames, sources, None if work is None else work / "sources.jsonl"
    )
    summary = summarise(rows)
    outliers = _mean_rows(
        outlier_rows, ("frames_with_outlier", "mpjpe", "pa_mpjpe", "mpjpe_clean_frames"), ("method",)
    )
    k_file = None if work is None else work / "intrinsics.json"
    if k_file is not None and k_file.exists():
        k_rows = json.loads(k_file.read_text())
    else:
        k_rows = run_intrinsics(1 if quick else intrinsic_clips, 60) if intrinsics_check else []
        if k_file is not None and k_rows:
            k_file.write_text(json.dumps(k_rows))
    k_summary = _mean_rows(
        k_rows,
        (
            "estimated_fov",
            "mpjpe_true_K",
            "mpjpe_default_K",
            "mpjpe_estimated_K",
            "pa_mpjpe_true_K",
            "pa_mpjpe_estimated_K",
        ),
        ("true_fov",),
    )
    for r in k_summary:
        r["estimated_over_true"] = r["mpjpe_estimated_K"] / r["mpjpe_true_K"]
    payload = {
        "machine": machine(),
        "quick": quick,
        "clips_per_source": n_clips,
        "frames": frames,
        "corruption": Corruption().__dict__,
        "baseline_sigma_frames": BASELINE_SIGMA,
        "summary": summary,
        "targets": _targets(summary),
        "outliers": outliers,
        "intrinsics": k_summary,
        "clip_rows": [r for r in rows if r["source"] != "bandai1"],
        "data": str(SHARED_DATA.name),
    }
    if write:
        write_results("video" + ("_quick" if quick else ""), payload, report(payload))
    return payload


def report(payload: dict[str, Any]) -> str:
    t = payload["targets"]
    md = [
        "# Video: sequence lifting vs frame by frame (S = 1)",
        "",
        f"{payload['clips_per_source']} clips of {payload['frames']} frames per source at 24-30 fps, "
        "one fixed virtual camera per clip (GT-2D protocol), corrupted like a detector: "
        f"{payload['corruption']}. `baseline` = frame-by-frame + Gaussian filter over time "
        f"(sigma {payload['baseline_sigma_frames']} frames). MPJPE / PA-MPJPE in mm over the returned "
        "frames, acceleration error in mm/frame², frames/s with 1 torch thread (same process, "
        "relative only: the machine is shared). `made_up_share`: finite poses on frames without "
        "enough 2D evidence and not flagged `interpolated`.",
        "",
        markdown_table(
            payload["summary"],
            [
                "source",
                "method",
                "clips",
                "mpjpe",
                "pa_mpjpe",
                "accel",
                "frames_per_second",
                "made_up_share",
                "returned_share",
            ],
            floatfmt=".3g",
        ),
        "",
    ]
    if t:
        md += [
            f"Targets (all sources): MPJPE {100 * t['mpjpe_reduction_vs_baseline']:.1f} % lower than the "
            f"baseline (target >= 10 %); acceleration error {t['accel_sequence_over_baseline']:.2f}x the "
            f"baseline's (target <= 1); {t['speedup_vs_frame_by_frame']:.2f}x the frames/s of "
            f"frame-by-frame lifting (target >= 2); made-up share {t['made_up_share_sequence']:.3f} "
            "(target 0).",
            "",
        ]
    md += [
        "## Robust reprojection weights (frames with an injected 30-80 px outlier)",
        "",
        markdown_table(
            payload["outliers"], ["method", "frames_with_outlier", "mpjpe", "pa_mpjpe", "mpjpe_clean_frames"]
        ),
        "",
    ]
    if payload["intrinsics"]:
        md += [
            "## Unknown intrinsics (CMU test, 5 px noise, frame by frame)",
            "",
            markdown_table(
                payload["intrinsics"],
                [
                    "true_fov",
                    "estimated_fov",
                    "mpjpe_true_K",
                    "mpjpe_default_K",
                    "mpjpe_estimated_K",
                    "estimated_over_true",
                ],
                floatfmt=".3g",
            ),
            "",
        ]
    m = payload["machine"]
    md.append(f"Machine: {m.get('cpu_model', m['cpu'])}; torch {m['torch']}. Command: `{m['command']}`.")
    return "\n".join(md)


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.video")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--work", type=Path, help="checkpoint folder (resume, parts in parallel)")
    parser.add_argument("--sources", default=",".join(SOURCES))
    parser.add_argument("--no-intrinsics", action="store_true")
    parser.add_argument("--intrinsics-only", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
    sources = () if args.intrinsics_only else tuple(s for s in args.sources.split(",") if s)
    run(
        quick=args.quick,
        intrinsics_check=not args.no_intrinsics,
        sources=sources,
        work=args.work,
        write=not args.no_write,
    )


if __name__ == "__main__":
    main()
