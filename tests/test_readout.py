"""The cross-validated linear read-out of a trial's category (evorobot.analysis.readout) on data with a
known answer, its folds over trials, the traced states against a replay's trace, and
examples/mtrnn_hierarchy.py end to end."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from evorobot.analysis.readout import (
    category_states,
    cv_accuracy,
    first_stable_tick,
    folds,
    subset_accuracy,
    subsets,
    unit_groups,
)
from evorobot.config import load_world
from evorobot.episode import Episode
from evorobot.errors import EvorobotError
from evorobot.evolution.runner import evolve
from evorobot.labels import neuron_labels
from evorobot.replay import TraceRecorder
from evorobot.source import WorldSource, open_source

MTRNN_WORLD = ROOT / "worlds" / "categorical_perception_mtrnn.toml"
SCRIPT = ROOT / "examples" / "mtrnn_hierarchy.py"
DEADLINE = 120  # seconds: bounds a failure; a success takes a few


def _data(n_trials=40, ticks=30, k=12, noise_units=3, seed=1):
    """(ticks, trials, 1 + noise_units): unit 0 is noise before tick ``k`` and the category from it."""
    rng = np.random.default_rng(seed)
    category = np.repeat([0, 1], n_trials // 2)
    states = rng.uniform(0.0, 1.0, (ticks, n_trials, 1 + noise_units))
    states[k:, :, 0] = category
    return states, category


def test_a_unit_carrying_the_category_from_tick_k_reads_out_from_k_and_noise_at_chance():
    k = 12
    states, category = _data(k=k)
    acc = cv_accuracy(states, category)
    assert np.all(acc[k:] == 1.0)
    assert first_stable_tick(acc, 0.9) == k
    assert abs(acc[:k].mean() - 0.5) < 0.1
    noise_only = cv_accuracy(states[:, :, 1:], category)
    assert abs(noise_only.mean() - 0.5) < 0.05 and noise_only.max() < 0.8


def test_trials_the_read_out_cannot_tell_apart_score_exactly_one_half():
    states = np.full((5, 20, 3), 0.25)
    assert np.all(cv_accuracy(states, np.repeat([0, 1], 10)) == 0.5)


def test_folds_are_stratified_and_every_trial_is_scored_by_a_classifier_that_never_saw_it():
    category = np.array([0, 1] * 20)
    fold = folds(category, 5)
    for f in range(5):
        assert np.sum((fold == f) & (category == 0)) == 4 and np.sum((fold == f) & (category == 1)) == 4
    # As many noise units as trials: least squares fitted on all trials classifies them all (memorised),
    # while a classifier that never saw the trial it scores is at chance.
    rng = np.random.default_rng(2)
    states = rng.normal(size=(20, 40, 40))
    y = np.where(category == 1, 1.0, -1.0)
    fitted = [np.sign(np.c_[s, np.ones(40)] @ np.linalg.lstsq(np.c_[s, np.ones(40)], y, rcond=None)[0]) for s in states]
    assert all(np.all(f == y) for f in fitted)
    acc = cv_accuracy(states, category, ridge=1e-9)
    assert abs(acc.mean() - 0.5) < 0.1


def test_subsets_of_a_group_with_one_informative_unit_average_its_share():
    k = 10
    states, category = _data(k=k)
    assert subsets(4, 2, 20, np.random.default_rng(0)) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    acc = subset_accuracy(states, category, 2)
    assert acc.shape == (6, 30)
    assert np.all(acc[:3, k:] == 1.0)  # the pairs with unit 0
    assert abs(acc[3:, k:].mean() - 0.5) < 0.1
    drawn = subsets(10, 3, 7, np.random.default_rng(0))
    assert len(set(drawn)) == 7 and all(len(s) == 3 and list(s) == sorted(s) for s in drawn)


def test_first_stable_tick_is_where_the_accuracy_stays_above_the_threshold():
    assert first_stable_tick(np.array([0.5, 0.95, 0.8, 0.92, 0.95]), 0.9) == 3
    assert first_stable_tick(np.array([0.95, 0.96]), 0.9) == 0
    assert first_stable_tick(np.array([0.95, 0.8]), 0.9) is None


def test_unit_groups_by_label_prefix():
    labels = ["s0", "s1", "f0", "f1", "f2", "sl0", "sl1", "m0", "m1"]
    assert unit_groups(labels) == {"s": [0, 1], "f": [2, 3, 4], "sl": [5, 6], "m": [7, 8]}


def test_bad_input_is_refused_in_one_line():
    states, _ = _data()
    with pytest.raises(EvorobotError, match="two categories"):
        cv_accuracy(states, np.zeros(40, dtype=int))
    with pytest.raises(EvorobotError, match="--folds 30: category 0 has only 20 trials"):
        cv_accuracy(states, np.repeat([0, 1], 20), k=30)


def test_traced_states_are_the_controller_outputs_of_a_replay_bit_for_bit():
    source = WorldSource(MTRNN_WORLD, ["task.offsets=3"], seed=3)
    cs = category_states(source)
    ep = Episode(source.setup, source.genome[None, :], source.conditions)
    rec = TraceRecorder(ep)
    rec(ep)
    fitness = ep.run(rec).fitness[0]
    labels = neuron_labels(source.setup.controller)
    assert cs.labels == labels and cs.column == "avoid"
    assert np.array_equal(cs.category, (source.conditions[:, 1] == 1.0).astype(int))
    assert np.array_equal(cs.fitness, fitness)
    cols = [rec.header.index(name) for name in labels]
    trial, time = rec.header.index("trial"), rec.header.index("time")
    rows = [r for r in rec.rows if r[time] <= cs.time[-1]]
    assert len(rows) == cs.time.size * source.conditions.shape[0]
    for r in rows:
        t = int(np.flatnonzero(cs.time == r[time])[0])
        assert np.array_equal(cs.states[t, r[trial]], np.array([r[c] for c in cols], dtype=float))


@pytest.fixture(scope="module")
def champion(tmp_path_factory):
    exp = load_world(MTRNN_WORLD, ["task.offsets=3", "optimizer.population=6", "evolution.generations=2"])
    out = tmp_path_factory.mktemp("run") / "r"
    evolve(exp, out, stream=None)
    return out


def _script(*args, cwd):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          check=False, timeout=DEADLINE, cwd=cwd)


def test_script_reads_out_the_champion_on_the_dense_grid(champion, tmp_path):
    out = _script(champion, "--offsets", 5, "--min-fitness", 0, "--json", tmp_path / "r.json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    (rec,) = json.loads((tmp_path / "r.json").read_text())
    cs = category_states(open_source(str(champion), ["task.offsets=5"]))
    assert rec["trials"] == 10 and rec["dense_fitness"] == cs.fitness.mean()
    groups = unit_groups(cs.labels)
    assert rec["accuracy"]["sl"] == cv_accuracy(cs.states[:, :, groups["sl"]], cs.category).tolist()
    fast = subset_accuracy(cs.states[:, :, groups["f"]], cs.category, 2)
    assert len(fast) == 15 and rec["accuracy"]["f[2]"] == fast.mean(axis=0).tolist()
    assert "| sl | 2 |" in out.stdout and "| f[2] | 2 |" in out.stdout


def test_script_lists_a_champion_below_the_threshold_without_analysing_it(champion, tmp_path):
    out = _script(champion, "--min-fitness", 1.01, "--json", tmp_path / "r.json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    (rec,) = json.loads((tmp_path / "r.json").read_text())
    assert "accuracy" not in rec and "(not analysed: < 1.01)" in out.stdout


def test_script_refuses_bad_input_in_one_line(champion, tmp_path):
    out = _script(champion, "--min-fitness", 0, "--offsets", 5, "--folds", 9, cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip() == "mtrnn_hierarchy: error: --folds 9: category 0 has only 5 trials"
