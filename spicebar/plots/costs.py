"""Figures of what a read costs in time and noise: settling curves with the ADC's half-LSB
band, the integrator's charge error against window length, noise budgets and spectra.

Each function takes ``ax=None`` (a new figure) and returns the axes; none calls ``show()``.
"""

from __future__ import annotations

import numpy as np


def _axes(ax, figsize=(7, 4.2)):
    if ax is not None:
        return ax
    from .maps import _pyplot
    return _pyplot().figure(figsize=figsize).add_subplot(111)


def _unit(t_max: float) -> tuple[float, str]:
    """A time scale and its unit for axes up to ``t_max`` seconds."""
    for scale, unit in ((1e12, "ps"), (1e9, "ns"), (1e6, "us"), (1e3, "ms")):
        if t_max * scale < 2000:
            return scale, unit
    return 1.0, "s"


def _slowest(result, n: int) -> np.ndarray:
    order = np.argsort(np.nan_to_num(result.t_settle_s, nan=np.inf))[::-1]
    return order[:n]


def plot_settling(result, columns=None, ax=None):
    """Column-current error ``i(t) - i_final`` in LSB after the input step, the half-LSB band
    shaded, each column's settling time marked. ``columns``: default the 4 slowest."""
    ax = _axes(ax)
    cols = _slowest(result, 4) if columns is None else np.asarray(columns, int)
    sc, unit = _unit(float(result.t[-1]))
    for j in cols:
        dev = (result.currents[j] - result.final_a[j]) / result.lsb_a
        line, = ax.plot(result.t * sc, dev,
                        label=f"column {j}: {result.t_settle_s[j] * sc:.3g} {unit}")
        if np.isfinite(result.t_settle_s[j]):
            ax.axvline(result.t_settle_s[j] * sc, color=line.get_color(), ls=":", lw=1)
    ax.axhspan(-0.5, 0.5, color="tab:green", alpha=0.2, label="half an LSB")
    ax.set_yscale("symlog", linthresh=0.5)
    ax.set_xlabel(f"time after the input step ({unit})")
    ax.set_ylabel(f"i(t) - i_final (LSB of {result.bits} bits)")
    ax.set_title(f"Step response: slowest tau = {result.tau_s * sc:.3g} {unit}, settled to half "
                 f"an LSB in {result.t_settle_max_s * sc:.3g} {unit}", fontsize=10)
    ax.legend(fontsize=8)
    return ax


def plot_charge_error(result, ax=None):
    """The integrator's worst charge error (all columns) against window length, in LSB."""
    ax = _axes(ax)
    t = result.t[1:]
    sc, unit = _unit(max(float(t[-1]), float(np.nan_to_num(result.t_window_s))))
    err = np.abs(result.charge_error[:, 1:]).max(axis=0) * 2 ** result.bits
    ax.loglog(t * sc, err, label="exact (nodal step response)")
    if np.isfinite(result.t_window_s) and result.t_window_s > t[-1]:
        tt = np.geomspace(t[-1], result.t_window_s * 1.5, 30)
        ax.loglog(tt * sc, err[-1] * t[-1] / tt, ls="--", label="settled: deficit / T")
    ax.axhline(0.5, color="tab:green", ls=":", label="half an LSB")
    if np.isfinite(result.t_window_s):
        ax.axvline(result.t_window_s * sc, color="k", lw=0.8,
                   label=f"window >= {result.t_window_s * sc:.3g} {unit}")
    ax.set_xlabel(f"integration window T ({unit})")
    ax.set_ylabel(f"charge error (LSB of {result.bits} bits)")
    ax.set_title("Integrator charge lost to the settling, against window length", fontsize=10)
    ax.legend(fontsize=8)
    return ax


def plot_noise_budget(result, ax=None):
    """rms output noise of each source in LSB (log scale): the bar is the median over the
    columns analysed, the whisker spans their smallest to largest; the total beside them."""
    ax = _axes(ax, figsize=(8, 4.4))
    rms = np.sqrt(result.variance_v2) / result.lsb_v          # (k, n_cat) LSB
    rms = np.concatenate([rms, (result.total_v / result.lsb_v)[:, None]], axis=1)
    names = [*result.categories, "total"]
    med, lo, hi = np.median(rms, axis=0), rms.min(axis=0), rms.max(axis=0)
    x = np.arange(len(names))
    colors = ["tab:blue"] * len(result.categories) + ["k"]
    ax.bar(x, med, color=colors, width=0.7)
    ax.errorbar(x, med, yerr=[med - lo, hi - med], fmt="none", ecolor="gray", capsize=3)
    ax.axhline(0.5, color="tab:green", ls=":", lw=1, label="half an LSB")
    ax.set_yscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("rms output noise (LSB)")
    ax.set_title(f"Noise budget ({result.info['readout']}, {result.info['adc_bits']}-bit LSB = "
                 f"{result.lsb_v * 1e3:.3g} mV, {result.columns.size} columns): "
                 f"{np.median(result.bits):.3g} effective bits, SNR "
                 f"{np.median(result.snr_db):.3g} dB (median)", fontsize=9)
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax


def plot_noise_spectra(result, column=None, ax=None):
    """Output noise density of one column per source and in total, V/sqrt(Hz)."""
    ax = _axes(ax)
    k = 0 if column is None else int(np.flatnonzero(result.columns == column)[0])
    f = result.freqs_hz
    s = result.spectra_v2_hz[k]
    for m in range(s.shape[0]):
        if np.any(s[m] > 0):
            ax.loglog(f, np.sqrt(s[m]), lw=1, label=result.categories[m])
    ax.loglog(f, np.sqrt(s.sum(axis=0)), color="k", lw=2, label="total")
    if result.info["readout"] == "integrator":
        t = result.info.get("t_int_s")
        if t:
            ax.axvline(1 / t, color="gray", ls=":", lw=1, label="1 / T (window)")
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("output noise density (V/sqrt(Hz))")
    ax.set_title(f"Output noise spectrum, column {result.columns[k]}", fontsize=10)
    ax.legend(fontsize=7)
    return ax
