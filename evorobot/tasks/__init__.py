"""Task registry: world files select a task by ``[task] type``."""

from evorobot.tasks.aperture import Aperture
from evorobot.tasks.base import Task
from evorobot.tasks.cartpole import CartPole
from evorobot.tasks.categorical_perception import CategoricalPerception
from evorobot.tasks.coordinated_movement import CoordinatedMovement
from evorobot.tasks.double_pole import DoublePole
from evorobot.tasks.obstacle_avoidance import ObstacleAvoidance
from evorobot.tasks.orientation import Orientation
from evorobot.tasks.phototaxis import Phototaxis
from evorobot.tasks.selective_attention import SelectiveAttention
from evorobot.tasks.short_term_memory import ShortTermMemory
from evorobot.tasks.visual_discrimination import VisualDiscrimination

TASKS: dict[str, type[Task]] = {
    CategoricalPerception.name: CategoricalPerception,
    Orientation.name: Orientation,
    Aperture.name: Aperture,
    ShortTermMemory.name: ShortTermMemory,
    SelectiveAttention.name: SelectiveAttention,
    Phototaxis.name: Phototaxis,
    ObstacleAvoidance.name: ObstacleAvoidance,
    VisualDiscrimination.name: VisualDiscrimination,
    CoordinatedMovement.name: CoordinatedMovement,
    # tasks that bring their own dynamics: pole balancing
    CartPole.name: CartPole,
    DoublePole.name: DoublePole,
}

__all__ = ["TASKS", "Task"]
