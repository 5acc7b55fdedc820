"""Draw random pose-space augmented training samples to a PNG, to look at them.

Each cell shows one augmented pose from the front and, to its right, from the side (canonical
frame: upright, facing the viewer; in the side view the subject faces left), right limbs red,
left limbs blue. 512 random poses of the CMU training split go through
``zedo_xr.prior.augment.augment`` with the given settings; the first 16 that changed are drawn
(the others drew no change or failed a plausibility check and stayed as recorded).

Usage::

    python scripts/render_augmented_samples.py --out benchmarks/results/augmented_samples.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from render_prior_samples import grid, write_png


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data-root",
        default=str(Path(__file__).resolve().parents[2] / "shared" / "data"),
        help="folder with cmu/cmu_h36m17.npz",
    )
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kinematic", type=float, default=0.7)
    ap.add_argument("--recombine", type=float, default=0.5)
    ap.add_argument("--joint-jitter", type=float, default=1.0)
    ap.add_argument("--out", default="benchmarks/results/augmented_samples.png")
    args = ap.parse_args(argv)

    import torch

    from zedo_xr.io.cmu import load_cmu
    from zedo_xr.prior.augment import Augmentation, augment
    from zedo_xr.prior.hypotheses import canonicalise

    world = load_cmu(Path(args.data_root) / "cmu" / "cmu_h36m17.npz", "train").values
    rng = np.random.default_rng(args.seed)
    batch = torch.from_numpy(world[rng.choice(len(world), 512, replace=False)])
    settings = Augmentation(
        kinematic=args.kinematic, recombine=args.recombine, joint_jitter=args.joint_jitter
    )
    out = augment(batch, settings, torch.Generator().manual_seed(args.seed))
    changed = (out - batch).abs().amax(dim=(1, 2)) > 1e-6
    print(f"{int(changed.sum())} of {len(batch)} poses changed (the rest failed a check or drew no change)")
    shown = out[changed][: args.n].numpy()
    write_png(args.out, grid(canonicalise(shown).astype(np.float32)))
    print(args.out)


if __name__ == "__main__":
    main()
