"""Named tolerances, each with its reason."""

#: Two exact engines solving the same linear system in double precision. Both are
#: direct sparse LU solves (SuperLU in scipy, KLU in ngspice); the condition number of
#: the crossbar system with 0.1-10 ohm wires and 1e-6..1e-4 S cells is about 1e5-1e7,
#: so rounding leaves ~1e-10 at worst. The issue's target is 1e-9.
ENGINE_AGREEMENT_REL = 1e-9

#: The same float64 arithmetic done in a different order (sums of 1-1000 terms).
FLOAT_REL = 1e-12

#: An independent closed-form or recursive analytic computation against a sparse solve:
#: float64 rounding through ~100 series/parallel steps.
ANALYTIC_REL = 1e-10


def rounding_current(v_max: float, r_min: float, terms: int) -> float:
    """Absolute current error from float64 rounding of node voltages, amperes.

    A current through a wire is (v_a - v_b) / r: each node voltage carries about
    eps * |V| of rounding, so the current carries about eps * |V| / r, and a sum over
    ``terms`` such currents up to ``terms`` times that. A factor 4 covers the two
    node voltages of each difference and the accumulated order of the sums.
    """
    import numpy as np
    return 4.0 * terms * np.finfo(float).eps * v_max / r_min

#: ngspice transient of an integrator against a closed form. Trapezoidal integration is
#: exact for the piecewise-linear stimuli between breakpoints; what is left is Newton's
#: stopping rule (reltol=1e-6 in readout_netlist.TRAN_OPTIONS leaves ~5e-6 relative on the
#: integrated charge) and the 1e9 "ideal" gain (1e-9); the open reset switch leaks nothing. The issue's
#: target is 0.1 %; we hold ngspice to 2e-5.
TRAN_REL = 2e-5

#: Finite-gain integrator against the exact convolution of the one-pole ODE: the exponential
#: decay is integrated by the trapezoidal rule with steps <= T/100, whose local error
#: (h^3/12 * v''') accumulates to ~(a h)^2/12 ~ 1e-5 relative for a T ~ 1.4.
FINITE_GAIN_REL = 1e-4

#: The nodal engine's charge: trapezoidal integration of a piecewise-linear current is
#: exact, so only float64 rounding over a few hundred additions remains. Issue target 1e-6.
NODAL_CHARGE_REL = 1e-12

#: The line solver (conjugate gradients) against the direct LU on the same system. CG
#: stops at a relative residual of 1e-13; with the crossbar's condition number
#: (1e5-1e9 for 0.01-10 ohm wires and 1e-7..1e-3 S cells) the answer is then within
#: ~1e-11 of the exact one in these tests, and the issue's target is 1e-9.
LINE_SOLVER_REL = 1e-9

#: A driver current is g_end * (V - v_end): with 0.01 ohm wires a node-voltage error at
#: the solver's residual level (1e-13 of the input, the CG stop criterion) becomes
#: g_end * 1e-13 * V amperes, which can exceed 1e-9 of a small driver current.
#: Both solvers carry it; compare driver currents with this absolute allowance too.
VOLTAGE_RESIDUAL_REL = 1e-13


def mvm_rounding(x_abs_sum: float, w_max: float, on_off: float, terms: int) -> float:
    """Absolute float64 error of one output of a mapped ``y = W x``, in output units.

    Each column current is a sum of ``terms`` products ``V * G`` of size up to
    ``|V| * g_max``; a differential or reference output subtracts two such sums, so
    the difference carries about ``terms * eps * sum|V| * g_max`` of rounding (the
    common ``g_min`` or ``g_ref`` part cancels only after rounding). Divided by the
    siemens per weight ``(g_max - g_min) / w_max`` (half of that for the reference
    scheme, hence one factor 2) this is ``terms * eps * sum|x| * w_max * on_off /
    (on_off - 1)``; a factor 8 covers the two sums, the reference scheme and the
    order of accumulation across tiles.
    """
    import numpy as np
    return 16.0 * max(terms, 1) * np.finfo(float).eps * x_abs_sum * w_max * on_off / (on_off - 1)


#: Drifted conductances ``G * (t/t0)**-nu``: one extra rounding per cell on top of the
#: mapping round trip, so the same bound as :func:`mvm_rounding` applies with a factor 2.
DRIFT_EXTRA_FACTOR = 2.0


#: Newton (nodal) against ngspice on nonlinear cells (sinh elements, selectors, level-1
#: MOSFETs). Both solve the same equations, but each stops its Newton iteration on its own
#: criterion: ngspice at reltol=1e-9 / vntol=1e-12 (its last update), spicebar at a step
#: below 1e-9 relative and a KCL residual below 1e-9. Quadratic convergence leaves errors
#: far below the last step, so 1e-6 (the issue's target) holds with a wide margin; measured
#: ~1e-11.
CELL_AGREEMENT_REL = 1e-6

#: The nodal engine stands in for a BSIM4 access transistor with the level-1 card of the
#: same process (different models, not a fit). The transistor's on-resistance (370 ohm
#: level 1, ~700 ohm BSIM4) is in series with cells of 10 kohm..1 Mohm, so column currents
#: differ by at most a few percent; measured 1.8 % at 8x8.
BSIM4_VS_LEVEL1_REL = 0.05

#: Finite-difference check of analytic derivatives: central differences with step h have
#: truncation error ~h^2 * f''' and rounding ~eps/h; at h = 1e-6 V both are below 1e-7
#: relative of the derivative.
DERIVATIVE_REL = 1e-6


#: The first-order IR-drop model's error is second order in the wire resistance, so
#: halving every wire resistance divides it by 4; third-order terms, of relative size
#: about r*G*N^2 (below 0.02 in the test), move the ratio by a few per cent.
SECOND_ORDER_RATIO_REL = 0.05

#: Nodal readout with nonlinear cells: the current during a pulse edge is not linear in
#: time, so the trapezoidal rule over the edge's two breakpoints misses part of the edge
#: charge. Bound: edge time / shortest pulse (0.1 ns / 14.3 ns for 3-bit pulse widths in
#: 100 ns); measured 5e-4 (1S1R, K = 100) and 7e-6 (1T1R).
NONLINEAR_EDGE_REL = 7e-3

#: Newton with each step solved by the line solver against Newton with a sparse LU per
#: step, same IR: both stop on the same rules (a step below 1e-9 relative, KCL below 1e-9),
#: and the line solver leaves each step a relative residual of at most 1e-13, which
#: quadratic convergence wipes out in the next step. Measured 1e-16..1e-14.
NEWTON_LINES_REL = 1e-9
