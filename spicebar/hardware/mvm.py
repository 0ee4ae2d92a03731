"""From weights to what the hardware returns: ``y = W x`` through mapped, tiled crossbars.

    >>> import numpy as np, spicebar as sb
    >>> from spicebar.hardware.mvm import MVMSpec, run_mvm
    >>> W = np.random.default_rng(0).normal(size=(8, 16)); x = np.ones((1, 16))
    >>> r = run_mvm(W, x, MVMSpec(array_rows=8, array_cols=8), engines=("nodal",), budget=False)
    >>> bool(np.allclose(r.y["nodal"], W @ x[0]))
    True

Shapes: ``W`` is ``(outputs, inputs)``; ``X`` is ``(batch, inputs)`` (forward) or
``(batch, outputs)`` (backward, ``x_back = W.T y``); every result is ``(batch, n)``.

Effects (each can be switched on alone for the error budget, see :mod:`spicebar.analysis.budget`):
``quantisation`` (levels and weight clipping), ``variability``, ``stuck``, ``drift``,
``noise`` (per read), ``wires`` (IR drop and sneak paths through the wire, driver and
sense resistances), ``adc`` (the readout converter). With ``wires`` off a tile is
computed exactly as ``V @ G`` (the ``ideal`` engine), whatever engine was asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .. import _validate as v
from .compensation import COMPENSATIONS, Wires, compensated_conductances, compensating
from .devices import DeviceSpec, TileDraws, drift, program, read
from ..errors import SpecError
from .mapping import MappingSpec, Scaling
from ..circuit.spec import CrossbarSpec
from .tile_readout import make_readout
from .tiling import Tile, check_array, plan_tiles, run_parallel, tile_targets
from ..engines.ngspice.limits import DEFAULT_TIMEOUT_S

EFFECTS = ("quantisation", "variability", "stuck", "drift", "noise", "wires", "adc")
DIRECTIONS = ("forward", "backward")


@dataclass(frozen=True)
class MVMSpec:
    """A layer on crossbar arrays.

    Attributes:
        mapping: weights -> siemens, inputs -> volts (:class:`MappingSpec`).
        devices: device non-idealities (:class:`DeviceSpec`).
        array_rows, array_cols: size of one physical array (word lines x bit lines).
        r_wl, r_bl, r_driver, r_sense: wire segment, driver and readout resistances,
            ohm, the same on every tile (see :class:`CrossbarSpec`).
        adc_bits: bits of the column ADC (None: no ADC).
        adc_full_scale_a: ADC range ``[-fs, fs]`` (bipolar) or ``[0, fs]`` (two-phase),
            amperes; None: the largest possible column current ``v_read * lines * g_max``.
        drift_compensation: multiply outputs by ``(t_read / t0) ** drift_nu``.
        direction: ``forward`` (``y = W x``) or ``backward`` (``x = W.T y``: drive the
            bit lines, read the word lines; differential scheme only).
        seed: seeds every random draw (per tile, independent of the thread order).
        compensate: IR-drop compensation of the programmed conductances when the wires
            are on (:mod:`spicebar.hardware.compensation`): ``none``, ``first_order``
            (closed form) or ``exact`` (iteration on the exact nodal model); forward only.
    """

    mapping: MappingSpec = field(default_factory=MappingSpec)
    devices: DeviceSpec = field(default_factory=DeviceSpec)
    array_rows: int = 128
    array_cols: int = 128
    r_wl: float = 0.0
    r_bl: float = 0.0
    r_driver: float = 0.0
    r_sense: float = 0.0
    adc_bits: int | None = None
    adc_full_scale_a: float | None = None
    drift_compensation: bool = False
    direction: str = "forward"
    seed: int = 0
    compensate: str = "none"

    def __post_init__(self) -> None:
        check_array(self.array_rows, self.array_cols)
        self.mapping.outputs_per_tile(self.array_cols)
        for name in ("r_wl", "r_bl", "r_driver", "r_sense"):
            object.__setattr__(self, name, v.nonnegative_scalar(name, getattr(self, name), "ohm"))
        if self.adc_full_scale_a is not None:
            object.__setattr__(self, "adc_full_scale_a",
                               v.positive_scalar("adc_full_scale_a", self.adc_full_scale_a, "A"))
        v.choice("direction", self.direction, DIRECTIONS)
        if self.direction == "backward" and self.mapping.scheme != "differential":
            raise SpecError("direction", "is 'backward' with the reference scheme (its reference "
                            "column would need -sum(v) volts)", "backward with scheme=differential")
        v.choice("compensate", self.compensate, COMPENSATIONS)
        if self.compensate != "none" and self.direction == "backward":
            raise SpecError("compensate", f"is {self.compensate!r} with direction 'backward' (the "
                            "conductances are compensated for the forward reads)", "none")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise SpecError("seed", f"is {self.seed!r}", "an integer >= 0")

    @property
    def has_wires(self) -> bool:
        return any(getattr(self, n) > 0 for n in ("r_wl", "r_bl", "r_driver", "r_sense"))

    def configured_effects(self) -> tuple[str, ...]:
        """The effects this spec actually has (others are no-ops)."""
        d, m = self.devices, self.mapping
        on = {"quantisation": m.levels is not None or m.w_max is not None or m.x_max is not None,
              "variability": d.prog_sigma_rel > 0 or d.prog_sigma_abs_s > 0,
              "stuck": d.stuck_on_rate + d.stuck_off_rate > 0,
              "drift": d.drift_nu + d.drift_nu_std > 0 and d.t_read_s > d.t0_s,
              "noise": d.has_read_noise, "wires": self.has_wires, "adc": self.adc_bits is not None}
        return tuple(e for e in EFFECTS if on[e])

    @property
    def wires(self) -> Wires:
        return Wires(self.r_wl, self.r_bl, self.r_driver, self.r_sense)

    def tile_spec(self, g: np.ndarray) -> CrossbarSpec:
        return CrossbarSpec(g, r_wl=self.r_wl, r_bl=self.r_bl, r_driver=self.r_driver,
                            r_sense=self.r_sense)


@dataclass(frozen=True, eq=False)
class Prepared:
    """A layer mapped onto tiles, with every random draw made (pure data)."""

    spec: MVMSpec
    weights: np.ndarray
    inputs: np.ndarray
    scaling: Scaling
    tiles: list
    targets: list
    draws: list
    volts: np.ndarray      # (reads, inputs) forward; (reads, physical cols of the layer) backward
    read_vector: np.ndarray
    read_sign: np.ndarray
    #: Compensated conductances per tile target (shareable between layers' runs with
    #: other inputs, see :func:`prepare`) and what each compensation reported.
    cache: dict = field(default_factory=dict)

    @property
    def n_out(self) -> int:
        return self.weights.shape[0] if self.spec.direction == "forward" else self.weights.shape[1]

    def ideal(self) -> np.ndarray:
        """The exact layer outputs ``W x`` (see :func:`ideal_outputs`)."""
        return ideal_outputs(self)

    def run(self, effects, engine: str = "nodal", workers: int | None = None,
            progress: bool = True) -> np.ndarray:
        """The layer outputs with ``effects`` switched on (see :func:`run_effects`)."""
        return run_effects(self, effects, engine, workers, progress)


def _validate_layer(weights, inputs, direction):
    w = v.real_array("weights", weights, 2)
    x = v.real_array("inputs", inputs, (1, 2))
    x = x[None, :] if x.ndim == 1 else x
    n = w.shape[1] if direction == "forward" else w.shape[0]
    if x.shape[1] != n:
        what = "inputs (W is (outputs, inputs))" if direction == "forward" else "outputs (backward)"
        raise SpecError("inputs", f"has {x.shape[1]} values per vector but W has {n} {what}",
                        f"shape (batch, {n})")
    return w, x


def _backward_reads(scaling: Scaling, y: np.ndarray):
    """Bit-line volts ``(reads, 2 * outputs)`` for ``x = W.T y`` on differential pairs."""
    u = np.clip(y, -scaling.x_max, scaling.x_max) * scaling.volts_per_input
    b = u.shape[0]
    idx = np.arange(b)

    def pair(plus, minus):
        out = np.empty((b, 2 * u.shape[1]))
        out[:, 0::2], out[:, 1::2] = plus, minus
        return out
    if scaling.mapping.input_mode == "bipolar":
        return pair(u, -u), idx, np.ones(b)
    # Both phases even when no input is negative: the word line sums both columns of a
    # pair, so the minus column is subtracted only by the second read.
    pos, neg = np.maximum(u, 0), np.maximum(-u, 0)
    return (np.concatenate([pair(pos, neg), pair(neg, pos)]), np.concatenate([idx, idx]),
            np.concatenate([np.ones(b), -np.ones(b)]))


def prepare(weights, inputs, spec: MVMSpec, cache: dict | None = None) -> Prepared:
    """Map ``weights`` onto tiles and draw every random number (seeded by ``spec.seed``).

    ``cache``: a dict kept across calls for the same weights and spec (e.g. the layers of
    a network evaluated on several input sets), so each tile is compensated once.
    """
    w, x = _validate_layer(weights, inputs, spec.direction)
    scaling = spec.mapping.resolve(w, x)
    per_tile = spec.mapping.outputs_per_tile(spec.array_cols)
    tiles = plan_tiles(w.shape[0], w.shape[1], spec.array_rows, spec.array_cols, per_tile)
    targets = [tile_targets(scaling, w, t, spec.array_rows, spec.array_cols) for t in tiles]
    seeds = np.random.SeedSequence(spec.seed).spawn(len(tiles))
    draws = [TileDraws.draw(s, (spec.array_rows, spec.array_cols)) for s in seeds]
    if spec.direction == "forward":
        volts, vec, sign = scaling.input_reads(x)
    else:
        volts, vec, sign = _backward_reads(scaling, x)
    return Prepared(spec, w, x, scaling, tiles, targets, draws, volts, vec, sign,
                    {} if cache is None else cache)


def programmed_conductances(prep: Prepared, k: int, effects) -> np.ndarray:
    """Conductances of tile ``k`` at read time (no read noise), ``(array_rows, array_cols)`` S."""
    m, d = prep.spec.mapping, prep.spec.devices
    g = prep.targets[k]
    if "quantisation" in effects:
        g = prep.scaling.quantise(g)
    if compensating(prep.spec, effects):
        g = compensated_conductances(prep, k, g, "quantisation" in effects)
    g, stuck = program(g, d, prep.draws[k], m.g_min_s, m.g_max_s,
                       variability="variability" in effects, stuck="stuck" in effects)
    if "drift" in effects:
        g = drift(g, d, prep.draws[k], stuck)
    return g


def _tile_volts(prep: Prepared, tile: Tile) -> np.ndarray:
    s = prep.spec
    if s.direction == "forward":
        out = np.zeros((prep.volts.shape[0], s.array_rows))
        out[:, :tile.n_inputs] = prep.volts[:, tile.inputs]
    else:
        out = np.zeros((prep.volts.shape[0], s.array_cols))
        out[:, :2 * tile.n_outputs] = prep.volts[:, 2 * tile.outputs.start:2 * tile.outputs.stop]
    return out


def _jobs(prep: Prepared, effects) -> list[tuple[int, np.ndarray, np.ndarray, bool]]:
    """(tile index, read indices, conductances before read noise, noisy) per circuit to solve.

    With read noise every read is its own circuit; its conductances are drawn when the
    job runs (memory stays one array per running job).
    """
    noisy = "noise" in effects and prep.spec.devices.has_read_noise
    n_reads = prep.volts.shape[0]
    jobs = []
    for k in range(len(prep.tiles)):
        g = programmed_conductances(prep, k, effects)
        if noisy:
            jobs += [(k, np.array([r]), g, True) for r in range(n_reads)]
        else:
            jobs.append((k, np.arange(n_reads), g, False))
    return jobs


def read_conductances(prep: Prepared, job) -> np.ndarray:
    """The conductances a job's circuit has: with read noise, that read's own draw."""
    k, reads, g, noisy = job
    if not noisy:
        return g
    d = prep.spec.devices
    return read(g, d, prep.draws[k].read_noise(int(reads[0])), prep.spec.mapping.g_min_s)


def run_effects(prep: Prepared, effects, engine: str = "nodal", workers: int | None = None,
                progress: bool = True, timeout_s: float = DEFAULT_TIMEOUT_S, force_circuit: bool = False
                ) -> np.ndarray:
    """Outputs ``(batch, n)`` in weight units with only ``effects`` switched on.

    The circuit ``engine`` runs when ``wires`` is on and the spec has wire resistance,
    or when ``force_circuit`` (then with zero resistances unless ``wires`` is on);
    otherwise each tile is ``V @ G``. ``workers``: parallel tiles (default: every
    core for ngspice, 1 for nodal).
    """
    from ..engines.ngspice.session import SessionPool
    from ..engines.simulation import simulate
    from .transpose import transpose_spec
    timeout_s = v.time_limit_s("timeout_s", timeout_s)  # before any tile job starts
    effects = frozenset(effects)
    bad = effects - set(EFFECTS)
    if bad:
        raise SpecError("effects", f"has {sorted(bad)}", ", ".join(EFFECTS))
    s = prep.spec
    wired = "wires" in effects and s.has_wires
    eng = engine if (wired or force_circuit) else "ideal"
    wire_spec = s if wired else replace(s, r_wl=0.0, r_bl=0.0, r_driver=0.0, r_sense=0.0)
    backward = s.direction == "backward"
    lines = s.array_cols if backward else s.array_rows
    readout = make_readout(s, lines) if "adc" in effects else None
    volts = [_tile_volts(prep, t) for t in prep.tiles]

    def solve(job):
        k, reads = job[0], job[1]
        spec = wire_spec.tile_spec(read_conductances(prep, job))
        if backward:
            spec = transpose_spec(spec)
        if eng == "ideal":
            return volts[k][reads] @ spec.conductances
        n_in = prep.tiles[k].n_inputs if not backward else spec.rows
        if eng == "nodal" and len(reads) > n_in:
            # More vectors than driven lines: the tile's exact transfer matrix (one unit
            # solve per driven line, memory bounded), then every vector at once.
            return volts[k][reads][:, :n_in] @ _cached_transfer(prep.cache, spec, n_in, backward)
        session = sessions.get() if eng == "ngspice" else None
        return simulate(spec, volts[k][reads], eng, timeout_s=timeout_s,
                        session=session).currents

    jobs = _jobs(prep, effects)
    # ngspice jobs are child processes: one thread per core keeps every core busy, each
    # with its own reused ngspice process. The nodal solves hold the GIL for much of
    # their time; threads only add contention.
    n_workers = workers if eng == "ngspice" else (workers or 1) if eng == "nodal" else 1
    with SessionPool() as sessions:
        currents = run_parallel(solve, jobs, n_workers,
                                desc=f"{eng} {'+'.join(sorted(effects)) or 'ideal'}",
                                progress=progress and eng != "ideal", on_abort=sessions.abort)
    n_reads = prep.volts.shape[0]
    y_reads = np.zeros((n_reads, prep.n_out))
    for (k, reads, *_), cur in zip(jobs, currents):
        if readout is not None:
            cur = readout.convert(cur)
        t = prep.tiles[k]
        if backward:
            y_reads[reads, t.inputs] += cur[:, :t.n_inputs] / prep.scaling.amperes_per_output
        else:
            y_reads[reads, t.outputs] += prep.scaling.outputs_from_currents(cur)[:, :t.n_outputs]
    y = np.zeros((prep.inputs.shape[0], prep.n_out))
    np.add.at(y, prep.read_vector, prep.read_sign[:, None] * y_reads)
    if "drift" in effects and s.drift_compensation:
        y *= s.devices.drift_factor()
    return y


def _cached_transfer(cache: dict, spec: CrossbarSpec, n_in: int, backward: bool) -> np.ndarray:
    """The tile's exact transfer matrix ``(n_in, cols)``, kept in ``cache`` by the tile's
    conductances and wires, so sample batches of the same layer solve each tile once."""
    import hashlib

    from ..engines.nodal.transfer import transfer_matrix
    h = hashlib.sha1(np.ascontiguousarray(spec.conductances, float).tobytes())
    for name in ("r_wl", "r_bl", "r_driver", "r_sense"):
        h.update(np.ascontiguousarray(getattr(spec, name), float).tobytes())
    key = ("transfer", h.hexdigest(), int(n_in), backward)
    if key not in cache:
        cache[key] = transfer_matrix(spec, n_in)
    return cache[key]


def ideal_outputs(prep: Prepared) -> np.ndarray:
    """``W x`` (forward) or ``W.T y`` (backward), ``(batch, n)``, exact."""
    w = prep.weights if prep.spec.direction == "forward" else prep.weights.T
    return prep.inputs @ w.T


@dataclass(frozen=True, eq=False)
class MVMResult:
    """What a layer computes.

    Attributes:
        y_ideal: exact ``W x`` (``W.T y`` backward), ``(batch, n)``.
        y_ideal_quantised: after mapping and levels only (ideal circuit), ``(batch, n)``.
        y: every configured effect on, per engine (``nodal``, ``ngspice``), ``(batch, n)``.
        budget: :class:`spicebar.analysis.budget.BudgetRow` list (empty when not asked for).
        info: scaling and tiling facts, JSON-able.
        conductances: ``(tiles, array_rows, array_cols)`` S, what each tile was programmed
            to at read time with every configured effect (compensated where ``compensate``
            is on; without read noise), tile ``k`` at ``info["tile_index"][k]``; or None.
    """

    y_ideal: np.ndarray
    y_ideal_quantised: np.ndarray
    y: dict
    budget: list
    info: dict
    conductances: np.ndarray | None = None

    def save(self, path) -> "Path":
        """``.npz`` with ``y_ideal``, ``y_ideal_quantised``, ``y_nodal``, ``y_spice``,
        ``conductances`` (S), ``budget`` and ``info`` (JSON)."""
        import json
        from pathlib import Path

        from ..analysis.budget import budget_dicts
        from ..io import atomic_output
        path = Path(path)
        arrays = {"y_ideal": self.y_ideal, "y_ideal_quantised": self.y_ideal_quantised}
        for eng, key in (("nodal", "y_nodal"), ("ngspice", "y_spice"), ("ideal", "y_ideal_circuit")):
            if eng in self.y:
                arrays[key] = self.y[eng]
        if self.conductances is not None:
            arrays["conductances"] = self.conductances
        with atomic_output(path) as f:
            np.savez(f, **arrays, budget=np.array(json.dumps(budget_dicts(self.budget))),
                     info=np.array(json.dumps(self.info, default=str)))
        return path


def run_mvm(weights, inputs, spec: MVMSpec, engines=("nodal", "ngspice"), budget: bool = True,
            budget_engine: str = "nodal", workers: int | None = None, progress: bool = True,
            timeout_s: float = DEFAULT_TIMEOUT_S) -> MVMResult:
    """Run a layer: ideal, quantised, every engine in ``engines`` with all effects, and the budget."""
    from ..analysis.budget import error_budget
    for e in engines:
        v.choice("engines", e, ("ideal", "nodal", "ngspice"))
    timeout_s = v.time_limit_s("timeout_s", timeout_s)
    prep = prepare(weights, inputs, spec)
    effects = spec.configured_effects()
    y_q = run_effects(prep, ("quantisation",), "ideal", progress=False)
    ys = {e: run_effects(prep, effects, e, workers, progress, timeout_s, force_circuit=True)
          for e in engines}
    rows = error_budget(prep, budget_engine, progress, workers, ys.get(budget_engine)) if budget else []
    s = prep.scaling
    info = {"direction": spec.direction, "scheme": spec.mapping.scheme, "w_max": s.w_max,
            "x_max": s.x_max, "siemens_per_weight": s.siemens_per_weight,
            "volts_per_input": s.volts_per_input, "level_step_weight": s.level_step_weight(),
            "tiles": len(prep.tiles), "array": [spec.array_rows, spec.array_cols],
            "reads_per_tile": int(prep.volts.shape[0]), "effects": list(effects),
            "compensate": spec.compensate}
    if prep.cache.get("info"):
        info["compensation"] = [prep.cache["info"][key] for key in sorted(prep.cache["info"])
                                if key[1] == ("quantisation" in effects)]
    info["tile_index"] = [list(t.index) for t in prep.tiles]
    g = np.stack([programmed_conductances(prep, k, effects) for k in range(len(prep.tiles))])
    return MVMResult(ideal_outputs(prep), y_q, ys, rows, info, g)


def load_mvm_result(path) -> MVMResult:
    """An :class:`MVMResult` from its ``.npz`` (the budget as a list of dicts)."""
    import json
    with np.load(path, allow_pickle=False) as data:
        y = {eng: np.asarray(data[key]) for eng, key in
             (("nodal", "y_nodal"), ("ngspice", "y_spice"), ("ideal", "y_ideal_circuit"))
             if key in data.files}
        return MVMResult(np.asarray(data["y_ideal"]), np.asarray(data["y_ideal_quantised"]), y,
                         json.loads(str(data["budget"])), json.loads(str(data["info"])),
                         np.asarray(data["conductances"]) if "conductances" in data.files
                         else None)
