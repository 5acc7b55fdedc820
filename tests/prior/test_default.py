"""The bundled default prior: loads offline, has its card and initial poses, samples people."""

import numpy as np
import pytest
import torch

from zedo_xr.prior import load_prior
from zedo_xr.prior.checkpoint import DEFAULT_DIR
from zedo_xr.prior.network import count_parameters
from zedo_xr.prior.quality import bone_statistics

pytestmark = pytest.mark.skipif(
    not (DEFAULT_DIR / "card.json").exists(), reason="no bundled default prior in this checkout"
)


@pytest.fixture(scope="module")
def prior():
    return load_prior("default")


def test_loads_with_card_and_hash(prior):
    assert count_parameters(prior.network) == 7_203_379
    assert prior.kind == "subvp"
    assert prior.content_hash == prior.card["content_hash"]
    card = prior.card
    names = {d["name"] for d in card["data"]}
    # only sources whose licence lets the weights ship (never Bandai-Namco, never Human3.6M)
    assert names <= {"cmu-train", "deepmimic", "climb", "cmu-iclone", "hdm05"}
    assert all(d["licence"] for d in card["data"])
    if "hdm05" in names:  # CC BY-SA 3.0 data: the weights carry that licence and its attribution
        assert "CC BY-SA 3.0" in card["licence"] and "HDM05" in card["licence"]
    for key in ("t=0.01", "t=0.05", "t=0.1"):
        assert card["quality"]["denoising_error_mm"][key] > 0
    assert card["training"]["command"]
    total = sum(f.stat().st_size for f in DEFAULT_DIR.iterdir())
    assert total <= 16 * 2**20


def test_default_runs_on_device_and_dtype(prior, device, dtype):
    p = load_prior("default", device=device, dtype=dtype)
    x = torch.from_numpy(prior.hypotheses[5]).to(device, dtype)
    eps = p.eps(x, 0.05)
    assert eps.shape == (5, 17, 3) and eps.dtype == dtype and torch.isfinite(eps).all()
    ref = prior.eps(x.cpu().float(), 0.05)
    torch.testing.assert_close(eps.cpu().float(), ref, atol=1e-3, rtol=1e-3)


def test_initial_poses_are_canonical(prior):
    for S in (1, 5, 10, 20, 50):
        c = prior.initial_poses(S).numpy()
        assert c.shape == (S, 17, 3)
        np.testing.assert_allclose(c[:, 0], 0, atol=1e-6)
        # upright (thorax above the pelvis, y down) for the mean pose and the largest clusters;
        # DeepMimic's crawls, rolls and flips make a few small clusters lie down
        assert c[0, 8, 1] < -0.3
        assert (c[:, 8, 1] < -0.1).mean() >= 0.7
        assert (c[:, 1, 0] < 0).all() and (c[:, 4, 0] > 0).all()  # right hip at -x
    assert prior.initial_poses(3, "random").shape == (3, 17, 3)


@pytest.mark.parametrize("S", [2, 3, 7, 100])
def test_any_number_of_initial_poses(prior, S):
    c = prior.initial_poses(S)
    assert c.shape == (S, 17, 3) and bool(torch.isfinite(c).all())
    assert torch.equal(c, prior.initial_poses(S))
    assert len(torch.unique(c.reshape(S, -1), dim=0)) == S  # S different poses
    assert (c[:, 1, 0] < 0).all() and (c[:, 4, 0] > 0).all()  # canonical: right hip at -x


def test_denoises_real_poses(prior):
    # Denoising the k-means centres at t = 0.05 must beat doing nothing (eps = 0).
    x0 = torch.from_numpy(prior.hypotheses[50])
    g = torch.Generator().manual_seed(0)
    z = torch.randn(x0.shape, generator=g)
    alpha, sigma = (float(v) for v in prior.marginal(0.05))
    xt = alpha * x0 + sigma * z
    x0_hat = (xt - sigma * prior.eps(xt, 0.05)) / alpha
    err = (x0_hat - x0).norm(dim=-1).mean()
    baseline = (xt / alpha - x0).norm(dim=-1).mean()
    assert err < 0.8 * baseline


@pytest.mark.slow
def test_samples_look_like_people(prior):
    samples = prior.sample(64, steps=100, seed=0)
    stats = bone_statistics(samples)
    # Real training poses: bone std ~2 mm (one template skeleton per source); across three
    # sources with different proportions a generated set spreads more, but stays far below
    # the centimetres that a non-human sample would show.
    assert stats["bone_std_mean"] < 30
    assert stats["symmetry_mean"] < 20
    heights = (samples[:, 10, 1] - samples[:, 3, 1]).abs()
    assert (heights.median() > 1.0) and (heights.median() < 2.2)
