"""Training checkpoints and the card: one builder for trained and exported priors."""

import xarray as xr

from zedo_xr.prior import TrainConfig, train_prior
from zedo_xr.prior.state import prior_from_checkpoint, read_meta


def test_checkpoint_export_has_the_trained_card_and_weights(world_poses, tmp_path):
    da = xr.DataArray(world_poses, dims=("frame", "joint", "coord"))
    cfg = TrainConfig(
        steps=3,
        batch_size=64,
        warmup=1,
        width=32,
        blocks=1,
        progress=False,
        device="cpu",
        hypotheses=False,
        name="tiny",
        command="cmd",
    )
    prior = train_prior(da, cfg, checkpoint_dir=tmp_path)
    again = prior_from_checkpoint(tmp_path)
    for key in ("name", "architecture", "schedule", "history"):
        assert again.card[key] == prior.card[key]
    trained, exported = prior.card["training"], again.card["training"]
    assert {k: v for k, v in exported.items()} == {k: trained[k] for k in exported}
    assert exported["command"] == "cmd" and read_meta(tmp_path)["step"] == 3
    assert again.content_hash == prior.content_hash
