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

#: The first-order IR-drop model's error is second order in the wire resistance, so
#: halving every wire resistance divides it by 4; third-order terms, of relative size
#: about r*G*N^2 (below 0.02 in the test), move the ratio by a few per cent.
SECOND_ORDER_RATIO_REL = 0.05
