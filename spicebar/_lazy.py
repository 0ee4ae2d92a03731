"""Names a package exports but loads on first use (PEP 562), so importing it stays light."""

from __future__ import annotations

import importlib


def lazy_exports(package: str, table: dict[str, str]):
    """A module ``__getattr__`` for ``package``: ``table`` maps an exported name to the
    submodule (relative to ``package``, e.g. ``"circuit.spec"``) that defines it."""

    def __getattr__(name: str):
        if name in table:
            return getattr(importlib.import_module(f"{package}.{table[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
