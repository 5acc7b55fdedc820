import numpy as np
import torch

from zedo_xr.prior.network import ScoreNet
from zedo_xr.prior.quality import bone_statistics, denoising_error, fixed_views, nearest_neighbour_pa


def test_bone_statistics_of_rigid_symmetric_poses(world_poses):
    from tests.prior.conftest import TEMPLATE

    poses = torch.from_numpy(np.repeat(TEMPLATE[None], 4, 0))
    stats = bone_statistics(poses)
    assert stats["bone_std_mean"] < 1e-3
    assert stats["symmetry_mean"] < 1e-3


def test_nearest_neighbour_is_zero_for_similar_copies(world_poses):
    x = fixed_views(world_poses, 20)
    y = 1.3 * x.flip(0) @ torch.tensor([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]]).T
    d = nearest_neighbour_pa(x, y)
    assert d.shape == (20,) and float(d.max()) < 1e-3


def test_identity_denoiser_error_matches_theory(world_poses):
    class Zero(ScoreNet):
        def forward(self, x, t):
            return torch.zeros_like(x)

    x0 = fixed_views(world_poses, 300)
    err = denoising_error(Zero(width=32, blocks=1, groups=8), "subvp", x0, times=(0.1,))
    # E|z| for a 3-d standard normal is 1.596; sigma/alpha = 0.1037/0.9467
    assert abs(err["t=0.1"] - 1000 * 0.1037 / 0.9467 * 1.596) < 10
