"""The ``zedo`` command: ``demo``, ``lift``, ``train``, ``evaluate``.

Errors are reported in one line with a non-zero exit status (``ZEDO_TRACEBACK=1`` shows the
traceback).

Examples
--------
``zedo demo``
    Lift the bundled clip, print scores and speed, write ``zedo-demo/demo.zarr`` and
    ``zedo-demo/demo.html``.
``zedo lift detections.json --K 1145,1145,512,515 --out lifted.zarr``
    Lift COCO-format JSON (COCO, Halpe/AlphaPose, COCO-WholeBody) or OpenPose JSON, a
    VideoPose3D 2D npz, a zarr store of the data model, or a ``(frame, joint, 2|3)`` ``.npy``
    with ``--skeleton``.
``zedo train my_mocap/ --out my-prior --steps 20000``
    Train a prior on your own 3D poses (BVH folder, .npy/.npz, zarr, movement .nc).
``zedo evaluate lifted.zarr``
    Score a lifted store that has ``pose3d_gt``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

FORMATS = ("auto", "zarr", "coco", "openpose", "videopose3d", "numpy")


class UsageError(ValueError):
    """A bad argument or input: reported as one line, exit status 1."""


def _positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (frames, hypotheses, iterations, batch sizes)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (argparse prints the whole usage block first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parse_K(text: str) -> np.ndarray:
    """``fx,fy,cx,cy`` or ``f,cx,cy``, nine numbers row by row, or a ``.npy``/``.json`` file."""
    path = Path(text)
    if path.suffix in (".npy", ".json"):
        if not path.exists():
            raise UsageError(f"--K: no such file {text!r}")
        values = np.load(path) if path.suffix == ".npy" else np.asarray(json.loads(path.read_text()))
        values = np.asarray(values, dtype=float)
        if values.ndim != 1:
            return values  # a 3x3 (or per-frame) matrix, checked by lift
        numbers = values.tolist()  # fx, fy, cx, cy (or f, cx, cy, or 9 numbers) stored in a file
    else:
        try:
            numbers = [float(v) for v in text.replace(" ", "").split(",")]
        except ValueError:
            raise UsageError(f"--K: expected fx,fy,cx,cy or a .npy/.json file, got {text!r}") from None
    if len(numbers) == 3:
        f, cx, cy = numbers
        numbers = [f, f, cx, cy]
    if len(numbers) == 4:
        fx, fy, cx, cy = numbers
        return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    if len(numbers) == 9:
        return np.asarray(numbers).reshape(3, 3)
    raise UsageError(f"--K: expected 3, 4 or 9 numbers (fx,fy,cx,cy), got {len(numbers)}")


def parse_image_size(text: str) -> tuple[int, int]:
    """argparse type: ``WIDTHxHEIGHT`` or ``WIDTH,HEIGHT`` in pixels, e.g. ``1920x1080``."""
    parts = text.lower().replace(" ", "").replace(",", "x").split("x")
    try:
        width, height = (int(v) for v in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT in pixels, got {text!r}") from None
    if width < 1 or height < 1:
        raise argparse.ArgumentTypeError(f"expected positive pixel counts, got {text!r}")
    return width, height


TEMPORAL: dict[str, bool | str] = {"auto": "auto", "on": True, "off": False}
"""``--temporal`` choices and the ``lift(temporal=...)`` value of each."""


def _detect_format(p: Path) -> str:
    if p.suffix == ".zarr" or (p / "zarr.json").exists():
        return "zarr"
    if p.suffix == ".npy":
        return "numpy"
    if p.suffix == ".npz":
        with np.load(p, allow_pickle=False) as data:
            return "videopose3d" if "positions_2d" in data.files else "numpy"
    if p.is_dir() or p.name.endswith("_keypoints.json"):
        return "openpose"
    if p.suffix == ".json":
        try:
            data = json.loads(p.read_text())
        except json.JSONDecodeError as err:
            raise UsageError(f"IN: {p} is not valid JSON ({err})") from None
        return "openpose" if isinstance(data, dict) and "people" in data else "coco"
    raise UsageError(
        f"IN: cannot tell the format of {str(p)!r} from its name; pass --format ({', '.join(FORMATS[1:])})"
    )


def _skeleton_choices(n_joints: int) -> str:
    from zedo_xr.skeleton import SKELETONS

    same = sorted(name for name, sk in SKELETONS.items() if len(sk.joints) == n_joints)
    return f" ({n_joints} joints: {', '.join(same)})" if same else ""


def read_numpy(path: Path, skeleton: str | None = None, fps: float | None = None) -> Any:
    """``(frame, [individual,] joint, 2|3)`` keypoints from ``.npy`` or ``.npz`` as a dataset.

    An ``.npz`` holds ``keypoints`` (or a single array) and optionally ``confidence`` and ``K``.
    A third column is the detector score. The arrays carry no joint names, so ``skeleton``
    names the joint order.
    """
    from zedo_xr.io.keypoints import keypoints_dataset

    extra: dict[str, Any] = {}
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        if "keypoints" not in arrays and len(arrays) != 1:
            raise UsageError(
                f"IN: expected a 'keypoints' array (frame, joint, 2|3) in {path.name}, got "
                f"arrays {sorted(arrays)}"
            )
        keypoints = arrays.pop("keypoints") if "keypoints" in arrays else arrays.popitem()[1]
        extra = {k: arrays[k] for k in ("confidence", "K") if k in arrays}
    else:
        keypoints = np.load(path, allow_pickle=False)
    if skeleton is None:
        n = keypoints.shape[-2] if keypoints.ndim >= 2 else 0
        raise UsageError(
            f"--skeleton: {path.name} holds a plain array without joint names; pass --skeleton "
            f"with the order of its joint axis{_skeleton_choices(n)}"
        )
    return keypoints_dataset(keypoints, skeleton, fps=fps, **extra)


def read_input(path: str, fmt: str = "auto", *, skeleton: str | None = None, fps: float | None = None) -> Any:
    """Read a dataset of the data model: zarr, COCO/OpenPose JSON, VideoPose3D npz, numpy."""
    from zedo_xr import io

    p = Path(path)
    if not p.exists():
        raise UsageError(f"IN: no such file or directory: {path}")
    if fmt == "auto":
        fmt = _detect_format(p)
    if skeleton is not None and fmt not in ("numpy", "coco"):
        raise UsageError(f"--skeleton: only for .npy/.npz and COCO JSON input, got {fmt} input")
    if fmt == "zarr":
        ds = io.open_zarr(p).load()
    elif fmt == "coco":
        ds = io.load_coco_keypoints(p, skeleton=skeleton)
    elif fmt == "openpose":
        ds = io.load_openpose(p, fps=fps)
    elif fmt == "videopose3d":
        ds = io.load_videopose3d_2d(p, fps=fps)
    elif fmt == "numpy":
        ds = read_numpy(p, skeleton, fps)
    else:
        raise UsageError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    if fps is not None:  # every format: the frame rate makes the frames a sequence
        ds.attrs["fps"] = float(fps)
    return ds


def _add_lift_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hypotheses", "-S", type=_positive_int, default=None, help="number of hypotheses")
    p.add_argument(
        "--iterations", type=_positive_int, default=None, help="loop iterations (preset's by default)"
    )
    p.add_argument("--settings", default="default", choices=["default", "parity"], help="preset")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=_positive_int, default=None, help="frames per chunk")
    p.add_argument("--prior", default="default", help="'default' or a prior directory")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _lift_kwargs(args: argparse.Namespace, default_hypotheses: int) -> dict[str, Any]:
    kw: dict[str, Any] = dict(
        hypotheses=args.hypotheses or default_hypotheses,
        settings=args.settings,
        device=args.device,
        seed=args.seed,
        batch_size=args.batch_size,
        prior=args.prior,
        progress=not args.no_progress,
    )
    if args.iterations is not None:
        kw["iterations"] = args.iterations
    return kw


def cmd_demo(args: argparse.Namespace) -> int:
    from zedo_xr.demo import run_demo

    kw = _lift_kwargs(args, default_hypotheses=5)
    summary = run_demo(out=args.out, frames=args.frames, html=not args.no_html, **kw)
    scores = summary["scores_mm"]
    print(
        f"\nzedo demo: {summary['frames']} frames of a CMU jump filmed by a virtual H36M camera, "
        f"S = {summary['hypotheses']}, settings '{summary['settings']}', device {summary['device']}"
    )
    rows = [
        ("MPJPE (best_hypothesis, no GT)", "mpjpe_best_mean"),
        ("PA-MPJPE (best_hypothesis, no GT)", "pa_mpjpe_best_mean"),
        ("MPJPE (oracle min over hypotheses)", "mpjpe_min_mean"),
        ("PA-MPJPE (oracle min)", "pa_mpjpe_min_mean"),
        ("MPJPE (average hypothesis)", "mpjpe_mean"),
    ]
    for label, key in rows:
        if key in scores:
            print(f"  {label:<34} {scores[key]:7.1f} mm")
    print(f"  speed: {summary['frames_per_second']:.1f} frames/s ({summary['seconds']:.1f} s)")
    print(f"\n  lifted clip: {Path(summary['zarr']).resolve()}")
    if "html" in summary:
        html = Path(summary["html"]).resolve()
        print(
            f"  3D viewer:   {html}\n               open it in a web browser (works offline): {html.as_uri()}"
        )
    print(
        "\nNext:\n"
        "  zedo lift detections.json --K fx,fy,cx,cy --out lifted.zarr   lift your own keypoints\n"
        "  python -c \"import zedo_xr; print(zedo_xr.open_zarr('"
        f"{summary['zarr']}'))\"   read the result\n"
        "  zedo lift --help; docs/guide/own-keypoints.md                  formats, K, skeletons"
    )
    return 0


def cmd_lift(args: argparse.Namespace) -> int:
    from zedo_xr.estimator.driver import lift

    ds = read_input(args.input, args.format, skeleton=args.skeleton, fps=args.fps)
    if "pose3d" in ds:  # a lifted store: lift its keypoints again, replacing the old result
        print(f"{args.input} already holds a lift; lifting its keypoints again into {args.out}")
        ds = ds.drop_vars([v for v in ("reprojection_error", "best_hypothesis") if v in ds])
        ds = ds.drop_dims("hypothesis", errors="ignore").drop_vars("pose3d", errors="ignore")
    K = parse_K(args.K) if args.K else None
    image_size_known = {"image_width", "image_height"} <= set(ds.attrs)
    if K is None and "K" not in ds and args.image_size is None and not image_size_known:
        raise UsageError(
            "--K: the input has no intrinsics; pass --K fx,fy,cx,cy (pixels), or "
            "--image-size WIDTHxHEIGHT to estimate them"
        )
    existed = Path(args.out).exists()
    try:
        out = lift(
            ds,
            K=K,
            image_size=args.image_size,
            temporal=TEMPORAL[args.temporal],
            store=args.out,
            overwrite=args.overwrite,
            **_lift_kwargs(args, default_hypotheses=1),
        )
    except KeyboardInterrupt:
        raise KeyboardInterrupt(
            f"finished chunks are in {args.out}; run the same command again to resume"
        ) from None
    except ValueError as err:
        if existed and "store" in str(err):
            raise UsageError(
                f"{err}; {args.out} was started by another call: pass --overwrite "
                "to start over, or another --out"
            ) from None
        raise
    print(f"lifted {out.sizes['frame']} frames x {out.sizes['hypothesis']} hypotheses -> {args.out}")
    if out.attrs.get("zedo_K_source") == "estimated":
        print("K was estimated from the image size (the store's K holds it); pass --K if you know it")
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
    config = from_arguments(args, name=args.name or out.name, command=command, progress=not args.no_progress)
    frames = int(poses.sizes["frame"])
    print(
        f"zedo train: {frames} poses from {len(args.inputs)} input(s), {config.steps} steps; "
        f"checkpoints in {checkpoint} (rerun the same command to resume)",
        flush=True,
    )
    log = None if config.progress else (lambda line: print(line, flush=True))
    prior = train_prior(
        poses, config, eval_poses=held_out, checkpoint_dir=checkpoint, sources=provenance, log=log
    )
    prior.save(out)
    print(
        f"prior written to {out} ({prior.card['training']['steps_done']} steps, "
        f"hash {prior.content_hash[:12]})\n"
        f"use it: zedo lift IN --prior {out} ...   or in Python: "
        f"zedo_xr.lift(ds, prior={str(out)!r}) / zedo_xr.load_prior({str(out)!r})"
    )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from zedo_xr.io.store import open_zarr
    from zedo_xr.metrics import evaluate

    if not Path(args.input).exists():
        raise UsageError(f"IN: no such file or directory: {args.input}")
    ds = open_zarr(args.input).load()
    for var, why in (
        ("pose3d", "lift it first: zedo lift IN --out OUT.zarr"),
        (
            "pose3d_gt",
            "evaluate scores a lift against ground truth; without it, "
            "look at reprojection_error (pixels), which zedo lift writes",
        ),
    ):
        if var not in ds:
            raise UsageError(f"IN: {args.input} has no {var}; {why}")
    scores = evaluate(ds, allow_reflection=args.allow_reflection)
    summary = {k: float(v) for k, v in scores.attrs.items() if k.endswith("_mean")}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for k, v in summary.items():
            print(f"{k:<22} {v:8.2f}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="zedo", description="Zero-shot 2D-to-3D pose lifting (ZeDO).")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="lift the bundled demo clip and report scores and speed")
    _add_lift_options(demo)
    demo.add_argument("--out", default="zedo-demo", help="output directory")
    demo.add_argument("--frames", type=_positive_int, default=None, help="lift only the first N frames")
    demo.add_argument("--no-html", action="store_true", help="skip the HTML viewer")
    demo.set_defaults(func=cmd_demo)

    lift = sub.add_parser(
        "lift",
        help="lift 2D keypoints to a zarr store",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
        "  zedo lift alphapose-results.json --K 1145,1145,512,515 -S 5 --out lifted.zarr\n"
        "  zedo lift keypoints.npy --skeleton coco17 --K K.npy --fps 30 --out lifted.zarr\n"
        "  zedo lift openpose_json/ --K 1200,960,540 --out lifted.zarr\n"
        "  zedo lift video-keypoints.json --image-size 1920x1080 --fps 30 --out lifted.zarr\n"
        "rerun the same command after an interruption to resume.",
    )
    lift.add_argument(
        "input",
        metavar="IN",
        help="zarr store, COCO-format or OpenPose JSON, "
        "VideoPose3D npz, or a .npy/.npz array (frame, joint, 2|3) with --skeleton",
    )
    lift.add_argument("--K", help="intrinsics: fx,fy,cx,cy or a .npy/.json 3x3")
    lift.add_argument("--out", required=True, help="output zarr store (resumed if interrupted)")
    lift.add_argument("--format", default="auto", choices=FORMATS)
    lift.add_argument(
        "--skeleton",
        default=None,
        help="joint order of a .npy/.npz array (e.g. coco17, halpe26, h36m17), or "
        "the joint set of a COCO-format JSON when not told by its keypoint count",
    )
    lift.add_argument(
        "--fps",
        type=float,
        default=None,
        help="frame rate of the video (recorded; with it each person's frames are lifted as a sequence)",
    )
    lift.add_argument(
        "--image-size",
        type=parse_image_size,
        default=None,
        metavar="WxH",
        help="image width and height in pixels: without --K (and without intrinsics in the "
        "input) K is estimated from them",
    )
    lift.add_argument(
        "--temporal",
        default="auto",
        choices=sorted(TEMPORAL),
        help="lift each person's frames as one sequence (smooth, one set of bone lengths, short "
        "gaps bridged); auto: when the frame rate is known (--fps or the input's)",
    )
    lift.add_argument(
        "--overwrite", action="store_true", help="replace an existing --out store instead of resuming it"
    )
    _add_lift_options(lift)
    lift.set_defaults(func=cmd_lift)

    train = sub.add_parser("train", help="train a pose prior on 3D poses (resumable)")
    train.add_argument(
        "inputs",
        nargs="+",
        metavar="IN",
        help="3D poses: .npy/.npz (frame, joint, 3), a zarr store, a movement "
        "dataset (.nc), a .bvh file or a folder of .bvh files",
    )
    train.add_argument("--out", required=True, help="output prior directory")
    train.add_argument(
        "--skeleton", default=None, help="joint set of the inputs when not H36M-17 (e.g. smpl24, coco17)"
    )
    train.add_argument(
        "--units",
        default="auto",
        choices=["auto", "m", "cm", "mm", "inch"],
        help="length unit of the inputs (auto: from the thigh length)",
    )
    train.add_argument(
        "--eval",
        nargs="+",
        default=None,
        metavar="FILE",
        help="held-out 3D poses: periodic denoising error and the card's scores",
    )
    train.add_argument(
        "--checkpoint", default=None, help="training state directory (default OUT.checkpoint beside OUT)"
    )
    train.add_argument("--name", default=None, help="the prior's name (default: OUT's name)")
    train.add_argument(
        "--no-progress",
        action="store_true",
        help="print a JSON line every 100 steps instead of a progress bar",
    )
    from zedo_xr.prior.config import add_arguments

    add_arguments(train)
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", help="score a lifted zarr store against pose3d_gt")
    evaluate.add_argument("input", metavar="IN")
    evaluate.add_argument("--json", action="store_true")
    evaluate.add_argument(
        "--allow-reflection",
        action="store_true",
        help="PA-MPJPE may mirror (parity with the official evaluation)",
    )
    evaluate.set_defaults(func=cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``zedo``; errors are one line on stderr and a non-zero exit status.

    ``ZEDO_TRACEBACK=1`` shows the full traceback of an error instead.
    """
    args = build_parser().parse_args(argv)
    prog = f"zedo {args.command}"
    try:
        return int(args.func(args))
    except KeyboardInterrupt as err:
        print(f"{prog}: interrupted" + (f"; {err}" if str(err) else ""), file=sys.stderr)
        return 130
    except Exception as err:
        if os.environ.get("ZEDO_TRACEBACK"):
            raise
        print(f"{prog}: error: {_one_line(err)}", file=sys.stderr)
        return 1


def _one_line(err: Exception) -> str:
    from zedo_xr.schema import SchemaError

    if isinstance(err, FileNotFoundError) and err.filename:
        return f"no such file or directory: {err.filename}"
    text = " ".join(str(err).split()) or type(err).__name__
    if isinstance(err, UsageError | SchemaError | ValueError | OSError):
        return text
    return (
        f"{type(err).__name__}: {text} (unexpected: rerun with ZEDO_TRACEBACK=1 to see where, "
        "and please report it)"
    )


if __name__ == "__main__":
    sys.exit(main())
