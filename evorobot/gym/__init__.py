"""evorobot's tasks as Gymnasium and PettingZoo environments (the ``gym`` extra).

Importing this module registers one Gymnasium id per single-agent task, ``evorobot/<Task>-v<task
version>`` (the version is the task's: it changes when the task's results change), each on the
task's shipped world file; ``world=`` and ``overrides=`` make any other::

    >>> import gymnasium, evorobot.gym
    >>> env = gymnasium.make("evorobot/CategoricalPerception-v1")
    >>> envs = gymnasium.make_vec("evorobot/Phototaxis-v2", num_envs=64)   # one batched episode

- :class:`~evorobot.gym.single.EvorobotEnv`: one trial of a single-agent task;
- :class:`~evorobot.gym.vector.EvorobotVectorEnv`: ``num_envs`` of them in one batched episode
  (one kernel call per stage and tick for all), equal to a ``SyncVectorEnv`` of single
  environments bit for bit (``gymnasium.make_vec(..., vectorization_mode="vector_entry_point")``,
  the default for these ids);
- :class:`~evorobot.gym.team.EvorobotTeamEnv`: a team task (coordinated movement) as a PettingZoo
  ``ParallelEnv``, one agent per robot.

The conventions (observation, action, reward, trial choice) are in :mod:`evorobot.gym.core`.
"""

from __future__ import annotations

from evorobot.config import SHIPPED_WORLDS
from evorobot.errors import DependencyNotInstalled

try:
    import gymnasium
except ImportError:  # pragma: no cover - exercised by a subprocess test without the extra
    raise DependencyNotInstalled("evorobot.gym needs the gym extra: pip install 'evorobot[gym]'") from None

SINGLE_AGENT_WORLDS = {
    "categorical_perception": "categorical_perception.toml",
    "orientation": "orientation.toml",
    "aperture": "aperture.toml",
    "size_categorisation": "size_categorisation.toml",
    "size_and_aperture": "size_and_aperture.toml",
    "short_term_memory": "short_term_memory.toml",
    "selective_attention": "selective_attention.toml",
    "phototaxis": "phototaxis.toml",
    "obstacle_avoidance": "obstacle_avoidance.toml",
    "visual_discrimination": "vision_small_target.toml",
    "cartpole": "cartpole.toml",
    "double_pole": "double_pole.toml",
    "narma10": "narma10.toml",
    "mackey_glass": "mackey_glass.toml",
    "temporal_xor": "temporal_xor.toml",
    "adding": "adding.toml",
    "tomita": "tomita1.toml",
    "framewise": "framewise.toml",
    "pattern_completion": "pattern_completion.toml",
}
"""Every single-agent task type and the shipped world file its environment uses by default."""

TEAM_WORLDS = {"coordinated_movement": "coordinated_movement.toml"}
"""Team task types (PettingZoo) and their default world files (``coordinated_movement_3.toml``: three)."""


def env_id(task_type: str) -> str:
    """The Gymnasium id of a task type: ``evorobot/<class name>-v<task version>``."""
    from evorobot.tasks import TASKS

    cls = TASKS[task_type]
    return f"evorobot/{cls.__name__}-v{cls.version}"


ENV_IDS = {task_type: env_id(task_type) for task_type in SINGLE_AGENT_WORLDS}
"""Task type -> registered Gymnasium id."""


def register_envs() -> None:
    """Register every single-agent task (done on import; calling again does nothing)."""
    for task_type, world in SINGLE_AGENT_WORLDS.items():
        name = ENV_IDS[task_type]
        if name in gymnasium.registry:
            continue
        gymnasium.register(name, entry_point="evorobot.gym.single:EvorobotEnv",
                           vector_entry_point="evorobot.gym.vector:EvorobotVectorEnv",
                           kwargs={"world": str(SHIPPED_WORLDS / world)}, disable_env_checker=False)


register_envs()

__all__ = ["ENV_IDS", "SINGLE_AGENT_WORLDS", "TEAM_WORLDS", "env_id", "register_envs"]
