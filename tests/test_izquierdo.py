"""Izquierdo's experiments (issue 21; his public VisuallyGuidedAgent code, after Beer): grids with a
band left out, size categorisation, the aperture's avoid clip, the product of two tasks' scores,
and the default worlds still computing what they computed before these settings existed."""

import math

import numpy as np
import pytest
from conftest import ROOT

from evorobot.config import load_world
from evorobot.episode import evaluate_individuals
from evorobot.errors import ConfigError
from evorobot.fitness import mean_fitness
from evorobot.seeding import conditions_rng
from evorobot.setup import build
from evorobot.tasks import TASKS
from evorobot.tasks.base import Scores
from evorobot.tasks.falling import grid, skip_grid
from evorobot.tasks.multiple_tasks import SizeAndAperture, SizeAndApertureSpec


def world(name, *overrides):
    return load_world(ROOT / "worlds" / f"{name}.toml", list(overrides))


def setup_of(name, *overrides):
    return build(world(name, *overrides))


def conditions(setup):
    return setup.task.conditions(conditions_rng(1, 0))


def still(setup):
    """The all-zero genome: no weights, and both motor neurons alike, so ``vx`` is exactly 0 and the
    agent stays at x = 0 (each arrival offset is then the object's start offset)."""
    return evaluate_individuals(setup, np.zeros((1, setup.genome_size)), conditions(setup))


def scores(offsets, done=True, failed=False):
    """Hand-made accumulators of one-slot trials that arrived at ``offsets``."""
    n = len(offsets)
    values = np.column_stack([np.asarray(offsets, dtype=float), np.ones(n)])
    return Scores(np.full(n, done), np.full(n, failed), values)


# -- grids with a band left out ------------------------------------------------------------------

def test_skip_grid_leaves_the_band_out_and_zero_keeps_the_plain_grid():
    np.testing.assert_array_equal(skip_grid(24, -24.0, 24.0, 0.0, 2.0),
                                  [float(x) for x in range(-24, -1, 2)] + [float(x) for x in range(2, 25, 2)])
    np.testing.assert_array_equal(skip_grid(10, 20.0, 40.0, 30.0, 2.0), [20, 22, 24, 26, 28, 32, 34, 36, 38, 40])
    for n, lo, hi in ((12, -50.0, 50.0), (1, -50.0, 50.0), (7, 10.0, 50.0)):
        np.testing.assert_array_equal(skip_grid(n, lo, hi, 0.0, 0.0), grid(n, lo, hi))


def test_offset_skip_in_categorical_perception_and_aperture():
    s = setup_of("categorical_perception", "task.offset_skip=15")
    x = conditions(s)[:12, 0]
    np.testing.assert_allclose(x, [-50, -43, -36, -29, -22, -15, 15, 22, 29, 36, 43, 50], rtol=0, atol=1e-12)
    assert np.abs(x).min() == 15.0 and conditions(s).shape == (24, 2)
    a = setup_of("aperture", "task.offset_skip=10", "task.gap_skip=4")
    rows = conditions(a)
    assert sorted(set(rows[:, 0])) == [-30.0, -10.0, 10.0, 30.0]
    np.testing.assert_allclose(sorted(set(rows[:, 1])), [10, 18, 26, 34, 42, 50], rtol=0, atol=1e-12)
    a = setup_of("aperture", "task.gaps=4", "task.gap_skip=6")  # the body's 30 +- 6 left out
    assert sorted(set(conditions(a)[:, 1])) == [10.0, 24.0, 36.0, 50.0]


@pytest.mark.parametrize("overrides, words", [
    (("task.offset_skip=15", "task.offsets=11"), ["`offsets` must be even", "offset_skip", "11"]),
    (("task.offset_skip=60",), ["`offset_skip` = 60.0", "offset_range", "[-50.0, 50.0]"]),
    (("task.offset_skip=-1",), ["`offset_skip` must be >= 0", "-1"]),
])
def test_a_band_the_grid_cannot_leave_out_is_refused(overrides, words):
    with pytest.raises(ConfigError) as err:
        world("categorical_perception", *overrides)
    assert all(w in str(err.value) for w in words) and "\n" not in str(err.value)


def test_gap_and_size_bands_are_checked_against_the_body():
    with pytest.raises(ConfigError, match=r"`gap_skip` = 30.0 leaves no room in `gap_range`"):
        setup_of("aperture", "task.gap_skip=30")
    with pytest.raises(ConfigError, match=r"`sizes` must be even when `size_skip` > 0, got 9"):
        setup_of("size_categorisation", "task.sizes=9")
    with pytest.raises(ConfigError, match=r"body's diameter 30.0 is neither small nor large"):
        setup_of("size_categorisation", "task.sizes=11", "task.size_skip=0")


# -- size categorisation ----------------------------------------------------------------------------

def test_size_categorisation_trials_are_izquierdos_grid():
    s = setup_of("size_categorisation")
    rows = conditions(s)
    assert TASKS["size_categorisation"] is type(s.task) and rows.shape == (120, 3)
    assert sorted(set(rows[:, 0])) == [float(x) for x in range(2, 25, 2)]  # MINPOS 0..MAXPOS 25 step 2, not 0
    assert sorted(set(rows[:, 1])) == [20.0, 22, 24, 26, 28, 32, 34, 36, 38, 40]  # 20..40 step 2, not 30
    assert (rows[:, 2] == (rows[:, 1] > 30)).all() and s.experiment.task.object_y == 240.0
    assert s.task.max_steps == math.ceil((240 - 30) / 0.3) + 10


def test_size_categorisation_scores_a_hand_made_trial_set():
    task = setup_of("size_categorisation").task
    cond = np.array([[2, 20, 0], [2, 20, 0], [2, 40, 1], [2, 40, 1], [2, 26, 0], [2, 34, 1], [2, 22, 0], [2, 38, 1]],
                    dtype=float)
    sc = scores([15.0, -90.0, 15.0, -100.0, 0.0, 0.0, 7.5, 7.5])
    sc.failed[6], sc.done[7] = True, False  # a failed and an unfinished trial score 0
    expected = [1 - 15 / 75, 0.0, 15 / 75, 1.0, 1.0, 0.0, 0.0, 0.0]
    np.testing.assert_array_equal(task.fitness(sc, cond), expected)


def test_size_categorisation_of_an_agent_that_stays_put():
    """The agent at 0 ends ``x`` from a circle that started at offset ``x``: a small circle scores
    ``1 - x / 75``, a large one ``x / 75``; over the grid the two halves sum to 1 per offset."""
    s = setup_of("size_categorisation")
    res = still(s)
    rows = conditions(s)
    expected = [x / 75 if avoid else 1.0 - x / 75 for x, _, avoid in rows]
    assert not res.failed.any()
    np.testing.assert_array_equal(res.fitness[0], expected)
    assert mean_fitness(res.fitness[0]) == pytest.approx(0.5, abs=1e-15)


# -- aperture: the avoid clip ------------------------------------------------------------------------

def test_aperture_avoid_clip_default_is_the_clearance_and_settable():
    cond = np.array([[0, 20, 0], [0, 20, 0], [0, 40, 1]], dtype=float)  # offset, gap, pass
    values = np.array([[30.0 - 25, 30.0 + 25, 1, 1], [100 - 25, 100 + 25, 1, 1], [9 - 35, 9 + 35, 1, 1]])
    sc = Scores(np.ones(3, bool), np.zeros(3, bool), values)
    clearance = 20 / 2 + 2 * 15 + 15  # gap / 2 + 2 w + r
    today = setup_of("aperture").task.fitness(sc, cond)
    np.testing.assert_array_equal(today, [30 / clearance, 1.0, 1 - 9 / 45])
    clipped = setup_of("aperture", "task.avoid_clip=75").task.fitness(sc, cond)
    np.testing.assert_array_equal(clipped, [30 / 75, 1.0, 1 - 9 / 45])


def test_aperture_izquierdo_of_an_agent_that_stays_put():
    """Line walls, gaps without the body's 30, centres 2..24, clip 75 both ways: the agent at 0 ends
    ``c`` from the gap's centre ``c``."""
    s = setup_of("aperture_izquierdo")
    rows = conditions(s)
    assert rows.shape == (120, 3) and 30.0 not in rows[:, 1] and s.experiment.task.object_shape == "line"
    res = still(s)
    expected = [1.0 - c / 75 if passing else c / 75 for c, _, passing in rows]
    np.testing.assert_array_equal(res.fitness[0], expected)


# -- the product of two tasks' scores ----------------------------------------------------------------

@pytest.fixture(scope="module")
def both():
    agent = world("size_categorisation").agent
    return SizeAndAperture(SizeAndApertureSpec(), agent, 0.1, "test [task]")


def test_size_and_aperture_trials_are_the_union_of_both_tasks(both):
    rows = both.conditions(conditions_rng(1, 0))
    aperture = setup_of("aperture_izquierdo").task.conditions(conditions_rng(1, 0))
    size = setup_of("size_categorisation").task.conditions(conditions_rng(1, 0))
    assert rows.shape == (240, 4) and both.n_trials == 240
    np.testing.assert_array_equal(rows[:120, 1:], aperture)
    np.testing.assert_array_equal(rows[120:, 1:], size)
    assert (rows[:120, 0] == 0).all() and (rows[120:, 0] == 1).all()


def test_each_trial_scores_as_in_its_own_task(both):
    cond = np.array([[0, 10, 20, 0], [0, 10, 40, 1], [1, 10, 20, 0], [1, 10, 40, 1]], dtype=float)
    # aperture rows: both walls' offsets (gap centre 30 and 9 from the agent); size rows: slot 0 only
    values = np.array([[5, 55, 1, 1], [-26, 44, 1, 1], [15, 0, 1, 0], [15, 0, 1, 0]], dtype=float)
    sc = Scores(np.ones(4, bool), np.zeros(4, bool), values)
    np.testing.assert_array_equal(both.fitness(sc, cond), [30 / 75, 1 - 9 / 75, 1 - 15 / 75, 15 / 75])


def test_individual_fitness_is_the_product_of_the_two_means(both):
    """Izquierdo's MultipleTasks: PerceiveAffordance * CircleSizeCategorization. Aperture trials
    half 1.0, half 0.5 (mean 0.75); size trials all 0.5: the product is 0.375, the plain mean
    over the 240 trials would be 0.625."""
    trials = np.concatenate([np.repeat([1.0, 0.5], 60), np.full(120, 0.5)])
    assert both.individual_fitness(trials) == 0.375
    assert mean_fitness(trials) == 0.625
    rng = np.random.default_rng(5)
    trials = rng.uniform(0, 1, 240)
    a, b = math.fsum(trials[:120]) / 120, math.fsum(trials[120:]) / 120
    assert both.individual_fitness(trials) == a * b
    trials[120:] = 0.0  # an agent that fails one task scores 0 however well it does the other
    assert both.individual_fitness(trials) == 0.0


# -- what the default worlds computed before these settings --------------------------------------

PINNED = {  # mean fitness of two random genomes (rng 21), computed on 68614ff, before this change
    "categorical_perception": (0.5010961101706529, 0.5023864463195654),
    "aperture": (0.516925394714635, 0.6758832437262169),
    "circle_line": (0.49976898662456887, 0.4879311631680168),
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_default_worlds_compute_what_they_did(name):
    s = setup_of(name)
    genomes = np.random.default_rng(21).uniform(-1, 1, (2, s.genome_size))
    res = evaluate_individuals(s, genomes, conditions(s))
    assert tuple(mean_fitness(row) for row in res.fitness) == PINNED[name]


def test_categorical_perception_izquierdo_is_what_its_name_says():
    exp = world("categorical_perception_izquierdo")
    t = exp.task
    assert (t.object_y, t.avoid_shape, t.offset_range, t.offsets, t.distance_clip) == (240.0, "line", (2.0, 24.0), 12, 75.0)
    assert (exp.agent.eye.gain, exp.agent.motor.gain, exp.controller.hidden) == (1.0, 8.0, 7)
    assert exp.controller.gain_range == (1.0, 5.0) and exp.controller.bias_range == (-10.0, 10.0)


def test_evolution_and_replay_use_the_product(tmp_path, capsys):
    """Through the contract's ``individual_fitness``: the generation's fitness, the champion file and
    its replay are the product of the two means, not the mean over all trials."""
    from evorobot.cli import main
    from evorobot.evolution.evaluate import evaluate

    s = setup_of("size_and_aperture")
    cond = conditions(s)
    genomes = np.random.default_rng(3).uniform(-1, 1, (2, s.genome_size))
    ev = evaluate(s, genomes, cond, chunk_size=2)
    for fit, trials in zip(ev.fitness, ev.trials, strict=True):
        product = (math.fsum(trials[:120]) / 120) * (math.fsum(trials[120:]) / 120)
        assert fit == product != mean_fitness(trials)
    run = tmp_path / "run"
    assert main(["evolve", str(ROOT / "worlds" / "size_and_aperture.toml"), "--generations", "1",
                 "--population", "2", "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["replay", str(run)]) == 0
    out = capsys.readouterr().out
    assert "identical bit for bit" in out
    last = next(line for line in out.splitlines() if "bit for bit" in line)
    assert last.startswith("fitness (aperture mean x size mean) ")  # not "mean fitness"
    trials = [float(line.split("fitness ")[1].split()[0]) for line in out.splitlines() if line.startswith("trial ")]
    assert len(trials) == 240
    stated = float(last.split()[6])
    assert stated == pytest.approx((math.fsum(trials[:120]) / 120) * (math.fsum(trials[120:]) / 120), abs=2e-6)
