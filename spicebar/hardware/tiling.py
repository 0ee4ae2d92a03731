"""Tiling: a weight matrix larger than one array is split over several arrays.

Tile ``(a, b)`` holds inputs (word lines) ``a*array_rows ..`` and outputs
``b*outputs_per_tile ..``; every tile is a full ``array_rows x array_cols`` array:
cells it does not use are left at ``g_min`` (off) and unused word lines are driven
at 0 V, so the edge tiles see the same wires as the others. Each tile is its own
``CrossbarSpec``, netlist and simulation; the partial outputs of the tiles in one
output block are added digitally after each tile's readout (and ADC).

:func:`run_parallel` runs independent jobs on a thread pool of at most
``os.cpu_count()`` workers; an ngspice job is a child process of its own, so
threads suffice to keep every core busy.
"""

from __future__ import annotations

from .._progress import bar_disable

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..errors import SpecError
from .mapping import Scaling

MAX_ARRAY = 2048


@dataclass(frozen=True)
class Tile:
    """One array of a tiled layer.

    Attributes:
        index: ``(row block, output block)``.
        inputs: slice of the layer's inputs on this array's word lines ``0..n_inputs-1``.
        outputs: slice of the layer's outputs whose columns are on this array.
    """

    index: tuple[int, int]
    inputs: slice
    outputs: slice

    @property
    def n_inputs(self) -> int:
        return self.inputs.stop - self.inputs.start

    @property
    def n_outputs(self) -> int:
        return self.outputs.stop - self.outputs.start


def parse_array(text: str) -> tuple[int, int]:
    """``"128x64"`` -> ``(128, 64)`` (rows x physical columns)."""
    try:
        r, c = (int(s) for s in str(text).lower().split("x"))
    except ValueError:
        raise SpecError("--array", f"is {text!r}", "ROWSxCOLS, e.g. 128x128") from None
    check_array(r, c)
    return r, c


def check_array(rows: int, cols: int) -> None:
    for name, n in (("array_rows", rows), ("array_cols", cols)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_ARRAY:
            raise SpecError(name, f"is {n!r}", f"an integer 1..{MAX_ARRAY}")


def plan_tiles(n_outputs: int, n_inputs: int, array_rows: int, array_cols: int,
               outputs_per_tile: int) -> list[Tile]:
    """Tiles covering a ``(n_outputs, n_inputs)`` weight matrix, row block by row block."""
    check_array(array_rows, array_cols)
    tiles = []
    for a, r0 in enumerate(range(0, n_inputs, array_rows)):
        for b, o0 in enumerate(range(0, n_outputs, outputs_per_tile)):
            tiles.append(Tile((a, b), slice(r0, min(r0 + array_rows, n_inputs)),
                              slice(o0, min(o0 + outputs_per_tile, n_outputs))))
    return tiles


def tile_targets(scaling: Scaling, weights: np.ndarray, tile: Tile, array_rows: int,
                 array_cols: int) -> np.ndarray:
    """Target conductances of one full array, ``(array_rows, array_cols)`` siemens."""
    m = scaling.mapping
    g = np.full((array_rows, array_cols), m.g_min_s)
    part = scaling.target_conductances(weights[tile.outputs, tile.inputs])
    if m.scheme == "differential":
        g[:tile.n_inputs, :part.shape[1]] = part
    else:  # weight columns from the left, the reference column is the array's last
        g[:tile.n_inputs, :tile.n_outputs] = part[:, :-1]
        g[:, -1] = m.g_ref_s
    return g


def run_parallel(fn: Callable, jobs: Sequence, workers: int | None = None, desc: str = "tiles",
                 progress: bool = True, on_abort: Callable[[], None] | None = None) -> list:
    """``[fn(job) for job in jobs]`` on up to ``workers`` threads, with a progress bar.

    If the caller is interrupted (Ctrl-C, SIGTERM) or a job fails, the jobs not started
    are cancelled and ``on_abort()`` is called (e.g. kill the ngspice workers the running
    jobs wait on) before the threads are joined, so stopping does not wait for them."""
    from tqdm import tqdm
    workers = max(1, min(workers or os.cpu_count() or 1, os.cpu_count() or 1, len(jobs) or 1))
    with tqdm(total=len(jobs), desc=desc, unit="job", disable=bar_disable(progress and len(jobs) >= 2)) as bar:
        if workers == 1:
            out = []
            for job in jobs:
                out.append(fn(job))
                bar.update()
            return out
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(fn, job) for job in jobs]
            for f in futures:  # collect in order; the bar advances as each finishes
                f.add_done_callback(lambda _: bar.update())
            try:
                return [f.result() for f in futures]
            except BaseException:
                for f in futures:
                    f.cancel()
                if on_abort is not None:
                    on_abort()
                raise
