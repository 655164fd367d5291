"""Ridge regression of an ESN readout (``[optimizer] type = "ridge"``): the closed form against
numpy's least squares, the bound-constrained case against its optimality (KKT) conditions, a run
directory that replays bit for bit, and one-line refusals of what cannot be trained this way."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import ROOT

from evorobot.cli import main
from evorobot.config import experiment_from_dict, load_world
from evorobot.errors import ConfigError
from evorobot.evolution.runner import evolve, resume
from evorobot.setup import build
from evorobot.training.ridge import Ridge, bounded_ridge, design, ridge
from evorobot.training.run import TRAIN_COLUMNS, train

NARMA = {"type": "narma10", "train_sequences": 3, "test_sequences": 2, "washout": 50, "length": 300}


def world(task: dict[str, Any] | None = None, alpha: float = 1e-4, **controller: Any) -> dict[str, Any]:
    ctrl = {"type": "esn", "units": 40, "spectral_radius": 0.9, "input_scaling": 0.5, "bias_scaling": 0.0,
            "readout_range": [-50.0, 50.0], **controller}
    return {"simulation": {"dt": 1.0}, "task": task or dict(NARMA), "controller": ctrl,
            "optimizer": {"type": "ridge", "alpha": alpha}}


def regression(raw: dict[str, Any]) -> tuple[Any, np.ndarray, np.ndarray]:
    setup = build(experiment_from_dict(raw, "w.toml"))
    task = setup.task
    rows = slice(0, task.n_train)
    phi = setup.controller.linear_readout("w.toml [optimizer]").features(task.data.inputs[rows])
    x, y = design(phi, task.data.targets[rows], task.data.weights[rows])
    return setup, x, y


def test_closed_form_equals_lstsq_of_the_augmented_system() -> None:
    _, x, y = regression(world())
    assert x.shape == (3 * 300, 40 + 1 + 1)  # washout ticks (weight 0) excluded; features [x; u; 1]
    for alpha in (1e-6, 1e-2, 10.0):
        f = x.shape[1]
        aug = np.vstack([x, np.sqrt(alpha) * np.eye(f)])
        rhs = np.vstack([y, np.zeros((f, y.shape[1]))])
        want = np.linalg.lstsq(aug, rhs, rcond=None)[0].T
        np.testing.assert_allclose(ridge(x, y, alpha), want, rtol=0, atol=1e-10)


def test_features_are_the_states_the_episode_sees() -> None:
    """The regression's features are the states of the evaluation: the readout the trainer fits
    gives, evaluated, the outputs ``clip(Phi W)`` it predicts."""
    from evorobot.episode import Episode

    setup, x, y = regression(world())
    readout = setup.controller.linear_readout("w")
    w = ridge(x, y, 1e-4)
    genome = readout.encode(w)
    ep = Episode(setup, genome[None], setup.task.conditions(np.random.default_rng(0))[:1])
    outs = []
    ep.run(lambda e: outs.append(e.outputs[0, 0]))
    predicted = np.clip(x[:300] @ w.T, 0, 1)[:, 0]
    np.testing.assert_allclose(np.array(outs)[50:], predicted, rtol=0, atol=1e-12)


def kkt(x: np.ndarray, y: np.ndarray, alpha: float, w: np.ndarray, lo: float, hi: float) -> None:
    """Optimality of ``w`` for min |x w - y|^2 + alpha |w|^2 over lo <= w <= hi: the gradient is 0 on
    free weights, >= 0 on lower-bound weights and <= 0 on upper-bound ones."""
    grad = x.T @ (x @ w - y) + alpha * w
    scale = np.abs(x.T @ y).max()
    free = (w > lo) & (w < hi)
    assert np.all(np.abs(grad[free]) < 1e-7 * scale)
    assert np.all(grad[w <= lo] > -1e-7 * scale) and np.all(grad[w >= hi] < 1e-7 * scale)


def test_a_binding_range_gives_the_bounded_optimum_and_reports_its_bound_weights() -> None:
    raw = world(readout_range=[-1.0, 1.0])
    setup, x, y = regression(raw)
    free = ridge(x, y, 1e-4)
    assert np.abs(free).max() > 1.0  # the range binds
    exp = setup.experiment
    epoch = next(Ridge(exp.optimizer, setup, "w").epochs())
    w = setup.controller.decode(epoch.genome[None]).w_out[0]
    kkt(x, y[:, 0], 1e-4, w[0], -1.0, 1.0)
    on = int(np.count_nonzero(np.abs(np.abs(w) - 1.0) < 1e-12))
    assert epoch.notes["bounded"] is True and epoch.notes["weights_on_bound"] == on > 0
    np.testing.assert_allclose(w, bounded_ridge(x, y, 1e-4, np.full(w.shape, -1.0), np.full(w.shape, 1.0)),
                               rtol=0, atol=1e-12)
    inside = next(Ridge(exp.optimizer, build(experiment_from_dict(world(), "w")), "w").epochs())
    assert inside.notes["bounded"] is False and inside.notes["weights_on_bound"] == 0


def test_run_directory_replays_bit_for_bit_with_its_held_out_score(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    raw = world()
    raw["experiment"] = {"seed": 3}
    setup = build(experiment_from_dict(raw, "w.toml"))
    summary = train(setup, tmp_path / "run", stream=None)
    assert (summary.generations, summary.best_generation, summary.unit) == (1, 0, "epochs")
    champ = json.loads((tmp_path / "run" / "champion.json").read_text())
    with open(tmp_path / "run" / "history.csv") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == TRAIN_COLUMNS and len(rows) == 2
    assert float(rows[1][2]) == champ["fitness"] == summary.best_fitness
    assert float(rows[1][3]) == champ["held_out"]["score"] < 0.6  # far better than the mean (NRMSE 1)
    notes = json.loads((tmp_path / "run" / "manifest.json").read_text())["training"]
    assert notes[0]["samples"] == 900 and notes[0]["bounded"] is False
    assert main(["replay", str(tmp_path / "run"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["matches_stored"] is True and doc["trials"] == champ["trials"]
    assert doc["held_out"] == champ["held_out"]
    # the result is the set-up's: another run seed changes nothing but the seed
    raw["experiment"] = {"seed": 4}
    train(build(experiment_from_dict(raw, "w.toml")), tmp_path / "other", stream=None)
    other = json.loads((tmp_path / "other" / "champion.json").read_text())
    assert other["genome"] == champ["genome"] and other["trials"] == champ["trials"]


def test_cli_evolve_with_ridge_on_two_workers_equals_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    w = str(ROOT / "worlds" / "esn_mackey_glass.toml")
    common = ["evolve", w, "--optimizer", "ridge", "--set", "optimizer.alpha=1e-8", "--set", "controller.units=30"]
    assert main([*common, "--out", str(tmp_path / "one")]) == 0
    assert main([*common, "--workers", "2", "--out", str(tmp_path / "two")]) == 0
    assert "(epoch 0) after 1 epochs" in capsys.readouterr().out
    one, two = (json.loads((tmp_path / d / "champion.json").read_text()) for d in ("one", "two"))
    assert one["genome"] == two["genome"] and one["trials"] == two["trials"]
    assert one["held_out"]["score"] < 0.05  # Mackey-Glass one step, even with 30 units
    assert main(["resume", str(tmp_path / "one")]) == 2
    assert "trained in one go" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["narma10.toml"], r"narma10.toml \[optimizer\]: controller type `elman` has no linear readout"),
    (["esn_narma10.toml", "--set", "controller.evolve=readout_and_scaling"], r"\[optimizer\]: .*`evolve` = \"readout\""),
    (["esn_narma10.toml", "--set", "controller.output_feedback=true"], r"\[optimizer\]: .*`output_feedback` = false"),
    (["cartpole.toml", "--controller", "esn"], r"cartpole.toml \[optimizer\]: ridge fits a readout to a sequence"),
    (["phototaxis.toml", "--controller", "esn"], r"phototaxis.toml \[optimizer\]: ridge fits a readout to a sequence"),
])
def test_what_ridge_cannot_train_is_a_one_line_error_naming_the_optimizer_table(
        argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, *rest = argv
    out = tmp_path / "run"
    assert main(["evolve", str(ROOT / "worlds" / path), "--optimizer", "ridge", *rest, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert re.search(message, err), err
    assert not out.exists()  # nothing written


def test_other_misuses_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    w = str(ROOT / "worlds" / "esn_narma10.toml")
    assert main(["evolve", w, "--optimizer", "ridge", "--population", "10", "--out", str(tmp_path / "a")]) == 2
    assert "[optimizer]: unknown key `population`" in capsys.readouterr().err
    assert main(["evolve", w, "--optimizer", "ridge", "--init-from", str(tmp_path), "--out", str(tmp_path / "b")]) == 2
    assert "--init-from" in capsys.readouterr().err
    exp = load_world(w, optimizer="ridge")
    with pytest.raises(ConfigError, match=r"esn_narma10.toml \[optimizer\]: `ridge` is a trainer"):
        evolve(exp, tmp_path / "c", stream=None)
    with pytest.raises(ConfigError, match=r"\[optimizer\]: `alpha` must be >= 0"):
        load_world(w, ["optimizer.alpha=-1"], optimizer="ridge")
    with pytest.raises(ConfigError, match="no such run directory"):
        resume(tmp_path / "missing")


def test_same_set_up_in_reservoirpy_gives_the_same_states_and_readout() -> None:
    """Optional (reservoirpy is no dependency): its Reservoir, given our matrices (rho W, s_in W_in,
    b) and leak, runs the same states, and its Ridge on our features gives our readout."""
    rpy = pytest.importorskip("reservoirpy.nodes")
    raw = world(units=50, spectral_radius=0.95, bias_scaling=0.2, leak=0.7)
    setup, x, y = regression(raw)
    ctrl, task = setup.controller, setup.task
    r = ctrl.reservoir
    inputs = task.data.inputs[: task.n_train]
    states = np.array([np.asarray(rpy.Reservoir(units=50, lr=0.7, sr=0.95, W=0.95 * r.dense(), Win=0.5 * r.w_in,
                                                bias=r.bias.copy(), activation="tanh").run(seq)) for seq in inputs])
    np.testing.assert_allclose(states, ctrl.features(inputs)[:, :, :50], rtol=0, atol=1e-13)
    theirs = rpy.Ridge(ridge=1e-4, fit_bias=False)
    theirs.fit(x, y)
    ours = ridge(x, y, 1e-4)
    # reservoirpy solves the normal equations (condition number squared): agreement to 1e-6 relative
    np.testing.assert_allclose(np.asarray(theirs.Wout).T, ours, rtol=0, atol=1e-6 * np.abs(ours).max())
