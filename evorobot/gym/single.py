"""One trial of a single-agent evorobot task as a Gymnasium environment (:class:`EvorobotEnv`).

The conventions (observation, action, reward, episode end, trial choice) are those of
:mod:`evorobot.gym.core`. Registered ids (``evorobot/Phototaxis-v2`` ...) are listed in
:mod:`evorobot.gym`; any world file works through ``world=``::

    import gymnasium, evorobot.gym
    env = gymnasium.make("evorobot/CategoricalPerception-v1", render_mode="rgb_array")
    env = gymnasium.make("evorobot/Phototaxis-v2", world="my_arena.toml", overrides=["task.duration=20"])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from evorobot._types import FloatArray
from evorobot.errors import ConfigError
from evorobot.gym import core
from evorobot.viewer.env_screen import RENDER_MODES, Rendered, Screen, check_mode


class EvorobotEnv(Rendered, gymnasium.Env[FloatArray, FloatArray]):
    """A single-agent task of ``world`` (a world file; ``overrides`` as ``--set``), one trial per
    episode."""

    metadata: dict[str, Any] = {  # noqa: RUF012 (Gymnasium's convention)
        "render_modes": list(RENDER_MODES), "render_fps": 10}

    def __init__(self, world: str | Path, overrides: list[str] | None = None, render_mode: str | None = None) -> None:
        self.world = str(world)
        check_mode(render_mode, self.world)
        self.setup = core.env_setup(world, overrides)
        if self.setup.task.n_robots != 1:
            raise ConfigError(f"{self.world}: task `{self.setup.task.name}` has a team of {self.setup.task.n_robots} "
                              "robots; use the PettingZoo environment (evorobot.gym.team.EvorobotTeamEnv)")
        n_in, n_out = core.io_sizes(self.setup)
        low, high = core.observation_bounds(self.setup)
        self.observation_space = spaces.Box(low, high, (n_in,), np.float64)
        self.action_space = spaces.Box(0.0, 1.0, (n_out,), np.float64)
        dt = self.setup.experiment.simulation.dt
        self.metadata = {**self.metadata, "render_fps": max(1, round(1.0 / dt))}
        self.render_mode = render_mode
        self.screen = Screen(render_mode, self.metadata["render_fps"], self.world) if render_mode else None
        self.episode = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[FloatArray, dict]:
        super().reset(seed=seed)
        row = core.trial_conditions(self.setup, self.np_random, options, self.world)
        self.episode = core.new_episode(self.setup, row[None, :])
        self._progress = np.zeros(1)
        if self.screen is not None:
            self.screen.follow(self.episode)
        if self.render_mode == "human":
            self.render()
        return self.episode.inputs[0].copy(), {"conditions": row.copy()}

    def step(self, action: FloatArray) -> tuple[FloatArray, float, bool, bool, dict]:
        ep = self.episode
        if ep is None:
            raise RuntimeError(f"{self.world}: call reset() before step()")
        res = core.step_episode(ep, core.as_actions(action, (1, ep.n_outputs), self.world), self._progress)
        self._progress = res.progress
        terminated, truncated = bool(res.terminated[0]), bool(res.truncated[0])
        info: dict[str, Any] = {}
        if terminated or truncated:
            info["fitness"] = float(res.fitness[0])
        if self.screen is not None:
            self.screen.observe()
            if self.render_mode == "human":
                self.render()
        return ep.inputs[0].copy(), float(res.reward[0]), terminated, truncated, info
