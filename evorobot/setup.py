"""Build the live objects (task, controller) of a resolved experiment, with cross-table checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from evorobot.controllers.base import Controller
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
        return self.controller.genome_size


def build(exp: "Experiment") -> Setup:
    """Instantiate the task and controller; raises ConfigError for inconsistent tables."""
    from evorobot.controllers import CONTROLLERS
    from evorobot.tasks import TASKS

    src = exp.source
    dt = exp.simulation.dt
    task = TASKS[exp.task_type](exp.task, exp.agent, dt, f"{src} [task]")
    controller = CONTROLLERS[exp.controller_type].for_agent(exp.controller, exp.agent, dt, f"{src} [controller]")
    return Setup(exp, task, controller)
