"""Task registry: world files select a task by ``[task] type``."""

from evorobot.tasks.adding import Adding
from evorobot.tasks.aperture import Aperture
from evorobot.tasks.base import Task
from evorobot.tasks.cartpole import CartPole
from evorobot.tasks.categorical_perception import CategoricalPerception
from evorobot.tasks.coordinated_movement import CoordinatedMovement
from evorobot.tasks.double_pole import DoublePole
from evorobot.tasks.framewise import Framewise
from evorobot.tasks.gymnasium_task import Gymnasium
from evorobot.tasks.mackey_glass import MackeyGlass
from evorobot.tasks.multiple_tasks import SizeAndAperture
from evorobot.tasks.narma10 import Narma10
from evorobot.tasks.obstacle_avoidance import ObstacleAvoidance
from evorobot.tasks.orientation import Orientation
from evorobot.tasks.pattern_completion import PatternCompletion
from evorobot.tasks.phototaxis import Phototaxis
from evorobot.tasks.selective_attention import SelectiveAttention
from evorobot.tasks.short_term_memory import ShortTermMemory
from evorobot.tasks.size_categorisation import SizeCategorisation
from evorobot.tasks.temporal_xor import TemporalXor
from evorobot.tasks.tomita import Tomita
from evorobot.tasks.visual_discrimination import VisualDiscrimination

TASKS: dict[str, type[Task]] = {
    CategoricalPerception.name: CategoricalPerception,
    Orientation.name: Orientation,
    Aperture.name: Aperture,
    SizeAndAperture.name: SizeAndAperture,
    SizeCategorisation.name: SizeCategorisation,
    ShortTermMemory.name: ShortTermMemory,
    SelectiveAttention.name: SelectiveAttention,
    Phototaxis.name: Phototaxis,
    ObstacleAvoidance.name: ObstacleAvoidance,
    VisualDiscrimination.name: VisualDiscrimination,
    CoordinatedMovement.name: CoordinatedMovement,
    # tasks that bring their own dynamics: pole balancing
    CartPole.name: CartPole,
    DoublePole.name: DoublePole,
    # any installed Gymnasium environment (gymnasium imported on first use)
    Gymnasium.name: Gymnasium,
    # sequence data sets
    Narma10.name: Narma10,
    MackeyGlass.name: MackeyGlass,
    TemporalXor.name: TemporalXor,
    Adding.name: Adding,
    Tomita.name: Tomita,
    Framewise.name: Framewise,
    PatternCompletion.name: PatternCompletion,
}

__all__ = ["TASKS", "Task"]
