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
