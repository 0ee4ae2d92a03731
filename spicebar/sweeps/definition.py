"""Sweep files: a TOML description that expands into points, each a spec and inputs.

    [sweep]                       # how every point is run and scored
    models = ["ideal", "first_order", "nodal"]   # or "package.module:function"
    reference = "ngspice"         # or "nodal"
    ngspice_max_cells = 16384     # larger arrays are scored against nodal (said in the table)
    timeout_s = 120               # ngspice wall-time limit per point, seconds
    adc_bits = 8                  # the ADC that defines an output LSB
    keep_netlists = false         # keep netlists of points that succeeded (failed ones always)
    trust_netlist_cards = false   # allow raw netlist_cards (they run as code in ngspice)

    [fixed]                       # parameters shared by every point
    g_on = 1e-4
    [grid]                        # every combination (first key varies slowest)
    size = [16, 32, 64, 128]
    r_wire = [0.5, 1.0, 2.0]
    seed = [0, 1, 2, 3]
    [[points]]                    # optional explicit points, each over [fixed]
    size = 8

Point parameters (:data:`POINT_PARAMS`): array size, conductance and input
statistics and the seed; any field of :class:`~spicebar.circuit.spec.CrossbarSpec` other
than ``conductances`` is a parameter too (``r_wl``, ``r_driver``, ``drive``...,
and every field a later version adds, such as a cell kind), so new spec fields
become sweepable without a change here. A converter for a field whose TOML form
differs from its Python form goes into :data:`FIELD_CONVERTERS`.
``{here}`` in a string parameter stands for the sweep file's folder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import __version__
from .._validate import choice, number, time_limit_s
from ..errors import InputFileError, SpecError
from ..circuit.random_arrays import G_DISTS, INPUT_DISTS, draw_conductances, draw_inputs
from ..circuit.spec import CrossbarSpec
from ..netlist.cards import trusted_card_lines

#: Sweep-only parameters and their defaults (units in the comments).
POINT_PARAMS: dict[str, Any] = {
    "size": None,             # rows = cols (overridden by rows / cols)
    "rows": 32, "cols": 32,
    "r_wire": None,           # ohm, sets r_wl and r_bl (overridden by them)
    "g_on": 1e-4,             # S, the most conductive cell state
    "on_off": 50.0,           # g_on / g_off, >= 1
    "g_dist": "loguniform",   # loguniform | uniform in [g_off, g_on], or binary
    "g_density": 0.5,         # binary: fraction of cells at g_on
    "v_max": 0.2,             # V, the largest input
    "input_dist": "uniform",  # uniform in [0, v_max] | binary (0 or v_max) | full (all v_max)
    "input_density": 0.5,     # binary: fraction of rows at v_max
    "batch": 4,               # input vectors per point
    "seed": 0,                # draws conductances, then inputs
    "timeout_s": None,        # per-point override of [sweep] timeout_s
    "netlist_cards": [],      # raw netlist lines before .op: trusted code, needs
                              # trust_netlist_cards = true (or --trust-netlist-cards)
}
SWEEP_KEYS = ("models", "reference", "ngspice_max_cells", "timeout_s", "adc_bits",
              "keep_netlists", "name", "trust_netlist_cards")
#: Converters for spec fields whose TOML value is not the Python value (field -> fn).
def _cell_from_toml(value: Any):
    """``cell = "1s1r"`` or ``cell = {kind = "1s1r", nonlinearity = 100}`` -> a cell spec."""
    from ..circuit.cells import make_cell
    if isinstance(value, str):
        return make_cell(value)
    if isinstance(value, dict) and "kind" in value:
        params = {k: x for k, x in value.items() if k != "kind"}
        return make_cell(value["kind"], **params)
    raise SpecError("cell", f"is {value!r}", 'a kind name ("passive", "nonlinear", "1s1r", '
                    '"1t1r") or a table with kind = ... and that kind\'s parameters')


FIELD_CONVERTERS: dict[str, Callable[[Any], Any]] = {"cell": _cell_from_toml}
#: Bumped when the meaning of a stored point changes: old results are then not reused.
FORMAT_VERSION = 1
#: Most points a sweep file may expand into (counted before anything is expanded): each
#: point is hashed from its netlist text before the first one runs.
MAX_POINTS = 20_000
#: Most cells of one point (as CrossbarSpec), and most input values (batch x rows).
MAX_POINT_CELLS = 2048 * 2048
MAX_POINT_INPUTS = 1 << 24


def spec_fields() -> tuple[str, ...]:
    """Fields of CrossbarSpec a sweep may set (all but ``conductances``)."""
    return tuple(f.name for f in dataclasses.fields(CrossbarSpec) if f.name != "conductances")


def allowed_params() -> tuple[str, ...]:
    return tuple(POINT_PARAMS) + tuple(f for f in spec_fields() if f not in POINT_PARAMS)


@dataclass(frozen=True)
class SweepOptions:
    """How each point is run and scored (the ``[sweep]`` table)."""

    models: tuple[str, ...] = ("ideal", "first_order", "nodal")
    reference: str = "ngspice"
    ngspice_max_cells: int = 128 * 128
    timeout_s: float = 120.0
    adc_bits: int = 8
    keep_netlists: bool = False
    name: str = "sweep"
    trust_netlist_cards: bool = False  # raw netlist_cards allowed: they run as code in ngspice

    def __post_init__(self) -> None:
        from ..circuit.converters import ADCSpec
        from ..analysis.models import resolve_model
        if isinstance(self.models, str) or not self.models:
            raise SpecError("sweep.models", f"is {self.models!r}", "a non-empty list of model names")
        object.__setattr__(self, "models", tuple(self.models))
        for m in self.models:
            if ":" not in m:  # user models are imported by the workers, not here
                resolve_model(m)
        choice("sweep.reference", self.reference, ("ngspice", "nodal"))
        number("sweep.ngspice_max_cells", self.ngspice_max_cells, low=1, integer=True)
        object.__setattr__(self, "timeout_s", time_limit_s("sweep.timeout_s", self.timeout_s))
        ADCSpec(self.adc_bits, 0.0, 1.0)  # validates the bits
        for name in ("keep_netlists", "trust_netlist_cards"):
            if not isinstance(getattr(self, name), bool):
                raise SpecError(f"sweep.{name}", f"is {getattr(self, name)!r}", "true or false")


@dataclass(frozen=True)
class Point:
    """One point: its position in the sweep and its parameters (TOML values)."""

    index: int
    params: dict = field(default_factory=dict)

    def reference_for(self, options: SweepOptions) -> tuple[str, str]:
        """The reference engine of this point and a note when it is not the chosen one."""
        rows, cols = shape_of(self.params)
        if options.reference == "ngspice" and rows * cols > options.ngspice_max_cells:
            return "nodal", (f"nodal reference: {rows * cols} cells > ngspice_max_cells="
                             f"{options.ngspice_max_cells} (ngspice too slow)")
        return options.reference, ""


@dataclass(frozen=True)
class Sweep:
    options: SweepOptions
    points: tuple[Point, ...]
    swept: tuple[str, ...]  # parameters that vary across points, in file order
    source: str = ""        # the TOML text


def shape_of(params: dict) -> tuple[int, int]:
    size = params.get("size")
    rows = params.get("rows", size if size is not None else POINT_PARAMS["rows"])
    cols = params.get("cols", size if size is not None else POINT_PARAMS["cols"])
    for name, n in (("rows", rows), ("cols", cols)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise SpecError(name if name in params else "size", f"is {n!r}", "an integer >= 1")
    return rows, cols


def _check_keys(table: dict, where: str) -> None:
    allowed = allowed_params()
    for k in table:
        if k not in allowed:
            raise SpecError(f"{where}.{k}", "is not a sweep parameter", ", ".join(allowed))


def _expand_here(value, here: str):
    if isinstance(value, str):
        return value.replace("{here}", here)
    if isinstance(value, list):
        return [_expand_here(v, here) for v in value]
    if isinstance(value, dict):  # e.g. cell = {kind = "1t1r", model = "{here}/card.lib"}
        return {k: _expand_here(v, here) for k, v in value.items()}
    return value


def parse_sweep(data: dict, here: str | Path = ".", source: str = "",
                trust_netlist_cards: bool = False) -> Sweep:
    """A :class:`Sweep` from a parsed TOML mapping; every point is validated.

    ``netlist_cards`` reach ngspice as written (they may run any ngspice command), so a
    point that has them is refused unless the file says ``trust_netlist_cards = true``
    or the caller passes ``trust_netlist_cards=True`` (``--trust-netlist-cards``).
    """
    unknown = set(data) - {"sweep", "fixed", "grid", "points"}
    if unknown:
        raise SpecError(sorted(unknown)[0], "is not a sweep table", "sweep, fixed, grid, points")
    opts = dict(data.get("sweep", {}))
    for k in opts:
        if k not in SWEEP_KEYS:
            raise SpecError(f"sweep.{k}", "is not a sweep option", ", ".join(SWEEP_KEYS))
    if "models" in opts and isinstance(opts["models"], list):
        opts["models"] = tuple(opts["models"])
    if trust_netlist_cards:
        opts["trust_netlist_cards"] = True
    options = SweepOptions(**opts)
    here = str(Path(here).resolve())
    fixed = dict(data.get("fixed", {}))
    grid = dict(data.get("grid", {}))
    extra = data.get("points", [])
    _check_keys(fixed, "fixed")
    _check_keys(grid, "grid")
    if not isinstance(extra, list):
        raise SpecError("points", "is not an array of tables", "[[points]] tables")
    for k, e in enumerate(extra):
        _check_keys(e, f"points[{k}]")
    axes = [(k, v if isinstance(v, list) and k != "netlist_cards" else [v]) for k, v in grid.items()]
    for k, vals in axes:
        if not vals:
            raise SpecError(f"grid.{k}", "is an empty list", "at least one value")
    count = len(extra) + (math.prod(len(vals) for _, vals in axes) if axes else 0)
    if count > MAX_POINTS:  # counted, not expanded
        raise SpecError("grid", f"expands into {count} points", f"at most {MAX_POINTS} points "
                        "per sweep file (split it, or sweep fewer values)")
    combos = [dict(zip([a for a, _ in axes], c)) for c in itertools.product(*[v for _, v in axes])]
    if not axes and not extra:
        combos = [{}]
    params_list = [{**fixed, **c} for c in combos if axes] + [{**fixed, **e} for e in extra]
    if not params_list:
        params_list = [dict(fixed)]
    points = tuple(Point(i, {k: _expand_here(v, here) for k, v in p.items()})
                   for i, p in enumerate(params_list))
    checked = set()
    for p in points:  # validate every point before anything runs (once per distinct spec)
        key = json.dumps({k: v for k, v in p.params.items() if k != "seed"}, sort_keys=True,
                         default=str)
        try:
            if "seed" in p.params:
                _check_seed(p.params["seed"])
            if key not in checked:
                check_point(p.params)
                checked.add(key)
        except SpecError as exc:
            raise SpecError(f"point {p.index} ({_short(p.params)}): {exc.parameter}", exc.problem,
                            exc.allowed) from None
    if not options.trust_netlist_cards:
        raw = next((p for p in points if p.params.get("netlist_cards")), None)
        if raw is not None:
            raise SpecError(f"point {raw.index}: netlist_cards", "are raw netlist lines, which "
                            "run as code in ngspice, and this sweep does not trust them",
                            "trust_netlist_cards = true in [sweep], or --trust-netlist-cards")
    keys = list(dict.fromkeys(k for p in points for k in p.params))
    swept = tuple(k for k in keys
                  if len({json.dumps(p.params.get(k), sort_keys=True) for p in points}) > 1)
    return Sweep(options, points, swept, source)


def load_sweep(path: str | Path, trust_netlist_cards: bool = False) -> Sweep:
    """Read and validate a sweep file (a regular UTF-8 file of at most
    :data:`~spicebar.io.MAX_TEXT_FILE_BYTES`; see :func:`parse_sweep`)."""
    from ..io import read_text_file
    p = Path(path)
    text = read_text_file(p, "SWEEP.toml")
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise InputFileError("SWEEP.toml", f"{str(p)!r} is not valid TOML "
                             f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    return parse_sweep(data, p.parent, text, trust_netlist_cards)


def _short(params: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items() if k != "netlist_cards")


def _check_seed(seed) -> None:
    number("seed", seed, low=0, integer=True)


def _check_params(params: dict) -> dict:
    """Every point parameter but the spec fields checked, cheaply (nothing drawn);
    returns the parameters with their defaults."""
    p = {**{k: v for k, v in POINT_PARAMS.items()}, **params}
    rows, cols = shape_of(params)
    if rows * cols > MAX_POINT_CELLS:
        raise SpecError("size", f"is {rows}x{cols} = {rows * cols} cells",
                        f"at most {MAX_POINT_CELLS} cells")
    _check_seed(p["seed"])
    batch = p["batch"]
    number("batch", batch, low=1, integer=True)
    if batch * rows > MAX_POINT_INPUTS:
        raise SpecError("batch", f"is {batch} vectors of {rows} rows",
                        f"batch x rows <= {MAX_POINT_INPUTS}")
    for name in ("g_on", "v_max"):
        number(name, p[name], low=0, low_open=True)
    number("on_off", p["on_off"], low=1)
    for name in ("g_density", "input_density"):
        number(name, p[name], low=0, high=1)
    choice("g_dist", p["g_dist"], G_DISTS)
    choice("input_dist", p["input_dist"], INPUT_DISTS)
    trusted_card_lines("netlist_cards", p["netlist_cards"])
    if p["timeout_s"] is not None:
        time_limit_s("timeout_s", p["timeout_s"])
    return p


def _spec_kwargs(params: dict, p: dict) -> dict:
    kwargs = {}
    for f in spec_fields():
        if f in params:
            value = params[f]
            kwargs[f] = FIELD_CONVERTERS[f](value) if f in FIELD_CONVERTERS else value
    if p["r_wire"] is not None:
        kwargs.setdefault("r_wl", p["r_wire"])
        kwargs.setdefault("r_bl", p["r_wire"])
    return kwargs


def check_point(params: dict) -> None:
    """Validate one point without drawing its random arrays: the parameters, and the
    spec on conductances at the point's extremes (``g_on`` and ``g_on / on_off``) with
    inputs of ``v_max`` (SpecError naming the parameter)."""
    from ..circuit.spec import validate_inputs
    p = _check_params(params)
    rows, cols = shape_of(params)
    g = np.full((rows, cols), float(p["g_on"]))
    g[0, 0] = float(p["g_on"]) / float(p["on_off"])
    spec = CrossbarSpec(g, **_spec_kwargs(params, p))
    v = np.full((1, rows), float(p["v_max"]))
    validate_inputs(v, rows)
    from ..circuit.spec import check_cell_voltages
    check_cell_voltages(spec, v, "v_max")


def build_point(params: dict) -> tuple[CrossbarSpec, np.ndarray]:
    """The spec and inputs ``(batch, rows)`` V of one point (deterministic in its seed)."""
    p = _check_params(params)
    rows, cols = shape_of(params)
    seed, batch = p["seed"], p["batch"]

    rng = np.random.default_rng(seed)
    g_on, g_off = float(p["g_on"]), float(p["g_on"]) / float(p["on_off"])
    g = draw_conductances(rng, rows, cols, g_off, g_on, p["g_dist"], p["g_density"])
    v = draw_inputs(rng, batch, rows, float(p["v_max"]), p["input_dist"], p["input_density"])

    return CrossbarSpec(g, **_spec_kwargs(params, p)), v


def point_key(params: dict, options: SweepOptions, ngspice_version: str = "") -> str:
    """Content address of a point's result: a hash of its netlist text, its inputs,
    how it is scored, and the spicebar (and, for ngspice references, ngspice) version.

    Changing anything that can change the numbers changes the key, so an
    interrupted sweep resumes safely and an edited sweep reruns what changed.
    """
    from ..circuit.elaboration import elaborate
    from ..netlist.writer import format_netlist
    spec, v = build_point(params)
    reference, _ = Point(0, params).reference_for(options)
    h = hashlib.sha256()
    h.update(f"spicebar-sweep-{FORMAT_VERSION} spicebar-{__version__}\n".encode())
    if reference == "ngspice":
        h.update(f"ngspice-{ngspice_version}\n".encode())
    h.update(format_netlist(elaborate(spec), v[0], extra_cards=params.get("netlist_cards", ()))
             .encode())
    h.update(np.ascontiguousarray(v, dtype="<f8").tobytes())
    h.update(json.dumps({"models": list(options.models), "reference": reference,
                         "adc_bits": options.adc_bits}, sort_keys=True).encode())
    return h.hexdigest()[:20]
