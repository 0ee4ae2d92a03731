"""The array's reduction to its bit-line ends, by every path the nodal transient takes.

* Probing (:mod:`spicebar.engines.transient.probing`) against the LU's Schur complement
  (:func:`spicebar.engines.transient.boundary.schur`) where both run, and the transient
  through either path.
* The exact admittance per step length with wire capacitance (the LU's trailing block)
  against the Schur complement of ``L + C / dh`` computed the plain way.
* The path chosen under a small memory limit.
* The nodal transient's import path leaves numba out.
"""

import subprocess
import sys

import numpy as np
import pytest

from spicebar import CrossbarSpec
from spicebar.circuit.elaboration import elaborate
from spicebar.circuit.encoding import EncodingSpec
from spicebar.circuit.readout import IntegratorSpec, OpAmpSpec
from spicebar.engines.memory import MemoryGuard
from spicebar.engines.nodal.linear import direct_memory_bytes
from spicebar.engines.nodal.stamps import conductance_matrix
from spicebar.engines.transient import probing
from spicebar.engines.transient.boundary import (AlgebraicArray, CapacitiveArray, Partition,
                                                 schur, driver_map, sense_map)
from spicebar.engines.transient.run import simulate_readout

#: The line solver stops at a relative residual of 1e-13 (``lines.DEFAULT_RTOL``); through
#: the Schur complement (condition ~ 1 / (G r) ~ 1e5 at these sizes) a probed column of
#: ``Y`` or ``Z`` is then exact to ~1e-11 of its largest entry (measured 1e-13..1e-12).
PROBE_VS_LU_REL = 1e-9
#: Two direct LUs of the same matrix in different orders (SuperLU, diagonal pivots): the
#: Schur complement agrees to float64 rounding through ~1e3 fill-in updates.
LU_VS_LU_REL = 1e-11
#: A transient through the probed admittance against the LU's: the probing stops when the
#: column-current error it can leave is below PROBE_REL (1e-7) of the largest current, and
#: the readout integrates that error at most (measured 2e-14 of full scale at 32x32).
TRANSIENT_PATHS_FS = 1e-6

MACRO = OpAmpSpec("macro", a0=1e5, gbw_hz=1e9, v_lo=-1.0, v_hi=1.0)


def _spec(rng, n, c_wire=0.0, **kw):
    g = rng.uniform(1e-6, 1e-5, (n, n))
    c_int = 0.2 * g.sum(axis=0).max() * 20e-9 / 0.6
    ro = IntegratorSpec(c_int_f=c_int, t_int_s=20e-9, opamp=MACRO, c_wl_f=c_wire, c_bl_f=c_wire)
    return CrossbarSpec(g, r_wl=1.0, r_bl=1.0, readout=ro, **kw)


@pytest.mark.parametrize("kw", [{}, dict(sense="both", drive="both", r_sense=5.0)])
def test_probing_every_column_equals_the_lu_reduction(rng, kw):
    ir = elaborate(_spec(rng, 12, **kw))
    lap, part = conductance_matrix(ir), Partition(ir)
    ps, pd = sense_map(ir), driver_map(ir)
    y_s, z_s = schur(lap, part)
    y_lu, z_lu = ps.T @ y_s @ ps, pd.T @ z_s @ ps
    probe = probing.SenseProbe(ir, lap, part, ps, pd, MemoryGuard.resolve(None),
                               np.eye(ir.cols))
    y_eff, z_eff = probe.effective()             # U spans every column: exact
    assert probe.u.shape[1] == ir.cols
    assert np.abs(y_eff - y_lu).max() <= PROBE_VS_LU_REL * np.abs(y_lu).max()
    assert np.abs(z_eff - z_lu).max() <= PROBE_VS_LU_REL * np.abs(z_lu).max()
    # the bound the probing relies on: Y_jj <= each column's conductance to the rest
    assert np.all(np.diag(y_lu) <= probe.bit_line_bound(lap) * (1 + 1e-12))
    assert np.all(y_lu - np.diag(np.diag(y_lu)) <= 1e-12 * np.abs(y_lu).max())   # M-matrix
    assert np.all(z_lu <= 1e-12 * np.abs(z_lu).max())


@pytest.mark.parametrize("kw", [{}, dict(sense="both", drive="both", r_sense=5.0)])
def test_dense_and_sparse_schur_complements_agree(rng, kw, monkeypatch):
    """Small arrays take dense LAPACK, large ones SuperLU: the same elimination, so they
    agree to rounding: ~1e3 updates of float64 eps on the matrix's largest entry (the wires'
    1 S), which the complement (~1e-5 S, cells) inherits as an absolute error."""
    from spicebar.engines.transient import boundary
    ir = elaborate(_spec(rng, 10, **kw))
    lap, part = conductance_matrix(ir), Partition(ir)
    assert 0 < part.inner.size <= boundary.DENSE_SCHUR_MAX
    y_dense, z_dense = schur(lap, part)
    monkeypatch.setattr(boundary, "DENSE_SCHUR_MAX", 0)
    y_sparse, z_sparse = schur(lap, part)
    rounding = 1e3 * np.finfo(float).eps * abs(lap).max()
    assert np.abs(y_dense - y_sparse).max() <= rounding
    assert np.abs(z_dense - z_sparse).max() <= rounding
    assert np.abs(y_sparse).max() > 1e3 * rounding  # the check is not empty


def test_transient_through_probing_equals_the_lu_path(rng, monkeypatch):
    spec = _spec(rng, 24)
    v = rng.uniform(0.0, 0.2, (2, 24))
    enc = EncodingSpec("amplitude", bits=4, v_read=0.2)
    lu = simulate_readout(spec, v, enc, "nodal")
    monkeypatch.setattr(probing, "PROBE_CELLS", 1)
    pr = simulate_readout(spec, v, enc, "nodal")
    assert "probe_directions" not in lu.info
    assert 1 <= pr.info["probe_directions"] < 24       # fewer directions than columns
    assert pr.info["probe_error_bound_rel"] <= probing.PROBE_REL
    fs = np.abs(lu.vout).max()
    assert np.abs(pr.vout - lu.vout).max() <= TRANSIENT_PATHS_FS * fs
    drv = np.abs(lu.driver_currents).max()
    assert np.abs(pr.driver_currents - lu.driver_currents).max() <= TRANSIENT_PATHS_FS * drv


def test_a_memory_limit_below_the_lu_picks_probing(rng):
    ir = elaborate(_spec(rng, 16))
    part = Partition(ir)
    need = direct_memory_bytes(part.inner.size, len(ir.senses))
    tight = MemoryGuard(need - 1, "the test's limit")
    roomy = MemoryGuard(need + 1, "the test's limit")
    assert probing.choose_probing(ir, part.inner.size, tight)
    assert not probing.choose_probing(ir, part.inner.size, roomy)
    v = rng.uniform(0.0, 0.2, (2, 16))
    assert AlgebraicArray(ir, v, 0.0, tight).probe is not None
    assert AlgebraicArray(ir, v, 0.0, roomy).probe is None


def test_exact_admittance_per_step_length_equals_the_plain_schur(rng):
    import scipy.sparse as sp
    for kw in ({}, dict(sense="both", drive="both")):
        ir = elaborate(_spec(rng, 10, c_wire=2e-15, **kw))
        arr = CapacitiveArray(ir)
        dh = 3e-11
        arr.plan({dh: 4, 1e-9: 1})
        assert arr.exact(dh) and not arr.exact(1e-9)
        k = arr.lap + sp.diags(arr.c / dh)
        y_s, _ = schur(k, arr.part)
        want = arr.ps.T @ y_s @ arr.ps
        got = arr.admittance(dh)
        assert np.abs(got - want).max() <= LU_VS_LU_REL * np.abs(want).max()


def test_the_nodal_transient_does_not_import_numba():
    code = ("import sys, numpy as np\n"
            "from spicebar import CrossbarSpec\n"
            "from spicebar.circuit.readout import IntegratorSpec, OpAmpSpec\n"
            "from spicebar.circuit.encoding import EncodingSpec\n"
            "from spicebar.engines.transient.run import simulate_readout\n"
            "g = np.full((4, 4), 5e-6)\n"
            "ro = IntegratorSpec(c_int_f=1e-13, t_int_s=20e-9, c_wl_f=1e-15, c_bl_f=1e-15,\n"
            "                    opamp=OpAmpSpec('macro', a0=1e5, gbw_hz=1e9, v_lo=-1, v_hi=1))\n"
            "simulate_readout(CrossbarSpec(g, r_wl=1, r_bl=1, readout=ro), np.full((1, 4), 0.1),\n"
            "                 EncodingSpec('amplitude', bits=4, v_read=0.2), 'nodal')\n"
            "from spicebar.engines.nodal.threads import max_threads\n"
            "n = max_threads()\n"
            "assert 'numba' not in sys.modules, 'numba was imported'\n"
            "import numba\n"
            "assert n == numba.config.NUMBA_NUM_THREADS, (n, numba.config.NUMBA_NUM_THREADS)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-2000:]


#: Step lengths without their own LU iterate the readout against an approximate admittance
#: until the array's currents agree to WIRED_RTOL (1e-9 relative) and refine each solve to
#: 1e-13: the waveforms then match the all-exact run to ~1e-9 of full scale (measured
#: 5e-12 at 12x12).
REFINED_VS_EXACT_FS = 1e-7


def test_step_lengths_beyond_the_lu_budget_refine_to_the_same_run(rng, monkeypatch):
    from spicebar.engines.transient import capacitive
    spec = _spec(rng, 12, c_wire=2e-15)
    v = rng.uniform(0.0, 0.2, (1, 12))
    enc = EncodingSpec("amplitude", bits=4, v_read=0.2)
    exact = simulate_readout(spec, v, enc, "nodal")
    seen = {}
    plan = capacitive.CapacitiveArray.plan

    def spy(self, uses, own=()):
        plan(self, uses, own)
        seen["own"], seen["all"] = list(self._own), list(uses)
    monkeypatch.setattr(capacitive.CapacitiveArray, "plan", spy)
    monkeypatch.setattr(capacitive, "LU_BUDGET_BYTES", 1)   # room for one step length's LU
    refined = simulate_readout(spec, v, enc, "nodal")
    assert len(seen["own"]) == 2 < len(seen["all"])       # the DC stage's and the most used
    fs = np.abs(exact.vout).max()
    assert np.abs(refined.vout - exact.vout).max() <= REFINED_VS_EXACT_FS * fs
