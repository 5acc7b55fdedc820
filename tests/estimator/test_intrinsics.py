import math

import numpy as np
import pytest
import torch

from tests.estimator.conftest import K_H36M, GaussianPrior
from tests.estimator.test_sequence import SETTINGS, track_scene
from zedo_xr.estimator.intrinsics import (
    DEFAULT_FOV_DEG,
    FOV_GRID_DEG,
    estimate_focal,
    focal_from_fov,
    fov_from_focal,
    intrinsics,
)


def test_focal_and_fov_round_trip():
    f = focal_from_fov((1000, 800), 60.0)
    assert f == pytest.approx(500 / math.tan(math.radians(30)))
    assert fov_from_focal((1000, 800), f) == pytest.approx(60.0)
    with pytest.raises(ValueError, match="image_size"):
        focal_from_fov((0, 10), 60.0)
    with pytest.raises(ValueError, match="image_size"):
        focal_from_fov("big", 60.0)
    with pytest.raises(ValueError, match="fov_deg"):
        focal_from_fov((10, 10), 180.0)


def test_intrinsics_shapes(device, dtype):
    K = intrinsics((640, 480), torch.tensor([500.0, 600.0]), device=device, dtype=dtype)
    assert K.shape == (2, 3, 3) and K.dtype == dtype and K.device.type == device.type
    assert K[1, 0, 0] == 600 and K[0, 0, 2] == 320 and K[0, 1, 2] == 240 and K[0, 2, 2] == 1


def test_estimate_focal_scores_every_candidate(device):
    rel, absolute, uv = track_scene(F=8)
    # The scene's camera: f = 1145 px on a 1024 px wide image, about 48 degrees.
    u = torch.as_tensor(uv[:, 0], device=device, dtype=torch.float64)
    c = torch.ones(8, 17, device=device, dtype=torch.float64)
    prior = GaussianPrior(rel[0, 0], std=0.05).to(device, torch.float64)
    size = (2 * K_H36M[0, 2], 2 * K_H36M[1, 2])
    f, scores = estimate_focal(prior, prior.initial_poses(1), u, c, size, SETTINGS, frames=4, iterations=20)
    assert scores["score"].shape == (len(FOV_GRID_DEG),) and scores["focal"].shape == (len(FOV_GRID_DEG),)
    assert np.isfinite(scores["score"].cpu().numpy()).all()
    assert focal_from_fov(size, FOV_GRID_DEG[-1]) <= f <= focal_from_fov(size, FOV_GRID_DEG[0])
    # Leaving the default takes a clear gain; an impossible gain keeps it.
    f_default, _ = estimate_focal(
        prior, prior.initial_poses(1), u, c, size, SETTINGS, frames=4, iterations=20, min_gain=1.0
    )
    assert f_default == pytest.approx(focal_from_fov(size, DEFAULT_FOV_DEG))
    # No valid frame: the default, without scores.
    f_none, s_none = estimate_focal(prior, prior.initial_poses(1), u, torch.zeros_like(c), size, SETTINGS)
    assert f_none == pytest.approx(focal_from_fov(size, DEFAULT_FOV_DEG)) and s_none == {}
