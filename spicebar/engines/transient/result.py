"""What a transient readout run returns: an engine's raw traces and the sampled result.

Both transient engines (:mod:`.ngspice`, :mod:`.nodal`) return a :class:`RawTransient`;
:func:`spicebar.engines.transient.run.simulate_readout` turns it into a
:class:`TransientResult`. Kept apart from the runner so the engines need not import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import SpecError
from ...results import RESULT_ARRAYS, SimulationResult

#: Arrays a transient result file holds beyond the spine's.
TRANSIENT_ARRAYS = ("time", "vout", "vg", "i_col", "window_vector", "window_weight", "t_open",
                    "t_sample", "samples", "codes", "readout_currents", "digital_currents",
                    "saturated", "equivalent_inputs", "ideal_currents", "reset_t", "reset_v")


@dataclass(frozen=True, eq=False)
class RawTransient:
    """Traces an engine returns: ``time`` ``(n_t,)`` s; ``vout``, ``vg``, ``i_col``
    ``(cols, n_t)`` V, V, A; ``i_drv`` ``(rows, n_t)`` A delivered by each word line's drivers;
    ``powers`` (only when energy was asked for): ``[(key, (n_t, n) W absorbed), ...]`` in the
    terms of :mod:`spicebar.netlist.power_vectors` (one per IR group, then the readout's);
    or ``energies`` instead: the same terms already integrated over the windows,
    ``[(key, (n_windows, n) J), ...]`` (the nodal engine: see
    :func:`spicebar.engines.transient.energy_nodal.nodal_window_energies`)."""

    time: np.ndarray
    vout: np.ndarray
    vg: np.ndarray
    i_col: np.ndarray
    i_drv: np.ndarray
    powers: list | None = None
    energies: list | None = None


@dataclass(frozen=True, eq=False)
class TransientResult(SimulationResult):
    """A :class:`SimulationResult` with the readout's waveforms and samples.

    Spine fields: ``currents``/``driver_currents`` are equivalent DC currents (see the
    module docstring); ``v_wl``/``v_bl`` are the nodal DC node voltages at the equivalent
    inputs for the nodal engine, NaN for ngspice (cell nodes are not saved over time).

    Attributes (``n_t`` time points, ``n_w`` windows):

    - ``time``: ``(n_t,)`` s; ``vout``, ``vg``: ``(cols, n_t)`` V, readout output and
      virtual ground of each column; ``i_col``: ``(cols, n_t)`` A, column current.
    - ``window_vector``, ``window_weight``, ``t_open``, ``t_sample``: ``(n_w,)``, see
      :class:`spicebar.circuit.encoding.Schedule`.
    - ``samples``: ``(n_w, cols)`` V, the sampled signal ``v_ref - v_out``.
    - ``codes``: ``(n_w, cols)`` int ADC codes (-1 without an ADC).
    - ``readout_currents``, ``digital_currents``: ``(batch, cols)`` A.
    - ``saturated``: ``(n_w, cols)`` bool, the output reached a rail in that window.
    - ``equivalent_inputs``: ``(batch, rows)`` V, the DC inputs the encoding reproduces.
    - ``ideal_currents``: ``(batch, cols)`` A, ``equivalent_inputs @ G``.
    - ``reset_t``, ``reset_v``: the reset control PWL (1 = closed).
    """

    time: np.ndarray = None
    vout: np.ndarray = None
    vg: np.ndarray = None
    i_col: np.ndarray = None
    window_vector: np.ndarray = None
    window_weight: np.ndarray = None
    t_open: np.ndarray = None
    t_sample: np.ndarray = None
    samples: np.ndarray = None
    codes: np.ndarray = None
    readout_currents: np.ndarray = None
    digital_currents: np.ndarray = None
    saturated: np.ndarray = None
    equivalent_inputs: np.ndarray = None
    ideal_currents: np.ndarray = None
    reset_t: np.ndarray = None
    reset_v: np.ndarray = None

    #: Saved as well as the spine keys: ``time``, ``vout`` (one trace per column) and the rest.
    SAVED_ARRAYS = RESULT_ARRAYS + TRANSIENT_ARRAYS

    @classmethod
    def check_file(cls, data, path: str | Path) -> None:
        if "time" not in data:
            raise SpecError("result", f"{str(path)!r} holds no transient (no 'time' key)",
                            "a file written by simulate --readout integrator|tia")
