"""The one registry mechanism: a named mapping of builders, filled by a decorator, with one
error for an unknown name. Models, datasets, pruning methods and schemes, random-graph
generators, regressors and recurrent cells are all registries.

Example:
    >>> SHAPES = Registry("shape")
    >>> @SHAPES.register("square")
    ... def square(a):
    ...     return a * a
    >>> SHAPES["square"](3), list(SHAPES)
    (9, ['square'])
    >>> SHAPES["circle"]
    Traceback (most recent call last):
    ...
    ValueError: unknown shape 'circle'; expected one of square
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["Registry"]


class Registry(Mapping):
    """``kind`` names what it holds in errors ("unknown <kind> 'x'; expected one of ...")."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, Any] = {}

    def register(self, name: str, obj: Any = None):
        """``REG.register("name", obj)``, or ``@REG.register("name")`` on a function/class."""
        def add(o):
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered already")
            self._items[name] = o
            return o
        return add(obj) if obj is not None else add

    def __getitem__(self, name: str):
        try:
            return self._items[name]
        except (KeyError, TypeError):
            raise ValueError(f"unknown {self.kind} {name!r}; expected one of "
                             f"{', '.join(self._items)}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._items)})"

    def build(self, name: str, *args, **kwargs) -> Any:
        """``self[name](*args, **kwargs)``."""
        builder: Callable = self[name]
        return builder(*args, **kwargs)
