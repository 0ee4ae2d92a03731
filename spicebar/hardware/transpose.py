"""Transpose (backward) mode: drive the bit lines, read the word lines, same array.

:func:`transpose_spec` returns the SAME physical circuit described with rows and
columns swapped, so every engine runs it unchanged:

* conductances ``G.T``; word line ``j'`` of the transposed spec is bit line ``j``;
* wire segments keep their place: bit-line slot ``k`` (above cell ``(k, j)``) becomes
  word-line slot ``k`` (left of cell ``(j, k)``), so ``r_wl' = r_bl.T`` and ``r_bl' = r_wl.T``;
* the periphery stays at its end of each line: the bit-line readout end (``bottom``)
  becomes the driven end of the transposed word lines (``right``), the word-line driver
  end (``left``) becomes the read end (``top``); the series resistance at each end
  stays with that end (``r_driver' = r_sense``, ``r_sense' = r_driver``).

Physics worth knowing: a passive linear network is reciprocal, so with ideal drivers
and virtual-ground readouts the backward transfer matrix is EXACTLY the transpose of
the forward one (``dI_i/dV_j`` backward equals ``dI_j/dV_i`` forward), parasitics
included. What changes between directions is which lines carry the summed current,
hence which outputs suffer most: forward, outputs far along the word line from the
drivers; backward, outputs (word lines) far along the bit lines from the drivers at
the bottom.
"""

from __future__ import annotations

import numpy as np

from ..circuit.spec import CrossbarSpec

_SENSE_TO_DRIVE = {"bottom": "right", "top": "left", "both": "both"}
_DRIVE_TO_SENSE = {"left": "top", "right": "bottom", "both": "both"}


def _swap(r):
    return r if np.ndim(r) == 0 else np.ascontiguousarray(np.asarray(r).T)


def transpose_spec(spec: CrossbarSpec) -> CrossbarSpec:
    """The circuit of ``spec`` seen from its bit lines (see module notes); wires from a
    geometry and the temperature are applied first (the transposed spec keeps the temperature
    for its devices)."""
    from ..circuit.temperature import at_temperature
    spec = at_temperature(spec)
    return CrossbarSpec(np.ascontiguousarray(spec.conductances.T), r_wl=_swap(spec.r_bl),
                        r_bl=_swap(spec.r_wl), r_driver=spec.r_sense, r_sense=spec.r_driver,
                        drive=_SENSE_TO_DRIVE[spec.sense], sense=_DRIVE_TO_SENSE[spec.drive],
                        temperature_k=spec.temperature_k, wire_tcr_per_k=0.0, cell_tcr_per_k=0.0)


#: Node-name prefixes of the transposed circuit -> the same node in the original.
NODE_PREFIX_MAP = {"wl": "bl", "bl": "wl", "inr": "out", "in": "outt", "srcr": "sns",
                   "src": "snst", "outt": "in", "out": "inr", "snst": "src", "sns": "srcr"}


def original_node_name(transposed_name: str) -> str:
    """Name in the forward circuit of a node of the transposed circuit (``wl_j_i`` -> ``bl_i_j``)."""
    if transposed_name == "0":
        return "0"
    prefix, *idx = transposed_name.split("_")
    return "_".join([NODE_PREFIX_MAP[prefix], *reversed(idx)])
