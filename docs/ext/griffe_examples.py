"""Griffe extension for the docs site: rewire's docstrings title their doctests ``Example:``
(one example); Google style only knows ``Examples:``. Without this, mkdocstrings renders
the section as an admonition of plain text and the ``>>>`` lines as nested quotes."""

from __future__ import annotations

import re
from typing import Any

import griffe

_EXAMPLE = re.compile(r"^(\s*)Example:[ \t]*$", re.MULTILINE)


class SingularExamples(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _EXAMPLE.sub(r"\1Examples:", obj.docstring.value)
