"""The ``denoising`` selection rule: the prior's denoising energy plus the reprojection error."""

from __future__ import annotations

import pytest
import torch

from zedo_xr.estimator.select import (
    RULES,
    _per_frame_normalised,
    bone_length_sum,
    consensus_score,
    denoising_energy,
    select_hypothesis,
    selection_score,
    size_score,
    typical_size,
)


class _GaussianPrior:
    """Exact eps-predictor of a standard normal pose distribution under x_t = a x + s eps.

    For x ~ N(0, I): E[eps | x_t] = s x_t / (a^2 + s^2), so poses near 0 get low energy.
    """

    def marginal(self, t):
        t = torch.as_tensor(t, dtype=torch.float64)
        return torch.exp(-t), torch.sqrt(1 - torch.exp(-2 * t))

    def eps(self, x, t):
        a, s = (v.to(x.dtype) for v in self.marginal(t))
        return s * x / (a**2 + s**2)


def test_energy_ranks_likely_poses_first():
    prior = _GaussianPrior()
    poses = torch.zeros(2, 3, 17, 3, dtype=torch.float64)
    poses[:, 1] += 1.0  # one standard deviation off
    poses[:, 2] += 3.0  # three
    energy = denoising_energy(prior, poses, draws=8)
    assert energy.shape == (2, 3)
    assert (energy[:, 0] < energy[:, 1]).all() and (energy[:, 1] < energy[:, 2]).all()


def test_energy_uses_common_noise_per_call():
    prior = _GaussianPrior()
    pose = torch.randn(1, 1, 17, 3, dtype=torch.float64)
    same = pose.expand(1, 4, 17, 3)
    energy = denoising_energy(prior, same, seed=3)
    assert torch.allclose(energy, energy[:, :1].expand_as(energy))
    assert torch.equal(denoising_energy(prior, same, seed=3), energy)


def test_denoising_rule_combines_energy_and_reprojection():
    assert "denoising" in RULES
    reproj = torch.tensor([[1.0, 1.0, 10.0]])
    energy = torch.tensor([[5.0, 1.0, 0.5]])
    evidence = {
        "reprojection_error": reproj,
        "residual": torch.zeros(1, 3),
        "relative": torch.zeros(1, 3, 17, 3),
        "energy": energy,
    }
    # hypothesis 1 fits the image as well as 0 and is far more likely; 2 is likely but off-image
    assert int(select_hypothesis("denoising", **evidence)[0]) == 1
    score = selection_score("denoising", **evidence)
    assert score.shape == (1, 3)


def test_denoising_rule_needs_energy():
    with pytest.raises(ValueError, match="energy"):
        selection_score(
            "denoising",
            reprojection_error=torch.ones(1, 2),
            residual=torch.ones(1, 2),
            relative=torch.zeros(1, 2, 17, 3),
        )


def test_energy_bad_arguments():
    with pytest.raises(ValueError, match="draws"):
        denoising_energy(_GaussianPrior(), torch.zeros(1, 17, 3), draws=0)


def test_size_rule_rejects_shrunken_and_overgrown_hypotheses(device, dtype):
    from tests.estimator.conftest import STANDING

    base = torch.as_tensor(STANDING, device=device, dtype=dtype)
    base = base - base[:1]
    # Four hypotheses of the same shape: typical size, and 0.6x, 0.9x, 1.5x of it.
    relative = torch.stack([base * f for f in (0.6, 1.0, 0.9, 1.5)])[None]
    reference = float(bone_length_sum(base))
    zeros = torch.zeros(1, 4, device=device, dtype=dtype)
    chosen = select_hypothesis(
        "size", reprojection_error=zeros, residual=zeros, relative=relative, size_reference=reference
    )
    assert chosen.tolist() == [1]
    score = size_score(relative, reference)
    assert score.dtype == dtype and score.device.type == device.type
    assert float(score[0, 1]) < 1e-6 and float(score[0, 2]) < 1.5 < float(score[0, 0])
    # without a typical size (a prior with no stored training poses) the consensus decides
    alone = selection_score("size", reprojection_error=zeros, residual=zeros, relative=relative)
    torch.testing.assert_close(alone, _per_frame_normalised(consensus_score(relative)))


def test_typical_size_reads_the_stored_training_poses():
    from types import SimpleNamespace

    import numpy as np

    pose = np.zeros((17, 3))
    pose[1:, 2] = 0.1  # every joint 10 cm above the root
    pool = np.stack([pose * f for f in (0.9, 1.0, 1.1)])
    expected = float(bone_length_sum(torch.as_tensor(pose)))
    assert typical_size(SimpleNamespace(hypotheses={-1: pool})) == pytest.approx(expected)
    assert typical_size(SimpleNamespace(hypotheses={5: pool, 1: pool[:1] * 2})) == pytest.approx(expected)
    with pytest.raises(ValueError, match="prior"):
        typical_size(SimpleNamespace(hypotheses={}))


@pytest.mark.parametrize("rule", ["denoising", "size", "fit"])
def test_pipeline_feeds_the_prior_aware_rules(rule):
    """The pipeline computes the evidence these rules need from the prior and picks in range."""
    import numpy as np

    from tests.estimator.conftest import K_H36M, GaussianPrior, make_scene
    from zedo_xr.estimator.pipeline import _TuningKnobs, lift_arrays

    rel, _, uv = make_scene(n_frames=2)
    prior = GaussianPrior(rel[0])
    prior.hypotheses = {-1: rel}  # its "training poses", for the typical size
    out = lift_arrays(
        uv,
        np.ones(uv.shape[:2]),
        np.repeat(K_H36M[None], 2, 0),
        prior=prior,
        hypotheses=3,
        device="cpu",
        knobs=_TuningKnobs(select=rule),
    )
    best = out["best_hypothesis"]
    assert best.shape == (2,) and ((best >= 0) & (best < 3)).all()


def test_fit_chooses_among_the_hypotheses_that_fit_the_image():
    """Three alike hypotheses that fit badly would be the consensus medoid; ``fit`` ignores them."""
    from zedo_xr.estimator.select import consensus_score, fit_consensus_score

    g = torch.Generator().manual_seed(0)
    base = torch.randn(17, 3, generator=g, dtype=torch.float64) * 0.3
    offsets = [0.10, 0.12, 0.0, 0.01, 0.02]  # hypotheses 2-4 are near each other
    relative = torch.stack([base + o * torch.randn(17, 3, generator=g, dtype=torch.float64) for o in offsets])
    relative[:2] += 0.05
    relative = relative[None]
    reprojection = torch.tensor([[1.0, 2.0, 9.0, 11.0, 12.0]], dtype=torch.float64)  # median 9: 0-2 fit
    assert int(consensus_score(relative).argmin()) in (2, 3, 4)
    fit = fit_consensus_score(relative, reprojection)
    assert torch.isinf(fit[0, 3:]).all() and torch.isfinite(fit[0, :3]).all()
    reference = float(bone_length_sum(relative[0, 0]))
    chosen = int(
        selection_score(
            "fit",
            reprojection_error=reprojection,
            residual=reprojection,
            relative=relative,
            size_reference=reference,
        ).argmin()
    )
    assert chosen in (0, 1, 2)
    # without a typical size (a prior with no stored training poses) the fit consensus decides
    alone = selection_score("fit", reprojection_error=reprojection, residual=reprojection, relative=relative)
    torch.testing.assert_close(alone, fit)
