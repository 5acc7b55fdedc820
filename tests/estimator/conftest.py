"""A closed-form prior for estimator tests: the exact score of a Gaussian over poses.

If poses are distributed as N(mu, s^2 I) then under the sub-VP SDE the noisy marginal at time t
is N(alpha mu, (alpha^2 s^2 + sigma^2) I), so the optimal noise prediction is
eps(x, t) = sigma (x - alpha mu) / (alpha^2 s^2 + sigma^2). With mu the true pose the estimator
must recover it: a test of the loop and its geometry that needs no trained network.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zedo_xr.skeleton import H36M_JOINTS

B0, B1 = 0.1, 20.0

# A standing person, root-relative, camera axes (y down), facing the camera (right hip at -x).
STANDING = np.array(
    [
        [0.0, 0.0, 0.0],
        [-0.12, 0.0, 0.0],
        [-0.12, 0.44, 0.02],
        [-0.12, 0.88, 0.04],
        [0.12, 0.0, 0.0],
        [0.12, 0.44, 0.02],
        [0.12, 0.88, 0.04],
        [0.0, -0.23, 0.0],
        [0.0, -0.48, 0.0],
        [0.0, -0.58, -0.05],
        [0.0, -0.71, 0.0],
        [0.16, -0.45, 0.0],
        [0.18, -0.18, 0.0],
        [0.2, 0.06, -0.05],
        [-0.16, -0.45, 0.0],
        [-0.18, -0.18, 0.0],
        [-0.2, 0.06, -0.05],
    ]
)
assert STANDING.shape == (len(H36M_JOINTS), 3)


class GaussianPrior:
    """Exact sub-VP noise prediction for poses ~ N(mean, std^2 I), mean root-relative (J, 3)."""

    name = "gaussian-test"
    content_hash = "test"
    kind = "subvp"

    def __init__(self, mean: np.ndarray, std: float = 0.05, centres: np.ndarray | None = None):
        self.mean_np = np.asarray(mean, dtype=float)
        self.std = std
        self.centres = STANDING if centres is None else np.asarray(centres)
        self.device, self.dtype = torch.device("cpu"), torch.float32
        self.calls = 0

    def to(self, device=None, dtype=None):
        self.device = torch.device(device) if device is not None else self.device
        self.dtype = dtype or self.dtype
        return self

    @property
    def mean(self) -> torch.Tensor:
        return torch.as_tensor(self.mean_np, device=self.device, dtype=self.dtype)

    def _B(self, t):
        return B0 * t + 0.5 * (B1 - B0) * t * t

    def beta(self, t):
        return B0 + t * (B1 - B0)

    def marginal(self, t):
        B = self._B(t)
        return torch.exp(-0.5 * B), 1 - torch.exp(-B)

    def g2(self, t):
        return self.beta(t) * (1 - torch.exp(-2 * self._B(t)))

    def eps(self, x, t):
        self.calls += 1
        alpha, sigma = self.marginal(t)
        return sigma * (x - alpha * self.mean) / (alpha**2 * self.std**2 + sigma**2)

    def initial_poses(self, S, method="kmeans", seed=0):
        rng = np.random.default_rng(seed)
        out = [self.centres]
        for _ in range(S - 1):
            out.append(self.centres + rng.normal(0, 0.03, self.centres.shape))
        return torch.as_tensor(np.stack(out), device=self.device, dtype=self.dtype)


def yaw(pose: np.ndarray, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return pose @ R.T


K_H36M = np.array([[1145.0, 0.0, 512.0], [0.0, 1145.0, 515.0], [0.0, 0.0, 1.0]])


def make_scene(n_frames: int = 6, seed: int = 0, depth: float = 5.0):
    """GT root-relative poses (yawed standing poses), absolute poses, keypoints, K."""
    rng = np.random.default_rng(seed)
    angles = rng.uniform(-np.pi, np.pi, n_frames)
    rel = np.stack([yaw(STANDING + rng.normal(0, 0.01, STANDING.shape), a) for a in angles])
    root = np.stack(
        [
            rng.uniform(-0.5, 0.5, n_frames),
            rng.uniform(-0.2, 0.3, n_frames),
            depth + rng.uniform(-0.5, 0.5, n_frames),
        ],
        -1,
    )
    absolute = rel + root[:, None, :]
    proj = absolute @ K_H36M.T
    uv = proj[..., :2] / proj[..., 2:]
    return rel, absolute, uv


@pytest.fixture
def scene():
    return make_scene()
