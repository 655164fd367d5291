"""Task registry: world files select a task by ``[task] type``."""

from evorobot.tasks.base import Task
from evorobot.tasks.categorical_perception import CategoricalPerception

TASKS: dict[str, type[Task]] = {
    CategoricalPerception.name: CategoricalPerception,
}

__all__ = ["TASKS", "Task"]
