"""Which steps the nodal transient's error control splits (spicebar.engines.transient.refine):
the fewest that bring the summed local error estimates within the budget, against the
per-step rule and the h^3 law of the estimates."""

import numpy as np

from spicebar.engines.transient.refine import (graded_fractions, parts_for_budget, split_parts,
                                               split_steps)

SAFETY, MAX_SPLIT = 1.25, 64


def test_a_grid_within_budget_is_left_as_it_is():
    h = np.full(10, 1e-9)
    tol = 1.0
    lte = np.full(10, 0.9 * tol * 1e-9)                     # the sum is 0.9 of the budget
    assert np.all(parts_for_budget(lte, h, tol, SAFETY, MAX_SPLIT) == 1)


def test_one_hot_step_is_split_and_the_prediction_meets_the_budget():
    """A grid over budget at one step (an input edge) gets that step split, not its
    neighbours that are above their per-step share; the predicted sum (each part's error
    down by parts^2, TR-BDF2's third order over parts steps) meets the budget."""
    h = np.full(20, 1e-9)
    tol = 1.0
    share = tol * 1e-9                                      # a step's share of the budget
    lte = np.full(20, 0.01 * share)
    lte[3] = 500 * share                                    # the edge
    lte[4] = 2 * share                                      # past its share, small in sum
    parts = parts_for_budget(lte, h, tol, SAFETY, MAX_SPLIT)
    assert parts[3] > 1 and np.all(np.delete(parts, 3) == 1)
    assert (lte / parts ** 2).sum() <= tol * h.sum() / SAFETY ** 2
    per_step = split_parts(lte / (tol * h), 1.0, SAFETY, MAX_SPLIT)   # the per-step rule
    assert per_step[3] > 1 and per_step[4] > 1                        # splits both


def test_the_per_step_rule_always_meets_the_budget():
    """Every step a little over its share (no few hot steps to split): the fallback, each
    step within its share, brings the predicted sum within the budget (a run never ends
    above its budget with nothing split)."""
    h = np.full(8, 1e-9)
    tol = 1.0
    lte = np.full(8, 1.5 * tol * 1e-9)
    parts = parts_for_budget(lte, h, tol, SAFETY, MAX_SPLIT)
    assert np.all(parts > 1)
    assert (lte / parts ** 2).sum() <= tol * h.sum() / SAFETY ** 2


def test_split_steps_cut_into_equal_parts_and_keep_every_point():
    t = np.array([0.0, 1.0, 3.0, 3.5])
    out = split_steps(t, np.array([1, 4, 2]))
    np.testing.assert_allclose(out, [0.0, 1.0, 1.5, 2.0, 2.5, 3.0, 3.25, 3.5], rtol=0, atol=0)



def test_graded_split_starts_as_short_as_the_equal_split_and_grows():
    """64 equal parts' worth: 7 graded parts (1, 2, 4, ... 64 of 127), the first no longer
    than an equal split's first part; the step's ends are kept exactly."""
    f = graded_fractions(64)
    assert f.size == 7 and f[-1] == 1.0
    assert f[0] <= 1 / 64
    np.testing.assert_allclose(np.diff(np.concatenate([[0.0], f]))[1:]
                               / np.diff(np.concatenate([[0.0], f]))[:-1], 2.0, rtol=1e-12)
    t = np.array([0.0, 1.0, 3.0])
    out = split_steps(t, np.array([4, 2]), graded=np.array([True, False]))
    np.testing.assert_allclose(out, [0.0, 1 / 7, 3 / 7, 1.0, 2.0, 3.0], rtol=1e-15, atol=0)
