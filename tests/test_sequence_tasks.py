"""The sequence tasks' kernels, driven without a controller: oracles that know the generating rule
score perfectly (which checks that input t and target t line up), honest baselines score what
theory says (a constant predictor has NRMSE 1; a causal reader of the framewise labels reaches
the Bayes ceiling 76.4 %; a last-symbol lookup cannot beat the majority on Tomita 5), a blow-up
fails the trial, the data are fixed by data_seed, and a champion's held-out score replays."""

import json
import math
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import ROOT

from evorobot.cli import main
from evorobot.config import experiment_from_dict
from evorobot.errors import ConfigError
from evorobot.evolution.runner import evolve
from evorobot.tasks import TASKS
from evorobot.tasks.adding import Adding
from evorobot.tasks.base import Scores
from evorobot.tasks.datasets import TOMITA_DFAS
from evorobot.tasks.framewise import Framewise
from evorobot.tasks.mackey_glass import MackeyGlass
from evorobot.tasks.narma10 import Narma10
from evorobot.tasks.pattern_completion import PatternCompletion
from evorobot.tasks.sequence import SequenceTask
from evorobot.tasks.temporal_xor import TemporalXor
from evorobot.tasks.tomita import Tomita

Policy = Callable[[int, np.ndarray], np.ndarray]


def make(cls: type[SequenceTask], **kw: Any) -> Any:
    return cls(cls.Spec(**kw), None, 1.0, "test")


def drive(task: SequenceTask, conditions: np.ndarray, policy: Policy) -> Scores:
    """Run the task's observe/advance kernels on ``conditions`` with ``policy(step, inputs)`` as the network."""
    w = conditions.shape[0]
    state = task.new_state(conditions)
    scores = task.new_scores(w)
    inputs = np.zeros((w, task.interface.n_inputs))
    outputs = np.zeros((w, task.interface.n_outputs))
    step = 0
    while not np.all(scores.done | scores.failed):
        assert step < task.max_steps
        task.observe(state, step, inputs)
        outputs[:] = policy(step, inputs)
        task.advance(state, outputs, step, scores)
        step += 1
    return scores


def train(task: SequenceTask) -> np.ndarray:
    return task.conditions(np.random.default_rng(0))


def constant(value: float) -> Policy:
    return lambda step, inputs: np.full((inputs.shape[0], 1), value)


def scored_mean(task: SequenceTask, conditions: np.ndarray) -> float:
    rows = task.data_rows(conditions)
    w = task.data.weights[rows]
    return float((w * task.data.targets[rows, :, 0]).sum() / w.sum())


# --- time series ------------------------------------------------------------------------------

def narma_oracle(task: Narma10) -> Policy:
    """Runs the NARMA-10 recurrence on the inputs it sees: outputs y(t+1) at tick t, rescaled."""
    hist: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    lo, hi = task.scale

    def policy(step: int, inputs: np.ndarray) -> np.ndarray:
        u = inputs[:, 0] / 2.0
        hist.append(u)
        y = ys[-1] if ys else np.zeros_like(u)
        window = sum(ys[-10:]) if ys else np.zeros_like(u)
        lagged = hist[step - 9] if step >= 9 else 0.0
        ys.append(0.3 * y + 0.05 * y * window + 1.5 * lagged * u + 0.1)
        return ((ys[-1] - lo) / (hi - lo))[:, None]

    return policy


def test_narma10_oracle_predicts_perfectly_so_input_t_is_aligned_with_target_y_t_plus_1() -> None:
    task = make(Narma10, train_sequences=2, test_sequences=3, washout=20, length=100)
    assert task.max_steps == 120 and task.n_trials == 2
    scores = drive(task, train(task), narma_oracle(task))
    assert np.all(task.diagnostics(scores, train(task))["nrmse"] < 1e-10)
    np.testing.assert_allclose(task.fitness(scores, train(task)), 1.0, atol=1e-10)
    test = task.held_out_conditions()
    assert task.held_out_score(drive(task, test, narma_oracle(task)), test) < 1e-10
    inputs = task.data.inputs[:, :, 0]
    assert inputs.min() >= 0 and inputs.max() <= 1  # 2 u in [0, 1]


@pytest.mark.parametrize("cls, kw", [
    (Narma10, {"train_sequences": 3, "test_sequences": 2, "washout": 20, "length": 200}),
    (MackeyGlass, {"train_sequences": 3, "test_sequences": 2, "washout": 30, "length": 150}),
    (MackeyGlass, {"train_sequences": 3, "test_sequences": 2, "washout": 30, "length": 150, "mode": "free_run"}),
])
def test_a_constant_predictor_at_the_target_mean_has_nrmse_1(cls: type[SequenceTask], kw: dict[str, Any]) -> None:
    task = make(cls, **kw)
    test = task.held_out_conditions()
    scores = drive(task, test, constant(scored_mean(task, test)))
    assert abs(task.held_out_score(scores, test) - 1.0) < 1e-9
    tr = train(task)
    nrmse = task.diagnostics(drive(task, tr, constant(scored_mean(task, tr))), tr)["nrmse"]
    assert abs(math.sqrt(np.mean(nrmse ** 2)) - 1.0) < 1e-9  # equal-length trials: pooled = RMS of trials
    off = drive(task, test, constant(scored_mean(task, test) + 0.1))
    assert task.held_out_score(off, test) > 1.0


def test_mackey_glass_one_step_targets_are_the_next_inputs_and_persistence_beats_the_mean() -> None:
    task = make(MackeyGlass, train_sequences=2, test_sequences=2, washout=30, length=300)
    np.testing.assert_array_equal(task.data.targets[:, :-1, 0], task.data.inputs[:, 1:, 0])
    lo, hi = task.scale
    assert 0.3 < lo < 0.5 and 1.2 < hi < 1.4
    test = task.held_out_conditions()
    persistence = task.held_out_score(drive(task, test, lambda step, x: x.copy()), test)
    assert 0.01 < persistence < 0.5


def test_mackey_glass_free_run_feeds_back_the_previous_output_after_the_warm_up() -> None:
    task = make(MackeyGlass, train_sequences=2, test_sequences=1, washout=10, length=20, mode="free_run")
    seen: list[np.ndarray] = []

    def policy(step: int, inputs: np.ndarray) -> np.ndarray:
        seen.append(inputs[:, 0].copy())
        return np.full((inputs.shape[0], 1), 0.01 * step) + np.arange(inputs.shape[0])[:, None] * 0.001

    cond = train(task)
    drive(task, cond, policy)
    rows = task.data_rows(cond)
    for t in range(30):
        expected = task.data.inputs[rows, t, 0] if t < 10 else 0.01 * (t - 1) + np.arange(2) * 0.001
        np.testing.assert_allclose(seen[t], expected, rtol=0, atol=1e-15)
    one_step = make(MackeyGlass, train_sequences=2, test_sequences=1, washout=10, length=20)
    np.testing.assert_array_equal(one_step.data.targets, task.data.targets)


# --- symbol sequences -------------------------------------------------------------------------

def test_temporal_xor_scores_only_the_predictable_bits() -> None:
    task = make(TemporalXor, train_sequences=3, test_sequences=20, triples=100)
    last = np.zeros((3, 1))

    def oracle(step: int, inputs: np.ndarray) -> np.ndarray:
        out = np.logical_xor(last[: inputs.shape[0]], inputs).astype(float) if step % 3 == 1 else np.full_like(inputs, 0.5)
        last[: inputs.shape[0]] = inputs
        return out

    cond = train(task)
    np.testing.assert_array_equal(task.fitness(drive(task, cond, oracle), cond), 1.0)  # wrong-ish elsewhere: unscored
    np.testing.assert_array_equal(task.fitness(drive(task, cond, constant(0.5)), cond), 0.75)
    test = task.held_out_conditions()
    last = np.zeros((20, 1))
    assert task.held_out_score(drive(task, test, oracle), test) == 0.0
    echo = task.held_out_score(drive(task, test, lambda step, x: x.copy()), test)  # stateless: chance
    assert abs(echo - 0.5) < 3 * math.sqrt(0.25 / (20 * 100))


def test_adding_oracle_solves_every_sequence_whatever_its_length() -> None:
    task = make(Adding, length=30, trials=10, train_pool=50, test_sequences=300)
    assert task.max_steps == 33 and set(np.unique(task.data.lengths)) == {30, 31, 32, 33}
    acc = np.zeros(300)

    def oracle(step: int, inputs: np.ndarray) -> np.ndarray:
        if step == 0:
            acc[:] = 0.0
        n = inputs.shape[0]
        acc[:n] += np.where(inputs[:, 1] == 1.0, inputs[:, 0], 0.0)
        return (0.5 + acc[:n] / 4.0)[:, None]

    test = task.held_out_conditions()
    scores = drive(task, test, oracle)
    assert task.held_out_score(scores, test) == 0.0
    np.testing.assert_array_equal(task.fitness(scores, test), 1.0)
    assert task.held_out_score(drive(task, test, constant(0.5)), test) > 0.5  # the mean is rarely within 0.04
    a, b = task.conditions(np.random.default_rng(3)), task.conditions(np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert len(set(a[:, 1])) == 10 and np.all(a[:, 0] == 0)
    assert not np.array_equal(a, task.conditions(np.random.default_rng(4)))


def dfa_oracle(grammar: int, n: int) -> Policy:
    trans, accept = TOMITA_DFAS[grammar]
    state = np.zeros(n, dtype=np.int64)

    def policy(step: int, inputs: np.ndarray) -> np.ndarray:
        if step == 0:
            state[:] = 0
        symbol = inputs[:, 1] == 1.0
        live = (inputs[:, 0] == 1.0) | symbol
        state[:] = np.where(live, trans[state, symbol.astype(np.int64)], state)
        return np.where(inputs[:, 2] == 1.0, accept[state].astype(float), 0.5)[:, None]

    return policy


@pytest.mark.parametrize("grammar", range(1, 8))
def test_tomita_dfa_oracle_is_perfect_on_train_and_longer_test_strings(grammar: int) -> None:
    task = make(Tomita, grammar=grammar, train_strings=60, test_strings=200)
    cond, test = train(task), task.held_out_conditions()
    fit = task.fitness(drive(task, cond, dfa_oracle(grammar, 60)), cond)
    assert np.mean(fit) == pytest.approx(1.0, abs=1e-12)  # class-weighted trials: mean 1 when all right
    assert task.held_out_score(drive(task, test, dfa_oracle(grammar, 200)), test) == 1.0
    _strings, lengths, _ = task.test
    assert lengths.min() >= 11 and lengths.max() <= 14 and task.max_steps == 15
    np.testing.assert_array_equal(task.data.lengths[task.n_train:], lengths + 1)  # end marker: one more tick


def test_tomita_empty_string_is_one_end_marker_tick() -> None:
    task = make(Tomita, grammar=5, train_strings=2047, train_max_length=10)  # every string of length 0-10
    empty = int(np.flatnonzero(task.train[1] == 0)[0])
    assert task.data.lengths[empty] == 1
    np.testing.assert_array_equal(task.data.inputs[empty, 0], [0.0, 0.0, 1.0])
    assert task.data.targets[empty, 0, 0] == 1.0 and task.data.weights[empty, 0] == 1.0


def test_a_last_symbol_lookup_does_not_beat_the_majority_on_tomita_5() -> None:
    task = make(Tomita, grammar=5, test_strings=2000)
    strings, lengths, labels = task.test
    last = np.where(lengths > 0, strings[np.arange(len(lengths)), np.maximum(lengths - 1, 0)], 2)
    correct = 0
    for symbol in (0, 1, 2):  # the best table from the last symbol, fitted on the test set itself
        group = labels[last == symbol]
        correct += max(group.sum(), group.size - group.sum())
    majority = max(labels.mean(), 1 - labels.mean())
    assert correct / labels.size <= majority + 3 * math.sqrt(0.25 / labels.size)


@pytest.mark.parametrize("grammar", [1, 2, 4])
def test_always_rejecting_scores_one_half_whatever_the_class_balance(grammar: int) -> None:
    """Grammars 1 and 2 have few members: plain accuracy would reward rejecting everything."""
    task = make(Tomita, grammar=grammar, train_strings=100, test_strings=300)
    cond, test = train(task), task.held_out_conditions()
    assert task.class_balance()[1] < 0.5 or grammar == 4

    def reject(step: int, inputs: np.ndarray) -> np.ndarray:
        return np.zeros((inputs.shape[0], 1))

    assert np.mean(task.fitness(drive(task, cond, reject), cond)) == pytest.approx(0.5, abs=1e-12)
    assert task.held_out_score(drive(task, test, reject), test) == pytest.approx(0.5, abs=1e-12)


# --- framewise and pattern completion ---------------------------------------------------------

def window_sum_policy(width: int) -> Policy:
    buf: list[np.ndarray] = []

    def policy(step: int, inputs: np.ndarray) -> np.ndarray:
        buf.append(inputs[:, 0].copy())
        return (sum(buf[-width:]) > 0).astype(float)[:, None]

    return policy


def test_framewise_causal_bayes_reader_reaches_76_4_percent_and_a_delay_of_5_reaches_100() -> None:
    task = make(Framewise, train_sequences=1, test_sequences=1, frames=20000)
    assert abs(task.ceiling() - 0.7645) < 1e-4
    test = task.held_out_conditions()
    acc = task.held_out_score(drive(task, test, window_sum_policy(6)), test)
    assert abs(acc - task.ceiling()) < 0.01
    delayed = make(Framewise, train_sequences=1, test_sequences=2, frames=3000, delay=5)
    assert delayed.ceiling() == 1.0
    test = delayed.held_out_conditions()
    assert delayed.held_out_score(drive(delayed, test, window_sum_policy(11)), test) == 1.0
    late = make(Framewise, train_sequences=1, test_sequences=1, frames=500, delay=8)  # a tail of x is added
    test = late.held_out_conditions()
    buf: list[np.ndarray] = []

    def late_reader(step: int, inputs: np.ndarray) -> np.ndarray:
        buf.append(inputs[:, 0].copy())
        return (sum(buf[-14:-3]) > 0).astype(float)[:, None] if len(buf) >= 14 else np.zeros((1, 1))

    assert late.held_out_score(drive(late, test, late_reader), test) == 1.0


def test_pattern_completion_oracle_recalls_and_copying_the_cue_scores_1_minus_2_noise() -> None:
    task = make(PatternCompletion, patterns=3, units=16, noise=0.125, hold=True)
    assert task.interface.n_inputs == task.interface.n_outputs == 16 and task.max_steps == 6
    test = task.held_out_conditions()
    rows = task.data_rows(test)
    target = task.data.targets[rows, -1]
    scores = drive(task, test, lambda step, x: target)
    assert task.held_out_score(scores, test) == 1.0
    np.testing.assert_array_equal(task.fitness(scores, test), 1.0)
    copy = drive(task, test, lambda step, x: x.copy())
    assert task.held_out_score(copy, test) == 1.0 - 2 * 2 / 16
    np.testing.assert_array_equal(task.fitness(copy, test), 1.0 - 2 * 2 / 16)
    xi = 2 * target - 1
    assert np.all(np.abs(xi) == 1) and len({tuple(r) for r in xi}) == 3


def test_a_non_finite_output_fails_the_trial_and_scores_worst() -> None:
    task = make(Tomita, grammar=4, train_strings=10, test_strings=20)
    test = task.held_out_conditions()

    def blow_up(step: int, inputs: np.ndarray) -> np.ndarray:
        out = dfa_oracle(4, inputs.shape[0])(step, inputs) if step else np.full((inputs.shape[0], 1), 0.5)
        out[0, 0] = np.nan
        return out

    scores = drive(task, test, blow_up)
    assert scores.failed[0] and not scores.failed[1:].any()
    assert task.fitness(scores, test)[0] == task.worst
    narma = make(Narma10, train_sequences=1, test_sequences=2, washout=10, length=20)
    test = narma.held_out_conditions()
    scores = drive(narma, test, lambda step, x: np.full((2, 1), np.inf if step == 15 else 0.5))
    assert scores.failed.all() and narma.held_out_score(scores, test) == math.inf
    assert np.all(narma.fitness(scores, test) == 0.0)
    pc = make(PatternCompletion)
    test = pc.held_out_conditions()
    scores = drive(pc, test, lambda step, x: np.full(x.shape, np.nan))
    assert pc.held_out_score(scores, test) == -1.0 and np.all(pc.fitness(scores, test) == -1.0)


# --- determinism and configuration ------------------------------------------------------------

SEQUENCE_TASKS = sorted(n for n, c in TASKS.items() if issubclass(c, SequenceTask))


@pytest.mark.parametrize("name", SEQUENCE_TASKS)
def test_the_data_are_fixed_by_data_seed(name: str) -> None:
    cls = TASKS[name]
    a, b, c = make(cls), make(cls), make(cls, data_seed=1)
    for x, y, z in zip(a.data, b.data, c.data):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.data.inputs, c.data.inputs)
    assert a.max_steps == a.data.inputs.shape[1] and a.n_test > 0
    np.testing.assert_array_equal(a.conditions(np.random.default_rng(0)), b.conditions(np.random.default_rng(0)))


def test_the_test_split_does_not_depend_on_the_size_of_the_train_split() -> None:
    a, b = make(Narma10, train_sequences=2), make(Narma10, train_sequences=5)
    np.testing.assert_array_equal(a.data.inputs[a.n_train:], b.data.inputs[b.n_train:])


@pytest.mark.parametrize("cls, kw, match", [
    (Tomita, {"test_min_length": 12, "test_max_length": 11}, "test_min_length"),
    (Adding, {"trials": 30, "train_pool": 20}, "train_pool"),
    (MackeyGlass, {"tau": 17.05}, "integer"),
])
def test_inconsistent_settings_are_config_errors(cls: type[SequenceTask], kw: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        make(cls, **kw)


def test_a_champion_replays_its_held_out_score_identically(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    world = ROOT / "worlds" / "tomita4.toml"
    raw = tomllib.loads(world.read_text())
    raw["task"].update(train_strings=20, test_strings=100)
    raw["optimizer"]["population"] = 6
    raw["evolution"].update(generations=2, chunk_size=3)
    run = tmp_path / "run"
    evolve(experiment_from_dict(raw, str(world), base=world.parent), run, stream=None)
    champion = json.loads((run / "champion.json").read_text())
    assert champion["held_out"]["metric"] == "balanced_accuracy"
    assert main(["replay", str(run / "champion.json"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["matches_stored"] is True and doc["held_out"] == champion["held_out"]
