import argparse
from dataclasses import dataclass

import pytest

from keras_apps import settings
from keras_apps.errors import UserError


@dataclass(frozen=True)
class Shape:
    size: int | None = None  # not a flag: no help
    width: int = settings.setting(8, help="how wide", type=settings.positive_int)
    rate: float = settings.setting(0.1, help="how often", type=settings.probability, flag="--often")
    tied: bool = settings.setting(True, help="share weights")

    def __post_init__(self):
        if self.width % 2:
            raise settings.SettingError(Shape, "width", f"must be even, got {self.width}")


def parse(argv):
    parser = argparse.ArgumentParser()
    settings.add_flags(parser, Shape)
    return parser.parse_args(argv)


def test_flags_come_from_the_fields_that_have_help():
    args = parse(["--width", "4", "--often", "0.5", "--no-tied"])
    assert (args.width, args.often, args.tied) == (4, 0.5, False) and not hasattr(args, "size")
    assert vars(parse([])) == {"width": None, "often": None, "tied": None}  # unset: the recipe decides


def test_overlay_lays_only_the_given_flags_over_the_recipe():
    recipe = Shape(size=3, width=6, rate=0.2)
    assert settings.overlay(recipe, parse(["--width", "10"])) == Shape(size=3, width=10, rate=0.2)
    assert settings.overlay(recipe, parse([])) == recipe


def test_a_refused_value_names_the_flag():
    with pytest.raises(UserError, match="^--width must be even, got 5$"):
        settings.overlay(Shape(), parse(["--width", "5"]))
    assert settings.flag_name(Shape, "rate") == "--often"


def test_flag_types_refuse_bad_text():
    with pytest.raises(SystemExit):
        parse(["--width", "0"])


@pytest.mark.parametrize("count", [settings.positive_int, settings.non_negative_int, settings.several])
def test_a_count_stops_at_the_largest_an_int32_tensor_holds(count):
    assert count(str(settings.LARGEST_COUNT)) == 2**31 - 1
    for text in (str(2**31), "9" * 21):
        with pytest.raises(argparse.ArgumentTypeError, match=f"must be at most 2,147,483,647, got {text}$"):
            count(text)


def test_a_bounded_count_names_its_bound():
    repeats = settings.count_up_to(100)
    assert repeats("100") == 100
    with pytest.raises(argparse.ArgumentTypeError, match="must be at most 100, got 101$"):
        repeats("101")
    with pytest.raises(argparse.ArgumentTypeError, match="must be at least 1, got 0$"):
        repeats("0")


def test_a_count_beyond_the_data_is_refused_never_cut_to_fit():
    assert settings.count_within("--train-examples", None, 60_000, "images") is None  # unset: all of them
    assert settings.count_within("--train-examples", 60_000, 60_000, "images") == 60_000
    with pytest.raises(UserError, match="^--train-examples 70,000: there are only 60,000 images in MNIST's training "
                                        "split$"):
        settings.count_within("--train-examples", 70_000, 60_000, "images in MNIST's training split")


def test_a_path_after_an_equals_sign_expands_its_tilde_which_the_shell_left(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    parser = argparse.ArgumentParser()
    parser.add_argument("--run-dir", type=settings.path)
    assert parser.parse_args(["--run-dir=~/runs"]).run_dir == str(tmp_path / "runs")
    assert settings.path("runs/~") == "runs/~"  # only a leading one is the home folder


def test_a_flag_shows_its_field_default_unless_told_what_an_unset_flag_takes():
    own, told = argparse.ArgumentParser(), argparse.ArgumentParser()
    settings.add_flags(own, Shape)
    settings.add_flags(told, Shape, default={"width": "small 4, large 8", "rate": 0.2, "tied": False})
    assert "how wide (default: 8)" in own.format_help()
    assert "how wide (default: small 4, large 8)" in " ".join(told.format_help().split())


def test_a_flag_given_as_0_or_off_is_laid_over_the_recipe_and_counted_as_given():
    recipe, args = Shape(width=6, rate=0.2, tied=True), parse(["--often", "0", "--no-tied"])
    assert settings.overlay(recipe, args) == Shape(width=6, rate=0.0, tied=False)
    assert settings.given_flags(Shape, args) == ["--often", "--tied"]
    assert settings.given_flags(Shape, parse([])) == []


def test_a_fraction_is_strictly_between_0_and_1():
    assert settings.fraction("0.001") == 0.001 and settings.fraction("0.999") == 0.999
    for text in ("0", "1", "-0.5", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError, match="^must be strictly between 0 and 1, got "):
            settings.fraction(text)
