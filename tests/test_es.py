"""OpenAI-ES, xNES and SNES (evorobot/evolution/openai_es.py, xnes.py, snes.py, nes.py).

Budgets on the 10-D sphere centred on 0.3 (default settings, mean starting at 0), measured when
written over seeds 0-4: SNES's best sample reaches f < 1e-6 in 1536-1808 evaluations (budget
2400), xNES's in 4880-5424 (budget 6400); OpenAI-ES's *centre* (its samples stay noise_std = 0.02
away from it) in 5840-6800 (budget 8000).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from evorobot.errors import ConfigError
from evorobot.evolution import OPTIMIZERS
from evorobot.evolution.base import GenomeLayout, Optimizer
from evorobot.evolution.nes import rank_utilities, sample_utilities
from evorobot.evolution.openai_es import OpenAIESSpec
from evorobot.evolution.snes import snes_eta_sigma
from evorobot.evolution.xnes import XNES, xnes_eta
from evorobot.spec import parse


def build(name: str, seed: int = 0, genes: int = 10, **settings: Any) -> Any:
    cls = OPTIMIZERS[name]
    spec = parse(cls.Spec, settings, f"test [{name}]")
    return cls(spec, GenomeLayout(genes), np.random.SeedSequence(seed), "test")


def sphere(x: np.ndarray) -> np.ndarray:
    return np.sum((np.atleast_2d(x) - 0.3) ** 2, axis=1)


def evaluations_to(opt: Optimizer, target: float, budget: int, centre: str = "") -> int:
    """Evaluations until the best asked genome (or the attribute ``centre``) has sphere f < target."""
    used = 0
    while used < budget:
        values = sphere(opt.ask())
        opt.tell(-values)
        used += len(values)
        if (sphere(getattr(opt, centre))[0] if centre else values.min()) < target:
            return used
    return budget + 1


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("name", "budget", "centre"),
                         [("snes", 2400, ""), ("xnes", 6400, ""), ("openai_es", 8000, "center")])
def test_sphere_10d_within_the_stated_budget(name: str, budget: int, centre: str, seed: int) -> None:
    assert evaluations_to(build(name, seed), 1e-6, budget, centre) <= budget


def test_snes_solves_a_200_gene_sphere_within_48000_evaluations() -> None:
    assert evaluations_to(build("snes", 0, genes=200), 1e-6, 48000) <= 48000  # 39,232 measured


# ---------------------------------------------------------------- OpenAI-ES


def test_openai_es_samples_are_exact_mirrors_around_the_centre() -> None:
    opt = build("openai_es", 2, population=12)
    opt.seed_population(np.full((12, 10), 0.25))
    x = opt.ask()  # 0.25 +- 0.02 * N(0, 1): nothing is clipped
    c = opt.center
    np.testing.assert_array_equal(x[0::2], c + 0.02 * opt._eps)
    np.testing.assert_array_equal(x[1::2], c - 0.02 * opt._eps)
    np.testing.assert_allclose((x[0::2] + x[1::2]) / 2, np.broadcast_to(c, (6, 10)), rtol=0, atol=1e-15)


def test_openai_es_clips_samples_and_centre_to_the_box() -> None:
    opt = build("openai_es", 3, population=8, noise_std=0.5, step_size=0.5)
    opt.seed_population(np.full((8, 10), 0.9))
    for _ in range(5):
        x = opt.ask()
        assert np.all(np.abs(x) <= 1.0) and np.any(x == 1.0)
        opt.tell(x.sum(axis=1))  # pushes every gene up
        assert np.all(np.abs(opt.center) <= 1.0)
    assert np.any(opt.center == 1.0)


def test_openai_es_first_adam_step_follows_gradient_minus_weight_decay() -> None:
    """At t = 1 Adam moves every gene by step_size (epsilon aside) along sign(g - wd * c)."""
    for wd in (0.0, 100.0):
        opt = build("openai_es", 4, population=20, weight_decay=wd)
        opt.seed_population(np.full((20, 10), 0.5))
        f = -sphere(opt.ask())
        direction = np.sign(opt.gradient(f) - wd * opt.center)
        opt.tell(f)
        np.testing.assert_allclose(opt.center - 0.5, 0.01 * direction, rtol=0, atol=1e-5)
        if wd == 100.0:  # a strong decay pulls every gene toward 0
            assert np.all(direction == -1.0)


def test_openai_es_gradient_points_uphill_on_a_linear_fitness() -> None:
    opt = build("openai_es", 5, population=200)
    w = np.linspace(-1.0, 1.0, 10)
    g = opt.gradient(opt.ask() @ w)
    assert np.corrcoef(g, w)[0, 1] > 0.9


def test_odd_population_is_a_one_line_config_error_naming_key_and_value() -> None:
    with pytest.raises(ConfigError) as err:
        parse(OpenAIESSpec, {"population": 7}, "w.toml [optimizer]")
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("w.toml [optimizer]: `population` must be even")
    assert msg.endswith("got 7")
    with pytest.raises(ConfigError, match=r"w\.toml \[optimizer\]: `beta2` must be < 1, got 1\.0"):
        parse(OpenAIESSpec, {"beta2": 1.0}, "w.toml [optimizer]")
    with pytest.raises(ConfigError, match=r"w\.toml \[optimizer\]: `noise_std` must be > 0, got 0"):
        parse(OpenAIESSpec, {"noise_std": 0}, "w.toml [optimizer]")


@pytest.mark.parametrize("name", ["xnes", "snes"])
def test_nes_bad_settings_name_key_and_value(name: str) -> None:
    cls = OPTIMIZERS[name]
    with pytest.raises(ConfigError, match=r"^w\.toml \[optimizer\]: `eta_sigma` must be >= 0, got -0\.1$"):
        parse(cls.Spec, {"eta_sigma": -0.1}, "w.toml [optimizer]")
    with pytest.raises(ConfigError, match=r"`initial_mean` must be one of `zero`, `uniform`, got \"random\""):
        parse(cls.Spec, {"initial_mean": "random"}, "w.toml [optimizer]")


# ---------------------------------------------------------------- NES


def test_nes_utilities_match_the_papers_formula_by_hand() -> None:
    # n = 4: max(0, ln 3 - ln k) = ln 3, ln 3 - ln 2, 0, 0 (k = 1..4), summing to ln 4.5; minus 1/4.
    # By hand: ln 3 / ln 4.5 = 1.0986123 / 1.5040774 = 0.7304227; (ln 3 - ln 2) / ln 4.5 = 0.2695773.
    u = rank_utilities(4)
    np.testing.assert_allclose(u, [0.4804227, 0.0195773, -0.25, -0.25], rtol=0, atol=1e-7)
    assert u.sum() == pytest.approx(0.0, abs=1e-15)
    # per sample: fitness 1, NaN (worst), 3 (best), 2 -> ranks 3, 4, 1, 2
    np.testing.assert_allclose(sample_utilities(np.array([1.0, np.nan, 3.0, 2.0])), u[[2, 3, 0, 1]])
    u16 = rank_utilities(16)  # only the better half gets more than the minimum, -1/n
    assert np.all(np.diff(u16) <= 0) and np.all(u16[:8] > -1 / 16) and np.all(u16[8:] == -1 / 16)
    assert u16.sum() == pytest.approx(0.0, abs=1e-15)


def test_nes_default_learning_rates_are_the_papers() -> None:
    d = 10
    assert xnes_eta(d) == pytest.approx(3 * (3 + math.log(d)) / (5 * d * math.sqrt(d)))
    assert snes_eta_sigma(d) == pytest.approx((3 + math.log(d)) / (5 * math.sqrt(d)))
    assert build("xnes").eta_sigma == build("xnes").eta_b == xnes_eta(10)
    assert build("snes").eta_sigma == snes_eta_sigma(10) and build("snes", eta_sigma=0.2).eta_sigma == 0.2


def test_xnes_update_follows_the_natural_gradient_and_keeps_det_b_one() -> None:
    opt: XNES = build("xnes", 6, population=12)
    x = opt.ask()
    z, mean, sigma, b = opt._z.copy(), opt.mean.copy(), opt.sigma, opt.B.copy()
    np.testing.assert_allclose(x, np.clip(mean + sigma * z @ b.T, -1, 1))
    f = -sphere(x)
    opt.tell(f)
    u = sample_utilities(f)
    g_m = sum(uk * (np.outer(zk, zk) - np.eye(10)) for uk, zk in zip(u, z))
    g_sigma = np.trace(g_m) / 10
    np.testing.assert_allclose(opt.mean, np.clip(mean + sigma * b @ (u @ z), -1, 1))
    assert opt.sigma == pytest.approx(sigma * math.exp(opt.eta_sigma / 2 * g_sigma))
    for _ in range(30):
        opt.tell(-sphere(opt.ask()))
    assert np.linalg.det(opt.B) == pytest.approx(1.0, rel=1e-9)


def test_snes_update_follows_the_natural_gradient() -> None:
    opt = build("snes", 7, population=12)
    x = opt.ask()
    z, mean, sigma = opt._z.copy(), opt.mean.copy(), opt.sigma.copy()
    f = -sphere(x)
    opt.tell(f)
    u = sample_utilities(f)
    np.testing.assert_allclose(opt.mean, np.clip(mean + sigma * (u @ z), -1, 1))
    np.testing.assert_allclose(opt.sigma, sigma * np.exp(opt.eta_sigma / 2 * (u @ (z * z - 1))))


@pytest.mark.parametrize("name", ["xnes", "snes"])
def test_nes_asks_clipped_samples_and_keeps_the_mean_in_the_box(name: str) -> None:
    opt = build(name, 8, population=12, sigma0=2.0)
    for _ in range(10):
        x = opt.ask()
        assert np.all(np.abs(x) <= 1.0) and np.any(np.abs(x) == 1.0)
        opt.tell(x.sum(axis=1))
        assert np.all(np.abs(opt.mean) <= 1.0)
