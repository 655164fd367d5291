"""Build the live objects (task, controller) of a resolved experiment, with cross-table checks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from evorobot._types import FloatArray
from evorobot.controllers.base import Controller
from evorobot.errors import ConfigError
from evorobot.tasks.base import Task

if TYPE_CHECKING:
    from evorobot.config import Experiment


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
        """Genes of the evolved sensor morphology (receptive fields), after the controller's."""
        return 0

    def decode_morphology(self, genomes: FloatArray) -> Any:
        """Sensor-morphology parameters of ``genomes`` (B, genome_size); None without any."""
        return None


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
