"""Post-evaluation (``[evolution] validation_trials``): the champion is picked on fixed trials that
selection never sees, selection is untouched, and the champion replays its validation trials."""

import json

import numpy as np
import pytest

from conftest import CP_WORLD, ROOT
from test_backends import history
from evorobot.champion import load_champion
from evorobot.cli import main
from evorobot.config import load_world
from evorobot.episode import evaluate_individuals
from evorobot.evolution.backends import ProcessBackend
from evorobot.evolution.evaluate import evaluate
from evorobot.evolution.runner import evolve, resume
from evorobot.evolution.validation import Validation
from evorobot.seeding import conditions_rng, validation_rng

PHOTOTAXIS = ROOT / "worlds" / "phototaxis.toml"
SMALL = ["task.trials=2", "task.duration=3", "optimizer.population=8", "evolution.generations=4",
         "evolution.chunk_size=3"]
VALID = ["evolution.validation_trials=5", "evolution.validation_top=2"]


def _exp(*extra: str):
    return load_world(PHOTOTAXIS, [*SMALL, *extra])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("validation")
    evolve(_exp(), root / "plain", stream=None)
    evolve(_exp(*VALID), root / "valid", stream=None)
    return root


def test_selection_is_untouched_by_validation(runs):
    plain, valid = history(runs / "plain"), history(runs / "valid")
    assert [r.pop("validation") for r in plain] == [""] * 4
    assert all(float(r.pop("validation")) > -1 for r in valid)
    assert plain == valid  # every generation's best, mean, std, best-ever and failures
    a = np.load(runs / "plain" / "checkpoint" / "gen-000004" / "optimizer.npz")
    b = np.load(runs / "valid" / "checkpoint" / "gen-000004" / "optimizer.npz")
    assert np.array_equal(a["population"], b["population"])


def test_champion_is_the_best_on_the_validation_trials_and_replays_them(runs):
    run = runs / "valid"
    champ = load_champion(run / "champion.json")
    assert champ.trial_set == "validation" and champ.trials.shape == (5,)
    column = [float(r["validation"]) for r in history(run)]
    assert champ.fitness == max(column) and champ.generation == column.index(max(column))
    # the validation trials come from their own stream, not from any generation's
    cond = champ.conditions()
    exp = champ.setup.experiment
    assert np.array_equal(cond, champ.setup.task.conditions(validation_rng(exp.experiment.seed)))
    assert not any(np.array_equal(cond[:2], champ.setup.task.conditions(conditions_rng(1, g))[:2]) for g in range(4))
    # replays bit for bit, and is one of the generation's top two by evolution fitness
    again = evaluate_individuals(champ.setup, champ.genome[None], cond).fitness[0]
    assert np.array_equal(again, champ.trials)
    assert main(["replay", str(run), "--json"]) == 0


def test_validation_rechecks_the_generations_best_and_its_cache_changes_nothing():
    exp = _exp(*VALID)
    v = Validation(exp)
    genomes = np.random.default_rng(3).uniform(-1, 1, (6, v.setup.genome_size))
    fitness = np.array([0.1, np.nan, 0.5, 0.5, -0.2, 0.3])
    assert list(v.candidates(fitness)) == [2, 3]  # finite only, ties in index order
    idx, first = v.run(genomes, fitness, 4, None)
    direct = evaluate(v.setup, genomes[idx], v.conditions, 4)
    assert np.array_equal(first.trials, direct.trials) and np.array_equal(first.fitness, direct.fitness)
    fitness2 = np.array([0.9, 0.0, 0.5, 0.0, 0.0, 0.0])  # genome 2 again (cached) and genome 0 (new)
    idx2, second = v.run(genomes, fitness2, 4, None)
    assert list(idx2) == [0, 2]
    assert np.array_equal(second.trials[1], first.trials[0])
    assert np.array_equal(second.trials, evaluate(v.setup, genomes[idx2], v.conditions, 4).trials)


def test_validated_run_is_identical_with_two_workers_and_after_a_resume(runs, tmp_path):
    backend = ProcessBackend(2)
    try:
        evolve(_exp(*VALID), tmp_path / "workers", stream=None, backend=backend)
    finally:
        backend.close()
    assert history(tmp_path / "workers") == history(runs / "valid")
    champion = (runs / "valid" / "champion.json").read_bytes()
    assert (tmp_path / "workers" / "champion.json").read_bytes() == champion
    evolve(_exp(*VALID, "evolution.generations=2"), tmp_path / "half", stream=None)
    summary = resume(tmp_path / "half", overrides=["evolution.generations=4"], stream=None)
    assert history(tmp_path / "half") == history(runs / "valid")
    assert (tmp_path / "half" / "champion.json").read_bytes() == champion
    assert summary.best_fitness == load_champion(tmp_path / "half" / "champion.json").fitness


def test_a_fixed_grid_task_refuses_validation_in_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["evolve", str(CP_WORLD), "--set", "evolution.validation_trials=10", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and not out.exists()
    assert err.count("\n") == 1 and "validation_trials" in err and "fixed grid of trials" in err


def test_champion_files_name_a_known_trial_set(runs, tmp_path, capsys):
    d = json.loads((runs / "valid" / "champion.json").read_text())
    d["trial_set"] = "holdout"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))
    assert main(["replay", str(bad)]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "trial_set" in err and "holdout" in err


def test_a_champion_from_another_task_version_is_refused_in_one_line(runs, tmp_path, capsys):
    d = json.loads((runs / "valid" / "champion.json").read_text())
    assert d["task_version"] == 2
    d["task_version"] = 1  # phototaxis version 1: d0 after the first tick, lights inside obstacles
    bad = tmp_path / "other.json"
    bad.write_text(json.dumps(d))
    assert main(["replay", str(bad)]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "version 1 of task `phototaxis`" in err
    del d["task_version"]  # files written before versions were recorded count as version 1
    bad.write_text(json.dumps(d))
    assert main(["replay", str(bad), "--json"]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "version 1 of task `phototaxis`" in err
