"""Strict parsing of TOML tables into frozen dataclasses.

Every configurable object (task, controller, optimizer, agent part) declares its settings as a
frozen dataclass whose fields are made with :func:`setting`, ranges beside the field. :func:`parse`
turns one table into an instance and rejects, with a one-line :class:`~evorobot.errors.ConfigError`
naming the place (file and table), the key and the value:

- unknown keys (with a did-you-mean, "partially to catch typos" as neat-python puts it);
- wrong types (an int is accepted where a float is expected; a bool never counts as a number);
- values outside the declared bounds or choices; ranges ``[lo, hi]`` with ``lo > hi``.

Supported field types: ``int``, ``float``, ``bool``, ``str``, ``tuple[float, float]``
(:data:`Range`, a closed range written as a two-element array), ``tuple[float, ...]``
(:data:`Floats`, a non-empty array of numbers), ``tuple[tuple[float, float], ...]``
(:data:`Points`, an array of ``[x, y]`` pairs) and ``tuple[SomeSpec, ...]`` for a settings
dataclass ``SomeSpec`` (an array of tables, each parsed with :func:`parse`).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from evorobot.errors import ConfigError

T = TypeVar("T")

Range = tuple[float, float]
Floats = tuple[float, ...]
Points = tuple[tuple[float, float], ...]


def setting(
    default: Any = dataclasses.MISSING,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    choices: tuple[str, ...] | None = None,
    doc: str = "",
) -> Any:
    """Declare a dataclass field with its bounds (``ge``/``gt``/``le``), choices and meaning."""
    meta = {"ge": ge, "gt": gt, "le": le, "choices": choices, "doc": doc}
    if isinstance(default, (list, dict)):
        raise TypeError("mutable defaults are not allowed; use a tuple")
    return dataclasses.field(default=default, metadata=meta)


def did_you_mean(word: str, options: typing.Iterable[str]) -> str:
    """Return ``" (did you mean `x`?)"`` for the closest option, or an empty string."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def _type_name(tp: Any) -> str:
    if tp is float:
        return "a number"
    if tp is int:
        return "an integer"
    if tp is bool:
        return "true or false"
    if tp is str:
        return "a string"
    if tp == Floats:
        return "a non-empty array of numbers"
    if tp == Points:
        return "an array of [x, y] pairs"
    if _table_type(tp) is not None:
        return "an array of tables"
    return "a [low, high] pair of numbers"


def _table_type(tp: Any) -> type | None:
    """The settings dataclass of a ``tuple[SomeSpec, ...]`` field, else None."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis:
        if dataclasses.is_dataclass(args[0]):
            return args[0]  # type: ignore[return-value]
    return None


def _fmt(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _coerce(tp: Any, value: Any, where: str, key: str) -> Any:
    bad = ConfigError(f"{where}: `{key}` must be {_type_name(tp)}, got {_fmt(value)}")
    if tp is bool:
        if not isinstance(value, bool):
            raise bad
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(f"{where}: `{key}` must be finite, got {_fmt(value)}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise bad
        return value
    if tp == Floats:
        if not isinstance(value, (list, tuple)) or not value:
            raise bad
        return tuple(_coerce(float, v, where, key) for v in value)
    if tp == Points:
        if not isinstance(value, (list, tuple)) or not value:
            raise bad
        pts = []
        for v in value:
            if not isinstance(v, (list, tuple)) or len(v) != 2:
                raise bad
            pts.append((_coerce(float, v[0], where, key), _coerce(float, v[1], where, key)))
        return tuple(pts)
    table_cls = _table_type(tp)
    if table_cls is not None:
        if not isinstance(value, (list, tuple)):
            raise bad
        inner = f"{where[:-1]}.{key}][{{}}]" if where.endswith("]") else f"{where} {key}[{{}}]"
        return tuple(parse(table_cls, v, inner.format(i)) for i, v in enumerate(value))
    # Range
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise bad
    lo, hi = (_coerce(float, v, where, key) for v in value)
    if lo > hi:
        raise ConfigError(f"{where}: `{key}` must be [low, high] with low <= high, got {[lo, hi]}")
    return (lo, hi)


def _check_bounds(meta: Mapping[str, Any], value: Any, where: str, key: str) -> None:
    values = value if isinstance(value, tuple) else (value,)
    if values and isinstance(values[0], tuple):  # Points
        values = tuple(c for v in values for c in v)
    if values and dataclasses.is_dataclass(values[0]):
        return
    for v in values:
        if meta.get("ge") is not None and v < meta["ge"]:
            raise ConfigError(f"{where}: `{key}` must be >= {meta['ge']}, got {_fmt(value)}")
        if meta.get("gt") is not None and v <= meta["gt"]:
            raise ConfigError(f"{where}: `{key}` must be > {meta['gt']}, got {_fmt(value)}")
        if meta.get("le") is not None and v > meta["le"]:
            raise ConfigError(f"{where}: `{key}` must be <= {meta['le']}, got {_fmt(value)}")
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        listed = ", ".join(f"`{c}`" for c in choices)
        raise ConfigError(
            f"{where}: `{key}` must be one of {listed}, got {_fmt(value)}{did_you_mean(str(value), choices)}"
        )


def parse(cls: type[T], table: Any, where: str, *, ignore: tuple[str, ...] = ()) -> T:
    """Build ``cls`` from one TOML table, validating every key (see the module docstring).

    ``ignore`` names keys that belong to the caller (such as ``type``) and are skipped here.
    """
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: expected a table, got {_fmt(table)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in table:
        if key not in fields and key not in ignore:
            raise ConfigError(f"{where}: unknown key `{key}`{did_you_mean(key, fields)}")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in table:
            if f.default is dataclasses.MISSING:
                raise ConfigError(f"{where}: missing required key `{name}`")
            continue
        value = _coerce(hints[name], table[name], where, name)
        _check_bounds(f.metadata, value, where, name)
        kwargs[name] = value
    instance = cls(**kwargs)
    check = getattr(instance, "validate", None)
    if check is not None:
        check(where)
    return instance


def to_dict(instance: Any) -> dict[str, Any]:
    """Plain JSON/TOML-ready dict of a settings dataclass (tuples become lists)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(instance):
        out[f.name] = _plain(getattr(instance, f.name))
    return out


def _plain(v: Any) -> Any:
    if dataclasses.is_dataclass(v):
        return to_dict(v)
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return v


def describe(cls: type) -> list[tuple[str, str, Any, str]]:
    """(name, type, default, doc) for every setting of ``cls``, for ``evorobot list``."""
    hints = typing.get_type_hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        rows.append((f.name, _type_name(hints[f.name]), f.default, f.metadata.get("doc", "")))
    return rows
