"""The hypothesis choice (``best_hypothesis``) run on every lift: shapes, rules on constructed
evidence, device and dtype."""

import numpy as np
import pytest
import torch

from tests.estimator.conftest import K_H36M, STANDING, GaussianPrior, make_scene, yaw
from zedo_xr.estimator.select import (
    RULES,
    consensus_score,
    select_hypothesis,
    selection_score,
)


def _hypotheses(device, dtype, F=4, S=5, outlier=2, seed=0):
    """F frames of S hypotheses: S-1 close to the standing pose, one (``outlier``) turned away.

    Also returns the index of the medoid of the close ones (the smallest perturbation).
    """
    rng = np.random.default_rng(seed)
    scales = np.linspace(0.002, 0.02, S)
    rng.shuffle(scales)
    poses = np.stack([STANDING + rng.normal(0, s, STANDING.shape) for s in scales])
    poses[outlier] = yaw(STANDING, 2.5)
    poses = np.broadcast_to(poses, (F, *poses.shape)).copy()
    # A translation per hypothesis: the score is about shape, not position.
    poses += rng.normal(0, 1.0, (F, S, 1, 3))
    return torch.as_tensor(poses, device=device, dtype=dtype), int(
        np.argmin(np.where(np.arange(S) == outlier, np.inf, scales))
    )


def _evidence(device, dtype, F, S):
    g = torch.Generator().manual_seed(0)
    reproj = (torch.rand(F, S, generator=g) * 10 + 1).to(device, dtype)
    residual = (torch.rand(F, S, generator=g) + 0.5).to(device, dtype)
    return reproj, residual


def test_consensus_score_shape_device_dtype(device, dtype):
    relative, _ = _hypotheses(device, dtype, F=3, S=4)
    score = consensus_score(relative)
    assert score.shape == (3, 4)
    assert score.device.type == device.type and score.dtype == dtype
    assert torch.isfinite(score).all() and (score >= 0).all()


def test_consensus_picks_the_medoid_not_the_outlier(device, dtype):
    relative, medoid = _hypotheses(device, dtype, F=2, S=5, outlier=2)
    score = consensus_score(relative)
    # The pose turned away is farthest from all the others.
    assert (score.argmax(-1) == 2).all()
    chosen = select_hypothesis(
        "consensus",
        reprojection_error=torch.zeros(2, 5, device=device, dtype=dtype),
        residual=torch.zeros(2, 5, device=device, dtype=dtype),
        relative=relative,
    )
    assert chosen.shape == (2,) and chosen.dtype == torch.int64 and chosen.device.type == device.type
    assert (chosen != 2).all()
    assert (chosen == medoid).all()


def test_consensus_ignores_root_position_and_follows_permutations(device, dtype):
    relative, _ = _hypotheses(device, dtype, F=2, S=4)
    shifted = relative + torch.tensor([3.0, -1.0, 7.0], device=device, dtype=dtype)
    torch.testing.assert_close(consensus_score(shifted), consensus_score(relative), atol=1e-4, rtol=1e-4)
    perm = torch.tensor([3, 0, 2, 1], device=device)
    torch.testing.assert_close(consensus_score(relative[:, perm]), consensus_score(relative)[:, perm])


def test_single_hypothesis_is_always_chosen(device, dtype):
    relative, _ = _hypotheses(device, dtype, F=3, S=1, outlier=0)
    reproj, residual = _evidence(device, dtype, 3, 1)
    energy = torch.ones(3, 1, device=device, dtype=dtype)  # the prior-aware rules' evidence
    for rule in RULES:
        chosen = select_hypothesis(
            rule,
            reprojection_error=reproj,
            residual=residual,
            relative=relative,
            energy=energy,
            size_reference=1.0,
            initial_error=reproj,
        )
        assert chosen.tolist() == [0, 0, 0]


def test_reprojection_and_residual_rules_take_the_smallest(device, dtype):
    relative, _ = _hypotheses(device, dtype, F=6, S=5)
    reproj, residual = _evidence(device, dtype, 6, 5)
    ev = dict(reprojection_error=reproj, residual=residual, relative=relative)
    assert select_hypothesis("reprojection", **ev).tolist() == reproj.argmin(-1).tolist()
    assert select_hypothesis("residual", **ev).tolist() == residual.argmin(-1).tolist()


def test_combined_prefers_the_hypothesis_best_on_every_score(device, dtype):
    relative, medoid = _hypotheses(device, dtype, F=4, S=5, outlier=4)
    reproj = torch.full((4, 5), 8.0, device=device, dtype=dtype)
    residual = torch.full((4, 5), 1.0, device=device, dtype=dtype)
    reproj[:, medoid] = 2.0
    residual[:, medoid] = 0.6
    score = selection_score("combined", reprojection_error=reproj, residual=residual, relative=relative)
    assert score.shape == (4, 5) and score.dtype == dtype
    assert (score.argmin(-1) == medoid).all()
    # Units do not decide: pixels scaled by 1000 give the same choice.
    scaled = selection_score(
        "combined", reprojection_error=reproj * 1000, residual=residual, relative=relative
    )
    assert scaled.argmin(-1).tolist() == score.argmin(-1).tolist()


def test_combined_low_reprojection_outvotes_a_slightly_better_consensus(device, dtype):
    # Two candidates of similar shape; the one that explains the 2D far better wins.
    relative, _ = _hypotheses(device, dtype, F=1, S=3, outlier=2)
    reproj = torch.tensor([[1.0, 30.0, 40.0]], device=device, dtype=dtype)
    residual = torch.ones(1, 3, device=device, dtype=dtype)
    chosen = select_hypothesis("combined", reprojection_error=reproj, residual=residual, relative=relative)
    assert chosen.tolist() == [0]


def test_start_chooses_by_size_among_the_hypotheses_that_started_well(device, dtype):
    relative, medoid = _hypotheses(device, dtype, F=2, S=5, outlier=2)
    reproj, residual = _evidence(device, dtype, 2, 5)
    evidence = dict(reprojection_error=reproj, residual=residual, relative=relative, size_reference=None)
    size = select_hypothesis("size", **evidence)
    initial = torch.full((2, 5), 10.0, device=device, dtype=dtype)
    assert select_hypothesis("start", initial_error=initial, **evidence).tolist() == size.tolist()
    # a start far worse than the frame's best (the medoid's start here) drops out of the race
    initial[:, medoid] = 100.0
    chosen = select_hypothesis("start", initial_error=initial, **evidence)
    assert medoid not in chosen.tolist()
    initial[:, :] = 100.0
    initial[:, 4] = 10.0  # only one started well: it is chosen whatever its shape
    assert select_hypothesis("start", initial_error=initial, **evidence).tolist() == [4, 4]
    with pytest.raises(ValueError, match=r"initial_error: expected the initial-fit error \(F, S\)"):
        select_hypothesis("start", **evidence)


def test_start_gate_keeps_starts_near_the_best(device, dtype):
    from zedo_xr.estimator.select import START_GATE, start_gate

    err = torch.tensor([[10.0, 10.0 * START_GATE, 10.0 * START_GATE + 0.1]], device=device, dtype=dtype)
    assert start_gate(err).tolist() == [[True, True, False]]


def test_unknown_rule_is_a_clear_error():
    z = torch.zeros(1, 2)
    with pytest.raises(ValueError, match=r"select: expected one of .*got 'oracle'"):
        select_hypothesis("oracle", reprojection_error=z, residual=z, relative=torch.zeros(1, 2, 17, 3))


def test_every_lift_chooses_by_the_default_rule():
    """End to end: the default lift's best_hypothesis is the ``start`` choice on its own outputs
    (a test prior without stored training poses: consensus among the hypotheses that started
    well)."""
    from zedo_xr.estimator.driver import lift
    from zedo_xr.estimator.pipeline import lift_arrays
    from zedo_xr.estimator.select import DEFAULT_RULE
    from zedo_xr.estimator.settings import LiftSettings
    from zedo_xr.io.keypoints import keypoints_dataset

    assert DEFAULT_RULE == "start"
    rel, absolute, uv = make_scene(4, seed=2)
    ds = keypoints_dataset(uv, K=K_H36M)
    prior = GaussianPrior(rel[0])
    out = lift(ds, prior=prior, hypotheses=3, iterations=20, progress=False)
    # the same lift as arrays carries the initial-fit errors the dataset leaves out
    K = np.broadcast_to(K_H36M, (4, 3, 3)).copy()
    settings = LiftSettings().replace(iterations=20)
    arrays = lift_arrays(uv, ds["confidence"].values, K, prior=prior, hypotheses=3, settings=settings)
    pose = torch.as_tensor(out["pose3d"].values, dtype=torch.float64)
    np.testing.assert_allclose(arrays["pose3d"], out["pose3d"].values)
    expected = select_hypothesis(
        "start",
        reprojection_error=torch.as_tensor(arrays["reprojection_error"]),
        residual=torch.as_tensor(arrays["residual"]),
        relative=pose - pose[..., :1, :],
        initial_error=torch.as_tensor(arrays["initial_error"]),
    )
    assert out["best_hypothesis"].values.tolist() == expected.tolist()
