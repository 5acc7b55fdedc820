"""Small synthetic world poses for the prior tests (no shared data needed)."""

from __future__ import annotations

import numpy as np
import pytest

# A standing H36M-17 pose, world frame (Z up), facing +Y, metres: the subject's right is +X.
TEMPLATE = np.array(
    [
        [0.0, 0.0, 0.95],
        [0.13, 0.0, 0.95],
        [0.14, 0.02, 0.5],
        [0.14, 0.0, 0.08],
        [-0.13, 0.0, 0.95],
        [-0.14, 0.02, 0.5],
        [-0.14, 0.0, 0.08],
        [0.0, 0.0, 1.18],
        [0.0, 0.0, 1.44],
        [0.0, 0.03, 1.56],
        [0.0, 0.0, 1.68],
        [-0.17, 0.0, 1.40],
        [-0.2, 0.0, 1.12],
        [-0.2, 0.03, 0.86],
        [0.17, 0.0, 1.40],
        [0.2, 0.0, 1.12],
        [0.2, 0.03, 0.86],
    ]
)


@pytest.fixture
def world_poses() -> np.ndarray:
    """300 jittered, randomly headed and placed copies of the template, (300, 17, 3)."""
    rng = np.random.default_rng(0)
    n = 300
    poses = TEMPLATE[None] + rng.normal(scale=0.02, size=(n, 17, 3))
    yaw = rng.uniform(0, 2 * np.pi, n)
    c, s = np.cos(yaw), np.sin(yaw)
    R = np.zeros((n, 3, 3))
    R[:, 0, 0], R[:, 0, 1], R[:, 1, 0], R[:, 1, 1], R[:, 2, 2] = c, -s, s, c, 1
    poses = np.einsum("nij,nkj->nki", R, poses)
    poses[:, :, :2] += rng.uniform(-3, 3, size=(n, 1, 2))
    return poses.astype(np.float32)


def two_sources(world_poses: np.ndarray) -> np.ndarray:
    """290 poses of one source and 10 of another (the last ten), told apart by size: 3x."""
    world = world_poses.astype(np.float64).copy()
    world[290:] = world[290:, :1] + 3.0 * (world[290:] - world[290:, :1])
    return world


def small_share(poses: np.ndarray) -> float:
    """Share of ``poses`` (any frame, 17, 3) that come from the small, 3x source."""
    return float((np.abs(poses).max(axis=(1, 2)) > 1.5).mean())
