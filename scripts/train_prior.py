"""Train (or resume, or export) a zedo-xr pose prior on the repository's named sources.

The training settings are :class:`zedo_xr.prior.config.TrainConfig`'s, the same options as
``zedo train`` (``--steps``, ``--width``, ``--kinematic-augmentation``, ...; see ``--help``);
this script only adds the development sources by name (``scripts/sources.py``), a run directory
and the export of a checkpoint with the card's held-out scores.

Resumable: re-running the same command continues from ``RUN/checkpoint`` with no lost steps.

Examples
--------
Train the default prior (CPU, in the background)::

    nohup python scripts/train_prior.py --run runs/default --sources cmu-train deepmimic climb \
        --steps 30000 --batch-size 256 --dropout 0 --threads 1 > runs/default.log 2>&1 &

Export the current checkpoint as a prior directory (k-means centres + held-out quality)::

    python scripts/train_prior.py --run runs/default --export zedo_xr/prior/default --half
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sources import load_source, load_sources, weights_licence

from zedo_xr.prior.config import add_arguments, from_arguments


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", required=True, help="run directory (checkpoint/ and prior/ inside)")
    ap.add_argument("--sources", nargs="+", default=["cmu-train", "deepmimic", "climb"])
    ap.add_argument("--data-root", default=None, help="folder of the sources (default ../shared/data)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads")
    ap.add_argument("--name", default="zedo-xr-default", help="the prior's name in its card")
    ap.add_argument("--export", default=None, help="only export RUN/checkpoint to this directory")
    ap.add_argument("--half", action="store_true", help="store fp16 weights when exporting")
    ap.add_argument("--note", default=None, help="free-text status note for the exported card")
    add_arguments(ap)
    return ap


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    run = Path(args.run)
    run.mkdir(parents=True, exist_ok=True)
    command = "python scripts/train_prior.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    if args.export:
        export(run, Path(args.export), args, command)
        return

    from zedo_xr.prior import train_prior

    def log(line: str) -> None:
        print(time.strftime("%H:%M:%S"), line, flush=True)

    config = from_arguments(
        args,
        checkpoint_every=250,
        eval_every=500,
        progress=False,
        device="cpu",
        name=args.name,
        command=command,
    )
    poses, provenance = load_sources(args.sources, args.data_root)
    prior = train_prior(
        poses,
        config,
        eval_poses=load_source("cmu-test", args.data_root),
        checkpoint_dir=run / "checkpoint",
        sources=provenance,
        log=log,
    )
    prior.save(run / "prior")
    log("saved " + str(run / "prior") + " " + json.dumps(prior.card.get("quality", {})))


def export(run: Path, out: Path, args: argparse.Namespace, command: str) -> None:
    """Checkpoint -> prior directory, with hypotheses of the training data and quality scores."""
    import torch

    from zedo_xr.prior.hypotheses import MAX_POSES, training_hypotheses
    from zedo_xr.prior.quality import quality_report
    from zedo_xr.prior.state import data_hash, hardware_description, prior_from_checkpoint, read_meta
    from zedo_xr.prior.train import frame_sources, poses_to_array, source_weights

    prior = prior_from_checkpoint(run / "checkpoint")
    meta = read_meta(run / "checkpoint")
    poses, provenance = load_sources(args.sources, args.data_root)
    data = poses_to_array(poses)
    if data_hash(data) != meta["data_hash"]:
        raise SystemExit(f"--sources {args.sources} do not match the checkpoint's data")
    prior.name = args.name
    prior.card.update(name=args.name, data=provenance, licence=weights_licence(args.sources))
    prior.card["training"].update(
        frames=len(data), hardware=hardware_description(torch.device("cpu")), export_command=command
    )
    balance = float(prior.card["training"].get("source_balance", 0.0))
    codes = frame_sources(poses) if balance > 0 else None
    weights = None if codes is None else source_weights(codes, balance).numpy()
    prior.hypotheses = training_hypotheses(data, weights=weights, seed=0)
    test = poses_to_array(load_source("cmu-test", args.data_root))
    prior.card["quality"] = quality_report(
        prior, test, train_world=data, held_out_name="CMU test split (valid frames)"
    )
    prior.card["hypotheses"] = {
        "kmeans": f"scikit-learn KMeans(n_init=4, random_state=0) on <= {MAX_POSES} canonicalised "
        "training poses, sizes 1 (mean pose), 5, 10, 20, 50, largest cluster first",
        "pool": "256 random canonicalised training poses (seed 0), for initial_poses(method='random')",
        "draw": f"{MAX_POSES} poses drawn with the training's source weights (source_balance "
        f"{balance}), with replacement"
        if weights is not None
        else "every training pose alike",
    }
    prior.card["training"]["resume"] = (
        "re-run the training command: it continues from RUN/checkpoint with no lost steps; "
        "a larger --steps trains longer (the cosine decay then stretches from that point)"
    )
    prior.card["convergence"] = [
        {
            "step": h["step"],
            "loss": round(h["loss"], 3),
            "ema_denoise_mm": h["ema"],
            "raw_denoise_mm": h["raw"],
            "wall_time_s": h["wall_time_s"],
        }
        for h in prior.card.pop("history")
        if "ema" in h
    ]
    prior.card["quality"]["identity_denoiser_mm"] = {
        k: round(1000 * float(prior.marginal(t)[1] / prior.marginal(t)[0]) * 1.5958, 3)
        for k, t in (("t=0.01", 0.01), ("t=0.05", 0.05), ("t=0.1", 0.1))
    }
    if args.note:
        prior.card["note"] = args.note
    prior.save(out, half=args.half)
    print(json.dumps(prior.card["quality"], indent=1))


if __name__ == "__main__":
    main()
