"""Shell of the discrete-time gated and memory-augmented types: parameters are their gene blocks.

A subclass (:mod:`~evorobot.controllers.second_order`, :mod:`~evorobot.controllers.lstm`,
:mod:`~evorobot.controllers.ntm`) declares its :class:`~evorobot.genome.Block` list
(:meth:`BlockController._blocks`) and a ``Params`` NamedTuple whose fields are the block names;
the shell validates the agent's sizes, lays out the genes, decodes and describes. State,
``init_state``, ``step`` and ``trace`` belong to the type. Discrete-time types take one network
update per simulation tick and ignore ``dt`` (it is only checked to be positive).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import numpy.typing as npt

from evorobot.controllers.base import Controller, check_io
from evorobot.genome import Block, GeneLayout

__all__ = ["BlockController"]


class BlockController(Controller):
    """A controller whose decoded parameters are exactly the blocks of its :class:`GeneLayout`.

    Parameters
    ----------
    spec : the type's settings dataclass
    n_inputs, n_outputs : int
        Sizes of the agent's sensor vector and motor vector.
    dt : float
        Simulation step (must be > 0; a discrete-time network ignores it).
    where : str
        Place of the settings, for error messages.
    """

    Params: ClassVar[Any]

    def __init__(self, spec: Any, n_inputs: int, n_outputs: int, dt: float, where: str = "[controller]") -> None:
        check_io(self.name, n_inputs, n_outputs, dt, where)
        validate = getattr(spec, "validate", None)
        if validate is not None:
            validate(where)
        self.spec = spec
        self.n_inputs, self.n_outputs, self.dt = int(n_inputs), int(n_outputs), float(dt)
        self.layout = GeneLayout(self._blocks(spec))
        assert tuple(b.name for b in self.layout.blocks) == self.Params._fields
        self.genome_size = self.layout.genome_size

    @abstractmethod
    def _blocks(self, spec: Any) -> list[Block]:
        """The parameter blocks, in the order of ``Params``' fields."""

    def decode(self, genomes: npt.ArrayLike) -> Any:
        """Map genes ``(B, genome_size)`` in [-1, 1] to fresh C-contiguous float64 ``Params``."""
        p = self.layout.decode(genomes)
        return self.Params(*(p[name] for name in self.Params._fields))

    def labels(self) -> dict[str, list[str]]:
        """Names of the units, for :meth:`describe` (override to name them)."""
        return {}

    def describe(self, params: Any, i: int) -> dict[str, Any]:
        """Parameters of network ``i`` by block name, as JSON-ready nested lists, with unit names."""
        d: dict[str, Any] = dict(self.labels())
        for name in self.Params._fields:
            d[name] = getattr(params, name)[i].tolist()
        return d
