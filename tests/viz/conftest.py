"""A synthetic lifted clip for the viewer tests (and the browser check in tests/browser)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from zedo_xr import schema
from zedo_xr.io.keypoints import keypoints_dataset
from zedo_xr.skeleton import H36M_JOINTS

# A standing person in canonical camera axes (y down, facing the camera, right hip at -x), metres.
STANDING = {
    "pelvis": (0.0, 0.0, 0.0),
    "right_hip": (-0.13, 0.0, 0.0),
    "right_knee": (-0.13, 0.45, 0.0),
    "right_ankle": (-0.13, 0.88, 0.02),
    "left_hip": (0.13, 0.0, 0.0),
    "left_knee": (0.13, 0.45, 0.0),
    "left_ankle": (0.13, 0.88, 0.02),
    "spine": (0.0, -0.23, 0.0),
    "thorax": (0.0, -0.48, 0.0),
    "neck": (0.0, -0.58, -0.04),
    "head": (0.0, -0.75, 0.0),
    "left_shoulder": (0.18, -0.45, 0.0),
    "left_elbow": (0.22, -0.2, 0.0),
    "left_wrist": (0.24, 0.03, -0.02),
    "right_shoulder": (-0.18, -0.45, 0.0),
    "right_elbow": (-0.22, -0.2, 0.0),
    "right_wrist": (-0.24, 0.03, -0.02),
}
K = np.array([[1145.0, 0.0, 500.0], [0.0, 1145.0, 500.0], [0.0, 0.0, 1.0]])
N_POINTS = 25  # the bones as 5 polylines (trunk, 2 legs, 2 arms) with 4 gaps between them
N_GAPS = 4


def lifted(n_frame: int = 12, n_hyp: int = 3, *, gt: bool = True, seed: int = 0) -> xr.Dataset:
    """A lifted dataset: a standing person waving an arm, 5 m in front of the camera."""
    rng = np.random.default_rng(seed)
    base = np.array([STANDING[j] for j in H36M_JOINTS])
    t = np.arange(n_frame)
    truth = np.repeat(base[None], n_frame, axis=0) + np.array([0.0, 0.1, 5.0])
    wrist = H36M_JOINTS.index("left_wrist")
    truth[:, wrist, 0] += 0.3 * np.sin(t / 3.0)
    truth[:, wrist, 1] -= 0.4 * (1 - np.cos(t / 3.0))
    pose = truth[:, None] + rng.normal(0.0, 0.02, (n_frame, n_hyp, 17, 3))
    uv_h = truth @ K.T
    kp = uv_h[..., :2] / uv_h[..., 2:]
    ds = keypoints_dataset(kp, K=K, pose3d_gt=truth if gt else None, fps=25.0)
    ds[schema.POSE3D] = xr.DataArray(pose, dims=(schema.FRAME, schema.HYPOTHESIS, schema.JOINT, schema.COORD))
    ds = ds.assign_coords(
        {schema.HYPOTHESIS: np.arange(n_hyp), schema.COORD: schema.labels(schema.COORDS_3D)}
    )
    proj = pose @ K.T
    err = np.linalg.norm(proj[..., :2] / proj[..., 2:] - kp[:, None], axis=-1).mean(-1)
    ds[schema.REPROJECTION_ERROR] = ((schema.FRAME, schema.HYPOTHESIS), err)
    ds[schema.BEST_HYPOTHESIS] = ((schema.FRAME,), err.argmin(axis=1))
    return ds


def without_pose(ds: xr.Dataset, frames: slice) -> xr.Dataset:
    """``ds`` with no pose in ``frames``, as a lift marks frames with too few visible joints."""
    out = ds.copy(deep=True)
    out["pose3d"][{"frame": frames}] = np.nan
    out["reprojection_error"][{"frame": frames}] = np.nan
    out["best_hypothesis"][{"frame": frames}] = -1
    out["valid"] = ("frame",), np.ones(out.sizes["frame"], dtype=bool)
    out["valid"][{"frame": frames}] = False
    return out


@pytest.fixture(scope="module")
def ds() -> xr.Dataset:
    return lifted()
