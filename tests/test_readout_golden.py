"""Golden readout netlist: frozen text, and the frozen file runs in ngspice and integrates.

Regenerate on purpose with ``python -m tests.test_readout_golden --write``.
"""

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from spicebar import CrossbarSpec
from spicebar.circuit.elaboration import elaborate
from spicebar.circuit.encoding import EncodingSpec, build_schedule
from spicebar.engines.ngspice.engine import run_worker
from spicebar.circuit.readout import IntegratorSpec, OpAmpSpec, opamp_library_text
from spicebar.netlist.readout import format_readout_netlist

GOLDEN = Path(__file__).resolve().parent.parent / "netlists" / "golden" / "readout_integrator_2x2.cir"


def case():
    g = np.array([[1e-4, 2e-5], [5e-5, 1e-5]])
    ro = IntegratorSpec(c_int_f=1e-12, t_int_s=20e-9, t_settle_s=1e-9,
                        opamp=OpAmpSpec("macro", a0=1e5, gbw_hz=1e9, v_lo=-1.5, v_hi=1.5))
    spec = CrossbarSpec(g, r_wl=1.0, r_bl=1.0, readout=ro)
    enc = EncodingSpec("pulse_width", bits=2, v_read=0.2)
    v = np.array([[0.2, 0.1]])
    sch = build_schedule(enc, v, ro.t_int_s, ro.t_reset_s, ro.t_settle_s)
    text = format_readout_netlist(elaborate(spec), ro, sch, enc.t_edge_s, opamp_library_text())
    return spec, enc, v, sch, text


def normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())


def test_readout_netlist_text_is_golden():
    assert normalise(case()[-1]) == normalise(GOLDEN.read_text()), (
        "the readout netlist changed; if on purpose, run `python -m tests.test_readout_golden "
        "--write` and review the diff")


@pytest.mark.ngspice
def test_golden_readout_netlist_runs_in_ngspice(ngspice_ready, tmp_path):
    spec, enc, v, sch, _ = case()
    netlist = tmp_path / GOLDEN.name
    shutil.copy(GOLDEN, netlist)
    job = {"analysis": "tran", "netlist": str(netlist),
           "read": ["time", "rdo_0", "rdo_1", "vsense_0#branch", "vsense_1#branch"],
           "result": str(tmp_path / "r.npy"), "status": str(tmp_path / "s.json")}
    values, status = run_worker(job, tmp_path, 60)
    assert status["status"] == "ok"
    t, out, i_col = values[0], values[1:3], values[3:]
    assert t[-1] == pytest.approx(sch.t_stop, rel=1e-12)
    # codes 3 and 2 of 3 -> pulses of 20 ns and 13.3 ns at 0.2 V. The 1 GHz op-amp lets the
    # virtual ground lag by (dv_o/dt) / (2 pi gbw) ~ 4 mV, so the cells deliver ~2 % less
    # than V @ G; the capacitor must still hold exactly the charge the column delivered
    # (a0 = 1e5: 1e-5; the trapezoidal sum of the current: 1e-5 with ~100 steps per window).
    ideal = sch.area[0] @ spec.conductances
    after = t >= sch.t_open[0]
    delivered = np.trapezoid(i_col[:, after], t[after], axis=1)
    np.testing.assert_allclose(-out[:, -1] * 1e-12, delivered, rtol=1e-4)
    assert np.all(delivered < ideal) and np.all(delivered > 0.95 * ideal)


if __name__ == "__main__" and "--write" in sys.argv:
    GOLDEN.write_text(case()[-1])
    print(f"wrote {GOLDEN}")
