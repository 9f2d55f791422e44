"""One class per dimension type, behind one interface, in the spirit of Optuna's distributions.

A dimension is the set of values one field may take: ``Fixed`` (a YAML scalar), ``Choice``
(``{type: choice, values: [...]}`` or a plain list), ``Bool`` (``{type: bool}``), ``IntRange``
(``{type: int, low, high, step}``) and ``FloatRange`` (``{type: float, low, high, log}``). Each one
samples, mutates (a move to a *different* value, respecting bounds, steps and log scale), tests
membership, counts its values and describes itself. Values are plain JSON scalars.

``DIMENSION_TYPES`` maps each YAML ``type`` to its class; a new type is one class and one entry.
"""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from gnas.space.fields import FieldInfo, same
from gnas.space.problems import Problem, join_path, plain, show


class SupportsIntegers(Protocol):
    def integers(self, low: int, high: int | None = ...) -> Any: ...


RandomSource = random.Random | SupportsIntegers | int


def as_random(rng: RandomSource) -> random.Random:
    """A ``random.Random`` from a ``random.Random`` (itself), a NumPy ``Generator`` or an int seed.

    A NumPy generator is drawn from once, to seed a ``random.Random``: results stay reproducible.
    """
    if isinstance(rng, random.Random):
        return rng
    if isinstance(rng, int) and not isinstance(rng, bool):
        return random.Random(rng)
    if hasattr(rng, "integers"):
        return random.Random(int(rng.integers(0, 2**63 - 1)))
    raise TypeError(f"expected random.Random, numpy.random.Generator or int, got {type(rng).__name__}")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Dimension(ABC):
    """The values one field may take."""

    type_name: ClassVar[str]
    keys: ClassVar[tuple[str, ...]] = ()  # YAML keys besides ``type`` and ``when``

    @property
    @abstractmethod
    def size(self) -> int | float:
        """Number of distinct values (``math.inf`` for a continuous range)."""

    @abstractmethod
    def values(self) -> tuple[Any, ...] | None:
        """Every value in order, or ``None`` for a continuous range."""

    @abstractmethod
    def sample(self, rng: random.Random) -> Any:
        """A value drawn uniformly (log-uniformly for a log-scale range)."""

    @abstractmethod
    def contains(self, value: Any) -> bool: ...

    @abstractmethod
    def describe(self) -> str:
        """Short text for tables: ``choice [32, 64]``, ``int 1..4``, ``float 0.001..0.1 log``."""

    @abstractmethod
    def to_dict(self) -> Any:
        """The YAML form (a scalar for ``Fixed``)."""

    def mutate(self, value: Any, rng: random.Random) -> Any:
        """A different value near ``value`` where that makes sense; a fresh sample if ``value`` is outside."""
        if self.size <= 1:
            return self.sample(rng)
        if not self.contains(value):
            return self.sample(rng)
        return self._move(value, rng)

    def _move(self, value: Any, rng: random.Random) -> Any:
        options = [v for v in self.values() or () if not same(v, value)]
        return options[rng.randrange(len(options))]

    @property
    def is_continuous(self) -> bool:
        return math.isinf(self.size)

    @classmethod
    def parse(
        cls, data: Mapping[str, Any], field: FieldInfo, path: str
    ) -> tuple[Dimension | None, list[Problem]]:
        """The dimension described by a YAML mapping (``type`` and ``when`` already handled)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Fixed(Dimension):
    """A single value: a scalar in YAML, or an omitted field (the Architecture default)."""

    value: Any
    type_name: ClassVar[str] = "fixed"

    @property
    def size(self) -> int:
        return 1

    def values(self) -> tuple[Any, ...]:
        return (self.value,)

    def sample(self, rng: random.Random) -> Any:
        return self.value

    def contains(self, value: Any) -> bool:
        return same(value, self.value)

    def describe(self) -> str:
        return plain(self.value)

    def to_dict(self) -> Any:
        return self.value


@dataclass(frozen=True)
class Choice(Dimension):
    """One of a list of values, each equally likely."""

    choices: tuple[Any, ...]
    type_name: ClassVar[str] = "choice"
    keys: ClassVar[tuple[str, ...]] = ("values",)

    @property
    def size(self) -> int:
        return len(self.choices)

    def values(self) -> tuple[Any, ...]:
        return self.choices

    def sample(self, rng: random.Random) -> Any:
        return self.choices[rng.randrange(len(self.choices))]

    def contains(self, value: Any) -> bool:
        return any(same(value, choice) for choice in self.choices)

    def describe(self) -> str:
        return f"{self.type_name} [{', '.join(plain(v) for v in self.choices)}]"

    def to_dict(self) -> Any:
        return {"type": self.type_name, "values": list(self.choices)}

    @classmethod
    def parse(
        cls, data: Mapping[str, Any], field: FieldInfo, path: str
    ) -> tuple[Dimension | None, list[Problem]]:
        if "values" not in data:
            return None, [Problem(path, "missing key 'values'")]
        return choice_from_list(data["values"], field, join_path(path, "values"))


def choice_from_list(items: Any, field: FieldInfo, path: str) -> tuple[Choice | None, list[Problem]]:
    """A ``Choice`` from a YAML list, checking every value against the field."""
    if not isinstance(items, list):
        return None, [Problem(path, f"expected a list of values, got {show(items)}")]
    if not items:
        return None, [Problem(path, "empty choice list")]
    problems: list[Problem] = []
    values: list[Any] = []
    for index, item in enumerate(items):
        try:
            value = field.check(item)
        except ValueError as exc:
            problems.append(Problem(join_path(path, index), str(exc)))
            continue
        if any(same(value, seen) for seen in values):
            problems.append(Problem(join_path(path, index), f"duplicate value {show(item)}"))
            continue
        values.append(value)
    return (None if problems else Choice(tuple(values))), problems


@dataclass(frozen=True)
class Bool(Choice):
    """``false`` or ``true``."""

    choices: tuple[Any, ...] = (False, True)
    type_name: ClassVar[str] = "bool"
    keys: ClassVar[tuple[str, ...]] = ()

    def describe(self) -> str:
        return "bool"

    def to_dict(self) -> Any:
        return {"type": self.type_name}

    @classmethod
    def parse(
        cls, data: Mapping[str, Any], field: FieldInfo, path: str
    ) -> tuple[Dimension | None, list[Problem]]:
        if "bool" not in field.kinds:
            return None, [Problem(join_path(path, "type"), f"{field.name} is not a true/false field")]
        return cls(), []


def _bound(
    data: Mapping[str, Any], key: str, field: FieldInfo, path: str, kind: str
) -> tuple[Any, list[Problem]]:
    where = join_path(path, key)
    if key not in data:
        return None, [Problem(path, f"missing key '{key}'")]
    value = data[key]
    if not _number(value) or (kind == "int" and not isinstance(value, int)):
        return None, [
            Problem(where, f"expected {'an integer' if kind == 'int' else 'a number'}, got {show(value)}")
        ]
    try:
        return field.check(float(value) if kind == "float" else value), []
    except ValueError as exc:
        return None, [Problem(where, str(exc))]


@dataclass(frozen=True)
class IntRange(Dimension):
    """``low, low + step, ..., high`` (``high - low`` a multiple of ``step``)."""

    low: int
    high: int
    step: int = 1
    type_name: ClassVar[str] = "int"
    keys: ClassVar[tuple[str, ...]] = ("low", "high", "step")

    @property
    def size(self) -> int:
        return (self.high - self.low) // self.step + 1

    def values(self) -> tuple[int, ...]:
        return tuple(range(self.low, self.high + 1, self.step))

    def sample(self, rng: random.Random) -> int:
        return self.low + self.step * rng.randrange(self.size)

    def contains(self, value: Any) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.low <= value <= self.high
            and (value - self.low) % self.step == 0
        )

    def _move(self, value: Any, rng: random.Random) -> int:
        index, last = (value - self.low) // self.step, self.size - 1
        sigma = max(1.0, last / 4)
        shift = 0
        while shift == 0:
            shift = round(rng.gauss(0.0, sigma))
        target = index + shift
        if target < 0 or target > last:  # reflect at the bounds, then clamp
            target = index - shift
        target = min(max(target, 0), last)
        if target == index:
            target = index + 1 if index < last else index - 1
        return self.low + self.step * target

    def describe(self) -> str:
        step = f" step {self.step}" if self.step != 1 else ""
        return f"int {self.low}..{self.high}{step}"

    def to_dict(self) -> Any:
        return {"type": self.type_name, "low": self.low, "high": self.high, "step": self.step}

    @classmethod
    def parse(
        cls, data: Mapping[str, Any], field: FieldInfo, path: str
    ) -> tuple[Dimension | None, list[Problem]]:
        if "int" not in field.kinds:
            return None, [Problem(join_path(path, "type"), f"{field.name} is not an integer field")]
        low, problems = _bound(data, "low", field, path, "int")
        high, more = _bound(data, "high", field, path, "int")
        problems += more
        step = data.get("step", 1)
        if not isinstance(step, int) or isinstance(step, bool) or step <= 0:
            problems.append(
                Problem(join_path(path, "step"), f"step must be a positive integer, got {show(step)}")
            )
        if problems:
            return None, problems
        if low > high:
            return None, [Problem(path, f"low {low} > high {high}")]
        if (high - low) % step:
            return None, [Problem(path, f"high {high} is not low {low} plus a multiple of step {step}")]
        return cls(low, high, step), []


@dataclass(frozen=True)
class FloatRange(Dimension):
    """Any number in ``[low, high]``, drawn uniformly or, with ``log``, log-uniformly."""

    low: float
    high: float
    log: bool = False
    type_name: ClassVar[str] = "float"
    keys: ClassVar[tuple[str, ...]] = ("low", "high", "log")

    @property
    def size(self) -> int | float:
        return 1 if self.low == self.high else math.inf

    def values(self) -> tuple[float, ...] | None:
        return (self.low,) if self.low == self.high else None

    def _to(self, value: float) -> float:
        return math.log(value) if self.log else value

    def _from(self, value: float) -> float:
        return min(max(math.exp(value) if self.log else value, self.low), self.high)

    def sample(self, rng: random.Random) -> float:
        return self._from(rng.uniform(self._to(self.low), self._to(self.high)))

    def contains(self, value: Any) -> bool:
        return _number(value) and self.low <= value <= self.high

    def _move(self, value: Any, rng: random.Random) -> float:
        low, high = self._to(self.low), self._to(self.high)
        for _ in range(100):
            moved = self._to(value) + rng.gauss(0.0, 0.1 * (high - low))
            if moved < low or moved > high:  # reflect at the bounds
                moved = 2 * (low if moved < low else high) - moved
            candidate = self._from(min(max(moved, low), high))
            if candidate != value:
                return candidate
        return self.sample(rng)

    def describe(self) -> str:
        return f"float {self.low:g}..{self.high:g}{' log' if self.log else ''}"

    def to_dict(self) -> Any:
        return {"type": self.type_name, "low": self.low, "high": self.high, "log": self.log}

    @classmethod
    def parse(
        cls, data: Mapping[str, Any], field: FieldInfo, path: str
    ) -> tuple[Dimension | None, list[Problem]]:
        if "float" not in field.kinds:
            return None, [Problem(join_path(path, "type"), f"{field.name} is not a real-valued field")]
        low, problems = _bound(data, "low", field, path, "float")
        high, more = _bound(data, "high", field, path, "float")
        problems += more
        log = data.get("log", False)
        if not isinstance(log, bool):
            problems.append(Problem(join_path(path, "log"), f"expected true or false, got {show(log)}"))
        if problems:
            return None, problems
        if low > high:
            return None, [Problem(path, f"low {low:g} > high {high:g}")]
        if log and low <= 0:
            return None, [Problem(path, f"log scale needs low > 0, got low {low:g}")]
        return cls(float(low), float(high), log), []


DIMENSION_TYPES: dict[str, type[Dimension]] = {
    Choice.type_name: Choice,
    IntRange.type_name: IntRange,
    FloatRange.type_name: FloatRange,
    Bool.type_name: Bool,
}
