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

The readouts' own sources (op-amp noise, its model resistors, a feedback resistor) sit at
one column's virtual ground ``vg_m``, internal node and output, whose adjoint voltages are
``x[vg_m] = h_j[m]`` and ``x[node_m] = alpha_node h_j[m] + [m = j] gamma_node`` (the readout
of column ``m`` driven by its virtual ground, plus the output's own drive in column
``j``). A source of density ``S`` across two such nodes, ``A = alpha_p - alpha_n`` and
``Gamma = gamma_p - gamma_n``, gives column ``j``::

    S |A|^2 sum_{m != j} |h_j[m]|^2 + S |A h_j[j] + Gamma|^2

with the first sum the moments of the off-diagonal entries of ``Y^n`` (the series' first
term is the identity, so ``h_j[m]`` for ``m != j`` starts at ``n = 1``: no cancellation
against ``h_j[j]``, whose own part nearly cancels ``Gamma`` by the loop gain) and
``h_j[j]`` the series on the diagonals of ``Y^n`` (:class:`ReadoutSources`).
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
        self.moments = [None if k is None else self.moments_of(k) for k in covariances]

    def moments_of(self, cov: np.ndarray) -> np.ndarray:
        """``mu`` ``(k, N + 1, N + 1)``: ``mu[j, n, m] = (Y^n K (Y^m)^T)_jj``."""
        a = self.rows @ cov                              # rows of Y^n K: (N + 1, k, cols)
        mu = np.einsum("nkb,mkb->knm", a, self.rows, optimize=True)
        return 0.5 * (mu + mu.transpose(0, 2, 1))

    def tau(self, sigma: complex) -> np.ndarray:
        """``(N + 1,)`` the series' powers ``(-1 / sigma)^n``."""
        return (-1.0 / sigma) ** np.arange(self.rows.shape[0])

    def densities(self, moments: np.ndarray, sigma: complex, beta: complex) -> np.ndarray:
        """``(k,)`` ``h_j^H K h_j`` for the covariance whose moments are ``moments``."""
        tau = self.tau(sigma)
        quad = np.einsum("n,knm,m->k", tau.conj(), moments, tau).real
        return abs(beta / sigma) ** 2 * quad

    def vg_transfer(self, sigma: complex, beta: complex) -> np.ndarray:
        """``(cols, k)`` ``h_j`` on the virtual grounds."""
        n, k, cols = self.rows.shape
        return (beta / sigma) * (self.tau(sigma) @ self.rows.reshape(n, -1)).reshape(k, cols).T


class ReadoutSources:
    """The readouts' own source categories on :class:`SeriesTransfer` (module docstring),
    for ``sources`` (:class:`.noise_network.Sources`) on the unknowns of
    :class:`.noise_reduced.ReducedNetwork` (``vg``, internal node, output of column ``m`` at
    ``m``, ``cols + m``, ``2 cols + m``; -1 ground). :attr:`ok` is False where a category
    is not the same in every column (then the network is solved at each frequency)."""

    def __init__(self, st: SeriesTransfer, sources: list, cols: int, columns: np.ndarray):
        self.st, self.sources, self.columns = st, sources, columns
        k = columns.size
        self.diag = st.rows[:, np.arange(k), columns]              # (Y^n)_jj: (N + 1, k)
        off = st.rows.copy()
        off[:, np.arange(k), columns] = 0.0                         # (Y^n)_jm, m != j
        self.off = np.einsum("nkb,mkb->knm", off, off, optimize=True)
        self.patterns = [_pattern(src, cols) for src in sources]
        self.ok = all(p is not None for p in self.patterns)

    def densities(self, sigma: complex, beta: complex, b: np.ndarray, d_inv: np.ndarray,
                  f: float) -> np.ndarray:
        """``(k, len(sources))`` V^2/Hz at ``f``: ``b`` ``(2,)`` and ``d_inv`` ``(2, 2)`` of the
        readout (:meth:`.noise_reduced.ReducedNetwork._readout`, any column)."""
        alpha = np.concatenate([[1.0], -(d_inv.T @ b), [0.0]])     # vg, internal, out, ground
        gamma = np.concatenate([[0.0], d_inv[1], [0.0]])
        others = self.st.densities(self.off, sigma, beta)          # sum_{m != j} |h_j[m]|^2
        own = beta / sigma * (self.st.tau(sigma) @ self.diag)      # h_j[j]: (k,)
        out = np.empty((self.columns.size, len(self.sources)))
        for i, (src, (tp, tn, first)) in enumerate(zip(self.sources, self.patterns)):
            dens = src.density(f)[first]                          # one column's sources
            a, g = alpha[tp] - alpha[tn], gamma[tp] - gamma[tn]     # (q,) each
            mine = np.abs(a[None, :] * own[:, None] + g[None, :]) ** 2   # (k, q)
            out[:, i] = others * (dens * np.abs(a) ** 2).sum() + mine @ dens
        return out


def _pattern(src, cols: int):
    """``(type_p, type_n, first)`` ``(q,)`` each: the node types (0 virtual ground, 1
    internal node, 2 output, 3 ground) of one column's ``q`` sources and the indices of
    column 0's, where ``src`` holds the same ``q`` sources in every column with the same
    densities; None otherwise."""
    p, n = np.asarray(src.p), np.asarray(src.n)
    if p.size == 0 or p.size % cols:
        return None
    types, col = [], []
    for x in (p, n):
        t = np.where(x < 0, 3, x // cols)
        c = np.where(x < 0, -1, x % cols)
        if np.any(t > 3):
            return None
        types.append(t)
        col.append(c)
    own = np.where(col[0] >= 0, col[0], col[1])
    if np.any((col[0] >= 0) & (col[1] >= 0) & (col[0] != col[1])):
        return None                                      # a source between two columns
    q = p.size // cols
    order = np.argsort(own, kind="stable")               # sources of column 0, 1, ...
    if not np.all(own[order].reshape(cols, q) == np.arange(cols)[:, None]):
        return None
    blocks = [x[order].reshape(cols, q) for x in (types[0], types[1])]
    dens = [np.asarray(w)[order].reshape(cols, q) for w in (src.white, src.flicker)]
    if not all(np.all(x == x[:1]) for x in blocks + dens):
        return None                                      # not the same in every column
    return blocks[0][0], blocks[1][0], order[:q]
