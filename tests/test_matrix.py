"""Every controller type in every world file: two generations of a tiny evolution, then the
champion replays to its stored fitness bit for bit.

The registry and ``worlds/*.toml`` are read when the tests are collected, so new controller types
and new worlds join the matrix by themselves. A world's ``[controller]`` table is replaced by
``{type = NAME}`` (the type's defaults): its keys belong to the world's own controller type. A type
without genes is not evolved; it is evaluated twice, from two separately built setups, and the two
evaluations must agree bit for bit. The hand-wired Braitenberg vehicle wires a body's sensors to
its wheels: on a world whose task brings its own dynamics (no body) it must be refused with a
one-line ConfigError.
"""

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from evorobot.cli import main
from evorobot.config import Experiment, experiment_from_dict
from evorobot.controllers import CONTROLLERS
from evorobot.episode import evaluate_individuals
from evorobot.errors import ConfigError
from evorobot.evolution.runner import evolve
from evorobot.seeding import conditions_rng
from evorobot.setup import build

WORLDS = sorted((ROOT / "worlds").glob("*.toml"))


def experiment(world: Path, controller: str) -> Experiment:
    """``world`` with a default ``controller``, population 4, 2 generations, one chunk."""
    raw = tomllib.loads(world.read_text())
    raw["controller"] = {"type": controller}
    raw.setdefault("optimizer", {})["population"] = 4
    raw.setdefault("evolution", {}).update(generations=2, chunk_size=4)
    return experiment_from_dict(raw, str(world), base=world.parent)


@pytest.mark.parametrize("world", WORLDS, ids=lambda p: p.stem)
@pytest.mark.parametrize("controller", sorted(CONTROLLERS))
def test_evolve_then_replay_the_champion_bit_for_bit(controller: str, world: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    exp = experiment(world, controller)
    if exp.agent is None and controller == "braitenberg":
        with pytest.raises(ConfigError, match="has no body"):
            build(exp)
        return
    setup = build(exp)
    if setup.genome_size == 0:
        conditions = setup.task.conditions(conditions_rng(exp.experiment.seed, 0))
        first = evaluate_individuals(setup, np.zeros((1, 0)), conditions)
        again = evaluate_individuals(build(exp), np.zeros((1, 0)), conditions)
        assert np.all(np.isfinite(first.fitness))
        np.testing.assert_array_equal(first.fitness, again.fitness)
        np.testing.assert_array_equal(first.failed, again.failed)
        return
    run = tmp_path / "run"
    summary = evolve(exp, run, stream=None)
    assert summary.generations == 2 and np.isfinite(summary.best_fitness)
    champion = json.loads((run / "champion.json").read_text())
    assert champion["controller"]["genome_size"] == setup.genome_size == len(champion["genome"])
    assert main(["replay", str(run / "champion.json"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["matches_stored"] is True
    assert doc["trials"] == champion["trials"] and doc["fitness"] == champion["fitness"]
