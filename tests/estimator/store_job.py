"""A lift into a store, run as a subprocess by the fault-injection tests (which SIGKILL it).

``python -m tests.estimator.store_job STORE FRAMES BATCH ITERATIONS``
"""

from __future__ import annotations

import sys

from tests.estimator.conftest import K_H36M, GaussianPrior, make_scene


def scene_dataset(frames: int):
    from zedo_xr.io.keypoints import keypoints_dataset

    rel, absolute, uv = make_scene(frames, seed=11)
    return keypoints_dataset(uv, K=K_H36M, pose3d_gt=absolute), GaussianPrior(rel[0])


def main(argv: list[str]) -> int:
    from zedo_xr.estimator.driver import lift

    store, frames, batch, iterations = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    ds, prior = scene_dataset(frames)
    lift(
        ds,
        prior=prior,
        hypotheses=2,
        store=store,
        batch_size=batch,
        iterations=iterations,
        progress=False,
        device="cpu",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
