"""Readout noise in physical units: per column, the output noise of an integrator or TIA
readout split by source, with SNR and effective bits.

Sources (each a one-sided density, one temperature ``T`` for every resistor):

* thermal ``4 k T G`` of every cell, word- and bit-line segment, driver and sense resistor
  (linear cells: their conductance is their operating point);
* nonlinear cells (built-in nonlinear, 1S1R, level-1 1T1R, user devices): the array is
  linearised at its DC operating point for ``inputs[vector]`` (the nodal engine's Newton
  solution) and each device gets its own source (:mod:`.noise_devices`): shot ``2 q |I|``
  of a selector or a user device declared ``noise="shot"`` (category ``cells (shot)``),
  ngspice's level-1 channel noise ``4 k T (2/3) |gm|`` of an access transistor
  (``access transistors``), thermal ``4 k T dI/dV`` of a nonlinear memory element or a
  user device (``cells (thermal)``);
* a cell 1/f term ``S_I = kf I^2 / f`` (``flicker_kf``, dimensionless, Hooge's
  ``alpha_H / N``; ``I`` the cell's DC current for the input vector);
* the op-amp's input voltage and current noise (``OpAmpSpec.en_v_rthz``, ``in_a_rthz``);
* the TIA's feedback resistor ``4 k T / R_f``;
* after the window: the integrator's reset ``k T / C_int`` (kept only without correlated
  double sampling) and ADC quantisation ``LSB^2 / 12``.

Each source reaches the output through the exact small-signal network
(:mod:`.noise_network`: wires, wire capacitance, the op-amp's gain and pole, the feedback).
An integrator is read as the change of its output over the window ``T`` (the stationary
network, reset open): ``var = integral S_out(f) 4 sin^2(pi f T) df``, which is the window
filter ``(sin(pi f T) / (pi f))^2`` on the current into the capacitor. A TIA is sampled:
``var = integral_0^B S_out(f) df`` with ``B = noise_bandwidth_hz`` (default ``1 / (2 t_int)``,
an ideal anti-alias filter at one sample per dwell).

SNR is the squared signal (the column's DC current through the same readout network:
``I T / C_int`` or ``I R_f`` for an ideal op-amp) over the total variance; effective bits are ``log2(range / (sqrt(12) sigma))`` with the
ADC's range (else the largest column signal); the thermal bound of an integrator column is
``SNR = E_col / (2 k T)`` with ``E_col = sum_i G_ij V_i^2 T``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .. import _validate as v
from ..circuit.spec import CrossbarSpec, validate_inputs
from ..errors import SpecError
from .noise_network import K_BOLTZMANN, build_network

#: ngspice's default temperature (27 C), K.
DEFAULT_TEMPERATURE_K = 300.15
#: How the network is solved (see :func:`noise`'s ``network``).
NETWORKS = ("auto", "reduced", "full")
#: Log grid of the output spectra, points per decade (the spectra are rational functions of
#: f, smooth on a log scale; log-log interpolation between 8 a decade is within 1e-4 of 12).
POINTS_PER_DECADE = 8
#: Window filter: the spectrum is integrated with 4 sin^2 exactly up to this many times
#: 1/T (on a fine linear grid, the spectrum interpolated log-log), and with its mean 2
#: beyond, where it oscillates faster than the spectrum changes.
EXACT_WINDOW_PERIODS = 200
FINE_POINTS_PER_PERIOD = 40
#: Rows of spectra interpolated at once onto the fine grid (64 x 8 000 points: 4 MB).
LOGLOG_ROWS = 64


@dataclass(frozen=True, eq=False)
class NoiseResult:
    """Noise budget of the columns analysed.

    Attributes:
        columns: ``(k,)`` column indices.
        categories: source names, in the order of the budget's second axis.
        variance_v2: ``(k, n_cat)`` output variance per source, V^2.
        total_v: ``(k,)`` total rms output noise, V.
        lsb_v: one ADC LSB, V.
        signal_v: ``(k,)`` the column's signal ``v_ref - v_out`` (exact DC), V.
        snr_db: ``(k,)`` 10 log10(signal^2 / total variance).
        bits: ``(k,)`` effective bits, ``log2(range / (sqrt(12) sigma))``.
        thermal_bound_db: ``(k,)`` ``10 log10(E_col / 2kT)`` (integrator of linear cells;
            NaN for a TIA and for nonlinear cells, whose noise is not only thermal).
        freqs_hz: ``(n_f,)``; spectra_v2_hz: ``(k, n_cat_net, n_f)`` output densities of the
            network's sources (the first ``n_cat_net`` categories), V^2/Hz.
        info: readout kind, band, temperature, timings.
    """

    columns: np.ndarray
    categories: tuple
    variance_v2: np.ndarray
    total_v: np.ndarray
    lsb_v: float
    signal_v: np.ndarray
    snr_db: np.ndarray
    bits: np.ndarray
    thermal_bound_db: np.ndarray
    freqs_hz: np.ndarray
    spectra_v2_hz: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def rms_v(self) -> np.ndarray:
        """``(k, n_cat)`` rms output noise per source, V."""
        return np.sqrt(self.variance_v2)

    def to_dict(self) -> dict:
        return {"columns": self.columns.tolist(), "categories": list(self.categories),
                "rms_v": self.rms_v.tolist(), "total_v": self.total_v.tolist(),
                "lsb_v": self.lsb_v, "total_lsb": (self.total_v / self.lsb_v).tolist(),
                "signal_v": self.signal_v.tolist(), "snr_db": self.snr_db.tolist(),
                "bits": self.bits.tolist(), "thermal_bound_db": self.thermal_bound_db.tolist(),
                "info": self.info}

    def save(self, path) -> None:
        """Write the arrays and the summary (JSON) to ``path`` (.npz, atomically)."""
        import json
        from ..io import atomic_output
        with atomic_output(path) as f:
            np.savez(f, summary=np.array(json.dumps(self.to_dict())), columns=self.columns,
                     categories=np.array(self.categories), variance_v2=self.variance_v2,
                     total_v=self.total_v, signal_v=self.signal_v, snr_db=self.snr_db,
                     bits=self.bits, thermal_bound_db=self.thermal_bound_db,
                     freqs_hz=self.freqs_hz, spectra_v2_hz=self.spectra_v2_hz)


def log_grid(f_lo: float, f_hi: float, per_decade: int = POINTS_PER_DECADE) -> np.ndarray:
    n = max(2, int(np.ceil(np.log10(f_hi / f_lo) * per_decade)) + 1)
    return np.logspace(np.log10(f_lo), np.log10(f_hi), n)


def _loglog(f: np.ndarray, freqs: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``s`` (last axis on ``freqs``) at ``f``, interpolated log-log; below the grid the
    first segment's slope continues (a 1/f^2 integrator spectrum stays 1/f^2), above it the
    last value holds. Vectorised over the rows, :data:`LOGLOG_ROWS` at a time."""
    ls = np.log(np.maximum(s, 1e-300)).reshape(-1, freqs.size)
    lf, lx = np.log(freqs), np.log(np.maximum(f, 1e-300))
    j = np.clip(np.searchsorted(lf, lx, side="right") - 1, 0, freqs.size - 2)
    t = np.where(lx > lf[-1], 1.0, (lx - lf[j]) / (lf[j + 1] - lf[j]))
    out = np.empty((ls.shape[0], f.size))

    def rows(a: int) -> None:
        b = ls[a:a + LOGLOG_ROWS]
        x = np.multiply(b[:, j], 1.0 - t, out=out[a:a + LOGLOG_ROWS])
        x += b[:, j + 1] * t
        np.exp(x, out=x)
    from ..engines.nodal.threads import on_workers
    on_workers(rows, range(0, ls.shape[0], LOGLOG_ROWS))
    return out.reshape(s.shape[:-1] + f.shape)



def window_variance(freqs: np.ndarray, s: np.ndarray, t_window: float) -> np.ndarray:
    """``integral_0^f_max s(f) 4 sin^2(pi f T) df`` over the last axis (V^2/Hz -> V^2)."""
    f_c = min(EXACT_WINDOW_PERIODS / t_window, freqs[-1])
    n = int(np.ceil(f_c * t_window * FINE_POINTS_PER_PERIOD)) + 1
    fine = np.linspace(0.0, f_c, n)
    fine[0] = fine[1] * 1e-6
    w = 4.0 * np.sin(np.pi * fine * t_window) ** 2
    weights = np.zeros_like(fine)       # the trapezoid rule on `fine`, times the window
    dx = np.diff(fine)
    weights[:-1] += 0.5 * dx
    weights[1:] += 0.5 * dx
    var = _loglog(fine, freqs, s) @ (weights * w)
    if f_c < freqs[-1]:
        k = freqs > f_c
        ff = np.concatenate([[f_c], freqs[k]])
        tail = np.concatenate([_loglog(np.array([f_c]), freqs, s), s[..., k]], axis=-1)
        var = var + 2.0 * _power_law_integral(ff, tail)
    return var + 2.0 * _beyond(freqs, s)


def _beyond(freqs: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``integral_f_max^inf s df`` where the last segment falls faster than 1/f^1.5 (its
    power law continued); 0 where it does not (the band then ends at ``f_max``)."""
    s0, s1 = np.maximum(s[..., -2], 1e-300), np.maximum(s[..., -1], 1e-300)
    a = np.log(s1 / s0) / np.log(freqs[-1] / freqs[-2])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a < -1.5, s1 * freqs[-1] / (-a - 1), 0.0)


def _power_law_integral(f: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``integral s df`` with ``s`` a power law on each segment of ``f`` (exact for 1/f^n)."""
    f0, f1 = f[:-1], f[1:]
    s0, s1 = np.maximum(s[..., :-1], 1e-300), np.maximum(s[..., 1:], 1e-300)
    span = np.log(f1 / f0)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.log(s1 / s0) / span
        # s0 f0 ((f1/f0)^(a+1) - 1) / (a+1) = s0 f0 L expm1(z) / z, z = (a+1) L: no
        # cancellation near 1/f (a + 1 of rounding size), where the quotient form loses digits
        z = (a + 1) * span
        seg = s0 * f0 * span * np.where(z == 0, 1.0, np.expm1(z) / np.where(z == 0, 1.0, z))
    return seg.sum(axis=-1)


def band_variance(freqs: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``integral_0^f_max s df`` (below the grid: flat at its first value)."""
    return s[..., 0] * freqs[0] + _power_law_integral(freqs, s)


def noise(spec: CrossbarSpec, inputs, *, columns=None, vector: int = 0,
          temperature_k: float | None = None, flicker_kf: float = 0.0,
          cds: bool = True, adc_bits: int | None = None, noise_bandwidth_hz: float | None = None,
          points_per_decade: int = POINTS_PER_DECADE, network: str = "auto") -> NoiseResult:
    """Output noise of ``spec``'s readout (integrator or TIA) per column, split by source.

    Args:
        spec: an array with ``readout`` set (``IntegratorSpec`` or ``TIASpec``) and
            passive, nonlinear, 1S1R, level-1 1T1R or user-device cells.
        inputs: ``(batch, rows)`` or ``(rows,)`` V: ``inputs[vector]`` sets the operating
            point (signal, 1/f; for nonlinear cells also the small-signal network and the
            shot and channel noise).
        columns: column indices to analyse (default all); the full network's cost is one
            adjoint solve per column and frequency.
        temperature_k: resistor temperature, K (default the spec's ``temperature_k``, whose
            own default is 300.15 K, ngspice's 27 C).
        flicker_kf: cell 1/f coefficient ``kf`` in ``S_I = kf I^2 / f`` (dimensionless, >= 0).
        cds: correlated double sampling removes the integrator's reset kT/C.
        adc_bits: ADC resolution for quantisation and LSB when the readout has no ADC
            (its range then spans the largest column signal); default 8.
        noise_bandwidth_hz: TIA sampling bandwidth, Hz (default ``1 / (2 t_int)``).
        points_per_decade: log-frequency grid density, 4..100.
        network: ``"auto"`` (default), ``"reduced"`` or ``"full"``. ``"reduced"``
            (:mod:`.noise_reduced`, what ``"auto"`` takes for an array without capacitance):
            the array is reduced once onto the columns and its sources folded into the
            columns' current covariance, then each frequency solves the readouts only, or
            (the same readout on every column) nothing: a series in the array's
            admittance (:mod:`.noise_series`, ``info["series"]``).
            ``"full"`` (what ``"auto"`` takes with wire capacitance): the whole network at
            every frequency. Both are exact; they agree to rounding.
    """
    ro = spec.readout
    if ro is None or ro.kind not in ("integrator", "tia"):
        raise SpecError("readout", "is None: the noise analysis needs a time-domain readout",
                        "IntegratorSpec or TIASpec (--readout integrator|tia)")
    if temperature_k is None:
        temperature_k = getattr(spec, "temperature_k", DEFAULT_TEMPERATURE_K)
    temperature_k = v.positive_scalar("temperature_k", temperature_k, "K")
    flicker_kf = v.nonnegative_scalar("flicker_kf", flicker_kf, "")
    points_per_decade = v.integer_in("points_per_decade", points_per_decade, 4, 100)
    x = validate_inputs(inputs, spec.rows)
    if not 0 <= vector < x.shape[0]:
        raise SpecError("vector", f"is {vector}", f"0..{x.shape[0] - 1}")
    cols = np.arange(spec.cols) if columns is None else np.unique(
        v.real_array("columns", columns, 1).astype(int))
    if cols.size == 0 or cols.min() < 0 or cols.max() >= spec.cols:
        raise SpecError("columns", f"is {columns!r}", f"indices 0..{spec.cols - 1}")
    if network not in NETWORKS:
        raise SpecError("network", f"is {network!r}", " | ".join(NETWORKS))
    _check_cell(spec)
    from ..engines.nodal.threads import blas_threads
    with blas_threads():
        return _noise(spec, x, cols, vector=vector, temperature_k=temperature_k,
                      flicker_kf=flicker_kf, cds=cds, adc_bits=adc_bits,
                      noise_bandwidth_hz=noise_bandwidth_hz,
                      points_per_decade=points_per_decade, network=network)


def _operating_point(spec, x_op: np.ndarray, flicker_kf: float):
    """``(ir, v_op, i_cells, i_all)``: the IR (characterised user devices), the node
    voltages of the Newton operating point (None for linear cells), the cells' currents
    ``(rows, cols)`` A (None for linear cells without 1/f) and the columns' ``(cols,)`` A
    at input ``x_op`` ``(rows,)`` V."""
    from ..circuit.elaboration import elaborate
    from ..engines.simulation import simulate
    ir = elaborate(spec)
    if not ir.nonlinear:
        dc = simulate(spec, x_op, "nodal")
        i_cells = dc.cell_currents[0] if flicker_kf > 0 else None  # deferred: read if needed
        return ir, None, i_cells, dc.currents[0]
    from .noise_devices import readout_operating_point    # Newton, as the nodal engine
    if any(g.kind == "device" for g in ir.devices):
        from ..engines.characterise import characterise
        ir = characterise(ir, x_op[None])
    v_op, i_cells = readout_operating_point(ir, x_op, spec.readout)
    return ir, v_op, i_cells, i_cells.sum(axis=0)


def _noise(spec, x, cols, *, vector, temperature_k, flicker_kf, cds, adc_bits,
           noise_bandwidth_hz, points_per_decade, network) -> NoiseResult:
    """:func:`noise` after its checks (arguments validated, BLAS threads set)."""
    ro = spec.readout
    t_start = time.perf_counter()
    ir, v_op, i_cells, i_all = _operating_point(spec, x[vector], flicker_kf)
    i_col = i_all[cols]
    from .noise_reduced import array_has_capacitance, build_reduced_network
    if network == "reduced" or (network == "auto" and not array_has_capacitance(ir)):
        net = build_reduced_network(ir, ro, temperature_k, i_cells if flicker_kf > 0 else None,
                                    flicker_kf, v_op=v_op, spec=spec)
        how = dict(net.info, network="reduced onto the columns: the array (no capacitance) "
                   "solved once, its sources folded into the columns' current covariance; "
                   "per frequency the readouts only")
    else:
        net = build_network(ir, ro, temperature_k, i_cells if flicker_kf > 0 else None,
                            flicker_kf, v_op=v_op)
        how = {"network": "full: the whole small-signal network factorised at every frequency",
               "solver": "sparse LU (SuperLU, real form) per frequency"}
    t_net = time.perf_counter()
    t_int = ro.t_int_s
    if ro.kind == "integrator":
        f_lo, f_hi = 1e-2 / t_int, _f_top(ro, 1e3 / t_int)
        band = f_hi
    else:
        band = float(noise_bandwidth_hz) if noise_bandwidth_hz is not None else 0.5 / t_int
        if not np.isfinite(band) or band <= 0:
            raise SpecError("noise_bandwidth_hz", f"is {noise_bandwidth_hz!r}", "> 0 Hz")
        f_lo, f_hi = 1e-4 * band, band
    freqs = log_grid(f_lo, f_hi, points_per_decade)
    spectra = net.spectra(freqs, cols)
    if "series" in getattr(net, "info", {}):  # frequencies the series in Y took, its terms
        how["series"] = net.info["series"]
    var_net = (window_variance(freqs, spectra, t_int) if ro.kind == "integrator"
               else band_variance(freqs, spectra))
    cats = list(net.categories)
    parts = [var_net]
    if ro.kind == "integrator" and not cds:
        cats.append("reset kT/C")
        parts.append(np.full((cols.size, 1), K_BOLTZMANN * temperature_k / ro.c_int_f))
    signal = i_col * signal_gain(net, ro, cols)
    if ro.adc is not None:
        span, n_bits = ro.adc.x_max - ro.adc.x_min, ro.adc.bits
    else:
        n_bits = v.integer_in("adc_bits", 8 if adc_bits is None else adc_bits, 1, 24)
        span = float(np.abs(i_all).max() * ro.gain()) or 1.0
    lsb = span / 2 ** n_bits
    cats.append("ADC quantisation")
    parts.append(np.full((cols.size, 1), lsb ** 2 / 12))
    var = np.concatenate([p if p.ndim == 2 else p[:, None] for p in parts], axis=1)
    total = np.sqrt(var.sum(axis=1))
    with np.errstate(divide="ignore"):
        snr = 10 * np.log10(signal ** 2 / total ** 2)
        bits = np.log2(span / (np.sqrt(12.0) * total))
        if ro.kind == "integrator" and v_op is None:  # linear cells: G is their conductance
            e_col = (spec.conductances[:, cols] * (x[vector] ** 2)[:, None]).sum(axis=0) * t_int
            bound = 10 * np.log10(e_col / (2 * K_BOLTZMANN * temperature_k))
        else:
            bound = np.full(cols.size, np.nan)
    info = {"readout": ro.kind, "t_int_s": t_int, "temperature_k": temperature_k,
            "band_hz": [f_lo, f_hi],
            "cds": bool(cds), "adc_bits": int(n_bits), "adc_span_v": float(span),
            "frequencies": int(freqs.size), "elapsed_s": time.perf_counter() - t_start,
            "network_build_s": t_net - t_start, **how,
            "operating_point": ("linear cells: conductances as given" if v_op is None else
                                "Newton (nodal engine) at the input vector, virtual grounds at "
                                "v_ref + v_os (a TIA's moved by its finite gain); the array "
                                "linearised there"),
            "method": ("window filter 4 sin^2(pi f T) on the stationary output spectrum"
                       if ro.kind == "integrator" else "output spectrum integrated to the band")}
    return NoiseResult(cols, tuple(cats), var, total, lsb, signal, snr, bits, bound, freqs,
                       spectra, info)


def _check_cell(spec: CrossbarSpec) -> None:
    """Refuse, before any work, the cells whose noise is not modelled: access transistors
    of other cards than level 1 (BSIM4, PDK), whose channel noise is not ngspice's MOS1."""
    from ..circuit.cells import TransistorCell
    if isinstance(spec.cell, TransistorCell) and spec.cell.level != 1:
        raise SpecError("cell.model", f"is {str(spec.cell.model)!r}, a transistor card of level "
                        f"{spec.cell.level}: the noise analysis models ngspice's level-1 "
                        "channel noise only", "a level-1 card (model='level1' or 'level1-nocap'), "
                        "or passive, nonlinear, 1S1R or device cells")


def signal_gain(net, readout, cols: np.ndarray) -> np.ndarray:
    """``(k,)`` V/A: the readout's signal per unit column current through the same network.

    TIA: ``|Z(f)|`` at 1e-6 of the band (its DC transimpedance, ``R_f`` for a large gain).
    Integrator: ``|Z(f)| 2 pi f T`` at ``f = 1 / (2 pi T) / 10``, where the response is
    the integrator's ``1 / (j 2 pi f C)`` times the loop's own gain error (``T / C_int`` for
    an ideal op-amp; a single-pole op-amp loses ``G_col / (2 pi gbw C_int)`` of it)."""
    t = readout.t_int_s
    if readout.kind == "tia":
        return np.abs(net.column_transfer(1e-6 / t, cols))
    f = 0.1 / (2 * np.pi * t)
    return np.abs(net.column_transfer(f, cols)) * 2 * np.pi * f * t


def _f_top(readout, default: float) -> float:
    """Top of the integrator's grid: a decade past the op-amp's unity gain, where the
    integrator's spectrum falls as 1/f^2 or faster (continued beyond by its power law),
    and 1000 / T for an op-amp without a pole."""
    if readout.opamp.kind == "macro":
        return max(default, 10 * readout.opamp.gbw_hz)
    return default
