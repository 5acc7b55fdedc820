import pytest
import torch

from zedo_xr.estimator.validity import MIN_JOINTS, bridgeable, frame_validity, neighbours
from zedo_xr.skeleton import H36M_JOINTS


def _conf(visible, device, dtype):
    c = torch.zeros(len(H36M_JOINTS), device=device, dtype=dtype)
    c[[H36M_JOINTS.index(j) for j in visible]] = 1.0
    return c


def test_frame_validity_rule(device, dtype):
    arms = ["left_shoulder", "left_elbow", "left_wrist", "right_elbow", "right_wrist", "head"]
    limbs_only = [
        "left_elbow",
        "left_wrist",
        "right_elbow",
        "right_wrist",
        "left_knee",
        "left_ankle",
        "right_knee",
    ]
    c = torch.stack(
        [
            torch.ones(17, device=device, dtype=dtype),
            _conf(arms, device, dtype),  # 6 joints with a shoulder: valid
            _conf(arms[1:], device, dtype),  # 5 joints: too few
            _conf(limbs_only, device, dtype),  # 7 joints but no hip or shoulder
            torch.zeros(17, device=device, dtype=dtype),
        ]
    )
    valid = frame_validity(c)
    assert valid.tolist() == [True, True, False, False, False]
    assert valid.device.type == device.type and valid.dtype == torch.bool
    assert frame_validity(c.reshape(5, 1, 17)).shape == (5, 1)
    assert MIN_JOINTS == 6


def test_frame_validity_errors():
    with pytest.raises(ValueError, match="confidence"):
        frame_validity(torch.ones(3, 16))
    with pytest.raises(ValueError, match="min_joints"):
        frame_validity(torch.ones(3, 17), min_joints=0)


def test_neighbours_and_bridgeable_per_track(device):
    valid = torch.tensor(
        [[True, False], [False, False], [False, True], [True, True], [False, True], [False, False]],
        device=device,
    )
    previous, following = neighbours(valid)
    assert previous[:, 0].tolist() == [0, 0, 0, 3, 3, 3]
    assert following[:, 1].tolist() == [2, 2, 2, 3, 4, 6]
    b = bridgeable(valid, 2)
    assert b[:, 0].tolist() == [False, True, True, False, False, False]
    assert b[:, 1].tolist() == [False] * 6  # leading and trailing gaps are never bridged
    assert not bridgeable(valid, 1)[:, 0].any()  # the gap of 2 is too long for max_gap 1
