import pytest
import torch

from zedo_xr.prior.network import ScoreNet, count_parameters, sinusoidal_embedding


def test_default_parameter_count_matches_the_paper():
    # 7,203,379 is the official ScoreModelFC_Adv count without its unused sigmas buffer.
    assert count_parameters(ScoreNet()) == 7_203_379


def test_configurable_size():
    net = ScoreNet(joints=14, width=64, blocks=3, groups=8)
    assert net(torch.zeros(2, 14, 3), 0.5).shape == (2, 14, 3)
    assert len(net.blocks) == 3


def test_scalar_fast_path_matches_per_sample_times(device, dtype):
    torch.manual_seed(0)
    net = ScoreNet(width=128, blocks=2).to(device, dtype).eval()
    x = torch.randn(5, 17, 3, device=device, dtype=dtype)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    for t in (0.01, torch.tensor(0.05, device=device, dtype=dtype)):
        a = net(x, t)
        b = net(x, torch.full((5,), float(t), device=device, dtype=dtype))
        torch.testing.assert_close(a, b, atol=tol, rtol=tol)


def test_per_sample_times_differ_per_pose():
    torch.manual_seed(0)
    net = ScoreNet(width=64, blocks=1, groups=8).eval()
    x = torch.randn(1, 17, 3).expand(2, 17, 3)
    out = net(x, torch.tensor([0.01, 0.5]))
    assert not torch.allclose(out[0], out[1])


def test_bad_shapes_are_named():
    net = ScoreNet(width=64, blocks=1, groups=8)
    with pytest.raises(ValueError, match="x: expected shape"):
        net(torch.zeros(2, 16, 3), 0.1)
    with pytest.raises(ValueError, match="t: expected shape"):
        net(torch.zeros(2, 17, 3), torch.zeros(3))
    with pytest.raises(ValueError, match="width"):
        ScoreNet(width=100)


def test_sinusoidal_embedding_layout():
    emb = sinusoidal_embedding(torch.tensor([0.0, 999.0]), 512)
    assert emb.shape == (2, 512)
    torch.testing.assert_close(emb[0, :256], torch.zeros(256))
    torch.testing.assert_close(emb[0, 256:], torch.ones(256))
