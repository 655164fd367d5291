"""evorobot: evolutionary robotics with continuous-time recurrent networks in 2-D pymunk worlds.

Importing the package is cheap and headless: it loads neither numba kernels nor pygame. The
Python API is these names, each imported from its module on first use (PEP 562):

- :func:`load_world` (``evorobot.config``): a world file, with ``--set``-style overrides, as a
  validated :class:`~evorobot.config.Experiment`;
- :func:`build` (``evorobot.setup``): an experiment's task and controller, ready to evaluate;
- :func:`evolve` / :func:`resume` (``evorobot.evolution.runner``): an evolution run into a run
  directory (``stream=None`` keeps it quiet), exactly as ``evorobot evolve`` / ``resume``;
- :func:`load_champion` (``evorobot.champion``): a ``champion.json`` with its setup, genome,
  stored fitness and trial conditions;
- :class:`Episode` (``evorobot.episode``): THE step loop over a batch of genomes x trials;
  ``tick()`` one step, ``run()`` to the end; its arrays (``inputs``, ``outputs``, ``poses``,
  ``state``, ``scores``) are the simulation's own.

The README's "Python API" section is a doctest run by the suite (tests/test_api.py).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {"load_world": "evorobot.config", "build": "evorobot.setup", "evolve": "evorobot.evolution.runner",
        "resume": "evorobot.evolution.runner", "load_champion": "evorobot.champion", "Episode": "evorobot.episode"}

__all__ = ["Episode", "__version__", "build", "evolve", "load_champion", "load_world", "resume"]


def __getattr__(name: str) -> Any:
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'evorobot' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
