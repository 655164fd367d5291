"""Build the live objects (task, controller) of a resolved experiment, with cross-table checks.

The one load -> build path: :mod:`evorobot.config` parses and validates each table,
:func:`build` instantiates the task and the controller once and checks what spans tables.
:func:`load_setup` (a world file) and :func:`setup_from_dict` (a resolved experiment, as champion
files, run directories and workers hold it) do both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from evorobot._types import FloatArray
from evorobot.agent import AgentSpec
from evorobot.config import Experiment, experiment_from_dict, load_world
from evorobot.controllers.base import Controller
from evorobot.errors import ConfigError
from evorobot.evolution.base import GenomeLayout
from evorobot.tasks.base import DynamicsTask, Task, TaskIO
from evorobot.tasks.sequence import SequenceTask

if TYPE_CHECKING:
    from evorobot.sim.camera import ReceptiveFields


@dataclass(frozen=True)
class Setup:
    """An experiment with its task and controller instantiated."""

    experiment: Experiment
    task: Task
    controller: Controller

    @property
    def genome_size(self) -> int:
        """The controller's genes, then the sensor morphology's (none unless the agent evolves any)."""
        return self.controller.genome_size + self.morphology_size

    @property
    def morphology_size(self) -> int:
        """Genes of the evolved sensor morphology after the controller's: two per camera receptive
        field (:mod:`evorobot.sim.camera`), none otherwise."""
        agent = self.experiment.agent
        cam = agent.camera if agent is not None else None
        return 2 * cam.fields if cam else 0

    def genome_layout(self) -> GenomeLayout:
        """What the optimizer may know of the genome (a controller with genes): its size and the
        controller's neuron gene groups (:meth:`Controller.gene_groups`), with the sensor
        morphology's genes, if any, as one more group; no groups when the controller declares none."""
        groups = self.controller.gene_groups()
        if groups is None:
            return GenomeLayout(self.genome_size)
        morph = np.arange(self.controller.genome_size, self.genome_size, dtype=np.int64)
        return GenomeLayout(self.genome_size, tuple(groups) + ((morph,) if morph.size else ()))

    def decode_morphology(self, genomes: FloatArray) -> ReceptiveFields | None:
        """Sensor-morphology parameters of ``genomes`` (B, genome_size); None without any."""
        if self.morphology_size == 0:
            return None
        from evorobot.sim.camera import decode_fields

        agent = self.experiment.agent
        assert agent is not None and agent.camera is not None  # morphology_size > 0
        return decode_fields(agent.camera, genomes[:, self.controller.genome_size:])

    def describe_morphology(self, genome: FloatArray) -> dict[str, Any] | None:
        """The decoded morphology of one genome (G,), JSON-ready, for champion files; None without any."""
        fields = self.decode_morphology(np.asarray(genome, dtype=np.float64)[None, :])
        if fields is None:
            return None
        from evorobot.sim.camera import describe_fields

        agent = self.experiment.agent
        assert agent is not None and agent.camera is not None
        return {"receptive_fields": describe_fields(agent.camera, fields, 0)}


def build(exp: Experiment, machine: bool = True) -> Setup:
    """Instantiate the task and controller; raises ConfigError for inconsistent tables or an
    experiment over its resource budget (:func:`evorobot.budget.check_setup`; ``machine``: also
    against the memory this machine has available, which a worker leaves to the main process)."""
    from evorobot.budget import check_setup

    try:
        setup = _instantiate(exp)
    except MemoryError:  # a product of settings each within its limit (a data set's sequences x length)
        raise ConfigError(f"{exp.source}: building the task and the controller needs more memory than this "
                          "machine has; lower the [task] and [controller] sizes") from None
    check_setup(setup, machine)
    return setup


def _instantiate(exp: Experiment) -> Setup:
    from evorobot.controllers import CONTROLLERS
    from evorobot.tasks import TASKS

    src = exp.source
    dt = exp.simulation.dt
    task = TASKS[exp.task_type](exp.task, exp.agent, dt, f"{src} [task]")
    agent = exp.agent
    if agent is not None and agent.is_robot:
        travel = agent.motor.max_speed * dt / exp.simulation.substeps
        guarded = exp.simulation.project_contacts and task.n_robots == 1  # walls kept off by the motor
        if travel > agent.body.radius / 4 and not guarded:
            need = math.ceil(agent.motor.max_speed * dt / (agent.body.radius / 4))
            raise ConfigError(
                f"{src} [simulation]: `substeps` = {exp.simulation.substeps} lets a robot at full speed sink "
                f"{travel:.3g} into a wall per tick (more than a quarter of its radius); use substeps >= {need}"
                + (" or project_contacts = true" if task.n_robots == 1 else ""))
    io: AgentSpec | TaskIO = agent if agent is not None else cast(DynamicsTask, task).interface
    controller = CONTROLLERS[exp.controller_type].for_agent(exp.controller, io, dt, f"{src} [controller]")
    if controller.offline and (not isinstance(task, SequenceTask) or task.feeds_back_outputs):
        why = "feeds its outputs back as inputs" if isinstance(task, SequenceTask) else "is no sequence data set"
        raise ConfigError(f"{src} [controller]: an offline `{exp.controller_type}` reads whole input sequences "
                          f"before answering, but task `{exp.task_type}` {why}; use mode = \"window\"")
    return Setup(exp, task, controller)


def setup_from_dict(raw: dict[str, Any], source: str, machine: bool = True) -> Setup:
    """Parse a resolved experiment (a champion's, a run directory's, a worker's) and build it."""
    return build(experiment_from_dict(raw, source), machine)


def load_setup(path: str | Path, overrides: list[str] | None = None, controller: str | None = None,
               optimizer: str | None = None) -> Setup:
    """Load a world file (:func:`evorobot.config.load_world`) and build it."""
    return build(load_world(path, overrides, controller, optimizer))
