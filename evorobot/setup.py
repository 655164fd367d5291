"""Build the live objects (task, controller) of a resolved experiment, with cross-table checks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from evorobot._types import FloatArray
from evorobot.controllers.base import Controller
from evorobot.errors import ConfigError
from evorobot.tasks.base import Task

if TYPE_CHECKING:
    from evorobot.config import Experiment
    from evorobot.sim.camera import ReceptiveFields


@dataclass(frozen=True)
class Setup:
    """An experiment with its task and controller instantiated."""

    experiment: "Experiment"
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
        cam = self.experiment.agent.camera
        return 2 * cam.fields if cam else 0

    def decode_morphology(self, genomes: FloatArray) -> "ReceptiveFields | None":
        """Sensor-morphology parameters of ``genomes`` (B, genome_size); None without any."""
        if self.morphology_size == 0:
            return None
        from evorobot.sim.camera import decode_fields

        return decode_fields(self.experiment.agent.camera, genomes[:, self.controller.genome_size:])

    def describe_morphology(self, genome: FloatArray) -> dict[str, Any] | None:
        """The decoded morphology of one genome (G,), JSON-ready, for champion files; None without any."""
        fields = self.decode_morphology(np.asarray(genome, dtype=np.float64)[None, :])
        if fields is None:
            return None
        from evorobot.sim.camera import describe_fields

        return {"receptive_fields": describe_fields(self.experiment.agent.camera, fields, 0)}


def build(exp: "Experiment") -> Setup:
    """Instantiate the task and controller; raises ConfigError for inconsistent tables."""
    from evorobot.controllers import CONTROLLERS
    from evorobot.tasks import TASKS

    src = exp.source
    dt = exp.simulation.dt
    task = TASKS[exp.task_type](exp.task, exp.agent, dt, f"{src} [task]")
    if exp.agent.is_robot:
        travel = exp.agent.motor.max_speed * dt / exp.simulation.substeps
        if travel > exp.agent.body.radius / 4:
            need = math.ceil(exp.agent.motor.max_speed * dt / (exp.agent.body.radius / 4))
            raise ConfigError(
                f"{src} [simulation]: `substeps` = {exp.simulation.substeps} lets a robot at full speed sink "
                f"{travel:.3g} into a wall per tick (more than a quarter of its radius); use substeps >= {need}")
    controller = CONTROLLERS[exp.controller_type].for_agent(exp.controller, exp.agent, dt, f"{src} [controller]")
    return Setup(exp, task, controller)
