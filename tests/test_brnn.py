"""Bidirectional network (Schuster & Paliwal 1997): plain-loop references of both chains in both
modes, the offline output's dependence on later inputs, window mode's causality, and the offline
hook through the episode and the setup (contract item 12)."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from ctrlutil import ACTIVATION, dot, genomes, make, roll, sigmoid

from evorobot.cli import main
from evorobot.config import load_world
from evorobot.controllers.brnn import BRNN
from evorobot.controllers.elman import Elman
from evorobot.episode import Episode
from evorobot.errors import ConfigError
from evorobot.evolution.runner import evolve
from evorobot.setup import build

SMALL = {"forward": 3, "backward": 4, "weight_range": [-2, 2], "bias_range": [-1, 1]}


def chain(w_in, w_rec, bias, xs, f) -> list[list[float]]:
    """States of one chain reading ``xs`` in the given order from 0, in plain loops."""
    h = [0.0] * len(bias)
    out = []
    for x in xs:
        h = [f(bias[i] + dot(w_in[i], x) + dot(w_rec[i], h)) for i in range(len(bias))]
        out.append(h)
    return out


def output(p, b: int, fv, gv) -> list[float]:
    return [sigmoid(p.b_o[b, k] + dot(p.w_out_f[b, k], fv) + dot(p.w_out_b[b, k], gv))
            for k in range(p.b_o.shape[1])]


def offline_reference(p, b: int, xs: np.ndarray, length: int, f) -> np.ndarray:
    """Outputs (T, n_out) of network ``b`` over the whole sequence ``xs`` (T, n_in): the forward
    chain from the start, the backward chain from the sequence's last element (and separately over
    the padding after it), as Schuster & Paliwal define them."""
    fs = chain(p.w_in_f[b], p.w_rec_f[b], p.b_f[b], xs, f)
    gs = chain(p.w_in_b[b], p.w_rec_b[b], p.b_b[b], xs[:length][::-1], f)[::-1]
    gs += chain(p.w_in_b[b], p.w_rec_b[b], p.b_b[b], xs[length:][::-1], f)[::-1]
    return np.array([output(p, b, fs[t], gs[t]) for t in range(len(xs))])


def window_reference(p, b: int, xs: np.ndarray, k: int, f) -> np.ndarray:
    """Outputs (T, n_out) in window mode: the forward chain over everything so far, the backward
    chain from 0 over the last ``k`` inputs, newest first, read at the oldest."""
    fs = chain(p.w_in_f[b], p.w_rec_f[b], p.b_f[b], xs, f)
    ys = []
    for t in range(len(xs)):
        window = xs[max(0, t - k + 1): t + 1][::-1]
        g = chain(p.w_in_b[b], p.w_rec_b[b], p.b_b[b], window, f)[-1]
        ys.append(output(p, b, fs[t], g))
    return np.array(ys)


def offline_roll(ctrl: BRNN, p, xs: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Outputs (T, B, n_out) of ``begin_sequences`` then one ``step`` per tick."""
    state = ctrl.begin_sequences(p, ctrl.init_state(p), xs, lengths)
    out = np.empty((xs.shape[0], ctrl.n_outputs))
    outs = []
    for t in range(xs.shape[1]):
        ctrl.step(p, state, xs[:, t], 1.0, out)
        outs.append(out.copy())
    return np.array(outs)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_offline_kernel_matches_a_plain_loop_of_both_chains(activation: str) -> None:
    ctrl = make(BRNN, n_in=3, n_out=2, mode="offline", activation=activation, **SMALL)
    assert ctrl.offline
    p = ctrl.decode(genomes(ctrl, 4, seed=1))
    xs = np.random.default_rng(2).normal(0, 1, (4, 30, 3))
    lengths = np.array([30, 17, 1, 25])
    xs[np.arange(30)[None, :] >= lengths[:, None]] = 0.0  # padded as a sequence task pads
    outs = offline_roll(ctrl, p, xs, lengths)
    for b in range(4):
        ref = offline_reference(p, b, xs[b], lengths[b], ACTIVATION[activation])
        np.testing.assert_allclose(outs[:, b], ref, rtol=0, atol=1e-12)
    assert np.min(np.ptp(outs[:10], axis=0)) > 1e-3


@pytest.mark.parametrize("k", [1, 4])
def test_window_mode_matches_a_plain_loop(k: int) -> None:
    ctrl = make(BRNN, n_in=3, n_out=2, window=k, **SMALL)
    assert not ctrl.offline
    p = ctrl.decode(genomes(ctrl, 3, seed=3))
    xs = np.random.default_rng(4).normal(0, 1, (3, 25, 3))
    outs, tr = roll(ctrl, p, xs)
    for b in range(3):
        np.testing.assert_allclose(outs[:, b], window_reference(p, b, xs[b], k, np.tanh), rtol=0, atol=1e-12)
    assert np.min(np.ptp(outs, axis=0)) > 1e-3 and tr["f"].shape == (25, 3, 3) and tr["g"].shape == (25, 3, 4)


def test_offline_output_depends_on_later_inputs_and_a_unidirectional_nets_does_not() -> None:
    rng = np.random.default_rng(5)
    xs = rng.normal(0, 1, (3, 20, 2))
    later = xs.copy()
    later[:, 12] += 1.0  # perturb one later input
    lengths = np.full(3, 20)
    brnn = make(BRNN, n_in=2, n_out=1, mode="offline", **SMALL)
    p = brnn.decode(genomes(brnn, 3, seed=6))
    a, b = offline_roll(brnn, p, xs, lengths), offline_roll(brnn, p, later, lengths)
    assert np.all(np.abs(a[:12] - b[:12]) > 1e-9)  # every earlier output changes
    elman = make(Elman, n_in=2, n_out=1, hidden=7)
    q = elman.decode(genomes(elman, 3, seed=6))
    ea, eb = roll(elman, q, xs)[0], roll(elman, q, later)[0]
    np.testing.assert_array_equal(ea[:12], eb[:12])
    assert np.all(np.abs(ea[12] - eb[12]) > 1e-9)


def test_window_mode_is_causal() -> None:
    ctrl = make(BRNN, n_in=2, n_out=2, window=6, **SMALL)
    p = ctrl.decode(genomes(ctrl, 3, seed=7))
    xs = np.random.default_rng(8).normal(0, 1, (3, 30, 2))
    for s in (0, 9, 29):
        changed = xs.copy()
        changed[:, s] += 1.0
        a, b = roll(ctrl, p, xs)[0], roll(ctrl, p, changed)[0]
        np.testing.assert_array_equal(a[:s], b[:s])
        assert np.all(np.abs(a[s] - b[s]) > 1e-9)


def test_offline_outputs_ignore_the_padding_after_a_sequence() -> None:
    ctrl = make(BRNN, n_in=2, n_out=1, mode="offline", **SMALL)
    p = ctrl.decode(genomes(ctrl, 2, seed=9))
    xs = np.random.default_rng(10).normal(0, 1, (2, 12, 2))
    longer = np.concatenate([xs, np.random.default_rng(11).normal(0, 1, (2, 8, 2))], axis=1)
    lengths = np.array([12, 7])
    a, b = offline_roll(ctrl, p, xs, lengths), offline_roll(ctrl, p, longer, lengths)
    for w, n in enumerate(lengths):  # what lies after a trial's end changes none of its outputs
        np.testing.assert_array_equal(a[:n, w], b[:n, w])
    assert np.all(np.abs(a[7:12, 1] - b[7:12, 1]) > 1e-12)  # (ticks past the end do read it)


def test_stepping_an_offline_net_without_its_sequences_raises_and_other_types_are_not_offline() -> None:
    ctrl = make(BRNN, n_in=2, n_out=1, mode="offline")
    p = ctrl.decode(genomes(ctrl, 2, seed=0))
    with pytest.raises(ValueError, match="begin_sequences"):
        ctrl.step(p, ctrl.init_state(p), np.zeros((2, 2)), 1.0, np.empty((2, 1)))
    elman = make(Elman, n_in=2, n_out=1)
    assert not elman.offline
    with pytest.raises(ConfigError, match="not offline"):
        elman.begin_sequences(elman.decode(genomes(elman, 1, 0)), None, np.zeros((1, 3, 2)), np.array([3]))
    window = make(BRNN, n_in=2, n_out=1)
    with pytest.raises(ConfigError, match="mode = \"offline\""):
        window.begin_sequences(window.decode(genomes(window, 1, 0)), None, np.zeros((1, 3, 2)), np.array([3]))


@pytest.mark.parametrize(("world", "why"), [("phototaxis.toml", "is no sequence data set"),
                                            ("cartpole.toml", "is no sequence data set"),
                                            ("mackey_glass_free_run.toml", "feeds its outputs back")])
def test_setup_refuses_an_offline_net_where_the_inputs_are_not_known_in_advance(world: str, why: str) -> None:
    exp = load_world(ROOT / "worlds" / world, ['controller.mode="offline"'], controller="brnn")
    with pytest.raises(ConfigError, match=rf"{world} \[controller\]: an offline `brnn` .* {why}"):
        build(exp)
    build(load_world(ROOT / "worlds" / world, controller="brnn"))  # window mode runs anywhere


def test_the_episode_hands_each_trial_its_whole_sequence() -> None:
    setup = build(load_world(ROOT / "worlds" / "tomita4.toml", ['controller.mode="offline"'], controller="brnn"))
    ctrl, task = setup.controller, setup.task
    g = genomes(ctrl, 2, seed=12)
    conditions = np.concatenate([task.conditions(np.random.default_rng(0))[:20], task.held_out_conditions()[:5]])
    ep = Episode(setup, g, conditions)
    outs = []
    ep.run(lambda e: outs.append(e.outputs.copy()))
    p = ctrl.decode(g)
    rows = task.data_rows(conditions)
    for w in range(2 * len(conditions)):
        i, r = divmod(w, len(conditions))
        n = int(task.data.lengths[rows[r]])
        ref = offline_reference(p, i, task.data.inputs[rows[r]], n, np.tanh)
        np.testing.assert_allclose(np.array(outs)[:n, w], ref[:n], rtol=0, atol=1e-12)


def test_offline_evolution_replays_bit_for_bit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exp = load_world(ROOT / "worlds" / "brnn_framewise.toml",
                     ["optimizer.population=4", "evolution.generations=2", "evolution.chunk_size=4"])
    summary = evolve(exp, tmp_path / "run", stream=None)
    assert summary.generations == 2
    assert main(["replay", str(tmp_path / "run" / "champion.json"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["matches_stored"] is True
