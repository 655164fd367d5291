"""`evorobot analyze`: lesions, perturbations and the input-output map checked against what must hold
exactly (a silent neuron, a network built without the removed neurons, a zero perturbation, the
closed-form fixed point of a network without recurrence)."""

import json
import sys

import numpy as np
import pytest
from conftest import CP_WORLD

from evorobot.analysis.interventions import Intervened, lesion_neurons
from evorobot.analysis.studies import (
    copies_episode,
    copy_rows,
    io_map,
    lesion_study,
    perturbation_study,
    record,
    settle,
    trial_classes,
)
from evorobot.cli import main
from evorobot.config import load_world
from evorobot.evolution.runner import evolve
from evorobot.source import WorldSource, open_source

SMALL = ["task.offsets=3"]


def _source(overrides, seed=3):
    return WorldSource(CP_WORLD, SMALL + overrides, seed)


@pytest.fixture(scope="module")
def champion(tmp_path_factory):
    exp = load_world(CP_WORLD, SMALL + ["optimizer.population=6", "evolution.generations=2"])
    out = tmp_path_factory.mktemp("run") / "r"
    evolve(exp, out, stream=None)
    return out / "champion.json"


@pytest.mark.parametrize("integrator", ["euler", "rk4", "exp_euler"])
def test_removing_a_neuron_without_outgoing_weights_changes_no_trial_bit_for_bit(integrator):
    src = _source([f"controller.integrator={integrator}", "controller.symmetric=false"])
    ep = copies_episode(src, 3)
    ctrl, j = src.setup.controller, 2  # h2
    w = ep.params.w.copy()
    w[: copy_rows(ep, 2).start, :, j] = 0.0  # copies 0 and 1: h2 feeds nothing
    params = ep.params._replace(w=w)
    params = lesion_neurons(ctrl, params, copy_rows(ep, 1), [j], 0.7)  # copy 1: h2 removed (silent)
    params = lesion_neurons(ctrl, params, copy_rows(ep, 2), [j], 0.7)  # copy 2: h2 removed from the full net
    ep.params = params
    ep.reset()
    fit = ep.run().fitness
    assert np.array_equal(fit[0], fit[1])
    assert not np.array_equal(fit[0], fit[2])  # where h2 does feed the network, removing it matters


@pytest.mark.parametrize("integrator", ["euler", "rk4", "exp_euler"])
def test_removing_every_interneuron_equals_a_network_built_without_them(integrator):
    common = [f"controller.integrator={integrator}", "controller.symmetric=false", "controller.topology=full"]
    full = _source(common + ["controller.hidden=3"])
    bare = _source(common + ["controller.hidden=0"])
    ep = copies_episode(full, 1)
    ep.params = lesion_neurons(full.setup.controller, ep.params, copy_rows(ep, 0), [0, 1, 2], 0.0)
    ep.reset()
    got = record(ep)
    small = copies_episode(bare, 1)
    p = ep.params
    small.params = small.params._replace(tau=p.tau[:, 3:].copy(), bias=p.bias[:, 3:].copy(),
                                         gain=p.gain[:, 3:].copy(), w=p.w[:, 3:, 3:].copy(),
                                         w_in=p.w_in[:, 3:].copy(), y0=p.y0[:, 3:].copy())
    want = record(small)
    assert np.array_equal(got.outputs, want.outputs)
    assert np.array_equal(got.units[:, :, 3:], want.units)
    assert np.array_equal(ep.result().fitness, small.result().fitness)


def test_a_removed_sensor_equals_one_whose_input_weights_are_zero():
    src = _source(["controller.symmetric=false"])
    ep = copies_episode(src, 2)
    k = 3
    mask = np.zeros((ep.n_agents, ep.n_inputs), dtype=bool)
    mask[copy_rows(ep, 0), k] = True  # copy 0: the middle ray reads 0
    w_in = ep.params.w_in.copy()
    w_in[copy_rows(ep, 1), :, k] = 0.0  # copy 1: the network ignores the middle ray
    ep.params = ep.params._replace(w_in=w_in)
    ep.controller = Intervened(ep.controller, mask, 0.0)
    got = record(ep)
    half = ep.n_trials
    assert np.array_equal(got.units[:, :half], got.units[:, half:])
    assert np.array_equal(ep.result().fitness[0], ep.result().fitness[1])
    intact = record(copies_episode(src, 1))
    assert not np.array_equal(got.units[:, :half], intact.units)  # the middle ray matters to this network


def test_lesion_study_intact_row_is_the_stored_fitness_and_rows_are_what_they_say(champion):
    src = open_source(str(champion))
    rows = lesion_study(src, 0.0)
    assert rows[0].kind == "none" and np.array_equal(rows[0].fitness, src.stored_trials)
    assert [r.label for r in rows[1:]] == ["h0", "h1", "h2", "h3", "h4"] + [f"ray{i}" for i in range(7)]
    # each row equals that lesion run alone (batching changes nothing)
    ep = copies_episode(src, 1)
    ep.params = lesion_neurons(src.setup.controller, ep.params, copy_rows(ep, 0), [1], 0.0)
    ep.reset()
    assert np.array_equal(ep.run().fitness[0], rows[2].fitness)


def test_zero_perturbation_is_the_unperturbed_run_bit_for_bit_and_a_clamp_holds(champion):
    src = open_source(str(champion))
    zero = perturbation_study(src, 1, "kick", 0.0, (2.0, 6.0))
    assert np.array_equal(zero.intact.units, zero.perturbed.units)
    assert np.array_equal(zero.intact.outputs, zero.perturbed.outputs)
    assert np.array_equal(zero.fitness_intact, zero.fitness_perturbed)
    kick = perturbation_study(src, 1, "kick", 3.0, (2.0, 6.0))
    before = kick.intact.time < 2.0
    assert np.array_equal(kick.intact.units[before], kick.perturbed.units[before])
    assert not np.array_equal(kick.intact.units, kick.perturbed.units)
    clamp = perturbation_study(src, 1, "clamp", 0.25, (2.0, 6.0))
    inside = (clamp.perturbed.time >= 2.0) & (clamp.perturbed.time < 6.0)
    assert np.all(clamp.perturbed.units[inside][:, :, 1] == 0.25)


def test_settled_network_without_recurrence_is_at_its_closed_form_fixed_point():
    src = _source(["controller.symmetric=false", "controller.integrator=rk4"])
    ctrl = src.setup.controller
    x = np.zeros((5, ctrl.n_inputs))
    x[:, 3] = np.linspace(0.0, 1.0, 5)
    p = ctrl.decode(np.repeat(src.genome[None, : ctrl.genome_size], 5, axis=0))
    p = p._replace(w=np.zeros_like(p.w))  # tau dy/dt = -y + w_in x: the fixed point is y = w_in x
    out, spread = settle(ctrl, p, x, 0.1, 600)
    y = np.einsum("bnk,bk->bn", p.w_in, x)
    o = 1.0 / (1.0 + np.exp(-p.gain * (y + p.bias)))
    first = ctrl._first_out
    np.testing.assert_allclose(out, o[:, first:first + 2], rtol=0, atol=1e-12)
    assert np.all(spread < 1e-12)


def test_io_map_sweeps_each_input_alone():
    src = _source(["controller.symmetric=false"])
    ctrl = src.setup.controller
    m = io_map(src, [0, 3], 0.0, 1.0, 5)
    assert m.inputs == ["ray0", "ray3"] and m.steady.shape == (2, 5, 2)
    x = np.zeros((1, ctrl.n_inputs))
    x[0, 3] = 0.75
    p = ctrl.decode(src.genome[None, : ctrl.genome_size])
    out, _ = settle(ctrl, p, x, src.setup.experiment.simulation.dt, m.ticks)
    assert np.array_equal(out[0], m.steady[1, 3])  # alone == in the sweep's batch


def test_trial_classes_group_by_the_few_valued_conditions():
    conds = np.array([[-50, 0, 7], [0, 0, 8], [50, 1, 9], [-50, 1, 10.0]])
    c = trial_classes(("offset", "avoid", "noise_seed"), conds)
    assert list(c) == ["all", "offset=-50", "offset=0", "offset=50", "avoid=0", "avoid=1"]
    assert c["avoid=1"].tolist() == [False, False, True, True]


def test_analyze_cli_writes_tables_and_figures_that_match_the_studies(champion, tmp_path, capsys):
    out = tmp_path / "an"
    assert main(["analyze", str(champion), "--out", str(out), "--neuron", "h1", "--window", "2,6",
                 "--amplitude", "0"]) == 0
    for name in ("lesions.png", "lesions.csv", "traces.png", "perturbation.png", "io_map.png", "phase.png",
                 "analysis.json"):
        assert (out / name).stat().st_size > 0
    doc = json.loads((out / "analysis.json").read_text())
    rows = lesion_study(open_source(str(champion)), 0.0)
    assert [d["fitness"] for d in doc["lesions"]] == [r.fitness.tolist() for r in rows]
    assert doc["perturbation"]["fitness_intact"] == doc["perturbation"]["fitness_perturbed"]
    csv_rows = (out / "lesions.csv").read_text().splitlines()
    assert csv_rows[0].startswith("kind,label,value,all,")
    assert float(csv_rows[1].split(",")[3]) == float(np.mean(rows[0].fitness))


@pytest.mark.parametrize("args, needle", [
    (["--window", "5,1"], "--window"),
    (["--neuron", "zz"], "--neuron 'zz'"),
    (["--phase", "h0"], "--phase"),
    (["--lesion-value", "2"], "--lesion-value"),
    (["--trials", "99"], "--trials"),
    (["--perturb", "clamp", "--amplitude", "1.5"], "--amplitude"),
])
def test_analyze_refuses_bad_options_in_one_line(champion, tmp_path, capsys, args, needle):
    assert main(["analyze", str(champion), "--out", str(tmp_path / "x"), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]
    assert not (tmp_path / "x").exists()


def test_analyze_without_matplotlib_names_the_extra(champion, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert main(["analyze", str(champion), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "evorobot[plot]" in err[0]
