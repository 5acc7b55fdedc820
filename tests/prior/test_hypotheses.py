import numpy as np
import pytest

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
