import numpy as np
import pytest

from tests.prior.conftest import small_share, two_sources
from zedo_xr.prior.hypotheses import canonicalise, kmeans_hypotheses, random_hypotheses


def _check_canonical(c):
    # root-relative, upright (pelvis -> thorax along -y), right hip at -x, facing -z
    np.testing.assert_allclose(c[:, 0], 0, atol=1e-6)
    assert (c[:, 8, 1] < -0.2).all()
    assert (c[:, 1, 0] < 0).all() and (c[:, 4, 0] > 0).all()


def test_canonicalise_removes_heading(world_poses):
    c = canonicalise(world_poses)
    _check_canonical(c)
    # the hip vector lies on the x axis
    hip = c[:, 1] - c[:, 4]
    np.testing.assert_allclose(hip[:, 2], 0, atol=1e-6)
    # the template's chest is in front of the pelvis (world +Y = the body's forward): z < 0
    assert np.median(c[:, 9, 2]) < 0


def test_kmeans_shapes_and_frame(world_poses):
    hyp = kmeans_hypotheses(world_poses, sizes=(1, 5, 20), seed=0)
    assert sorted(hyp) == [1, 5, 20]
    for S, c in hyp.items():
        assert c.shape == (S, 17, 3) and c.dtype == np.float32
        _check_canonical(c)
    again = kmeans_hypotheses(world_poses, sizes=(1, 5, 20), seed=0)
    assert all(np.array_equal(hyp[S], again[S]) for S in hyp)


def test_random_hypotheses(world_poses):
    c = random_hypotheses(world_poses, 7, seed=1)
    assert c.shape == (7, 17, 3)
    _check_canonical(c)


@pytest.mark.slow
def test_kmeans_on_cmu(shared_data):
    from zedo_xr.io.cmu import load_cmu

    poses = load_cmu(shared_data / "cmu" / "cmu_h36m17.npz", "train").values
    hyp = kmeans_hypotheses(poses, sizes=(1, 10), seed=0, max_poses=5000)
    _check_canonical(hyp[10])


# ----------------------------------------------------------------------------- any number S


def _stored(rng):
    from zedo_xr.prior.hypotheses import canonicalise

    world = np.repeat(rng.normal(scale=0.3, size=(60, 17, 3)), 2, axis=0)
    sets = kmeans_hypotheses(world, sizes=(1, 5, 10), seed=0)
    sets[-1] = canonicalise(world[::2][:20]).astype(np.float32)
    return sets


@pytest.mark.parametrize("S", [2, 3, 7])
def test_any_size_below_the_largest_takes_the_commonest_centres(S):
    from zedo_xr.prior.hypotheses import any_size

    sets = _stored(np.random.default_rng(0))
    poses, missing = any_size(sets, S)
    assert missing == 0 and poses.shape == (S, 17, 3)
    larger = min(k for k in sets if k > S)
    np.testing.assert_array_equal(poses, sets[larger][:S])


def test_any_size_above_the_largest_adds_distinct_pool_poses_deterministically():
    from zedo_xr.prior.hypotheses import any_size

    sets = _stored(np.random.default_rng(1))
    poses, missing = any_size(sets, 25)
    assert missing == 0 and poses.shape == (25, 17, 3)
    np.testing.assert_array_equal(poses[:10], sets[10])
    flat = poses.reshape(25, -1)
    assert len(np.unique(flat.round(6), axis=0)) == 25  # no pose twice
    again, _ = any_size(sets, 25)
    np.testing.assert_array_equal(poses, again)
    _, missing = any_size(sets, 40)
    assert missing == 10  # 10 centres + 20 pool poses: the caller generates the rest


@pytest.mark.parametrize("S", [2, 3, 7, 100])
def test_prior_initial_poses_work_for_any_s(S):
    import torch

    from zedo_xr.prior import Prior
    from zedo_xr.prior.network import ScoreNet

    torch.manual_seed(0)
    prior = Prior(ScoreNet(width=32, blocks=1), "subvp", hypotheses=_stored(np.random.default_rng(2)))
    poses = prior.initial_poses(S)
    assert poses.shape == (S, 17, 3) and bool(torch.isfinite(poses).all())
    assert torch.equal(poses, prior.initial_poses(S))  # deterministic
    torch.testing.assert_close(poses[:, 0], torch.zeros(S, 3))  # root-relative, canonical


@pytest.mark.parametrize("S", [0, -1, 2.5, True, "3"])
def test_bad_sizes_are_named(S):
    from zedo_xr.prior import Prior
    from zedo_xr.prior.network import ScoreNet

    prior = Prior(ScoreNet(width=32, blocks=1), "subvp", hypotheses={1: np.zeros((1, 17, 3))})
    with pytest.raises(ValueError, match="S: expected an integer >= 1"):
        prior.initial_poses(S)


# ----------------------------------------------------------------------------- stored sets


def test_training_hypotheses_draw_by_the_weights(world_poses):
    from zedo_xr.prior.hypotheses import POOL, SIZES, training_hypotheses

    world = two_sources(world_poses)
    plain = training_hypotheses(world, seed=0)
    assert sorted(plain) == [-1, *SIZES] and plain[-1].shape == (POOL, 17, 3)
    # without weights: exactly the separate functions (priors trained before the weights stay equal)
    np.testing.assert_array_equal(plain[50], kmeans_hypotheses(world, seed=0)[50])
    np.testing.assert_array_equal(plain[-1], random_hypotheses(world, POOL, seed=0))
    assert small_share(plain[-1]) < 0.1
    weights = np.r_[np.full(290, 1 / 580), np.full(10, 1 / 20)]  # each source half the draws
    balanced = training_hypotheses(world, weights=weights, seed=0)
    assert 0.35 < small_share(balanced[-1]) < 0.65
    # the mean pose (S = 1) weighs the small source as the draws do: it grows towards its size
    spread = lambda c: float(np.abs(c).max())  # noqa: E731
    assert spread(balanced[1]) > 1.5 * spread(plain[1])
    _check_canonical(balanced[50])


@pytest.mark.parametrize(
    "weights", [np.ones(5), -np.ones(300), np.zeros(300), np.r_[np.ones(299), np.nan]], ids=str
)
def test_training_hypotheses_reject_bad_weights(world_poses, weights):
    from zedo_xr.prior.hypotheses import training_hypotheses

    with pytest.raises(ValueError, match=r"weights: expected 300 finite non-negative numbers"):
        training_hypotheses(world_poses, weights=weights)
