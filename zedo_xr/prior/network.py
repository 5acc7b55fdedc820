"""The ZeDO score network: a time-conditioned residual MLP that predicts the noise ``eps``.

Architecture (the official ``ScoreModelFC_Adv`` without conditioning, about 7.2 M parameters by
default): the pose ``(B, J, 3)`` is flattened; the time label ``999 t`` goes through a 512-d
sinusoidal embedding and a shared ``Linear + SiLU``; every linear layer of the trunk adds its own
projection of that embedding, then GroupNorm(32), SiLU and dropout; two residual blocks of two such
layers; a linear head back to ``(B, J, 3)``.

Speed: within one call of the estimator every pose shares the same ``t``. When ``t`` is a scalar
(a Python number or a 0-d tensor) the five time projections are computed once for the call and
folded into the biases of the trunk layers, so the per-pose cost falls from ~7.2 M to ~4.3 M
multiply-adds. A per-sample ``t`` of shape ``(B,)`` (training) takes the general path.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

Tensor = torch.Tensor

TIME_SCALE = 999.0
"""The network sees the time label ``999 t`` (as the official code does)."""


def sinusoidal_embedding(labels: Tensor, dim: int = 512, max_period: float = 10000.0) -> Tensor:
    """Transformer positional embedding of scalar labels, ``(*,) -> (*, dim)``: sin then cos.

    Frequencies ``exp(-k ln(max_period) / (dim/2 - 1))`` for ``k = 0 .. dim/2 - 1``, as in the
    official ``get_timestep_embedding``.
    """
    half = dim // 2
    k = torch.arange(half, device=labels.device, dtype=labels.dtype)
    freqs = torch.exp(-math.log(max_period) / (half - 1) * k)
    args = labels.unsqueeze(-1) * freqs
    emb = torch.cat([torch.sin(args), torch.cos(args)], dim=-1)
    if dim % 2:
        emb = F.pad(emb, (0, 1))
    return emb


class _Dense(nn.Module):
    """``Linear(x) + Linear(temb) -> GroupNorm -> SiLU -> Dropout``."""

    def __init__(self, d_in: int, d_out: int, d_emb: int, groups: int, dropout: float) -> None:
        super().__init__()
        self.linear = nn.Linear(d_in, d_out)
        self.time = nn.Linear(d_emb, d_out)
        self.norm = nn.GroupNorm(groups, d_out)
        self.dropout = nn.Dropout(dropout)

    def forward(self, h: Tensor, temb: Tensor) -> Tensor:
        # temb is (B, d_emb) per sample or (d_emb,) shared by the whole batch.
        if temb.dim() == 1:
            # Shared t: fold the time projection into the bias, one GEMM per layer.
            h = F.linear(h, self.linear.weight, self.linear.bias + self.time(temb))
        else:
            h = self.linear(h) + self.time(temb)
        return self.dropout(F.silu(self.norm(h)))


class _Block(nn.Module):
    def __init__(self, width: int, d_emb: int, groups: int, dropout: float) -> None:
        super().__init__()
        self.dense1 = _Dense(width, width, d_emb, groups, dropout)
        self.dense2 = _Dense(width, width, d_emb, groups, dropout)

    def forward(self, h: Tensor, temb: Tensor) -> Tensor:
        return h + self.dense2(self.dense1(h, temb), temb)


class ScoreNet(nn.Module):
    """Unconditional MLP eps-predictor for root-relative camera-frame poses.

    Parameters
    ----------
    joints : int
        Number of joints ``J`` (17 for H36M).
    width : int
        Hidden width (1024 in the paper).
    blocks : int
        Number of residual blocks (2 in the paper).
    emb_dim : int
        Width of the sinusoidal time embedding (512).
    groups : int
        GroupNorm groups (32); must divide ``width``.
    dropout : float
        Dropout probability in every layer during training (0.25 in the official code).

    Examples
    --------
    >>> net = ScoreNet(width=64, blocks=1, groups=8).eval()
    >>> net(torch.zeros(4, 17, 3), 0.05).shape
    torch.Size([4, 17, 3])
    """

    def __init__(
        self,
        joints: int = 17,
        width: int = 1024,
        blocks: int = 2,
        emb_dim: int = 512,
        groups: int = 32,
        dropout: float = 0.25,
    ) -> None:
        super().__init__()
        if width % groups:
            raise ValueError(f"width: expected a multiple of groups={groups}, got {width}")
        self.joints, self.width, self.n_blocks = joints, width, blocks
        self.emb_dim, self.groups, self.dropout = emb_dim, groups, dropout
        self.time_embed = nn.Linear(emb_dim, emb_dim)
        self.stem = _Dense(joints * 3, width, emb_dim, groups, dropout)
        self.blocks = nn.ModuleList(_Block(width, emb_dim, groups, dropout) for _ in range(blocks))
        self.head = nn.Linear(width, joints * 3)

    def config(self) -> dict:
        """Constructor arguments, for the card and for rebuilding the network."""
        return {
            "joints": self.joints,
            "width": self.width,
            "blocks": self.n_blocks,
            "emb_dim": self.emb_dim,
            "groups": self.groups,
            "dropout": self.dropout,
        }

    def embed_time(self, t: Tensor) -> Tensor:
        """Shared time embedding ``SiLU(Linear(sinusoidal(999 t)))``, ``(*,) -> (*, emb_dim)``."""
        return F.silu(self.time_embed(sinusoidal_embedding(t * TIME_SCALE, self.emb_dim)))

    def forward(self, x: Tensor, t: float | Tensor) -> Tensor:
        """Predict the noise.

        Parameters
        ----------
        x : Tensor, shape (B, J, 3)
            Noisy root-relative poses, metres.
        t : float or Tensor, shape () or (B,)
            Diffusion time in (0, 1]. A scalar takes the fast shared-time path.

        Returns
        -------
        Tensor, shape (B, J, 3)
            The predicted ``eps`` (not the score; ``score = -eps / sigma(t)``).
        """
        if x.dim() != 3 or x.shape[-2:] != (self.joints, 3):
            raise ValueError(f"x: expected shape (B, {self.joints}, 3), got {tuple(x.shape)}")
        t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
        if t.dim() == 1 and t.shape[0] != x.shape[0]:
            raise ValueError(f"t: expected shape () or ({x.shape[0]},), got {tuple(t.shape)}")
        if t.dim() > 1:
            raise ValueError(f"t: expected shape () or ({x.shape[0]},), got {tuple(t.shape)}")
        temb = self.embed_time(t)  # (emb,) when shared, else (B, emb)
        h = self.stem(x.reshape(x.shape[0], -1), temb)
        for block in self.blocks:
            h = block(h, temb)
        return self.head(h).reshape(x.shape)


def count_parameters(net: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad)
