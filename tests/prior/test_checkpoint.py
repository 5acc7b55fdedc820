"""Loading a prior: the content hash is verified, the card validated, tampering refused."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from zedo_xr.prior import Prior, load_prior
from zedo_xr.prior.checkpoint import PriorFileError
from zedo_xr.prior.network import ScoreNet


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    prior = Prior(ScoreNet(width=32, blocks=1), "subvp", name="tiny")
    prior.hypotheses = {1: np.zeros((1, 17, 3), np.float32), -1: np.ones((4, 17, 3), np.float32)}
    return prior.save(tmp_path / "p")


def _card(path):
    return json.loads((path / "card.json").read_text())


def _write_card(path, card):
    (path / "card.json").write_text(json.dumps(card))


def test_a_saved_prior_loads_verified(saved):
    prior = load_prior(saved)
    assert prior.content_hash == _card(saved)["content_hash"]
    assert set(prior.hypotheses) == {1, -1}


def test_flipped_bytes_are_refused(saved):
    raw = bytearray((saved / "weights.safetensors").read_bytes())
    raw[-100] ^= 0xFF  # inside the last tensor's data
    (saved / "weights.safetensors").write_bytes(bytes(raw))
    with pytest.raises(PriorFileError, match=r"content_hash.*modified or corrupted"):
        load_prior(saved)
    raw[5] ^= 0xFF  # inside the header: unreadable
    (saved / "weights.safetensors").write_bytes(bytes(raw))
    with pytest.raises(PriorFileError, match=r"weights.safetensors: expected a safetensors file"):
        load_prior(saved, verify=False)


def test_edited_weights_are_refused_unless_verification_is_off(saved):
    tensors = load_file(str(saved / "weights.safetensors"))
    tensors["head.bias"] = tensors["head.bias"] + 0.01
    save_file(tensors, str(saved / "weights.safetensors"))
    with pytest.raises(PriorFileError, match="content_hash"):
        load_prior(saved)
    edited = load_prior(saved, verify=False)
    assert edited.content_hash != _card(saved)["content_hash"]


def test_a_wrong_schedule_is_refused(saved):
    card = _card(saved)
    _write_card(saved, {**card, "schedule": "ddpm"})  # valid name, not what was trained
    with pytest.raises(PriorFileError, match="content_hash"):
        load_prior(saved)
    _write_card(saved, {**card, "schedule": "ve"})
    with pytest.raises(PriorFileError, match=r"card.json: schedule: expected one of \('subvp', 'ddpm'\)"):
        load_prior(saved, verify=False)


def test_nan_weights_are_refused_even_without_verification(saved):
    tensors = load_file(str(saved / "weights.safetensors"))
    tensors["head.weight"][0, 0] = float("nan")
    save_file(tensors, str(saved / "weights.safetensors"))
    with pytest.raises(PriorFileError, match=r"head.weight: expected finite weights"):
        load_prior(saved, verify=False)


@pytest.mark.parametrize(
    "edit, match",
    [
        (
            lambda c: {k: v for k, v in c.items() if k != "architecture"},
            "card.json: architecture: expected a mapping",
        ),
        (
            lambda c: {**c, "architecture": {**c["architecture"], "width": "32"}},
            "card.json: architecture.width: expected an integer >= 1, got '32'",
        ),
        (
            lambda c: {**c, "architecture": {**c["architecture"], "width": 64}},
            r"weights.safetensors: .*: expected shape \(64,\) \(the card.s architecture\), got \(32,\)",
        ),
        (lambda c: {**c, "content_hash": 7}, "card.json: content_hash: expected 64 hexadecimal"),
        (lambda c: [c], "card.json: expected a JSON object, got 'list'"),
    ],
)
def test_bad_cards_are_named(saved, edit, match):
    _write_card(saved, edit(_card(saved)))
    with pytest.raises(PriorFileError, match=match):
        load_prior(saved)


def test_unreadable_card_and_missing_hash(saved):
    card = _card(saved)
    (saved / "card.json").write_text("{not json")
    with pytest.raises(PriorFileError, match=r"card.json: expected JSON"):
        load_prior(saved)
    _write_card(saved, {k: v for k, v in card.items() if k != "content_hash"})
    with pytest.raises(PriorFileError, match="content_hash"):
        load_prior(saved)
    assert load_prior(saved, verify=False).name == "tiny"


def test_bad_hypotheses_are_refused(saved):
    save_file({"S2": torch.full((2, 17, 3), float("inf"))}, str(saved / "hypotheses.safetensors"))
    with pytest.raises(PriorFileError, match=r"hypotheses.safetensors: S2: expected finite poses"):
        load_prior(saved)


def test_devices_go_through_the_one_resolver(saved):
    prior = load_prior(saved, device="auto")
    assert prior.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert load_prior(saved).device.type == "cpu"  # None keeps the CPU
    assert prior.to("cpu").device == torch.device("cpu")
    with pytest.raises(ValueError, match=r"device: expected 'auto'.*got 'gpu0'"):
        load_prior(saved, device="gpu0")
    with pytest.raises(ValueError, match="device: expected"):
        prior.to("cuda:99")
