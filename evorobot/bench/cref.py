"""A hand-written C baseline for the CTRNN kernel, compiled at bench time when a compiler exists.

``ctrnn_ref.c`` is the plain C loop the performance target is stated against ("Euler within 1.5x
of a hand-written C loop"). It is compiled with ``cc -O3 -march=native`` (no fast-math, like the
numba kernel) into a temporary directory and called through ctypes, one call per batch step.
Without a C compiler the measurement is skipped; nothing else depends on it. :func:`compile_library`
is the compile step, shared with the categorical-perception reference (:mod:`evorobot.bench.cp_reference`).
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

SOURCE = Path(__file__).with_name("ctrnn_ref.c")


def compile_library(source: Path, flags: Sequence[str] = ()) -> ctypes.CDLL | None:
    """Compile ``source`` with ``cc -O3 -march=native`` (plus ``flags``) into a temporary shared
    library and load it; None without a C compiler or when compilation fails."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None or not source.is_file():
        return None
    lib_path = Path(tempfile.mkdtemp(prefix="evorobot-cref-")) / source.with_suffix(".so").name
    cmd = [cc, "-O3", "-march=native", *flags, "-shared", "-fPIC", "-o", str(lib_path), str(source), "-lm"]
    if subprocess.run(cmd, capture_output=True, check=False).returncode != 0:
        return None
    return ctypes.CDLL(str(lib_path))


def compile_reference() -> Callable[..., Callable[[], None]] | None:
    """``bind(tau, bias, gain, w, w_in, y, o, x, dt) -> step()`` over the compiled loop, or None."""
    lib = compile_library(SOURCE, ("-ffp-contract=off",))  # no fused multiply-adds: numba's bits
    if lib is None:
        return None
    fn = lib.ctrnn_euler
    ptr = ctypes.POINTER(ctypes.c_double)
    fn.argtypes = [ctypes.c_int] * 3 + [ptr] * 8 + [ctypes.c_double]
    fn.restype = None

    def bind(tau, bias, gain, w, w_in, y, o, x, dt):
        """A zero-argument step over these arrays (the C loop reads them C-contiguous: the parameters
        and inputs are taken as C-contiguous copies where they are not, e.g. a small network's
        batch-minor arrays; ``y`` and ``o``, updated in place, must be C-contiguous); the ctypes
        pointers are made once so the timed call costs what the C loop costs."""
        if not (y.flags.c_contiguous and o.flags.c_contiguous):
            raise ValueError("the C loop updates y and o in place: they must be C-contiguous")
        tau, bias, gain, w, w_in, x = (np.ascontiguousarray(a) for a in (tau, bias, gain, w, w_in, x))
        b, n = tau.shape
        args = [a.ctypes.data_as(ptr) for a in (tau, bias, gain, w, w_in, y, o, x)]
        k, step_dt = w_in.shape[2], ctypes.c_double(dt)

        def step() -> None:
            fn(b, n, k, *args, step_dt)

        step.library = lib  # type: ignore[attr-defined]  # keep the library loaded
        step.arrays = (tau, bias, gain, w, w_in, x)  # type: ignore[attr-defined]  # and the copies alive
        return step

    return bind
