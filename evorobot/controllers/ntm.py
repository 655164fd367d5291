"""Neural Turing machine, NTM (Graves et al. 2014), evolved as in Greve et al. (2016); batched.

Graves, A., Wayne, G. & Danihelka, I. (2014). Neural Turing machines. arXiv:1410.5401.
Greve, R. B., Jacobsen, E. J. & Risi, S. (2016). Evolving neural Turing machines for
reward-based learning. GECCO 2016: 117-124.

A controller network reads the sensors and the previous tick's read vectors, drives the motors
and emits, through one linear output layer, the parameters of its heads over a memory matrix of
``memory_rows`` (N) rows of ``memory_width`` (M) numbers. Each tick (one per simulation step)::

    h = tanh(W_h [x, r(t-1), (h(t-1))] + b_h)          hidden layer (h(t-1): recurrent only)
    o = W_o h + b_o                                     motor rows, then the heads' raw parameters
    motors = sigma(o[:n_outputs])
    write heads: address on the memory before writing, then erase and add (Graves eqs. 3-4)
    read heads:  address on the memory after writing, then read r(t) (eq. 2)

Addressing (content by cosine similarity with key strength beta and a softmax, interpolation
with the previous weighting by g, a circular shift over -1, 0, +1, sharpening by gamma) and the
squashing of the heads' parameters are in :mod:`~evorobot.controllers._ntm_kernels`. Every
trial starts with a zero memory, zero read vectors and hidden layer, and every head focused on
row 0.

Adapted from the papers, and why:

- Greve et al.'s ENTM evolves the controller's topology with NEAT, uses a single combined
  read/write head, a memory that grows by one row when the head moves past its end, and hard
  (winner-take-all) content addressing. Here, as in Graves et al., addressing is soft, the memory
  is fixed at N rows and wraps around, and there are ``read_heads`` and ``write_heads`` separate
  heads: every quantity is a smooth function of the genes, and the kernel's arrays keep a fixed
  shape for the whole batch.
- The controller is a fixed network with one hidden layer of ``hidden`` tanh units, feed-forward
  by default (Greve et al.'s evolved controllers are feed-forward; the memory is the only state)
  or, with ``recurrent = true``, with its own previous activations as extra inputs; its weights
  and biases are genes in ``weight_range`` and ``bias_range`` instead of trained by gradient
  descent.
- Motor commands are the sigmoid of their output rows, in [0, 1]; ``beta`` uses softplus and
  ``gamma = 1 + softplus`` (Graves et al. only require beta > 0 and gamma >= 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np

from evorobot._types import FloatArray, IntArray
from evorobot.controllers._blockshell import BlockController
from evorobot.controllers._ntm_kernels import ntm_step
from evorobot.genome import Block
from evorobot.spec import Range, setting

__all__ = ["NTM", "NTMParams", "NTMSpec", "NTMState"]


@dataclass(frozen=True)
class NTMSpec:
    """Settings of a neural Turing machine (``[controller]``, less ``type``)."""

    hidden: int = setting(5, ge=1, doc="tanh units of the controller's hidden layer")
    recurrent: bool = setting(False, doc="the hidden layer also sees its previous activations (false: Greve's)")
    memory_rows: int = setting(8, ge=1, doc="rows N of the memory matrix")
    memory_width: int = setting(4, ge=1, doc="width M of each memory row")
    read_heads: int = setting(1, ge=1, doc="number of read heads")
    write_heads: int = setting(1, ge=1, doc="number of write heads")
    weight_range: Range = setting((-5.0, 5.0), doc="range of the controller's weights")
    bias_range: Range = setting((-5.0, 5.0), doc="range of the controller's biases")


class NTMParams(NamedTuple):
    """Decoded parameters of B NTMs.

    Attributes
    ----------
    w_h : FloatArray, shape (B, H, n_inputs + R M [+ H])
        Hidden layer ``[unit, source]``; sources: inputs, previous read vectors, (previous h).
    b_h : FloatArray, shape (B, H)
    w_o : FloatArray, shape (B, P, H)
        Output layer ``[row, hidden unit]``; rows named by ``describe``'s ``outputs``.
    b_o : FloatArray, shape (B, P)
    """

    w_h: FloatArray
    b_h: FloatArray
    w_o: FloatArray
    b_o: FloatArray


class NTMState(NamedTuple):
    """State of B NTMs: hidden layer ``h`` (B, H), memory ``mem`` (B, N, M), read vectors
    ``reads`` (B, R, M), last weightings ``weights`` (B, W + R, N) (write heads first)."""

    h: FloatArray
    mem: FloatArray
    reads: FloatArray
    weights: FloatArray


def head_rows(kind: str, m: int) -> list[str]:
    """Names of one head's output rows (``kind`` "read" or "write"), in kernel order."""
    rows = [f"key{j}" for j in range(m)] + ["beta", "g", "shift-1", "shift0", "shift+1", "gamma"]
    if kind == "write":
        rows += [f"erase{j}" for j in range(m)] + [f"add{j}" for j in range(m)]
    return rows


class NTM(BlockController):
    """Batched neural Turing machine with soft addressing; see the module docstring."""

    name: ClassVar[str] = "ntm"
    Spec: ClassVar[type] = NTMSpec
    Params: ClassVar[type] = NTMParams

    def _blocks(self, spec: NTMSpec) -> list[Block]:
        m = spec.memory_width
        self.outputs = [f"m{k}" for k in range(self.n_outputs)]
        for kind, count in (("write", spec.write_heads), ("read", spec.read_heads)):
            self.outputs += [f"{kind}{q}.{row}" for q in range(count) for row in head_rows(kind, m)]
        self.sources = ([f"x{k}" for k in range(self.n_inputs)]
                        + [f"read{r}.{j}" for r in range(spec.read_heads) for j in range(m)]
                        + ([f"h{i}" for i in range(spec.hidden)] if spec.recurrent else []))
        h, p = spec.hidden, len(self.outputs)
        return [
            Block("w_h", (h, len(self.sources)), *spec.weight_range),
            Block("b_h", (h,), *spec.bias_range),
            Block("w_o", (p, h), *spec.weight_range),
            Block("b_o", (p,), *spec.bias_range),
        ]

    def gene_groups(self) -> tuple[IntArray, ...]:
        """One group per hidden unit of the controller, as ESP's hidden neurons: its incoming
        weights ``w_h[i, :]`` (inputs, read vectors, previous hidden layer), its bias and its
        outgoing weights ``w_o[:, i]``, to the motor rows and to every head's parameter rows
        alike (the heads are the controller's outputs). The output biases ``b_o`` are the rest
        group. The memory holds no genes."""
        return self.layout.groups({"w_h": 0, "b_h": 0, "w_o": 1})

    def labels(self) -> dict[str, list[str]]:
        return {"sources": list(self.sources), "outputs": list(self.outputs)}

    def init_state(self, params: NTMParams) -> NTMState:
        """Fresh state: zero hidden layer, memory and read vectors; every head on row 0."""
        s, n_b = self.spec, params.b_h.shape[0]
        weights = np.zeros((n_b, s.write_heads + s.read_heads, s.memory_rows))
        weights[:, :, 0] = 1.0
        return NTMState(np.zeros((n_b, s.hidden)), np.zeros((n_b, s.memory_rows, s.memory_width)),
                        np.zeros((n_b, s.read_heads, s.memory_width)), weights)

    def step(self, params: NTMParams, state: NTMState, inputs: FloatArray, dt: float, out: FloatArray) -> None:
        """One tick of every NTM in place (``dt`` ignored); motor commands to ``out``."""
        ntm_step(params.w_h, params.b_h, params.w_o, params.b_o, state.h, state.mem, state.reads,
                 state.weights, inputs, out)

    def trace(self, state: NTMState) -> dict[str, FloatArray]:
        """Hidden layer, read vectors (B, R M), head weightings (B, (W + R) N) and memory (B, N M)."""
        n_b = state.h.shape[0]
        return {"h": state.h, "read": state.reads.reshape(n_b, -1), "head": state.weights.reshape(n_b, -1),
                "mem": state.mem.reshape(n_b, -1)}
