"""Which ngspice vectors give each element's power (instance parameter ``p``).

For resistors, capacitors, voltage and controlled sources ngspice computes the
instantaneous power itself, absorbed positive (``@name[p]``; a source that delivers reads
negative). Behavioural sources (sinh cells and selectors, the reset switch, the macro
op-amp's output buffer, the supply draws) have no ``p``: their power is ngspice's own
current ``@name[i]`` (from the first node through the source to the second) times ngspice's
node voltages. Nothing here computes: it names vectors and combines what ngspice saved.
"""

from __future__ import annotations

import numpy as np

from ..circuit.ir import SINH

#: Names on one ``.save`` line.
SAVE_PER_LINE = 40


class PowerRecipe:
    """Vector names and how to turn them into powers, term by term.

    A term is ``(key, kind, names)``: ``kind`` ``"p"`` (names: the ``@x[p]`` of each
    element), ``"iv"`` (names: ``@x[i]``, then the first and second node of each) or
    ``"switch:<S/V>"`` (the control node, then the nodes: see :meth:`add_switch`).
    """

    def __init__(self):
        self.names: list[str] = []
        self.terms: list[tuple[str, str, slice, int]] = []

    def add_p(self, key: str, elements: list[str]) -> None:
        start = len(self.names)
        self.names += [f"@{e}[p]" for e in elements]
        self.terms.append((key, "p", slice(start, len(self.names)), len(elements)))

    def add_iv(self, key: str, elements: list[str], node_p: list[str], node_n: list[str]) -> None:
        start = len(self.names)
        self.names += [f"@{e}[i]" for e in elements] + list(node_p) + list(node_n)
        self.terms.append((key, "iv", slice(start, len(self.names)), len(elements)))

    def add_switch(self, key: str, control: str, node_p: list[str], node_n: list[str],
                   siemens_per_volt: float) -> None:
        """The readout's reset switches ``i = v(control) * s * (v(p) - v(n))``: their law at
        ngspice's node voltages. (Their ``@x[i]`` is the current of the Newton iterate
        before the last, off by ngspice's convergence tolerance: 1e-6 of a reset current,
        where the law at the final voltages is what KCL holds with.)"""
        start = len(self.names)
        self.names += [control] + list(node_p) + list(node_n)
        self.terms.append((key, f"switch:{siemens_per_volt!r}", slice(start, len(self.names)),
                           len(node_p)))

    def add_group(self, key: str, g, node_names: np.ndarray) -> None:
        """An IR element group (sinh elements through their current, the rest ``p``)."""
        if g.kind == SINH:
            self.add_iv(key, g.names, node_names[g.node_p].tolist(), node_names[g.node_n].tolist())
        else:
            self.add_p(key, g.names)

    def vectors(self) -> list[str]:
        """The distinct vectors to save and read (ground ``0`` is not one)."""
        return [n for n in dict.fromkeys(self.names) if n != "0"]

    def powers(self, values: np.ndarray, vectors: list[str]) -> list[tuple[str, np.ndarray]]:
        """``(key, (n_points, n_elements) W absorbed)`` per term, from ``values``
        ``(n_points, len(vectors))`` read in the order of ``vectors`` (ground is 0 V)."""
        col = {n: k for k, n in enumerate(vectors)}
        zero = np.zeros(values.shape[0])

        def get(names):
            return np.stack([values[:, col[n]] if n != "0" else zero for n in names], 1) \
                if names else np.zeros((values.shape[0], 0))
        out = []
        for key, kind, sl, n in self.terms:
            names = self.names[sl]
            if kind == "p":
                out.append((key, get(names)))
            elif kind.startswith("switch:"):
                ctrl, vp, vn = get(names[:1]), get(names[1:1 + n]), get(names[1 + n:])
                out.append((key, ctrl * float(kind[7:]) * (vp - vn) ** 2))
            else:
                i, vp, vn = get(names[:n]), get(names[n:2 * n]), get(names[2 * n:])
                out.append((key, i * (vp - vn)))
        return out


def save_cards(names: list[str]) -> list[str]:
    """``.save`` lines for ``names``."""
    names = [n for n in dict.fromkeys(names) if n != "0"]
    return [".save " + " ".join(names[k:k + SAVE_PER_LINE])
            for k in range(0, len(names), SAVE_PER_LINE)]


def array_recipe(ir) -> PowerRecipe:
    """One term per group of ``ir.groups`` (key: the group's index)."""
    recipe = PowerRecipe()
    node_names = ir.node_names.astype(object)
    for k, g in enumerate(ir.groups):
        recipe.add_group(str(k), g, node_names)
    return recipe


def readout_recipe(recipe: PowerRecipe, readout, cols: int) -> PowerRecipe:
    """Add the readout's terms (one element per column each): ``c_int``, ``reset``,
    ``r_f``, ``opamp_block`` (output buffer and output resistance), ``rail_draw`` and the
    rail sources ``supply_dd``/``supply_ss`` (one element each), ``vref``."""
    js = range(cols)
    if readout.kind == "integrator":
        recipe.add_p("c_int", [f"cint_{j}" for j in js])
        recipe.add_switch("reset", "rst", [f"vgnd_{j}" for j in js], [f"rdo_{j}" for j in js],
                          1.0 / readout.r_reset_ohm)
    else:
        recipe.add_p("r_f", [f"rf_{j}" for j in js])
    op = readout.opamp
    if op.kind == "ideal":
        recipe.add_p("opamp_block", [f"e.xop_{j}.e1" for j in js])
    else:
        recipe.add_iv("opamp_block", [f"b.xop_{j}.b1" for j in js], [f"xop_{j}.o1" for j in js],
                      ["0"] * cols)
    recipe.add_p("opamp_block", [f"r.xop_{j}.rout1" for j in js])
    if op.supply is not None:
        recipe.add_iv("rail_draw", [f"bdd_{j}" for j in js], ["spdd"] * cols, ["0"] * cols)
        recipe.add_iv("rail_draw", [f"bss_{j}" for j in js], ["0"] * cols, ["spss"] * cols)
        recipe.add_p("supply", ["vdd", "vss"])
    recipe.add_p("vref", ["vref"])
    return recipe
