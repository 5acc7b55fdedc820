"""The ``zedo`` command: ``demo``, ``lift``, ``train``, ``evaluate``.

Examples
--------
``zedo demo``
    Lift the bundled clip, print scores and speed, write ``zedo-demo/demo.zarr`` and
    ``zedo-demo/demo.html``.
``zedo lift detections.json --K 1145,1145,512,515 --out lifted.zarr``
    Lift COCO or OpenPose JSON, a VideoPose3D 2D npz, or a zarr store of the data model.
``zedo train my_mocap/ --out my-prior --steps 20000``
    Train a prior on your own 3D poses (BVH folder, .npy/.npz, zarr, movement .nc).
``zedo evaluate lifted.zarr``
    Score a lifted store that has ``pose3d_gt``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np


def parse_K(text: str) -> np.ndarray:
    """``fx,fy,cx,cy`` or ``f,cx,cy``, nine numbers row by row, or a ``.npy``/``.json`` file."""
    path = Path(text)
    if path.suffix in (".npy", ".json") and path.exists():
        values = np.load(path) if path.suffix == ".npy" else np.asarray(json.loads(path.read_text()))
        return np.asarray(values, dtype=float)
    try:
        numbers = [float(v) for v in text.replace(" ", "").split(",")]
    except ValueError:
        raise SystemExit(f"--K: expected fx,fy,cx,cy or a .npy/.json file, got {text!r}") from None
    if len(numbers) == 3:
        f, cx, cy = numbers
        numbers = [f, f, cx, cy]
    if len(numbers) == 4:
        fx, fy, cx, cy = numbers
        return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    if len(numbers) == 9:
        return np.asarray(numbers).reshape(3, 3)
    raise SystemExit(f"--K: expected 3, 4 or 9 numbers, got {len(numbers)}")


def read_input(path: str, fmt: str = "auto") -> Any:
    """Read a dataset of the data model from zarr, COCO/OpenPose JSON or VideoPose3D 2D npz."""
    from zedo_xr import io

    p = Path(path)
    if fmt == "auto":
        if p.suffix == ".zarr" or (p / "zarr.json").exists():
            fmt = "zarr"
        elif p.suffix == ".npz":
            fmt = "videopose3d"
        elif p.is_dir() or p.name.endswith("_keypoints.json"):
            fmt = "openpose"
        elif p.suffix == ".json":
            data = json.loads(p.read_text())
            fmt = "openpose" if isinstance(data, dict) and "people" in data else "coco"
        else:
            raise SystemExit(f"IN: cannot tell the format of {path!r}; pass --format")
    if fmt == "zarr":
        return io.open_zarr(p).load()
    if fmt == "coco":
        return io.load_coco_keypoints(p)
    if fmt == "openpose":
        return io.load_openpose(p)
    if fmt == "videopose3d":
        return io.load_videopose3d_2d(p)
    raise SystemExit(f"--format: expected auto, zarr, coco, openpose or videopose3d, got {fmt!r}")


def _add_lift_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hypotheses", "-S", type=int, default=None, help="number of hypotheses")
    p.add_argument("--iterations", type=int, default=None, help="loop iterations (preset's by default)")
    p.add_argument("--settings", default="default", choices=["default", "parity"], help="preset")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=None, help="frames per chunk")
    p.add_argument("--prior", default="default", help="'default' or a prior directory")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _lift_kwargs(args: argparse.Namespace, default_hypotheses: int) -> dict[str, Any]:
    kw: dict[str, Any] = dict(
        hypotheses=args.hypotheses or default_hypotheses, settings=args.settings, device=args.device,
        seed=args.seed, batch_size=args.batch_size, prior=args.prior, progress=not args.no_progress,
    )
    if args.iterations is not None:
        kw["iterations"] = args.iterations
    return kw


def cmd_demo(args: argparse.Namespace) -> int:
    from zedo_xr.demo import run_demo

    kw = _lift_kwargs(args, default_hypotheses=5)
    summary = run_demo(out=args.out, frames=args.frames, html=not args.no_html, **kw)
    scores = summary["scores_mm"]
    print(f"\nzedo demo: {summary['frames']} frames of a CMU jump filmed by a virtual H36M camera, "
          f"S = {summary['hypotheses']}, settings '{summary['settings']}', device {summary['device']}")
    rows = [("MPJPE (best_hypothesis, no GT)", "mpjpe_best_mean"),
            ("PA-MPJPE (best_hypothesis, no GT)", "pa_mpjpe_best_mean"),
            ("MPJPE (oracle min over hypotheses)", "mpjpe_min_mean"),
            ("PA-MPJPE (oracle min)", "pa_mpjpe_min_mean"),
            ("MPJPE (average hypothesis)", "mpjpe_mean")]
    for label, key in rows:
        if key in scores:
            print(f"  {label:<34} {scores[key]:7.1f} mm")
    print(f"  speed: {summary['frames_per_second']:.1f} frames/s ({summary['seconds']:.1f} s)")
    print(f"  wrote {summary['zarr']}" + (f" and {summary['html']}" if "html" in summary else ""))
    return 0


def cmd_lift(args: argparse.Namespace) -> int:
    from zedo_xr.estimator.driver import lift

    ds = read_input(args.input, args.format)
    K = parse_K(args.K) if args.K else None
    if K is None and "K" not in ds:
        raise SystemExit("--K: the input has no intrinsics; pass --K fx,fy,cx,cy")
    out = lift(ds, K=K, store=args.out, **_lift_kwargs(args, default_hypotheses=1))
    print(f"lifted {out.sizes['frame']} frames x {out.sizes['hypothesis']} hypotheses -> {args.out}")
    return 0


def _train_argv(args: argparse.Namespace) -> list[str]:
    """The options that matter for the weights, for the card's ``command``."""
    import dataclasses

    from zedo_xr.prior.config import TrainConfig

    argv = [*args.inputs, "--out", args.out]
    for name in ("skeleton", "units"):
        if getattr(args, name) not in (None, "auto"):
            argv += [f"--{name}", str(getattr(args, name))]
    for f in dataclasses.fields(TrainConfig):
        value = getattr(args, f.name, None)
        if value is None or not f.metadata["recipe"]:
            continue
        flag = "--" + f.name.replace("_", "-")
        if isinstance(value, bool):
            argv.append(flag if value else "--no-" + flag[2:])
        else:
            argv += [flag, *(str(v) for v in (value if isinstance(value, list) else [value]))]
    return argv


def cmd_train(args: argparse.Namespace) -> int:
    import shlex

    from zedo_xr.io.poses3d import load_training_poses
    from zedo_xr.prior.config import from_arguments
    from zedo_xr.prior.train import train_prior

    out = Path(args.out)
    checkpoint = Path(args.checkpoint) if args.checkpoint else out.with_name(out.name + ".checkpoint")
    poses, provenance = load_training_poses(args.inputs, skeleton=args.skeleton, units=args.units)
    held_out = None
    if args.eval:
        held_out = load_training_poses(args.eval, skeleton=args.skeleton, units=args.units)[0]
    command = "zedo train " + " ".join(shlex.quote(a) for a in _train_argv(args))
    config = from_arguments(args, name=args.name or out.name, command=command,
                            progress=not args.no_progress)
    frames = int(poses.sizes["frame"])
    print(f"zedo train: {frames} poses from {len(args.inputs)} input(s), {config.steps} steps; "
          f"checkpoints in {checkpoint} (rerun the same command to resume)", flush=True)
    log = None if config.progress else (lambda line: print(line, flush=True))
    prior = train_prior(poses, config, eval_poses=held_out, checkpoint_dir=checkpoint,
                        sources=provenance, log=log)
    prior.save(out)
    print(f"prior written to {out} ({prior.card['training']['steps_done']} steps, "
          f"hash {prior.content_hash[:12]})\n"
          f"use it: zedo lift IN --prior {out} ...   or in Python: "
          f"zedo_xr.lift(ds, prior={str(out)!r}) / zedo_xr.load_prior({str(out)!r})")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from zedo_xr.io.store import open_zarr
    from zedo_xr.metrics import evaluate

    scores = evaluate(open_zarr(args.input).load(), allow_reflection=args.allow_reflection)
    summary = {k: float(v) for k, v in scores.attrs.items() if k.endswith("_mean")}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for k, v in summary.items():
            print(f"{k:<22} {v:8.2f}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zedo", description="Zero-shot 2D-to-3D pose lifting (ZeDO).")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="lift the bundled demo clip and report scores and speed")
    _add_lift_options(demo)
    demo.add_argument("--out", default="zedo-demo", help="output directory")
    demo.add_argument("--frames", type=int, default=None, help="lift only the first N frames")
    demo.add_argument("--no-html", action="store_true", help="skip the HTML viewer")
    demo.set_defaults(func=cmd_demo)

    lift = sub.add_parser("lift", help="lift 2D keypoints to a zarr store")
    lift.add_argument("input", metavar="IN", help="zarr store, COCO/OpenPose JSON, or VideoPose3D npz")
    lift.add_argument("--K", help="intrinsics: fx,fy,cx,cy or a .npy/.json 3x3")
    lift.add_argument("--out", required=True, help="output zarr store (resumed if interrupted)")
    lift.add_argument("--format", default="auto", choices=["auto", "zarr", "coco", "openpose", "videopose3d"])
    _add_lift_options(lift)
    lift.set_defaults(func=cmd_lift)

    train = sub.add_parser("train", help="train a pose prior on 3D poses (resumable)")
    train.add_argument("inputs", nargs="+", metavar="IN",
                       help="3D poses: .npy/.npz (frame, joint, 3), a zarr store, a movement "
                            "dataset (.nc), a .bvh file or a folder of .bvh files")
    train.add_argument("--out", required=True, help="output prior directory")
    train.add_argument("--skeleton", default=None,
                       help="joint set of the inputs when not H36M-17 (e.g. smpl24, coco17)")
    train.add_argument("--units", default="auto", choices=["auto", "m", "cm", "mm", "inch"],
                       help="length unit of the inputs (auto: from the thigh length)")
    train.add_argument("--eval", nargs="+", default=None, metavar="FILE",
                       help="held-out 3D poses: periodic denoising error and the card's scores")
    train.add_argument("--checkpoint", default=None,
                       help="training state directory (default OUT.checkpoint beside OUT)")
    train.add_argument("--name", default=None, help="the prior's name (default: OUT's name)")
    train.add_argument("--no-progress", action="store_true",
                       help="print a JSON line every 100 steps instead of a progress bar")
    from zedo_xr.prior.config import add_arguments

    add_arguments(train)
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", help="score a lifted zarr store against pose3d_gt")
    evaluate.add_argument("input", metavar="IN")
    evaluate.add_argument("--json", action="store_true")
    evaluate.add_argument("--allow-reflection", action="store_true",
                          help="PA-MPJPE may mirror (parity with the official evaluation)")
    evaluate.set_defaults(func=cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
