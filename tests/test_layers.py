"""The package's house: layers that import downward only, no import cycles, old paths kept.

Every ``import`` and ``from ... import`` in every module counts, at module level or
inside a function (a lazy import is still a dependency). Lazy re-exports by name
(``spicebar._lazy``) and old-path aliases (``spicebar._moved``) are not imports.
"""

from __future__ import annotations

import ast
import importlib
import warnings
from pathlib import Path

import pytest

import spicebar
from spicebar._moved import MOVED

PACKAGE = Path(spicebar.__file__).resolve().parent

#: Lowest first. A module may import from its own layer and the layers before it.
#: Longest prefix wins, so a sub-layer inside ``engines`` can sit below its siblings.
LAYERS = (
    ("base", ("spicebar", "spicebar._lazy", "spicebar._moved", "spicebar._validate",
              "spicebar.errors", "spicebar.results", "spicebar.io")),
    ("netlist cards", ("spicebar.netlist.cards",)),  # the card guard: specs parse model files
    ("circuit", ("spicebar.circuit",)),
    ("netlist", ("spicebar.netlist",)),
    ("engine parts", ("spicebar.engines.memory", "spicebar.engines.cell_currents",
                      "spicebar.engines.ideal")),
    ("solvers", ("spicebar.engines.nodal", "spicebar.engines.ngspice")),
    ("engine entry", ("spicebar.engines", "spicebar.engines.simulation")),
    ("transient", ("spicebar.engines.transient",)),
    ("analysis", ("spicebar.analysis",)),
    ("hardware", ("spicebar.hardware",)),
    ("sweeps", ("spicebar.sweeps",)),
    ("plots", ("spicebar.plots",)),
    ("cli", ("spicebar.cli",)),
)


def _modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for f in PACKAGE.rglob("*.py"):
        parts = list(f.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (f, is_pkg)
    return out


MODULES = _modules()


def _target(module: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str) -> set[str]:
    """The package modules ``module`` imports, anywhere in its body."""
    path, is_pkg = MODULES[module]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            t = _target(module, is_pkg, node)
            for a in node.names:
                sub = f"{t}.{a.name}"
                found.add(sub if sub in MODULES else t)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in MODULES and m != module}


GRAPH = {m: _imports(m) for m in MODULES}


def layer_of(module: str) -> int:
    best, where = -1, None
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best:
                best, where = len(p), i
    assert where is not None, f"{module} is in no layer: add it to LAYERS"
    return where


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    assert _cycles(GRAPH) == []


def test_the_cycle_finder_finds_a_cycle():
    """The check itself: a two-module and a three-module cycle are reported."""
    graph = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert _cycles(graph) == [["a", "b"], ["c", "d", "e"]]


def test_layers_import_downward_only():
    upward = [f"{m} ({LAYERS[layer_of(m)][0]}) imports {d} ({LAYERS[layer_of(d)][0]})"
              for m, deps in sorted(GRAPH.items()) for d in sorted(deps)
              if layer_of(d) > layer_of(m)]
    assert upward == []


def test_the_layer_check_sees_function_level_imports():
    """``simulation`` imports the ngspice engine inside a function; the graph has it."""
    assert "spicebar.engines.ngspice.engine" in GRAPH["spicebar.engines.simulation"]
    assert layer_of("spicebar.plots.maps") > layer_of("spicebar.analysis.comparison")


def test_the_top_holds_few_modules_and_the_rooms_say_what_they_own():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 8, top
    rooms = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    assert len(rooms) >= 5, rooms
    for init in PACKAGE.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert "May import" in doc or init.parent == PACKAGE, f"{init} does not say its layer"


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_module_paths_still_work(old):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert module is importlib.import_module(MOVED[old])
    # (no warning when an earlier test already imported the old path in this process)
    assert all(MOVED[old] in str(w.message) for w in caught
               if issubclass(w.category, DeprecationWarning) and old in str(w.message))


def test_old_module_imports_warn_and_name_the_new_home():
    import sys
    sys.modules.pop("spicebar.scoring", None)
    with pytest.warns(DeprecationWarning, match="spicebar.analysis.scoring"):
        from spicebar.scoring import score_models  # noqa: F401
    from spicebar.analysis.scoring import score_models as new
    assert score_models is new


def test_old_modules_that_became_packages_keep_their_names():
    from spicebar.cli import main
    from spicebar.engines.ngspice import run_netlist, solve_ngspice  # noqa: F401
    from spicebar.engines.nodal import STAMPED_KINDS, conductance_matrix, solve_nodal  # noqa: F401
    from spicebar.netlist import format_netlist, write_netlist  # noqa: F401
    from spicebar.cli.main import main as real_main
    assert main is real_main


def test_every_public_name_resolves():
    for name in spicebar.__all__:
        assert getattr(spicebar, name) is not None, name
