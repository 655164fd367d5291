"""The trainer contract (evorobot/training/base.py), checked for every registered trainer.

Each trainer names, in :data:`SETUPS`, a small set-up it can train; a new registry entry without
one fails here until it gets one. Checked: the registry and ``Spec``, a one-line refusal naming the
``[optimizer]`` table of a set-up it cannot train (a hand-wired vehicle on a body task), that the
epochs are deterministic and give genes in [-1, 1] with a finite loss and JSON-ready notes, and
that :func:`evorobot.training.run.train` writes a run directory whose champion replays bit for bit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import ROOT

from evorobot.champion import load_champion
from evorobot.config import experiment_from_dict, load_world
from evorobot.episode import Episode
from evorobot.errors import ConfigError
from evorobot.evolution import OPTIMIZERS
from evorobot.setup import Setup, build
from evorobot.spec import parse
from evorobot.training import TRAINERS, Trainer
from evorobot.training.run import TRAIN_COLUMNS, train

NAMES = sorted(TRAINERS)

SETUPS: dict[str, dict[str, Any]] = {
    "ridge": {
        "simulation": {"dt": 1.0},
        "task": {"type": "mackey_glass", "train_sequences": 2, "test_sequences": 1, "washout": 50, "length": 100},
        "controller": {"type": "esn", "units": 20, "readout_range": [-50.0, 50.0]},
    },
    "hebbian": {
        "simulation": {"dt": 1.0},
        "task": {"type": "pattern_completion", "units": 32, "patterns": 3, "cue_steps": 1, "settle_steps": 2},
        "controller": {"type": "hopfield", "hidden": 0, "cue": "initial_state"},
    },
    "bptt": {
        "simulation": {"dt": 1.0},
        "task": {"type": "temporal_xor", "train_sequences": 3, "test_sequences": 1, "triples": 10},
        "controller": {"type": "elman", "hidden": 3},
    },
    "rtrl": {
        "simulation": {"dt": 1.0},
        "task": {"type": "temporal_xor", "train_sequences": 3, "test_sequences": 1, "triples": 10},
        "controller": {"type": "fully_recurrent", "hidden": 2},
    },
    "adjoint": {
        "simulation": {"dt": 1.0},
        "task": {"type": "temporal_xor", "train_sequences": 3, "test_sequences": 1, "triples": 10},
        "controller": {"type": "ctrnn", "hidden": 3, "integrator": "rk4"},
    },
}


def setup_for(name: str) -> Setup:
    assert name in SETUPS, f"trainer `{name}` needs a set-up it can train in SETUPS"
    raw = {**SETUPS[name], "optimizer": {"type": name}}
    return build(experiment_from_dict(json.loads(json.dumps(raw)), "w.toml"))


def trainer(name: str, setup: Setup) -> Trainer:
    cls = TRAINERS[name]
    return cls(parse(cls.Spec, {}, "w.toml [optimizer]"), setup, "w.toml [optimizer]")


@pytest.mark.parametrize("name", NAMES)
def test_registry_entry(name: str) -> None:
    cls = TRAINERS[name]
    assert cls.name == name and issubclass(cls, Trainer) and name not in OPTIMIZERS
    parse(cls.Spec, {}, "w.toml [optimizer]")  # every setting has a default


@pytest.mark.parametrize("name", NAMES)
def test_refuses_what_it_cannot_train_in_one_line_naming_the_optimizer_table(name: str) -> None:
    setup = build(load_world(ROOT / "worlds" / "braitenberg.toml", optimizer=name))
    with pytest.raises(ConfigError) as err:
        trainer(name, setup)
    assert str(err.value).startswith("w.toml [optimizer]: ") and "\n" not in str(err.value)


@pytest.mark.parametrize("name", NAMES)
def test_epochs_are_deterministic_genes_in_range(name: str) -> None:
    first = list(trainer(name, setup_for(name)).epochs())
    again = list(trainer(name, setup_for(name)).epochs())
    assert first and len(first) == len(again)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.genome, b.genome)
        assert a.loss == b.loss and a.notes == b.notes
        assert a.genome.shape == (setup_for(name).genome_size,)
        assert np.all(np.isfinite(a.genome)) and np.all(np.abs(a.genome) <= 1.0)
        assert np.isfinite(a.loss)
        assert json.loads(json.dumps(a.notes, allow_nan=False)) == a.notes


@pytest.mark.parametrize("name", NAMES)
def test_run_directory_is_an_evolution_runs_and_replays(name: str, tmp_path: Path) -> None:
    setup = setup_for(name)
    summary = train(setup, tmp_path / "run", ["test"], stream=None)
    for f in ("manifest.json", "config.json", "history.csv", "champion.json"):
        assert (tmp_path / "run" / f).is_file()
    lines = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert lines[0] == ",".join(TRAIN_COLUMNS) and len(lines) == summary.generations + 1
    champ = load_champion(tmp_path / "run" / "champion.json")
    assert champ.fitness == summary.best_fitness and champ.generation == summary.best_generation
    ep = Episode(champ.setup, champ.genome[None, :], champ.conditions())
    np.testing.assert_array_equal(ep.run().fitness[0], champ.trials)
    with pytest.raises(ConfigError, match="already holds a run"):
        train(setup, tmp_path / "run", stream=None)
