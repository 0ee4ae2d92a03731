"""A user's own model, imported by name ("tests.user_models:uniform_drop") in sweep workers."""

import numpy as np


def uniform_drop(G, V, spec):
    """V @ G shrunk by the same 1 %: a deliberately crude model, (batch, cols) A."""
    return 0.99 * (np.asarray(V) @ np.asarray(G))


#: Not a function: a sweep naming it is refused before the first point.
NOT_A_MODEL = 3


def raises(G, V, spec):
    """A model with a bug: refused before the first point, not in every point."""
    raise RuntimeError("this model has a bug")


def wrong_shape(G, V, spec):
    """Answers (cols,) instead of (batch, cols)."""
    return np.asarray(G).sum(axis=0)
