"""Train (or resume, or export) a zedo-xr pose prior from named sources, logging to a file.

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


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", required=True, help="run directory (checkpoint/ and prior/ inside)")
    ap.add_argument("--sources", nargs="+", default=["cmu-train", "deepmimic", "climb"])
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--steps", type=int, default=30000)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--min-lr-ratio", type=float, default=0.05)
    ap.add_argument("--t-sampling", default="mixed")
    ap.add_argument("--schedule", default="subvp")
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--blocks", type=int, default=2)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--rotation-augmentation", action="store_true")
    ap.add_argument("--bone-length-std", type=float, default=0.0,
                    help="bone-length augmentation: log-normal std of the per-bone length factor")
    ap.add_argument("--kinematic-augmentation", type=float, default=0.0,
                    help="probability of re-posing each part (legs, arms, trunk) of a pose")
    ap.add_argument("--part-recombination", type=float, default=0.0,
                    help="probability of giving a pose another pose's upper body")
    ap.add_argument("--joint-jitter", type=float, default=0.0,
                    help="joint-definition jitter scale (1 = the spread between the sources)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint-every", type=int, default=250)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--init-from", default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--name", default="zedo-xr-default")
    ap.add_argument("--export", default=None, help="only export RUN/checkpoint to this directory")
    ap.add_argument("--half", action="store_true", help="store fp16 weights when exporting")
    ap.add_argument("--note", default=None, help="free-text status note for the exported card")
    args = ap.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    run = Path(args.run)
    run.mkdir(parents=True, exist_ok=True)
    command = "python scripts/train_prior.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))

    if args.export:
        export(run, Path(args.export), args)
        return

    from zedo_xr.prior.train import train_from_sources

    def log(line: str) -> None:
        print(time.strftime("%H:%M:%S"), line, flush=True)

    prior = train_from_sources(
        args.sources, run / "prior", data_root=args.data_root,
        steps=args.steps, batch_size=args.batch_size, lr=args.lr, warmup=args.warmup,
        min_lr_ratio=args.min_lr_ratio, schedule=args.schedule, t_sampling=args.t_sampling,
        rotation_augmentation=args.rotation_augmentation, bone_length_std=args.bone_length_std,
        kinematic_augmentation=args.kinematic_augmentation,
        part_recombination=args.part_recombination, joint_jitter=args.joint_jitter,
        width=args.width, blocks=args.blocks,
        dropout=args.dropout,
        seed=args.seed, checkpoint_dir=run / "checkpoint", checkpoint_every=args.checkpoint_every,
        eval_every=args.eval_every, progress=False, device="cpu", name=args.name,
        init_from=args.init_from, command=command, log=log,
    )
    log("saved " + str(run / "prior") + " " + json.dumps(prior.card.get("quality", {})))


def export(run: Path, out: Path, args) -> None:
    """Checkpoint -> prior directory, with hypotheses of the training data and quality scores."""
    import numpy as np
    import torch

    from zedo_xr.prior.hypotheses import kmeans_hypotheses, random_hypotheses
    from zedo_xr.prior.quality import quality_report
    from zedo_xr.prior.train import (
        _data_hash,
        hardware_description,
        load_sources,
        poses_to_array,
        prior_from_checkpoint,
    )

    prior = prior_from_checkpoint(run / "checkpoint")
    meta = json.loads((run / "checkpoint" / "state.json").read_text())
    poses, provenance = load_sources(args.sources, args.data_root)
    data = poses_to_array(poses)
    if _data_hash(data) != meta["data_hash"]:
        raise SystemExit(f"--sources {args.sources} do not match the checkpoint's data")
    prior.name = args.name
    prior.card["name"] = args.name
    prior.card["data"] = provenance
    prior.card["training"]["frames"] = len(data)
    prior.card["training"]["hardware"] = hardware_description(torch.device("cpu"))
    prior.hypotheses = kmeans_hypotheses(data, seed=0)
    prior.hypotheses[-1] = random_hypotheses(data, 256, seed=0)
    from zedo_xr.io.cmu import load_cmu

    root = Path(args.data_root) if args.data_root else Path(__file__).resolve().parents[2] / "shared" / "data"
    test = poses_to_array(load_cmu(root / "cmu" / "cmu_h36m17.npz", "test"))
    prior.card["quality"] = quality_report(prior, test, train_world=data)
    prior.card["hypotheses"] = {
        "kmeans": "scikit-learn KMeans(n_init=4, random_state=0) on <= 20000 canonicalised "
                  "training poses, sizes 1 (mean pose), 5, 10, 20, 50, largest cluster first",
        "pool": "256 random canonicalised training poses (seed 0), for initial_poses(method='random')",
    }
    cfg = prior.card["training"]
    prior.card["training"]["command"] = training_command(cfg, args)
    prior.card["training"]["export_command"] = (
        f"python scripts/train_prior.py --run {args.run} --sources {' '.join(args.sources)} "
        f"--name {args.name} --export {out}" + (" --half" if args.half else ""))
    prior.card["training"]["resume"] = (
        "re-run the training command: it continues from RUN/checkpoint with no lost steps; "
        "a larger --steps trains longer (the cosine decay then stretches from that point)")
    prior.card["convergence"] = [
        {"step": h["step"], "loss": round(h["loss"], 3), "ema_denoise_mm": h["ema"],
         "raw_denoise_mm": h["raw"], "wall_time_s": h["wall_time_s"]}
        for h in prior.card.pop("history") if "ema" in h]
    prior.card["quality"]["identity_denoiser_mm"] = {
        k: round(1000 * float(prior.marginal(t)[1] / prior.marginal(t)[0]) * 1.5958, 3)
        for k, t in (("t=0.01", 0.01), ("t=0.05", 0.05), ("t=0.1", 0.1))}
    if args.note:
        prior.card["note"] = args.note
    prior.save(out, half=args.half)
    print(json.dumps(prior.card["quality"], indent=1))
    _ = np


def training_command(cfg: dict, args) -> str:
    """The exact command line that trains this checkpoint (from its stored settings)."""
    cmd = [
        "python scripts/train_prior.py", f"--run {args.run}", "--sources " + " ".join(args.sources),
        f"--steps {cfg['steps']}", f"--batch-size {cfg['batch_size']}", f"--lr {cfg['lr']}",
        f"--warmup {cfg['warmup']}", f"--min-lr-ratio {cfg['min_lr_ratio']}",
        f"--t-sampling {cfg['t_sampling']}", f"--schedule {cfg['schedule']}",
        f"--width {cfg['width']}", f"--blocks {cfg['blocks']}", f"--dropout {cfg['dropout']}",
        f"--seed {cfg['seed']}", f"--name {args.name}", "--threads 1",
    ]
    if cfg["rotation_augmentation"]:
        cmd.append("--rotation-augmentation")
    if cfg.get("bone_length_std"):
        cmd.append(f"--bone-length-std {cfg['bone_length_std']}")
    for key in ("kinematic_augmentation", "part_recombination", "joint_jitter"):
        if cfg.get(key):
            cmd.append(f"--{key.replace('_', '-')} {cfg[key]}")
    if cfg.get("init_from"):
        cmd.append(f"--init-from {cfg['init_from']}")
    return " ".join(cmd)


if __name__ == "__main__":
    main()
