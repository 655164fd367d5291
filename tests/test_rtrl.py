"""RTRL (evorobot/training/rtrl.py; the kernel recurrent_rtrl of evorobot/controllers/_dense.py).

Williams & Zipser's (1989) forward sensitivities give the gradient of the whole sequence that BPTT
gives by going backward: the two kernels must agree to 1e-10 on the same sequences (Elman and fully
recurrent, both losses, both hidden activations, sequences of different lengths), and a training
run with RTRL must follow the BPTT run from the same seed. Networks too large for O(n^4) per tick
are refused.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from test_bptt import NETS, WHERE, data, params_of, trainer, world

from evorobot.config import experiment_from_dict
from evorobot.controllers.fully_recurrent import FullyRecurrent, FullyRecurrentSpec
from evorobot.errors import ConfigError
from evorobot.setup import build
from evorobot.training.rtrl import MAX_UNITS, RTRL, RTRLSpec


@pytest.mark.parametrize("loss", [0, 1], ids=["squared", "cross_entropy"])
@pytest.mark.parametrize("net", sorted(NETS))
def test_rtrl_equals_bptt_on_the_same_sequences(net: str, loss: int) -> None:
    ctrl = NETS[net][0]()
    p, (x, y, w, lengths) = params_of(ctrl, 2, 0.8), data(4)
    model = ctrl.gradient_model("w")
    t = x.shape[1]
    b_loss, b_grads = model.bptt(p, x, y, w, lengths, loss, t, t)
    assert model.rtrl is not None
    r_loss, r_grads = model.rtrl(p, x, y, w, lengths, loss)
    assert r_loss == b_loss  # the same forward pass
    for name, a, b in zip(p._fields, r_grads, b_grads, strict=True):
        assert np.max(np.abs(a - b)) <= 1e-10 * max(1.0, np.max(np.abs(b))), name
        assert np.max(np.abs(b)) > 1e-4, name


def test_rtrl_training_follows_bptt_training_from_the_same_seed() -> None:
    raw = world(epochs=5)
    bptt = list(trainer(raw).epochs())
    rtrl = list(trainer({**raw, "optimizer": {**raw["optimizer"], "type": "rtrl"}}).epochs())
    for a, b in zip(bptt, rtrl, strict=True):
        np.testing.assert_allclose(a.genome, b.genome, rtol=0, atol=1e-9)
        assert a.loss == pytest.approx(b.loss, rel=1e-9)
    assert rtrl[-1].loss < rtrl[0].loss


def test_networks_above_the_size_limit_are_refused_and_the_limit_itself_is_accepted() -> None:
    def setup(hidden: int) -> Any:
        raw = {**world(), "controller": {"type": "fully_recurrent", "hidden": hidden}, "optimizer": {"type": "rtrl"}}
        return build(experiment_from_dict(json.loads(json.dumps(raw)), "w.toml"))

    RTRL(RTRLSpec(), setup(MAX_UNITS - 1), WHERE)  # hidden + 1 output unit = MAX_UNITS
    with pytest.raises(ConfigError) as err:
        RTRL(RTRLSpec(), setup(MAX_UNITS), WHERE)
    assert str(err.value).startswith(WHERE + ": ") and f"{MAX_UNITS + 1} recurrent units > {MAX_UNITS}" in str(err.value)
    assert FullyRecurrent(FullyRecurrentSpec(hidden=MAX_UNITS), 1, 1, 1.0).gradient_model("w").units == MAX_UNITS + 1
