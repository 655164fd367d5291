"""Trainers by name; the contract is :mod:`evorobot.training.base`, the run loop :mod:`evorobot.training.run`.

``TRAINERS`` maps the ``type`` of a world file's ``[optimizer]`` table to a trainer class, beside
the optimizers of :data:`evorobot.evolution.OPTIMIZERS` (a name is in one registry or the other);
each class carries its settings dataclass as ``Spec`` and is built as ``cls(spec, setup, where)``.
"""

from __future__ import annotations

from evorobot.errors import UnknownNameError
from evorobot.spec import did_you_mean
from evorobot.training.adjoint import Adjoint
from evorobot.training.base import Epoch, Trainer
from evorobot.training.bptt import BPTT
from evorobot.training.hebbian import Hebbian
from evorobot.training.ridge import Ridge
from evorobot.training.rtrl import RTRL

__all__ = ["TRAINERS", "Epoch", "Trainer", "get_trainer"]

TRAINERS: dict[str, type[Trainer]] = {
    # closed-form readout regression (Jaeger 2001)
    "ridge": Ridge,
    # outer-product storage of an associative memory (Hopfield 1982; Kosko 1988)
    "hebbian": Hebbian,
    # gradient descent, back-propagation through time, full or truncated (Werbos 1990; Williams & Peng 1990)
    "bptt": BPTT,
    # gradient descent, real-time recurrent learning (Williams & Zipser 1989)
    "rtrl": RTRL,
    # gradient descent, Pearlmutter's (1989) continuous-time adjoint, for the CTRNN family
    "adjoint": Adjoint,
}


def get_trainer(name: str, where: str) -> type[Trainer]:
    """The trainer class registered as ``name``; ``where`` names the file and table for errors."""
    try:
        return TRAINERS[name]
    except KeyError:
        valid = ", ".join(f"`{n}`" for n in TRAINERS)
        raise UnknownNameError(f"{where}: unknown trainer `{name}`{did_you_mean(name, TRAINERS)}; valid: {valid}") from None
