"""The discrete-time shell (controllers/discrete.py): dt is ignored, zero start, settings checked."""

import numpy as np
import pytest
from ctrlutil import genomes, make, roll

from evorobot.controllers.discrete import DiscreteNetwork
from evorobot.controllers.elman import Elman
from evorobot.controllers.fully_recurrent import FullyRecurrent
from evorobot.controllers.jordan import Jordan
from evorobot.controllers.narx import NARX
from evorobot.controllers.rmlp import RMLP
from evorobot.errors import ConfigError

TYPES = [FullyRecurrent, Elman, Jordan, RMLP, NARX]


@pytest.mark.parametrize("cls", TYPES, ids=lambda c: c.name)
def test_one_network_step_per_tick_whatever_dt(cls: type[DiscreteNetwork]) -> None:
    ctrl = make(cls)
    p = ctrl.decode(genomes(ctrl, 3, seed=1))
    xs = np.random.default_rng(2).uniform(0, 10, (3, 20, 7))
    a, b = roll(ctrl, p, xs, dt=0.1), roll(ctrl, p, xs, dt=0.37)
    np.testing.assert_array_equal(a[0], b[0])
    assert np.ptp(a[0]) > 0.1


@pytest.mark.parametrize("cls", TYPES, ids=lambda c: c.name)
def test_state_starts_at_zero_and_parameters_span_their_ranges(cls: type[DiscreteNetwork]) -> None:
    ctrl = make(cls, weight_range=[-2, 3], bias_range=[0.5, 1.5])
    p = ctrl.decode(genomes(ctrl, 40, seed=3))
    for arr in ctrl.init_state(p):
        assert arr.shape[0] == 40 and np.all(arr == 0.0)
    blocks = {b.name: b for b in ctrl.layout.blocks}
    for name, arr in zip(p._fields, p):
        lo, hi = (blocks[name].lo, blocks[name].hi)
        assert (lo, hi) in ((-2.0, 3.0), (0.5, 1.5))
        assert np.all((arr >= lo) & (arr <= hi)) and (arr.size == 0 or np.ptp(arr) > 0.5 * (hi - lo))


@pytest.mark.parametrize("cls", TYPES, ids=lambda c: c.name)
def test_bad_settings_name_the_place(cls: type[DiscreteNetwork]) -> None:
    with pytest.raises(ConfigError, match=r"test \[controller\]: `activation` must be one of.*did you mean `tanh`"):
        make(cls, activation="tahn")
    with pytest.raises(ConfigError, match=r"w.toml \[controller\]: a .* needs n_inputs >= 0 and n_outputs >= 1"):
        cls(cls.Spec(), 7, 0, 0.1, "w.toml [controller]")
