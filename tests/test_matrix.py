"""Every controller type in every world file, in three layers that keep the suite fast as both grow.

1. Every world file with its own settings: two generations of a tiny evolution, then the champion
   replays to its stored fitness bit for bit (``evorobot evolve`` + ``evorobot replay``); a world
   that ships a trainer (ridge, Hebbian storage) trains instead.
2. Every controller type (its defaults: the world's ``[controller]`` table replaced by ``{type =
   NAME}``) on one world of each kind of task -- a falling object seen by rays, a wheeled robot, a
   team, a plant with its own ODE, a sequence data set -- the same evolve-then-replay check.
3. Every other (controller, world) cell: the set-up builds (every cross-table check passes) and a
   few ticks of two random networks run, with motor commands finite and in [0, 1] and the same
   ticks again from a separately built set-up giving the same bits.

The registry and ``worlds/*.toml`` are read when the tests are collected, so new controller types
and new worlds join the matrix by themselves. A type without genes is not evolved; it is evaluated
twice, from two separately built setups, and the two evaluations must agree bit for bit. The
hand-wired Braitenberg vehicle wires a body's sensors to its wheels: on a world whose task brings
its own dynamics (no body) it must be refused with a one-line ConfigError.
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
from evorobot.episode import Episode, evaluate_individuals
from evorobot.errors import ConfigError
from evorobot.evolution.runner import evolve
from evorobot.seeding import conditions_rng
from evorobot.setup import build
from evorobot.training import TRAINERS
from evorobot.training.run import train

WORLDS = sorted((ROOT / "worlds").glob("*.toml"))


def experiment(world: Path, controller: str | None) -> Experiment:
    """``world`` with a default ``controller`` (None: its own), population 4, 2 generations, one chunk."""
    raw = tomllib.loads(world.read_text())
    if controller is not None:
        raw["controller"] = {"type": controller}
        if raw["task"]["type"] == "pattern_completion":  # 100 units: ~1e6 genes for cascaded/second-order nets
            raw["task"]["units"] = 20
    if raw.get("optimizer", {}).get("type") not in TRAINERS:  # a trainer has no population
        raw.setdefault("optimizer", {})["population"] = 4
    raw.setdefault("evolution", {}).update(generations=2, chunk_size=4)
    return experiment_from_dict(raw, str(world), base=world.parent)


KINDS = ("categorical_perception", "phototaxis", "coordinated_movement", "cartpole", "temporal_xor")
"""One world of each kind of task, on which every controller type is evolved and replayed."""
FEW_TICKS = 4


def own(world: Path) -> Experiment:
    """``world`` with its own controller, population 4, 2 generations, one chunk."""
    return experiment(world, None)


def evolve_then_replay(exp: Experiment, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two generations of ``exp``, then its champion replays bit for bit (or, without genes, two
    evaluations from separately built set-ups agree)."""
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
    if exp.optimizer_type in TRAINERS:
        summary = train(setup, run, stream=None)
        assert summary.generations >= 1 and np.isfinite(summary.best_fitness)
    else:
        summary = evolve(exp, run, stream=None)
        assert summary.generations == 2 and np.isfinite(summary.best_fitness)
    champion = json.loads((run / "champion.json").read_text())
    assert champion["controller"]["genome_size"] == setup.genome_size == len(champion["genome"])
    assert main(["replay", str(run / "champion.json"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["matches_stored"] is True
    assert doc["trials"] == champion["trials"] and doc["fitness"] == champion["fitness"]


def few_ticks(exp: Experiment) -> list[np.ndarray]:
    """Motor commands of two random networks over the first ticks of every trial."""
    setup = build(exp)
    genomes = np.random.default_rng(7).uniform(-1, 1, (2, setup.genome_size))
    episode = Episode(setup, genomes, setup.task.conditions(conditions_rng(exp.experiment.seed, 0)))
    outputs = []
    for _ in range(min(FEW_TICKS, setup.task.max_steps)):
        episode.tick()
        outputs.append(episode.outputs.copy())
    return outputs


def refused_without_body(exp: Experiment, controller: str) -> bool:
    if exp.agent is None and controller == "braitenberg":
        with pytest.raises(ConfigError, match="has no body"):
            build(exp)
        return True
    return False


@pytest.mark.parametrize("world", WORLDS, ids=lambda p: p.stem)
def test_every_world_as_shipped_evolves_and_replays_bit_for_bit(world: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    evolve_then_replay(own(world), tmp_path, capsys)


def test_every_kind_of_task_has_its_world() -> None:
    assert {w.stem for w in WORLDS} >= set(KINDS)


@pytest.mark.parametrize("world", [ROOT / "worlds" / f"{k}.toml" for k in KINDS], ids=lambda p: p.stem)
@pytest.mark.parametrize("controller", sorted(CONTROLLERS))
def test_every_controller_evolves_and_replays_on_each_kind_of_task(controller: str, world: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    exp = experiment(world, controller)
    if not refused_without_body(exp, controller):
        evolve_then_replay(exp, tmp_path, capsys)


@pytest.mark.parametrize("world", [w for w in WORLDS if w.stem not in KINDS], ids=lambda p: p.stem)
@pytest.mark.parametrize("controller", sorted(CONTROLLERS))
def test_every_controller_runs_a_few_ticks_in_every_world(controller: str, world: Path) -> None:
    exp = experiment(world, controller)
    if refused_without_body(exp, controller):
        return
    first = few_ticks(exp)
    assert first, "no tick ran"
    for out in first:
        assert np.all(np.isfinite(out)) and np.all((out >= 0) & (out <= 1))
    for a, b in zip(first, few_ticks(exp), strict=True):
        np.testing.assert_array_equal(a, b)
