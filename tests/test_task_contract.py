"""The task contract (``evorobot/tasks/base.py``), checked on every registered task type through
the shipped world files that use it. New task types join by registering and shipping a world."""

import tomllib
from pathlib import Path

import numpy as np
import pytest
from conftest import WORLDS, assert_alone_equals_batch

from evorobot.config import load_world
from evorobot.episode import Episode
from evorobot.heldout import held_out
from evorobot.setup import build
from evorobot.tasks import TASKS
from evorobot.tasks.base import BodyTask, DynamicsTask

SECTIONS = ("Description", "Fitness", "Trials", "Termination", "References", "Version")


def _task_type(world: Path) -> str:
    return tomllib.loads(world.read_text())["task"]["type"]


WORLD_OF = {}
for _w in sorted(WORLDS, key=lambda w: w.stem != _task_type(w)):  # the world named after its task first
    WORLD_OF.setdefault(_task_type(_w), _w)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_type_has_a_world_and_a_documented_module(name: str) -> None:
    cls = TASKS[name]
    assert name in WORLD_OF, f"no world file in worlds/ uses task `{name}`"
    assert cls.name == name and issubclass(cls, (BodyTask, DynamicsTask))
    doc = __import__(cls.__module__, fromlist=["_"]).__doc__ or ""
    missing = [s for s in SECTIONS if f"\n{s}\n" not in doc]
    assert not missing, f"{cls.__module__} docstring lacks sections {missing}"


@pytest.mark.parametrize("name", sorted(TASKS))
def test_trials_are_fixed_by_the_rng_and_individuals_do_not_interact(name: str) -> None:
    exp = load_world(WORLD_OF[name], ["optimizer.population=3"])
    if "steps" in tomllib.loads(WORLD_OF[name].read_text())["task"] and exp.agent is None:
        exp = load_world(WORLD_OF[name], ["task.steps=300"])  # long balancing trials, cut short
    setup = build(exp)
    task = setup.task
    a = task.conditions(np.random.default_rng(5))
    np.testing.assert_array_equal(a, task.conditions(np.random.default_rng(5)))
    assert a.shape[0] == task.n_trials
    assert not task.condition_names or a.shape[1] == len(task.condition_names)
    if setup.genome_size == 0:
        return
    genomes = np.random.default_rng(0).uniform(-1, 1, (3, setup.genome_size))
    assert_alone_equals_batch(setup, genomes, a[:2])


@pytest.mark.parametrize("name", sorted(n for n, c in TASKS.items() if not c.embodied))
def test_a_dynamics_task_is_sized_by_its_interface_and_scores_its_held_out_split(name: str) -> None:
    setup = build(load_world(WORLD_OF[name]))
    task = setup.task
    assert isinstance(task, DynamicsTask) and setup.experiment.agent is None
    assert (setup.controller.n_inputs, setup.controller.n_outputs) == (task.interface.n_inputs,
                                                                       task.interface.n_outputs)
    cond = task.conditions(np.random.default_rng(1))[:2]
    ep = Episode(setup, np.zeros((1, setup.genome_size)), cond)
    assert ep.inputs.shape == (len(cond), task.interface.n_inputs)
    assert ep.outputs.shape == (len(cond), task.interface.n_outputs)
    ep.tick()
    assert ep.step_count == 1
    test = held_out(setup, np.zeros(setup.genome_size))
    if task.held_out_conditions() is None:
        assert test is None and task.held_out_metric == ""
    else:
        assert test is not None and test.metric == task.held_out_metric != "" and np.isfinite(test.score)
        assert test == held_out(setup, np.zeros(setup.genome_size))  # deterministic
