"""Exception hierarchy.

Every user mistake raises a subclass of :class:`EvorobotError` whose message is one line naming
what was wrong and where (file, table, key, value). The CLI prints that line and exits with
status 2; anything else is a bug and keeps its traceback.
"""


class EvorobotError(Exception):
    """Root of all errors caused by user input."""


class ConfigError(EvorobotError):
    """A world or agent file (or a ``--set`` override) is malformed or out of range."""


class UnknownNameError(ConfigError):
    """A registry lookup (task, controller, optimizer, integrator) found no such name."""


class ChampionFileError(EvorobotError):
    """A champion or run file is missing, truncated, of an unknown schema, or inconsistent."""


class WriteFailed(EvorobotError):
    """A file could not be written: the disk is full, over quota, read-only or not ours, or the
    file is larger than the process may write (``ulimit -f``)."""


class DependencyNotInstalled(EvorobotError):
    """An optional dependency needed by the requested feature is missing."""
