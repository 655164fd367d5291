"""A team task as a PettingZoo ``ParallelEnv`` (:class:`EvorobotTeamEnv`): one agent per robot.

Quinn's coordinated movement (Quinn et al. 2003) evolves one network copied into every robot of
the team; here each robot is a PettingZoo agent (``robot_0``, ``robot_1``, ...) with its own
observation (its sensors) and action (its motor commands), so that a multi-agent learner can
give each robot its own policy. The trial, its fitness and the conventions are those of
:mod:`evorobot.gym.core`; the team is scored as a whole, so every robot receives the team's
reward. All robots end together (the trial ends for the team)::

    from evorobot.gym.team import parallel_env
    env = parallel_env()                                   # worlds/coordinated_movement.toml
    env = parallel_env("worlds/coordinated_movement_3.toml")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv

from evorobot._types import FloatArray
from evorobot.config import SHIPPED_WORLDS
from evorobot.errors import ConfigError
from evorobot.gym import core
from evorobot.viewer.env_screen import RENDER_MODES, Rendered, Screen, check_mode


class EvorobotTeamEnv(Rendered, ParallelEnv[str, FloatArray, FloatArray]):
    """The team task of ``world`` (``overrides`` as ``--set``), one trial per episode."""

    metadata: dict[str, Any] = {  # noqa: RUF012 (Gymnasium's convention)
        "name": "evorobot_team_v0", "render_modes": list(RENDER_MODES), "render_fps": 10, "is_parallelizable": True}

    def __init__(self, world: str | Path = SHIPPED_WORLDS / "coordinated_movement.toml",
                 overrides: list[str] | None = None, render_mode: str | None = None) -> None:
        self.world = str(world)
        check_mode(render_mode, self.world)
        self.setup = core.env_setup(world, overrides)
        task = self.setup.task
        if not task.embodied:
            raise ConfigError(f"{self.world}: task `{task.name}` has no robots to make agents of")
        self.possible_agents = [f"robot_{k}" for k in range(task.n_robots)]
        self.agents: list[str] = []
        n_in, n_out = core.io_sizes(self.setup)
        low, high = core.observation_bounds(self.setup)
        self._obs_space = spaces.Box(low, high, (n_in,), np.float64)
        self._act_space = spaces.Box(0.0, 1.0, (n_out,), np.float64)
        dt = self.setup.experiment.simulation.dt
        self.metadata = {**self.metadata, "name": f"evorobot_{task.name}_v{task.version}",
                         "render_fps": max(1, round(1.0 / dt))}
        self.render_mode = render_mode
        self.screen = Screen(render_mode, self.metadata["render_fps"], self.world) if render_mode else None
        self._rng: np.random.Generator | None = None
        self.episode = None

    def observation_space(self, agent: str) -> spaces.Box:
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Box:
        return self._act_space

    def _observations(self) -> dict[str, FloatArray]:
        assert self.episode is not None
        return {a: self.episode.inputs[k].copy() for k, a in enumerate(self.possible_agents)}

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        if seed is not None or self._rng is None:
            self._rng, _ = seeding.np_random(seed)
        row = core.trial_conditions(self.setup, self._rng, options, self.world)
        self.episode = core.new_episode(self.setup, row[None, :])
        self._progress = np.zeros(1)
        self.agents = list(self.possible_agents)
        if self.screen is not None:
            self.screen.follow(self.episode)
        if self.render_mode == "human":
            self.render()
        return self._observations(), {a: {"conditions": row.copy()} for a in self.agents}

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        ep = self.episode
        if ep is None or not self.agents:
            raise RuntimeError(f"{self.world}: call reset() before step()")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"{self.world}: no action for {', '.join(missing)}")
        batch = np.stack([core.as_actions(actions[a], (ep.n_outputs,), self.world) for a in self.possible_agents])
        res = core.step_episode(ep, batch, self._progress)
        self._progress = res.progress
        reward, term, trunc = float(res.reward[0]), bool(res.terminated[0]), bool(res.truncated[0])
        agents = self.agents
        info = {"fitness": float(res.fitness[0])} if term or trunc else {}
        out = (self._observations(), {a: reward for a in agents}, {a: term for a in agents},
               {a: trunc for a in agents}, {a: dict(info) for a in agents})
        if term or trunc:
            self.agents = []
        if self.screen is not None:
            self.screen.observe()
            if self.render_mode == "human":
                self.render()
        return out


def parallel_env(world: str | Path = SHIPPED_WORLDS / "coordinated_movement.toml", overrides: list[str] | None = None,
                 render_mode: str | None = None) -> EvorobotTeamEnv:
    """PettingZoo's conventional constructor: :class:`EvorobotTeamEnv`."""
    return EvorobotTeamEnv(world, overrides, render_mode)
