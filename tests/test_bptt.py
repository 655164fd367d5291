"""BPTT (evorobot/training/bptt.py, gradient.py; the kernels of elman.py, fully_recurrent.py, _dense.py).

Checked against references written here in plain numpy: the loss of a network over padded
sequences (its forward pass written out), whose central finite differences must agree with the
kernels' gradient of every parameter class to 1e-6 relative, for both losses; the same loss
through the episode (the task's own scoring); truncated BPTT with a window as long as the
sequence equals full BPTT; BPTT(h; h') is the exact gradient of Williams & Peng's (1990) cut loss
(each block's ticks computed from the state h ticks before the block's end held fixed), checked
by central differences of that loss; and BPTT(1; 1) of the Elman net equals Elman's (1990)
training, the gradient with the context held as a fixed input. Then the trainer: a short run reduces the loss,
is deterministic, keeps every parameter in its gene range, replays bit for bit through
``evorobot replay``; bad settings are refused in one line naming ``[optimizer]``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import ROOT

from evorobot.cli import main
from evorobot.config import experiment_from_dict, load_world
from evorobot.controllers.elman import Elman, ElmanSpec
from evorobot.controllers.fully_recurrent import FullyRecurrent, FullyRecurrentSpec
from evorobot.episode import Episode
from evorobot.errors import ConfigError
from evorobot.setup import Setup, build
from evorobot.spec import parse
from evorobot.training import TRAINERS
from evorobot.training.gradient import GeneParameters
from evorobot.training.run import resume_training, train

WHERE = "w.toml [optimizer]"


def data(seed: int = 0, n_in: int = 2, n_out: int = 2) -> tuple[np.ndarray, ...]:
    """Three padded sequences of lengths 11, 8, 5 with random score weights (zero after the end)."""
    rng = np.random.default_rng(seed)
    r, t = 3, 11
    lengths = np.array([11, 8, 5])
    x = rng.uniform(-1, 1, (r, t, n_in))
    y = rng.integers(0, 2, (r, t, n_out)).astype(float)  # 0/1: both losses apply
    w = rng.uniform(0, 1, (r, t)) * (np.arange(t)[None, :] < lengths[:, None])
    return x, y, w, lengths


def act(a: np.ndarray, kind: str) -> np.ndarray:
    return np.tanh(a) if kind == "tanh" else 1 / (1 + np.exp(-a))


def ref_loss(o: np.ndarray, y: np.ndarray, w: float, loss: int) -> float:
    if loss == 0:
        return float(w * np.sum((o - y) ** 2))
    return float(-w * np.sum(y * np.log(o) + (1 - y) * np.log(1 - o)))


def elman_loss(p: Any, x, y, w, lengths, loss: int, kind: str = "tanh", context: np.ndarray | None = None) -> float:
    """Plain-numpy Elman net over each sequence; ``context`` (R, T, H) replaces the previous hidden layer."""
    w_in, w_rec, b_h, w_out, b_o = (a[0] for a in p)
    total = 0.0
    for r in range(x.shape[0]):
        h = np.zeros(b_h.shape)
        for t in range(lengths[r]):
            c = h if context is None else context[r, t]
            h = act(b_h + w_in @ x[r, t] + w_rec @ c, kind)
            o = 1 / (1 + np.exp(-(b_o + w_out @ h)))
            total += ref_loss(o, y[r, t], w[r, t], loss)
    return total


def elman_hidden(p: Any, x, lengths, kind: str = "tanh") -> np.ndarray:
    """The context each tick sees (R, T, H): the previous hidden layer, plain numpy."""
    w_in, w_rec, b_h, _, _ = (a[0] for a in p)
    ctx = np.zeros((x.shape[0], x.shape[1], b_h.shape[0]))
    for r in range(x.shape[0]):
        h = np.zeros(b_h.shape)
        for t in range(lengths[r]):
            ctx[r, t] = h
            h = act(b_h + w_in @ x[r, t] + w_rec @ h, kind)
    return ctx


def fr_loss(p: Any, x, y, w, lengths, loss: int, kind: str = "tanh", hidden: int = 3) -> float:
    """Plain-numpy fully recurrent net: y(t+1) = f(b + W_in x(t) + W y(t)), outputs the last units."""
    w_in, w_rec, bias = (a[0] for a in p)
    total = 0.0
    for r in range(x.shape[0]):
        s = np.zeros(bias.shape)
        for t in range(lengths[r]):
            a = bias + w_in @ x[r, t] + w_rec @ s
            s = np.concatenate([act(a[:hidden], kind), act(a[hidden:], "sigmoid")])
            total += ref_loss(s[hidden:], y[r, t], w[r, t], loss)
    return total


NETS = {
    "elman_tanh": (lambda: Elman(ElmanSpec(hidden=4), 2, 2, 1.0), lambda p, *a: elman_loss(p, *a, kind="tanh")),
    "elman_sigmoid": (lambda: Elman(ElmanSpec(hidden=3, activation="sigmoid"), 2, 2, 1.0),
                      lambda p, *a: elman_loss(p, *a, kind="sigmoid")),
    "fully_recurrent": (lambda: FullyRecurrent(FullyRecurrentSpec(hidden=3), 2, 2, 1.0),
                        lambda p, *a: fr_loss(p, *a, kind="tanh", hidden=3)),
    "fully_recurrent_sigmoid": (lambda: FullyRecurrent(FullyRecurrentSpec(hidden=2, activation="sigmoid"), 2, 2, 1.0),
                                lambda p, *a: fr_loss(p, *a, kind="sigmoid", hidden=2)),
}


def params_of(ctrl: Any, seed: int = 1, scale: float = 0.4) -> Any:
    return ctrl.decode(np.random.default_rng(seed).uniform(-scale, scale, (1, ctrl.genome_size)))


def central_differences(f: Any, p: Any, name: str, h: float = 1e-5) -> np.ndarray:
    i = p._fields.index(name)
    out = np.zeros_like(p[i])
    for idx in np.ndindex(p[i].shape):
        plus, minus = [a.copy() for a in p], [a.copy() for a in p]
        plus[i][idx] += h
        minus[i][idx] -= h
        out[idx] = (f(type(p)(*plus)) - f(type(p)(*minus))) / (2 * h)
    return out


def assert_matches_differences(f: Any, p: Any, grads: Any) -> None:
    """Every parameter class's gradient in ``grads`` agrees with central differences of the loss
    ``f(params)`` at ``p`` to 1e-6 relative, and is a real gradient (not two zeros)."""
    for name in p._fields:
        fd = central_differences(f, p, name)
        g = getattr(grads, name)
        assert np.linalg.norm(g - fd) <= 1e-6 * np.linalg.norm(fd), name
        assert np.linalg.norm(fd) > 1e-3, name


@pytest.mark.parametrize("loss", [0, 1], ids=["squared", "cross_entropy"])
@pytest.mark.parametrize("net", sorted(NETS))
def test_bptt_gradient_of_every_parameter_class_matches_central_differences(net: str, loss: int) -> None:
    make, reference = NETS[net]
    ctrl = make()
    p = params_of(ctrl)
    x, y, w, lengths = data()
    t = x.shape[1]
    total, grads = ctrl.gradient_model("w").bptt(p, x, y, w, lengths, loss, t, t)
    assert total == pytest.approx(reference(p, x, y, w, lengths, loss), rel=1e-12)
    assert_matches_differences(lambda q: reference(q, x, y, w, lengths, loss), p, grads)


@pytest.mark.parametrize("net", sorted(NETS))
def test_truncated_bptt_with_a_window_as_long_as_the_sequence_is_full_bptt(net: str) -> None:
    ctrl = NETS[net][0]()
    p, (x, y, w, lengths) = params_of(ctrl), data(3)
    t = x.shape[1]
    model = ctrl.gradient_model("w")
    full = model.bptt(p, x, y, w, lengths, 0, t, t)
    for stride in (1, 3, t):  # BPTT(T; h'): every block's errors reach the first tick
        loss, grads = model.bptt(p, x, y, w, lengths, 0, t, stride)
        assert loss == full[0]
        for a, b in zip(grads, full[1], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    short = model.bptt(p, x, y, w, lengths, 0, 2, 2)[1]  # a short window does cut the gradient
    assert not np.allclose(short[1], full[1][1], rtol=1e-3)


def truncated_reference(p: Any, x, y, w, lengths, window: int, stride: int, states: np.ndarray, step: Any) -> float:
    """BPTT(window; stride) by definition, a loss whose plain gradient it is: for each block of
    ``stride`` ticks ending at tick e, the loss of the block's ticks computed from the state of
    tick e - window held fixed (``states`` (R, T, n), recorded with the unperturbed parameters;
    zero before the sequence), so that no error reaches further back than e - window + 1."""
    total = 0.0
    for r in range(x.shape[0]):
        start = 0
        while start < lengths[r]:
            end = min(start + stride, lengths[r]) - 1
            first = max(0, end - window + 1)
            s = states[r, first - 1] if first > 0 else np.zeros(states.shape[2])
            for t in range(first, end + 1):
                s, o = step(p, x[r, t], s)
                if t >= start:
                    total += ref_loss(o, y[r, t], w[r, t], 0)
            start = end + 1
    return total


def elman_step(p: Any, x: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w_in, w_rec, b_h, w_out, b_o = (a[0] for a in p)
    h = np.tanh(b_h + w_in @ x + w_rec @ h)
    return h, 1 / (1 + np.exp(-(b_o + w_out @ h)))


def fr_step(p: Any, x: np.ndarray, s: np.ndarray, hidden: int = 3) -> tuple[np.ndarray, np.ndarray]:
    w_in, w_rec, bias = (a[0] for a in p)
    a = bias + w_in @ x + w_rec @ s
    s = np.concatenate([np.tanh(a[:hidden]), 1 / (1 + np.exp(-a[hidden:]))])
    return s, s[hidden:]


@pytest.mark.parametrize(("window", "stride"), [(4, 4), (5, 2), (3, 1), (6, 3)])
@pytest.mark.parametrize("net", ["elman_tanh", "fully_recurrent"])
def test_truncated_bptt_is_the_gradient_of_williams_and_pengs_cut_loss(net: str, window: int, stride: int) -> None:
    ctrl = NETS[net][0]()
    p, (x, y, w, lengths) = params_of(ctrl, 7, 0.8), data(7)
    step = elman_step if net == "elman_tanh" else fr_step
    states = np.zeros((x.shape[0], x.shape[1], p[2].shape[1]))  # b_h or bias: the recurrent units
    for r in range(x.shape[0]):
        s = np.zeros(states.shape[2])
        for t in range(lengths[r]):
            s, _ = step(p, x[r, t], s)
            states[r, t] = s
    _, grads = ctrl.gradient_model("w").bptt(p, x, y, w, lengths, 0, window, stride)
    for name in p._fields:
        fd = central_differences(lambda q: truncated_reference(q, x, y, w, lengths, window, stride, states, step),
                                 p, name)
        assert np.linalg.norm(getattr(grads, name) - fd) <= 1e-6 * np.linalg.norm(fd), name


def test_elman_bptt_1_1_is_elmans_training_with_the_context_as_a_fixed_input() -> None:
    ctrl = Elman(ElmanSpec(hidden=4), 2, 2, 1.0)
    p, (x, y, w, lengths) = params_of(ctrl, 5), data(5)
    context = elman_hidden(p, x, lengths)
    _, grads = ctrl.gradient_model("w").bptt(p, x, y, w, lengths, 0, 1, 1)
    for name in p._fields:
        fd = central_differences(lambda q: elman_loss(q, x, y, w, lengths, 0, context=context), p, name)
        assert np.linalg.norm(getattr(grads, name) - fd) <= 1e-6 * np.linalg.norm(fd), name


def world(**optimizer: Any) -> dict[str, Any]:
    return {"experiment": {"seed": 3}, "simulation": {"dt": 1.0},
            "task": {"type": "temporal_xor", "train_sequences": 8, "test_sequences": 2, "triples": 50},
            "controller": {"type": "elman", "hidden": 4},
            "optimizer": {"type": "bptt", "epochs": 20, "batch": 2, "learning_rate": 0.05, **optimizer}}


def setup_of(raw: dict[str, Any]) -> Setup:
    return build(experiment_from_dict(json.loads(json.dumps(raw)), "w.toml"))


def trainer(raw: dict[str, Any]) -> Any:
    setup = setup_of(raw)
    cls = TRAINERS[raw["optimizer"]["type"]]
    spec = parse(cls.Spec, {k: v for k, v in raw["optimizer"].items() if k != "type"}, WHERE)
    return cls(spec, setup, WHERE)


def test_the_kernels_loss_is_the_episodes_squared_error() -> None:
    setup = setup_of(world())
    genome = np.random.default_rng(0).uniform(-0.5, 0.5, setup.genome_size)
    task = setup.task
    rows = slice(0, task.n_train)
    d = task.data
    loss, _ = setup.controller.gradient_model("w").bptt(setup.controller.decode(genome[None]), d.inputs[rows],
                                                        d.targets[rows], d.weights[rows], d.lengths[rows], 0, 1, 1)
    ep = Episode(setup, genome[None], task.conditions(np.random.default_rng(0)))
    fitness = ep.run().fitness[0]  # temporal XOR: 1 - mean squared error per trial, equal trial sizes
    assert 1.0 - np.mean(fitness) == pytest.approx(loss / d.weights[rows].sum(), rel=1e-12)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_short_run_reduces_the_loss_deterministically(optimizer: str) -> None:
    raw = world(optimizer=optimizer, learning_rate=0.05 if optimizer == "adam" else 1.0)
    first = list(trainer(raw).epochs())
    again = list(trainer(raw).epochs())
    assert len(first) == 20
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.genome, b.genome)
        assert a.loss == b.loss and a.notes == b.notes
    assert first[-1].loss < 0.1 * first[0].loss  # squared error: 0.25 at chance, the xor learnt
    other = list(trainer({**raw, "experiment": {"seed": 4}}).epochs())  # the seed matters
    assert not np.array_equal(other[-1].genome, first[-1].genome)


def test_parameters_leaving_their_range_are_projected_and_counted() -> None:
    raw = world(learning_rate=0.5, loss="cross_entropy")
    raw["controller"].update(weight_range=[-0.3, 0.3], bias_range=[-0.2, 0.2])
    tr = trainer(raw)
    epochs = list(tr.epochs())
    assert sum(e.notes["projected"] for e in epochs) > 0 and epochs[-1].notes["on_bound"] > 0
    gp = GeneParameters(tr.setup.controller)
    for e in epochs:
        assert np.all(np.abs(e.genome) <= 1.0)
        theta = gp.values(tr.setup.controller.decode(e.genome[None]))
        assert np.all((theta >= gp.lo) & (theta <= gp.hi))
        assert e.notes["on_bound"] == np.count_nonzero((theta <= gp.lo) | (theta >= gp.hi))


def test_a_trained_run_replays_bit_for_bit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = train(setup_of(world(truncation=6, stride=3)), tmp_path / "run", ["test"], stream=None)
    assert summary.generations == 20
    assert main(["replay", str(tmp_path / "run"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    champion = json.loads((tmp_path / "run" / "champion.json").read_text())
    assert doc["matches_stored"] is True and doc["fitness"] == champion["fitness"]


def test_the_shipped_world_trains_temporal_xor() -> None:
    exp = load_world(ROOT / "worlds" / "bptt_temporal_xor.toml")
    tr = TRAINERS["bptt"](exp.optimizer, build(exp), WHERE)
    assert list(tr.epochs())[-1].loss < 0.2  # cross-entropy; ln 2 = 0.69 at chance


@pytest.mark.parametrize(("change", "words"), [
    ({"optimizer": {"stride": 3}}, "needs truncation > 0"),
    ({"optimizer": {"truncation": 2, "stride": 3}}, "stride = 3 > truncation = 2"),
    ({"optimizer": {"loss": "cross_entropy"}, "task": {"type": "narma10", "train_sequences": 2, "test_sequences": 1,
                                                      "washout": 10, "length": 20}}, "needs 0/1 targets"),
    ({"controller": {"type": "second_order"}}, "has no gradient kernels"),
    ({"controller": {"type": "elman", "hidden": 70}, "optimizer": {"type": "rtrl"}}, "70 recurrent units > 64"),
    ({"task": {"type": "mackey_glass", "train_sequences": 1, "test_sequences": 1, "mode": "free_run"}},
     "feeds the network's outputs back"),
])
def test_bad_settings_are_refused_in_one_line_naming_the_optimizer_table(change: dict[str, Any], words: str) -> None:
    raw = world()
    for table, values in change.items():
        raw[table] = ({**raw[table], **values} if table == "optimizer" else values)
    with pytest.raises(ConfigError) as err:
        trainer(raw)
    message = str(err.value)
    assert message.startswith(WHERE + ": ") and "\n" not in message and words in message


class StopAfter:
    """A progress stream that interrupts the run after ``n`` epoch lines (the checkpoint is written)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def write(self, text: str) -> None:
        self.n -= 1
        if self.n < 0:
            raise KeyboardInterrupt

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_an_interrupted_run_resumes_bit_for_bit_from_its_checkpoint(optimizer: str, tmp_path: Path) -> None:
    raw = world(epochs=6, optimizer=optimizer, learning_rate=0.05 if optimizer == "adam" else 1.0)
    whole = train(setup_of(raw), tmp_path / "whole", stream=None)
    with pytest.raises(KeyboardInterrupt):
        train(setup_of(raw), tmp_path / "cut", stream=StopAfter(3))  # type: ignore[arg-type]
    ck = sorted((tmp_path / "cut" / "checkpoint").glob("gen-*"))
    assert [p.name for p in ck] == ["gen-000003", "gen-000004"]  # the 4th epoch's checkpoint came before its line
    state = json.loads((ck[-1] / "state.json").read_text())
    assert {"genome", "adam_m", "adam_v"} <= set(state["arrays"]) or "velocity" in state["arrays"]
    assert "rng_state" in state["optimizer"]
    np.load(ck[-1] / "optimizer.npz", allow_pickle=False).close()
    resumed = resume_training(tmp_path / "cut", stream=None)
    assert (resumed.generations, resumed.best_fitness, resumed.best_generation) == (
        whole.generations, whole.best_fitness, whole.best_generation)

    def history(run: str) -> list[list[str]]:  # without the seconds column
        return [line.split(",")[:-1] for line in (tmp_path / run / "history.csv").read_text().splitlines()]

    assert history("cut") == history("whole")
    for name in ("champion.json",):
        assert (tmp_path / "cut" / name).read_text() == (tmp_path / "whole" / name).read_text()
    final = [json.loads((tmp_path / run / "checkpoint" / "gen-000006" / "state.json").read_text()) for run in
             ("cut", "whole")]
    assert final[0]["npz_sha256"] == final[1]["npz_sha256"] and final[0]["optimizer"] == final[1]["optimizer"]


def test_evorobot_resume_continues_a_trainers_run_and_refuses_overrides(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from evorobot.cli import main

    raw = world(epochs=6, optimizer="adam", learning_rate=0.05)
    train(setup_of(raw), tmp_path / "whole", stream=None)
    with pytest.raises(KeyboardInterrupt):
        train(setup_of(raw), tmp_path / "cut", stream=StopAfter(3))  # type: ignore[arg-type]
    assert main(["resume", str(tmp_path / "cut"), "--generations", "9"]) == 2
    assert "resumes as it was configured" in capsys.readouterr().err
    assert main(["resume", str(tmp_path / "cut")]) == 0
    assert (tmp_path / "cut" / "champion.json").read_text() == (tmp_path / "whole" / "champion.json").read_text()
