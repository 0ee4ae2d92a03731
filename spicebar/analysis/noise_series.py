"""The readouts' transfer on the reduced noise network as a series, for identical readouts.

With the same readout on every column, each column's readout adds the same admittance
``sigma(f)`` at its virtual ground (its op-amp and feedback eliminated), so the adjoint
transfer of column ``j`` onto the virtual grounds (:class:`.noise_reduced.ReducedNetwork`)
is ``h_j = beta (Y^T + sigma I)^-1 e_j`` (``beta(f)``: the readout's own factor). Where
``rho = ||Y||_2 / |sigma| < 1`` (the array's admittance small beside the readout's, which
a virtual ground needs) the inverse is the convergent series ::

    h_j = (beta / sigma) sum_n tau^n (Y^T)^n e_j,      tau = -1 / sigma

truncated at ``N`` terms with relative error at most ``rho^(N+1) / (1 - rho)``; ``N`` is
chosen so that this is below :data:`SERIES_TOL` (rounding) at every frequency taken. A
category's density is then ::

    h_j^H K h_j = |beta / sigma|^2 sum_{n,m} conj(tau^n) tau^m mu_nm[j],
    mu_nm[j] = (Y^n K (Y^m)^T)_jj

with the moments ``mu`` computed once (``N`` products of ``k x cols x cols``), so a frequency
costs ``O(N^2 k)`` instead of a dense ``cols x cols`` solve and ``cols^2 k`` products per
category. Frequencies where ``rho`` exceeds :data:`SERIES_RHO_MAX` are solved directly.
"""

from __future__ import annotations

import numpy as np

#: Truncation bound on the transfer, relative (float64 rounding).
SERIES_TOL = 1e-15
#: The series is used where ``||Y|| / |sigma|`` is at most this (``N`` <= 29 terms).
SERIES_RHO_MAX = 0.3


def norm2_bound(y: np.ndarray) -> float:
    """An upper bound on ``||y||_2``: ``sqrt(||y||_1 ||y||_inf)`` (Hoelder)."""
    return float(np.sqrt(np.abs(y).sum(axis=0).max() * np.abs(y).sum(axis=1).max()))


def terms_for(rho: float) -> int:
    """Terms ``N`` with ``rho^(N+1) / (1 - rho) <= SERIES_TOL`` (``rho < 1``)."""
    if rho <= 0.0:
        return 0
    return max(0, int(np.ceil(np.log(SERIES_TOL * (1.0 - rho)) / np.log(rho))) - 1)


class SeriesTransfer:
    """The series of the module docstring for columns ``columns`` of an array of admittance
    ``y`` ``(cols, cols)`` S, to ``n_terms`` terms, with the moments of each covariance in
    ``covariances`` (a list of ``(cols, cols)`` A^2/Hz matrices, or None for none)."""

    def __init__(self, y: np.ndarray, columns: np.ndarray, n_terms: int, covariances: list):
        powers = [np.eye(y.shape[0])[columns]]          # rows `columns` of Y^n: (k, cols)
        for _ in range(n_terms):
            powers.append(powers[-1] @ y)
        self.rows = np.stack(powers)                     # (N + 1, k, cols)
        self.moments = [None if k is None else self._moments(k) for k in covariances]

    def _moments(self, cov: np.ndarray) -> np.ndarray:
        """``mu`` ``(k, N + 1, N + 1)``: ``mu[j, n, m] = (Y^n K (Y^m)^T)_jj``."""
        a = self.rows @ cov                              # rows of Y^n K: (N + 1, k, cols)
        mu = np.einsum("nkb,mkb->knm", a, self.rows, optimize=True)
        return 0.5 * (mu + mu.transpose(0, 2, 1))

    def densities(self, moments: np.ndarray, sigma: complex, beta: complex) -> np.ndarray:
        """``(k,)`` ``h_j^H K h_j`` for the covariance whose moments are ``moments``."""
        tau = (-1.0 / sigma) ** np.arange(self.rows.shape[0])
        quad = np.einsum("n,knm,m->k", tau.conj(), moments, tau).real
        return abs(beta / sigma) ** 2 * quad

    def vg_transfer(self, sigma: complex, beta: complex) -> np.ndarray:
        """``(cols, k)`` ``h_j`` on the virtual grounds."""
        n, k, cols = self.rows.shape
        tau = (-1.0 / sigma) ** np.arange(n)
        return (beta / sigma) * (tau @ self.rows.reshape(n, -1)).reshape(k, cols).T
