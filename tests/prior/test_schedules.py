import math

import pytest
import torch

from zedo_xr.prior import schedules as S

# Reference table of zedo-official-implementation.md §1.2: t, B, sigma, g2, beta/2, alpha.
TABLE = [
    (0.10, 0.1095, 0.1037, 0.4111, 1.045, 0.947),
    (0.055, 0.0356, 0.0350, 0.0821, 0.597, 0.982),
    (0.01, 0.0020, 0.00199, 0.00119, 0.150, 0.999),
]


@pytest.mark.parametrize(("t", "B", "sigma", "g2", "half_beta", "alpha"), TABLE)
def test_subvp_reference_values(t, B, sigma, g2, half_beta, alpha):
    a, s = S.marginal("subvp", t)
    assert float(S.integral_beta(t)) == pytest.approx(B, abs=1e-4)
    assert float(s) == pytest.approx(sigma, rel=3e-3)
    assert float(S.g2("subvp", t)) == pytest.approx(g2, rel=3e-3)
    assert float(S.beta("subvp", t)) / 2 == pytest.approx(half_beta, abs=1e-3)
    assert float(a) == pytest.approx(alpha, abs=1e-3)


def test_variance_ode():
    # For dx = -beta x/2 dt + g dW the variance obeys dV/dt = -beta V + g2, with V(0) = 0.
    kind = "subvp"
    t, h = torch.tensor(0.3, dtype=torch.float64), 1e-6
    V = lambda u: S.marginal(kind, u)[1] ** 2  # noqa: E731
    dV = (V(t + h) - V(t - h)) / (2 * h)
    assert float(dV) == pytest.approx(float(-S.beta(kind, t) * V(t) + S.g2(kind, t)), rel=1e-5)


def test_ddpm_tables():
    ab = S.ddpm_alpha_bar()
    assert ab.shape == (1000,)
    a, s = S.marginal("ddpm", 1e-3)
    assert float(a) ** 2 == pytest.approx(1 - 1e-4)
    assert float(a**2 + s**2) == pytest.approx(1.0)
    assert int(S.ddpm_index(1.0)) == 999 and int(S.ddpm_index(1e-9)) == 0
    assert float(S.beta("ddpm", 1.0)) == pytest.approx(20.0)  # 1000 * 0.02: the VP analogue


@pytest.mark.parametrize("kind", S.KINDS)
def test_ddim_step_is_exact_for_true_noise(kind, dtype):
    torch.manual_seed(0)
    x0, eps = torch.randn(4, 17, 3, dtype=dtype), torch.randn(4, 17, 3, dtype=dtype)
    a, s = (v.to(dtype) for v in S.marginal(kind, 0.5))
    a2, s2 = (v.to(dtype) for v in S.marginal(kind, 0.2))
    out = S.ddim_step(kind, a * x0 + s * eps, eps, 0.5, 0.2)
    torch.testing.assert_close(out, a2 * x0 + s2 * eps)


def test_per_sample_times_broadcast():
    t = torch.tensor([0.01, 0.1])
    a, s = S.marginal("subvp", t)
    assert a.shape == s.shape == (2,)
    assert float(s[1]) == pytest.approx(1 - math.exp(-0.1095), rel=1e-3)
    with pytest.raises(ValueError, match="kind"):
        S.marginal("vp", 0.1)
