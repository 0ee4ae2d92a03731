"""The golden netlists: small arrays whose netlist text is frozen under netlists/golden/.

``python -m tests.golden_cases --write`` regenerates them; do that only on purpose
and review the diff.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from spicebar.circuit.cells import NonlinearCell, SelectorCell, TransistorCell
from spicebar.circuit.spec import CrossbarSpec

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "netlists" / "golden"

G_2x3 = np.array([[1e-4, 2e-4, 3e-5], [5e-5, 1e-4, 1e-6]])
G_3x3 = np.array([[1e-4, 2e-5, 5e-5], [1e-5, 1e-4, 2e-5], [4e-5, 3e-5, 1e-4]])


def cases() -> dict[str, tuple[CrossbarSpec, np.ndarray]]:
    """name -> (spec, input vector in volts)."""
    return {
        "passive_1x1": (CrossbarSpec([[1e-4]], r_wl=1.0, r_bl=1.0), np.array([0.2])),
        "passive_2x3_wires": (CrossbarSpec(G_2x3, r_wl=1.0, r_bl=2.0), np.array([0.1, 0.2])),
        "passive_2x3_ideal_wl": (CrossbarSpec(G_2x3, r_wl=0.0, r_bl=2.5), np.array([0.1, -0.2])),
        "passive_3x3_driver_sense": (CrossbarSpec(G_3x3, r_wl=0.5, r_bl=0.5, r_driver=100.0,
                                                  r_sense=50.0), np.array([0.2, 0.1, 0.05])),
        "passive_3x3_both_ends": (CrossbarSpec(G_3x3, r_wl=1.5, r_bl=1.5, drive="both",
                                               sense="both"), np.array([0.3, 0.0, 0.1])),
        # cell kinds (spicebar/circuit/cells.py)
        "nonlinear_2x3": (CrossbarSpec(G_2x3, r_wl=1.0, r_bl=2.0, cell=NonlinearCell(0.2)),
                          np.array([0.4, -0.3])),
        "1s1r_2x3": (CrossbarSpec(G_2x3, r_wl=1.0, r_bl=2.0,
                                  cell=SelectorCell(nonlinearity=100.0, v_read_volt=1.0,
                                                    i_read_a=1e-4)), np.array([1.0, 0.5])),
        "1t1r_3x3": (CrossbarSpec(G_3x3, r_wl=0.5, r_bl=0.5, cell=TransistorCell(vg_on_volt=1.8)),
                     np.array([0.2, -0.1, 0.3])),
    }


def golden_path(name: str) -> Path:
    return GOLDEN_DIR / f"{name}.cir"


def job_cases() -> dict:
    """Whole jobs as standalone netlists (``spicebar generate``): name -> keyword arguments
    of :func:`spicebar.engines.transient.jobs.write_job` (spec, inputs, operation, encoding)."""
    from spicebar.circuit.converters import ADCSpec
    from spicebar.circuit.encoding import EncodingSpec
    from spicebar.circuit.operation import ReadOperation
    from spicebar.circuit.readout import IntegratorSpec
    return {
        "job_batch_2x3": dict(spec=CrossbarSpec(G_2x3, r_wl=1.0, r_bl=2.0),
                              inputs=np.array([[0.1, 0.2], [0.2, -0.1], [0.0, 0.3]])),
        "job_read_1s1r_3x3": dict(
            spec=CrossbarSpec(G_3x3, r_wl=1.0, r_bl=1.0,
                              cell=SelectorCell(nonlinearity=100.0, v_read_volt=1.0,
                                                i_read_a=1e-4)),
            inputs=None, operation=ReadOperation(row=1, col=2, v_read_volt=1.0, scheme="v2")),
        "job_readout_2x2": dict(
            spec=CrossbarSpec(np.array([[1e-4, 2e-5], [5e-5, 1e-5]]), r_wl=1.0, r_bl=1.0,
                              readout=IntegratorSpec(c_int_f=1e-12, t_int_s=20e-9,
                                                     adc=ADCSpec(6, 0.0, 0.5))),
            inputs=np.array([[0.2, 0.1], [0.05, 0.2]]),
            encoding=EncodingSpec("pulse_width", bits=2, v_read=0.2)),
    }


def job_text(name: str) -> str:
    from spicebar.engines.transient.jobs import job_text as text
    case = dict(job_cases()[name])
    spec, inputs = case.pop("spec"), case.pop("inputs")
    return text(spec, inputs, f"{name}.dat", **case)[0]


def write_all() -> None:
    from spicebar.circuit.elaboration import elaborate
    from spicebar.io import write_text_atomic
    from spicebar.netlist.writer import write_netlist
    for name, (spec, v) in cases().items():
        print("wrote", write_netlist(golden_path(name), elaborate(spec), v))
    for name in job_cases():
        print("wrote", write_text_atomic(golden_path(name), job_text(name)))


if __name__ == "__main__":
    if "--write" in sys.argv:
        write_all()
    else:
        print(__doc__)
