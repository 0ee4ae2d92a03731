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
