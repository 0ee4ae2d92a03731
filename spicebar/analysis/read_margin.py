"""Read margin of a single-cell read, and how it shrinks as the array grows.

Worst case (the usual one of the crossbar-memory literature): the selected cell is
the one farthest from the drivers and the readout (row 0, last column, with the
default left drive and bottom sense), and every unselected cell is in the low
resistance state, which gives the largest sneak current. With ``I_LRS`` and
``I_HRS`` the selected column's read current with the selected cell in LRS and in
HRS,

    read margin = (I_LRS - I_HRS) / I_LRS

1 is a perfect read (no sneak current, infinite on/off ratio), ``1 - G_HRS/G_LRS``
the best an isolated cell gives, and 0 means the states cannot be told apart.
"""

from __future__ import annotations

from .._progress import bar_disable

from dataclasses import dataclass, field

import numpy as np

from ..circuit.cells import PassiveCell
from ..errors import SpecError
from ..circuit.operation import ReadOperation
from ..circuit.spec import CrossbarSpec


@dataclass(frozen=True)
class ReadMargin:
    """One worst-case read: currents in amperes, margin dimensionless."""

    rows: int
    cols: int
    cell: str
    scheme: str
    i_lrs: float
    i_hrs: float
    #: ``(i_lrs - i_hrs) / i_lrs``, derived (shown in the repr, not an argument).
    margin: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "margin", (self.i_lrs - self.i_hrs) / self.i_lrs)


def read_margin(rows: int, cols: int, *, cell=PassiveCell(), scheme: str = "floating",
                g_lrs: float = 1e-4, g_hrs: float = 1e-6, v_read_volt: float = 1.0,
                r_wl: float = 1.0, r_bl: float = 1.0, engine: str = "nodal") -> ReadMargin:
    """Worst-case read margin of a ``rows x cols`` array (see the module docstring)."""
    from ..engines.simulation import simulate
    if not g_hrs < g_lrs:
        raise SpecError("g_hrs", f"is {g_hrs!r} S, not below g_lrs = {g_lrs!r} S", "0 < g_hrs < g_lrs")
    op = ReadOperation(row=0, col=cols - 1, v_read_volt=v_read_volt, scheme=scheme)
    out = []
    for g_sel in (g_lrs, g_hrs):
        g = np.full((rows, cols), float(g_lrs))
        g[0, cols - 1] = g_sel
        spec = CrossbarSpec(g, r_wl=r_wl, r_bl=r_bl, cell=cell)
        out.append(float(simulate(spec, None, engine, operation=op).currents[0, cols - 1]))
    return ReadMargin(rows, cols, cell.kind, scheme, out[0], out[1])


def margin_sweep(sizes, cells: dict, schemes=("floating", "v2", "v3"), **kwargs) -> list[ReadMargin]:
    """:func:`read_margin` for every square size, cell (name -> spec) and scheme."""
    from tqdm import tqdm
    jobs = [(n, name, c, s) for name, c in cells.items() for s in schemes for n in sizes]
    out = []
    for n, name, c, s in tqdm(jobs, desc="read margin", leave=False, disable=bar_disable()):
        m = read_margin(n, n, cell=c, scheme=s, **kwargs)
        out.append(ReadMargin(m.rows, m.cols, name, s, m.i_lrs, m.i_hrs))
    return out
