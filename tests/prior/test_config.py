"""TrainConfig: one declaration of every training setting, shared by the API and both CLIs."""

import argparse
import dataclasses

import pytest

from zedo_xr.prior.config import TrainConfig, add_arguments, from_arguments


def test_recipe_holds_the_weight_deciding_settings_only():
    recipe = TrainConfig(width=64).recipe()
    assert recipe["width"] == 64 and recipe["pitch_range"] == [0.0, 20.0]
    assert "device" not in recipe and "checkpoint_every" not in recipe
    assert "init_from" not in recipe  # recorded only when used
    assert TrainConfig(init_from="x").recipe()["init_from"] == "x"
    assert recipe["optimizer"].startswith("Adam")


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"schedule": "ve"}, "schedule: expected one of"),
        ({"steps": 0}, "steps: expected an integer >= 1"),
        ({"batch_size": 2.5}, "batch_size: expected an integer"),
        ({"kinematic_augmentation": 2.0}, "kinematic_augmentation: expected a number in"),
        ({"joint_jitter": -1.0}, "joint_jitter: expected a number >= 0"),
    ],
)
def test_bad_settings_are_named(bad, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**bad)


def test_replace_checks_names():
    assert TrainConfig().replace(steps=5).steps == 5
    with pytest.raises(TypeError, match=r"TrainConfig fields.*'stepz'"):
        TrainConfig().replace(stepz=5)


def test_every_field_is_documented_in_the_class_docstring():
    for f in dataclasses.fields(TrainConfig):
        assert f"    {f.name} : default" in TrainConfig.__doc__
        assert f.metadata["help"]


def test_command_line_options_come_from_the_fields():
    ap = argparse.ArgumentParser()
    add_arguments(ap)
    args = ap.parse_args(
        [
            "--steps",
            "7",
            "--no-flip",
            "--pitch-range",
            "5",
            "10",
            "--kinematic-augmentation",
            "0.5",
            "--init-from",
            "p",
        ]
    )
    cfg = from_arguments(args, steps=3, device="cpu")
    assert (cfg.steps, cfg.flip, cfg.pitch_range, cfg.device) == (7, False, (5.0, 10.0), "cpu")
    assert cfg.kinematic_augmentation == 0.5 and cfg.init_from == "p"
    assert from_arguments(ap.parse_args([])) == TrainConfig()


def test_every_option_help_renders_in_argparse():
    """argparse %-formats help texts: a bare '%' in a field's help breaks ``--help``."""
    import argparse

    from zedo_xr.prior.config import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert "--kinematic-augmentation" in parser.format_help()
