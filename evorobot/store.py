"""Files on disk: strict JSON, NPZ without pickle, and atomic writes.

- JSON is written with ``allow_nan=False``; non-finite floats are encoded explicitly as the
  strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` and decoded by :func:`decode_float`.
  Python's float repr round-trips exactly, so genomes survive at full precision.
- NPZ files are read with ``allow_pickle=False``. Nothing here uses pickle, eval or exec.
- Every write goes to a temporary file in the same directory, is fsynced and then moved into place
  with ``os.replace``: a crash leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from evorobot.errors import ChampionFileError

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode_float(x: float) -> float | str:
    """A finite float as is; a non-finite one as its explicit string."""
    x = float(x)
    if math.isfinite(x):
        return x
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def decode_float(v: Any, where: str) -> float:
    """Inverse of :func:`encode_float`; raises ChampionFileError naming ``where`` otherwise."""
    if isinstance(v, bool):
        raise ChampionFileError(f"{where}: expected a number, got {v!r}")
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str) and v in _NONFINITE:
        return _NONFINITE[v]
    raise ChampionFileError(f"{where}: expected a number, got {v!r}")


def _sync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _sync_dir(path.parent)


def dumps(obj: Any) -> str:
    """Strict JSON text (no NaN/Infinity literals), indented, newline-terminated."""
    return json.dumps(obj, allow_nan=False, indent=1) + "\n"


def write_json(path: str | Path, obj: Any) -> None:
    """Atomically write ``obj`` as strict JSON."""
    write_bytes_atomic(path, dumps(obj).encode())


def write_text(path: str | Path, text: str) -> None:
    """Atomically write ``text``."""
    write_bytes_atomic(path, text.encode())


def _reject_constant(name: str) -> None:
    raise ValueError(f"non-standard JSON constant {name}")


def read_json(path: str | Path, what: str) -> Any:
    """Read strict JSON; every failure is a one-line ChampionFileError naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ChampionFileError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise ChampionFileError(f"{path}: {what} is a directory") from None
    except UnicodeDecodeError:
        raise ChampionFileError(f"{path}: {what} is not UTF-8 text") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError) as exc:
        raise ChampionFileError(f"{path}: {what} is not valid JSON (truncated or corrupt?): {exc}") from None


def write_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Atomically write numeric arrays to an uncompressed NPZ file."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_bytes_atomic(path, buf.getvalue())


def read_npz(path: str | Path, what: str) -> dict[str, np.ndarray]:
    """Read an NPZ file with ``allow_pickle=False``."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise ChampionFileError(f"{path}: {what} not found") from None
    except (OSError, ValueError, EOFError) as exc:
        raise ChampionFileError(f"{path}: {what} is unreadable (truncated or corrupt?): {exc}") from None


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """The bytes of an uncompressed NPZ file holding ``arrays`` (to checksum before writing)."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def npz_from_bytes(data: bytes, where: str) -> dict[str, np.ndarray]:
    """Arrays of an NPZ file already read into memory, with ``allow_pickle=False``."""
    import zipfile

    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise ChampionFileError(f"{where}: unreadable NPZ (truncated or corrupt?): {exc}") from None


class DirectoryLock:
    """An exclusive advisory lock on a run directory (``.lock`` inside it), held while a process
    writes the run; released by the OS if the process dies. A no-op where ``fcntl`` is missing."""

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / ".lock"
        self._fd: int | None = None

    def __enter__(self) -> "DirectoryLock":
        try:
            import fcntl
        except ImportError:
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise ChampionFileError(f"{self.path.parent}: the run is in use by another evorobot process") from None
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
