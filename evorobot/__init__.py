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

Installed where it cannot write (a read-only site-packages) and with ``NUMBA_CACHE_DIR`` unset,
numba would find no place for its compiled-kernel cache when the user's own cache directory is not
writable either: importing evorobot then sets ``NUMBA_CACHE_DIR`` to a private directory of its own
(:func:`_numba_cache_fallback`), which worker processes inherit.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

__version__ = "0.1.0"

_API = {"load_world": "evorobot.config", "build": "evorobot.setup", "evolve": "evorobot.evolution.runner",
        "resume": "evorobot.evolution.runner", "load_champion": "evorobot.champion", "Episode": "evorobot.episode"}

__all__ = ["Episode", "__version__", "build", "evolve", "load_champion", "load_world", "resume"]


def _private_dir(path: str) -> bool:
    """Whether ``path`` is (or was just made) a directory of this user's that no one else can write:
    numba's cache files are executable code, so a shared temporary directory must not hold them."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.lstat(path)
    except OSError:
        return False
    import stat

    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022
            and os.access(path, os.W_OK | os.X_OK))


def _numba_cache_fallback() -> str | None:
    """Set ``NUMBA_CACHE_DIR`` when it is unset and this package's directory is not writable:
    ``$XDG_CACHE_HOME/evorobot/numba`` (default ``~/.cache``), else ``evorobot-numba-UID`` in the
    temporary directory, else a fresh temporary directory. Returns the directory set, or None."""
    if os.environ.get("NUMBA_CACHE_DIR") or os.access(os.path.dirname(os.path.abspath(__file__)), os.W_OK):
        return None
    import tempfile

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    uid = os.getuid()
    for path in (os.path.join(base, "evorobot", "numba"),
                 os.path.join(tempfile.gettempdir(), f"evorobot-numba-{uid}")):
        if os.path.isabs(path) and _private_dir(path):
            break
    else:
        path = tempfile.mkdtemp(prefix="evorobot-numba-")
    os.environ["NUMBA_CACHE_DIR"] = path
    if "numba" in sys.modules:  # numba read its configuration at import: tell it too
        sys.modules["numba"].config.CACHE_DIR = path
    return path


if hasattr(os, "getuid"):
    _numba_cache_fallback()


def __getattr__(name: str) -> Any:
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'evorobot' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
