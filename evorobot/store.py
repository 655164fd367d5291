"""Files on disk: strict JSON, NPZ without pickle, and atomic writes.

- JSON is written with ``allow_nan=False``; non-finite floats are encoded explicitly as the
  strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` and decoded by :func:`decode_float`.
  Python's float repr round-trips exactly, so genomes survive at full precision.
- NPZ files are read with ``allow_pickle=False``. Nothing here uses pickle, eval or exec.
- Every write goes to a temporary file in the same directory, is fsynced and then moved into place
  with ``os.replace``: a crash leaves the old file or the new one, never half of one. A write the
  system refuses (disk full, quota, file size limit, read-only filesystem, no permission) removes
  its temporary file and raises :class:`~evorobot.errors.WriteFailed`, one line naming the file.
- ``EVOROBOT_TEST_KILL=POINT@N`` (tests only) SIGKILLs the process the ``N``-th time it reaches
  ``POINT`` (:func:`kill_point`), to prove that a crash inside a write loses nothing.
"""

from __future__ import annotations

import errno
import io
import json
import math
import os
import signal
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from evorobot.errors import ChampionFileError, WriteFailed

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

MAX_READ_BYTES = 1 << 30
"""Largest file evorobot reads (1 GiB): world, agent, champion, checkpoint and history files are far
smaller; a larger one is refused in one line instead of filling the memory."""


def read_regular(path: str | Path, what: str, error: type[Exception] = ChampionFileError) -> bytes:
    """The bytes of ``path`` if it is a regular file (following symlinks); everything else is one
    line of ``error`` naming the file: missing, a directory, a FIFO, socket or device (opened
    without blocking, so a FIFO with no writer cannot hang the caller), a symlink loop, a name too
    long, no permission, or a file over :data:`MAX_READ_BYTES`."""
    import errno
    import stat

    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        why = {errno.ENOENT: "not found", errno.EISDIR: "is a directory", errno.ELOOP: "is a symlink loop",
               errno.ENAMETOOLONG: "has a name too long for the filesystem", errno.EACCES: "is not readable "
               "(permission denied)", errno.ENOTDIR: "not found (a part of its path is not a directory)"}
        raise error(f"{path}: {what} {why.get(exc.errno, f'cannot be opened ({exc.strerror})')}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise error(f"{path}: {what} is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{path}: {what} is not a regular file (a FIFO, socket or device)")
        if info.st_size > MAX_READ_BYTES:
            raise error(f"{path}: {what} is {info.st_size / 2**20:.0f} MiB, more than evorobot reads "
                        f"({MAX_READ_BYTES // 2**20} MiB)")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_READ_BYTES + 1)
    except OSError as exc:
        raise error(f"{path}: {what} cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > MAX_READ_BYTES:
        raise error(f"{path}: {what} is larger than evorobot reads ({MAX_READ_BYTES // 2**20} MiB)")
    return data


def read_text(path: str | Path, what: str, error: type[Exception] = ChampionFileError) -> str:
    """:func:`read_regular` decoded as UTF-8 (one line of ``error`` otherwise)."""
    try:
        return read_regular(path, what, error).decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{path}: {what} is not UTF-8 text") from None


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


def remove_stale_temporaries(directory: str | Path) -> int:
    """Delete the temporary files :func:`write_bytes_atomic` leaves in ``directory`` when a process
    dies between creating and renaming one (``.NAME.XXXX.tmp``); return how many. Call it only while
    holding the directory's :class:`DirectoryLock` (no writer can be using them)."""
    removed = 0
    for stale in Path(directory).glob(".*.tmp"):
        if stale.is_file() and not stale.is_symlink():
            stale.unlink(missing_ok=True)
            removed += 1
    return removed


REFUSED_WRITES = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EFBIG: "the file would exceed the file size limit, ulimit -f",
    errno.EROFS: "the filesystem is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}
"""The errors of a write that the system refuses for a reason outside evorobot, and their words."""


def write_failed(path: str | Path, exc: OSError, what: str = "cannot write") -> WriteFailed | None:
    """A one-line :class:`WriteFailed` for ``exc`` if it is a refused write (:data:`REFUSED_WRITES`)
    or a name too long, else None (anything else stays a traceback: not a user's problem)."""
    why = REFUSED_WRITES.get(exc.errno or 0)
    if why is None and exc.errno == errno.ENAMETOOLONG:
        why = "the name is too long for the filesystem"
    return WriteFailed(f"{path}: {what} ({why})") if why is not None else None


_KILL_COUNTS: dict[str, int] = {}


def kill_point(point: str) -> None:
    """SIGKILL this process if ``EVOROBOT_TEST_KILL`` is ``POINT@N`` and this is the ``N``-th time
    ``point`` is reached (a test hook: a crash at an exact moment of a write; one dict lookup
    otherwise). Points: ``NAME:written`` (temp file fsynced, not renamed), ``NAME:renamed`` (renamed,
    directory not synced), and the checkpoint's (:func:`evorobot.evolution.checkpoint.save`)."""
    spec = os.environ.get("EVOROBOT_TEST_KILL")
    if not spec:
        return
    target, _, nth = spec.rpartition("@")
    if target != point:
        return
    _KILL_COUNTS[point] = _KILL_COUNTS.get(point, 0) + 1
    if str(_KILL_COUNTS[point]) == nth:
        os.kill(os.getpid(), signal.SIGKILL)


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, ``os.replace``); a refused write
    removes the temp file and raises :class:`WriteFailed` (:func:`write_failed`)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise write_failed(path, exc) or exc from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        kill_point(f"{path.name}:written")
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        failed = write_failed(path, exc) if isinstance(exc, OSError) else None
        if failed is not None:
            raise failed from None
        raise
    kill_point(f"{path.name}:renamed")
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
    text = read_text(path, what)
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError) as exc:
        raise ChampionFileError(f"{path}: {what} is not valid JSON (truncated or corrupt?): {exc}") from None
    except RecursionError:
        raise ChampionFileError(f"{path}: {what} is nested too deeply to be an evorobot file") from None


def write_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Atomically write numeric arrays to an uncompressed NPZ file."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_bytes_atomic(path, buf.getvalue())


def read_npz(path: str | Path, what: str) -> dict[str, np.ndarray]:
    """Read an NPZ file with ``allow_pickle=False`` (a regular file: :func:`read_regular`)."""
    return npz_from_bytes(read_regular(path, what), f"{path}: {what}")


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
        try:  # O_NOFOLLOW | O_NONBLOCK: a symlink or a FIFO planted as .lock cannot redirect or hang us
            flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
            fd = os.open(self.path, flags, 0o644)
        except OSError as exc:
            raise ChampionFileError(f"{self.path}: cannot lock the run ({exc.strerror}; `.lock` must be a regular "
                                    "file evorobot can write)") from None
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
