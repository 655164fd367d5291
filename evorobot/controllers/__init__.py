"""Controller registry: the world file's ``[controller] type`` names one of :data:`CONTROLLERS`."""

from __future__ import annotations

from evorobot.controllers.bam import BAM
from evorobot.controllers.base import Controller
from evorobot.controllers.braitenberg import Braitenberg
from evorobot.controllers.brnn import BRNN
from evorobot.controllers.cascaded import Cascaded
from evorobot.controllers.ctrnn import CTRNN
from evorobot.controllers.elman import Elman
from evorobot.controllers.esn import ESN
from evorobot.controllers.fully_recurrent import FullyRecurrent
from evorobot.controllers.hierarchical import Hierarchical
from evorobot.controllers.hopfield import Hopfield
from evorobot.controllers.jordan import Jordan
from evorobot.controllers.lsm import LSM
from evorobot.controllers.lstm import LSTM
from evorobot.controllers.mtrnn import MTRNN
from evorobot.controllers.narx import NARX
from evorobot.controllers.ntm import NTM
from evorobot.controllers.rmlp import RMLP
from evorobot.controllers.second_order import SecondOrder
from evorobot.errors import UnknownNameError
from evorobot.spec import did_you_mean

__all__ = ["CONTROLLERS", "Controller", "get_controller"]

CONTROLLERS: dict[str, type[Controller]] = {
    # continuous time (Beer 1995; Yamashita & Tani 2008; Paine & Tani 2005)
    "ctrnn": CTRNN, "mtrnn": MTRNN, "hierarchical": Hierarchical,
    # discrete time
    "fully_recurrent": FullyRecurrent, "elman": Elman, "jordan": Jordan, "rmlp": RMLP, "narx": NARX,
    "second_order": SecondOrder, "lstm": LSTM, "ntm": NTM,
    # bidirectional (Schuster & Paliwal 1997) and sequential cascaded (Pollack 1991)
    "brnn": BRNN, "cascaded": Cascaded,
    # reservoir computing (Jaeger 2001): a fixed random reservoir, evolved or fitted readout
    "esn": ESN,
    # spiking reservoir (Maass, Natschläger & Markram 2002): a fixed seeded liquid, evolved readout
    "lsm": LSM,
    # associative memories (Hopfield 1982, 1984; Kosko 1988): symmetric / bidirectional weights, relaxation
    "hopfield": Hopfield, "bam": BAM,
    # hand-wired, no genes (Braitenberg 1984)
    "braitenberg": Braitenberg,
}


def get_controller(name: str, where: str) -> type[Controller]:
    """Return the controller class registered as ``name``.

    Raises
    ------
    UnknownNameError
        ``name`` is not registered; the message names ``where``, suggests the closest name and
        lists the valid ones.
    """
    try:
        return CONTROLLERS[name]
    except KeyError:
        valid = ", ".join(f"`{k}`" for k in sorted(CONTROLLERS))
        raise UnknownNameError(
            f"{where}: unknown controller type `{name}`{did_you_mean(name, CONTROLLERS)}; valid: {valid}"
        ) from None
