"""The bad-input catalogue: every entry gets a clear error naming the parameter,
before anything is written or run.

API entries must raise SpecError whose ``parameter`` is the one named and whose text
says what is allowed. CLI entries must exit with code 2 and print exactly one line
``spicebar: error: ...`` naming the parameter, with no traceback, and leave no output.
"""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

from spicebar import CrossbarSpec, SpecError, simulate
from spicebar.cli.main import main
from spicebar.circuit.converters import ADCSpec, DACSpec
from spicebar.engines.memory import ResourceError
from spicebar.circuit.spec import validate_inputs

G = np.full((3, 4), 1e-4)
V = np.full((2, 3), 0.1)


@dataclass(frozen=True)
class Bad:
    id: str
    call: Callable[[], object]
    parameter: str


def huge():
    return np.lib.stride_tricks.as_strided(np.array([1e-4]), shape=(4096, 4097), strides=(0, 0))


API = [
    Bad("G nan", lambda: CrossbarSpec([[1e-4, np.nan]]), "conductances"),
    Bad("G +inf", lambda: CrossbarSpec([[1e-4, np.inf]]), "conductances"),
    Bad("G -inf", lambda: CrossbarSpec([[-np.inf]]), "conductances"),
    Bad("G zero", lambda: CrossbarSpec([[1e-4, 0.0]]), "conductances"),
    Bad("G negative", lambda: CrossbarSpec([[1e-4, -1e-6]]), "conductances"),
    Bad("G no rows", lambda: CrossbarSpec(np.zeros((0, 3))), "conductances"),
    Bad("G no cols", lambda: CrossbarSpec(np.zeros((3, 0))), "conductances"),
    Bad("G 1-D", lambda: CrossbarSpec(np.full(4, 1e-4)), "conductances"),
    Bad("G 3-D", lambda: CrossbarSpec(np.full((2, 2, 2), 1e-4)), "conductances"),
    Bad("G scalar", lambda: CrossbarSpec(1e-4), "conductances"),
    Bad("G strings", lambda: CrossbarSpec([["1e-4", "2e-4"]]), "conductances"),
    Bad("G complex", lambda: CrossbarSpec([[1e-4 + 1e-5j]]), "conductances"),
    Bad("G ragged", lambda: CrossbarSpec([[1e-4, 1e-4], [1e-4]]), "conductances"),
    Bad("G None", lambda: CrossbarSpec(None), "conductances"),
    Bad("G absurd size", lambda: CrossbarSpec(huge()), "conductances"),
    Bad("r_wl negative", lambda: CrossbarSpec(G, r_wl=-0.1), "r_wl"),
    Bad("r_wl nan", lambda: CrossbarSpec(G, r_wl=float("nan")), "r_wl"),
    Bad("r_wl inf", lambda: CrossbarSpec(G, r_wl=float("inf")), "r_wl"),
    Bad("r_wl text", lambda: CrossbarSpec(G, r_wl="1 ohm"), "r_wl"),
    Bad("r_wl per-segment shape", lambda: CrossbarSpec(G, r_wl=np.ones((3, 4))), "r_wl"),
    Bad("r_bl negative", lambda: CrossbarSpec(G, r_bl=-1), "r_bl"),
    Bad("r_bl per-segment negative", lambda: CrossbarSpec(G, r_bl=-np.ones((4, 4))), "r_bl"),
    Bad("r_bl per-segment nan", lambda: CrossbarSpec(G, r_bl=np.full((4, 4), np.nan)), "r_bl"),
    Bad("r_driver negative", lambda: CrossbarSpec(G, r_driver=-5), "r_driver"),
    Bad("r_sense nan", lambda: CrossbarSpec(G, r_sense=float("nan")), "r_sense"),
    Bad("r_sense bool", lambda: CrossbarSpec(G, r_sense=True), "r_sense"),
    Bad("drive unknown", lambda: CrossbarSpec(G, drive="top"), "drive"),
    Bad("sense unknown", lambda: CrossbarSpec(G, sense="middle"), "sense"),
    Bad("label newline injects .include",
        lambda: CrossbarSpec(G, label="x\n.include /etc/passwd"), "label"),
    Bad("label carriage return", lambda: CrossbarSpec(G, label="a\r.end"), "label"),
    Bad("label NUL", lambda: CrossbarSpec(G, label="a\x00b"), "label"),
    Bad("label too long", lambda: CrossbarSpec(G, label="x" * 81), "label"),
    Bad("label not text", lambda: CrossbarSpec(G, label=42), "label"),
    Bad("inputs wrong rows", lambda: validate_inputs(np.ones((2, 5)), 3), "inputs"),
    Bad("inputs nan", lambda: validate_inputs([0.1, np.nan, 0.1], 3), "inputs"),
    Bad("inputs empty batch", lambda: validate_inputs(np.zeros((0, 3)), 3), "inputs"),
    Bad("inputs 3-D", lambda: validate_inputs(np.zeros((1, 1, 3)), 3), "inputs"),
    Bad("inputs text", lambda: validate_inputs(["a", "b", "c"], 3), "inputs"),
    Bad("engine unknown", lambda: simulate(CrossbarSpec(G), V, "hspice"), "engine"),
    Bad("timeout zero", lambda: simulate(CrossbarSpec(G), V, "ngspice", timeout_s=0), "timeout_s"),
    Bad("timeout negative", lambda: simulate(CrossbarSpec(G), V, "ngspice", timeout_s=-1),
        "timeout_s"),
    Bad("memory beyond the limit",
        lambda: simulate(CrossbarSpec(np.full((200, 200), 1e-4)), np.ones(200), "nodal",
                         memory_limit_bytes=10_000_000), "array size"),
    Bad("memory limit negative",
        lambda: simulate(CrossbarSpec(G), V, "nodal", memory_limit_bytes=-5), "memory_limit_bytes"),
    Bad("memory limit nan", lambda: simulate(CrossbarSpec(G), V, "nodal",
                                             memory_limit_bytes=float("nan")), "memory_limit_bytes"),
    Bad("session not a session", lambda: simulate(CrossbarSpec(G), V, "ngspice", session="warm"),
        "session"),
    Bad("adc bits zero", lambda: ADCSpec(0, 0.0, 1.0), "adc.bits"),
    Bad("adc range inverted", lambda: ADCSpec(8, 1.0, -1.0), "adc.x_max"),
    Bad("dac bits fractional", lambda: DACSpec(2.5, 0.0, 1.0), "dac.bits"),
]

# Hardening II (issue 13): physical bounds, dtypes, model cards, sweeps; each named up front.
HOSTILE_CARD = ".model m nmos (level=1 vto=0.5 kp=1e-4)\n.control\nshell touch /tmp/spicebar-pwned\n.endc\n"


def _card(text: str) -> str:
    """A card file with ``text`` in a private folder (for the API entries)."""
    import tempfile
    folder = tempfile.mkdtemp(prefix="spicebar-card-")
    path = f"{folder}/card.lib"
    with open(path, "w") as f:
        f.write(text)
    return path


def _sweep(text: str):
    import tomllib

    from spicebar.sweeps.definition import parse_sweep
    return parse_sweep(tomllib.loads(text))


def _check_models(models: str):
    import tomllib

    from spicebar.sweeps.definition import parse_sweep
    from spicebar.sweeps.run import check_models
    return check_models(parse_sweep(tomllib.loads(f"[sweep]\nmodels = {models}\n"
                                                   "reference = 'nodal'\n[fixed]\nsize = 2\n")).options)


def _nonlinear(v):
    from spicebar.circuit.cells import NonlinearCell
    return simulate(CrossbarSpec(np.full((2, 2), 1e-4), r_wl=1, r_bl=1, cell=NonlinearCell()), v, "nodal")


def _selector(v):
    from spicebar.circuit.cells import SelectorCell
    return simulate(CrossbarSpec(np.full((2, 2), 1e-4), r_wl=1, r_bl=1, cell=SelectorCell()), v, "nodal")


def _integrator(**kw):
    from spicebar.circuit.readout import IntegratorSpec
    return IntegratorSpec(**{"c_int_f": 1e-12, "t_int_s": 1e-7, **kw})


def _transistor(model):
    from spicebar.circuit.cells import TransistorCell
    return TransistorCell(vg_on_volt=1.8, model=model)


API += [
    Bad("G bool", lambda: CrossbarSpec(np.ones((2, 2), dtype=bool)), "conductances"),
    Bad("G timedelta", lambda: CrossbarSpec(np.ones((2, 2), dtype="m8[s]")), "conductances"),
    Bad("G datetime", lambda: CrossbarSpec(np.ones((2, 2), dtype="M8[s]")), "conductances"),
    Bad("G 1e30 S", lambda: CrossbarSpec(np.full((2, 2), 1e30), r_wl=1, r_bl=1), "conductances"),
    Bad("G below 1e-15 S", lambda: CrossbarSpec(np.full((2, 2), 1e-20)), "conductances"),
    Bad("G * r too large", lambda: CrossbarSpec(np.full((2, 2), 1e3), r_wl=1e4), "conductances"),
    Bad("G * r too small", lambda: CrossbarSpec(np.full((2, 2), 1e-12), r_wl=1e-8), "conductances"),
    Bad("r_wl above 1 GOhm", lambda: CrossbarSpec(G, r_wl=1e12), "r_wl"),
    Bad("r_bl below 1 nOhm", lambda: CrossbarSpec(G, r_bl=1e-12), "r_bl"),
    Bad("r_bl per-segment above 1 GOhm", lambda: CrossbarSpec(G, r_bl=np.full((4, 4), 1e10)), "r_bl"),
    Bad("r_driver above 1 GOhm", lambda: CrossbarSpec(G, r_driver=1e10), "r_driver"),
    Bad("inputs 10 kV", lambda: validate_inputs([1e4, 0, 0], 3), "inputs"),
    Bad("inputs bool", lambda: validate_inputs(np.ones(3, dtype=bool), 3), "inputs"),
    Bad("inputs timedelta", lambda: validate_inputs(np.ones(3, dtype="m8[ms]"), 3), "inputs"),
    Bad("nonlinear cells at 180 V", lambda: _nonlinear([180.0, 180.0]), "inputs"),
    Bad("1s1r cells at 100 V", lambda: _selector([100.0, 0.0]), "inputs"),
    Bad("adc range 1e308", lambda: ADCSpec(8, -1e308, 1e308), "adc.x_min"),
    Bad("dac range 1e9 V", lambda: DACSpec(8, 0.0, 1e9), "dac.v_max"),
    Bad("t_int 1e6 s", lambda: _integrator(t_int_s=1e6), "readout.t_int_s"),
    Bad("c_int 1 F", lambda: _integrator(c_int_f=1.0), "readout.c_int_f"),
    Bad("t_settle 10 s", lambda: _integrator(t_settle_s=10.0), "readout.t_settle_s"),
    Bad("model card with .control", lambda: _transistor(_card(HOSTILE_CARD)), "model"),
    Bad("model card with .include", lambda: _transistor(_card(".include /etc/passwd\n")), "model"),
    Bad("model card with an element", lambda: _transistor(
        _card(".model m nmos (level=1)\nrx in_0 0 1\n")), "model"),
    Bad("model card with .temp", lambda: _transistor(_card(".model m nmos (level=1)\n.temp 80\n")),
        "model"),
    Bad("model card pmos", lambda: _transistor(_card(".model m pmos (level=1 vto=-0.5)\n")), "model"),
    Bad("model card /dev/zero", lambda: _transistor("/dev/zero"), "model"),
    Bad("model card a folder", lambda: _transistor("/tmp"), "model"),
    Bad("model card not UTF-8", lambda: _transistor(_binary_card()), "model"),
    Bad("sweep size 10000", lambda: _sweep("[fixed]\nsize = 10000\n"), "size"),
    Bad("sweep of a million points", lambda: _sweep(
        "[grid]\nseed = " + str(list(range(1000))) + "\nbatch = " + str(list(range(1, 1001)))), "grid"),
    Bad("sweep batch x rows too big", lambda: _sweep("[fixed]\nsize = 1024\nbatch = 100000\n"), "batch"),
    Bad("sweep raw cards untrusted", lambda: _sweep("[fixed]\nnetlist_cards = ['.temp 80']\n"),
        "netlist_cards"),
    Bad("sweep keep_netlists not bool", lambda: _sweep("[sweep]\nkeep_netlists = 'yes'\n"),
        "sweep.keep_netlists"),
    Bad("sweep g_on 1e30", lambda: _sweep("[fixed]\ng_on = 1e30\nr_wire = 1.0\n"), "conductances"),
    Bad("sweep v_max 1e4 V", lambda: _sweep("[fixed]\nv_max = 1e4\n"), "inputs"),
    Bad("sweep model not importable", lambda: _check_models("['nosuchpkg.mod:fn']"), "sweep.models"),
    Bad("sweep model not callable", lambda: _check_models("['tests.user_models:NOT_A_MODEL']"),
        "sweep.models"),
    Bad("sweep model raises", lambda: _check_models("['tests.user_models:raises']"), "sweep.models"),
    Bad("sweep model wrong shape", lambda: _check_models("['tests.user_models:wrong_shape']"),
        "sweep.models"),
]


def _closed_session():
    from spicebar.engines.ngspice.session import NgspiceSession
    session = NgspiceSession()
    session.close()
    return session


def _mvm(timeout_s):
    from spicebar.hardware.mvm import MVMSpec, run_mvm
    return run_mvm(np.eye(4), np.ones((1, 4)), MVMSpec(array_rows=4, array_cols=4),
                   engines=("nodal",), budget=False, progress=False, timeout_s=timeout_s)


API += [  # Hardening III: one check for every time limit, booleans are not numbers
    Bad("timeout True", lambda: simulate(CrossbarSpec(G), V, "ngspice", timeout_s=True),
        "timeout_s"),
    Bad("timeout nan", lambda: simulate(CrossbarSpec(G), V, "nodal", timeout_s=float("nan")),
        "timeout_s"),
    Bad("timeout a year", lambda: simulate(CrossbarSpec(G), V, "nodal", timeout_s=3.2e7),
        "timeout_s"),
    Bad("api mvm timeout zero", lambda: _mvm(0), "timeout_s"),
    Bad("api mvm timeout negative", lambda: _mvm(-1), "timeout_s"),
    Bad("sweep timeout_s = true", lambda: _sweep("[sweep]\ntimeout_s = true\n"),
        "sweep.timeout_s"),
    Bad("sweep ngspice_max_cells = true", lambda: _sweep("[sweep]\nngspice_max_cells = true\n"),
        "sweep.ngspice_max_cells"),
    Bad("sweep point timeout_s = true", lambda: _sweep("[fixed]\ntimeout_s = true\n"), "timeout_s"),
    Bad("sweep point timeout_s = 0", lambda: _sweep("[fixed]\ntimeout_s = 0\n"), "timeout_s"),
    Bad("sweep g_density = true", lambda: _sweep("[fixed]\ng_density = true\n"), "g_density"),
    Bad("sweep input_density = false", lambda: _sweep("[fixed]\ninput_density = false\n"),
        "input_density"),
    Bad("sweep on_off = true", lambda: _sweep("[fixed]\non_off = true\n"), "on_off"),
    Bad("sweep seed = true", lambda: _sweep("[fixed]\nseed = true\n"), "seed"),
    Bad("sweep batch = true", lambda: _sweep("[fixed]\nbatch = true\n"), "batch"),
    Bad("sweep r_wire = true", lambda: _sweep("[fixed]\nr_wire = true\n"), "r_wl"),
    Bad("api workdir is a file", lambda: simulate(CrossbarSpec(G), V, "ngspice",
                                               workdir=_card("")), "workdir"),
    Bad("api workdir with a newline", lambda: simulate(CrossbarSpec(G), V, "ngspice",
                                                    workdir="/tmp/a\nb"), "workdir"),
    Bad("session closed", lambda: simulate(CrossbarSpec(G), V, "ngspice",
                                           session=_closed_session()), "session"),
    Bad("model card kp = 1e300", lambda: _transistor(
        _card(".model m nmos (level=1 vto=0.5 kp=1e300)\n")), "model"),
]


def _binary_card() -> str:
    import tempfile
    folder = tempfile.mkdtemp(prefix="spicebar-card-")
    with open(f"{folder}/card.lib", "wb") as f:
        f.write(b".model m nmos (level=1 vto=0.5\xff\xfe)\n")
    return f"{folder}/card.lib"



@pytest.mark.parametrize("bad", API, ids=[b.id for b in API])
def test_api_bad_input(bad):
    with pytest.raises(SpecError) as err:
        bad.call()
    # a sweep names the point too: "point 0 (size=10000): size"
    assert (err.value.parameter == bad.parameter
            or err.value.parameter.startswith("point ")
            and err.value.parameter.endswith(f": {bad.parameter}")), str(err.value)
    assert str(err.value).startswith(f"{err.value.parameter}: ")
    if bad.id == "memory beyond the limit":
        assert isinstance(err.value, ResourceError) and "GB" in str(err.value)


def _files(d):
    np.save(d / "G.npy", G)
    np.save(d / "V.npy", V)
    np.save(d / "V5.npy", np.ones((2, 5)))
    (d / "corrupt.npy").write_bytes(b"\x93NUMPY garbage")
    np.save(d / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (d / "text.csv").write_text("1e-4,abc\n1e-4,1e-4\n")
    (d / "ragged.csv").write_text("1e-4,1e-4\n1e-4\n")
    (d / "empty.csv").write_text("")
    (d / "binary.csv").write_bytes(bytes(range(256)))
    (d / "G.json").write_text("[[1e-4]]")
    np.save(d / "neg.npy", -G)
    (d / "adir.npy").mkdir()
    _hostile_files(d)


def _hostile_files(d):
    """Inputs of the Hardening II catalogue (issue 13)."""
    import os
    os.mkfifo(d / "fifo.npy")
    os.mkfifo(d / "fifo.toml")
    os.mkfifo(d / "fifo.lib")
    (d / "zero.csv").symlink_to("/dev/zero")
    (d / "link.npz").symlink_to(d / "G.npy")
    np.save(d / "bool.npy", np.ones((3, 4), dtype=bool))
    np.save(d / "td.npy", np.ones((3, 4), dtype="m8[s]"))
    # a .npy whose (format 2) header claims 1 GiB: refused before numpy parses it
    (d / "header.npy").write_bytes(b"\x93NUMPY\x02\x00" + (1 << 30).to_bytes(4, "little") + b"{")
    (d / "utf8.csv").write_bytes(b"1e-4,1e-4\n\xff\xfe,1\n")
    card = ".model m nmos (level=1 vto=0.5 kp=1e-4)\n"
    (d / "control.lib").write_text(card + ".control\nshell touch pwned\n.endc\n")
    (d / "include.lib").write_text(card + ".include /etc/passwd\n")
    (d / "element.lib").write_text(card + "rx in_0 0 1\n")
    (d / "temp.lib").write_text(card + ".temp 80\n")
    (d / "card.sp").write_text(card)
    (d / "afile").write_text("")
    (d / "absurd.lib").write_text(".model m nmos (level=1 vto=0.5 kp=1e300)\n")
    (d / "text.npz").write_text("not an archive\n")
    np.savez(d / "pickled.npz", time=np.array([{"a": 1}], dtype=object))
    np.savez(d / "dc.npz", currents=np.zeros((1, 2)))
    (d / "objsweep").mkdir()
    np.savez(d / "objsweep" / "results.npz", model=np.array([{"a": 1}], dtype=object))
    np.save(d / "big.npy", np.full((3, 4), 1e30))
    sweep = "[sweep]\nmodels = ['ideal']\nreference = 'nodal'\n[fixed]\nsize = 2\n"
    (d / "utf8.toml").write_bytes(sweep.encode() + b"# \xff\n")
    (d / "nested.toml").write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    (d / "ok.toml").write_text(sweep)
    (d / "size.toml").write_text(sweep.replace("size = 2", "size = 10000"))
    (d / "cards.toml").write_text(sweep + "netlist_cards = ['.control', 'shell touch pwned', '.endc']\n")
    (d / "model.toml").write_text(sweep.replace("['ideal']", "['tests.user_models:raises']"))
    (d / "grid.toml").write_text(sweep + "[grid]\nseed = " + str(list(range(200)))
                                 + "\nbatch = " + str(list(range(1, 201))) + "\n")


CLI = [  # (id, argv with {d} for the folder, parameter named in the message)
    ("missing file", "simulate -G {d}/nope.npy -V {d}/V.npy -o {d}/o.npz", "conductances"),
    ("folder as file", "simulate -G {d}/adir.npy -V {d}/V.npy -o {d}/o.npz", "conductances"),
    ("unknown suffix", "simulate -G {d}/G.json -V {d}/V.npy -o {d}/o.npz", "conductances"),
    ("corrupt npy", "simulate -G {d}/corrupt.npy -V {d}/V.npy -o {d}/o.npz", "conductances"),
    ("pickled npy", "simulate -G {d}/G.npy -V {d}/pickled.npy -o {d}/o.npz", "inputs"),
    ("csv with text", "simulate -G {d}/text.csv -V {d}/V.npy -o {d}/o.npz", "conductances"),
    ("csv ragged", "simulate -G {d}/ragged.csv -V {d}/V.npy -o {d}/o.npz", "conductances"),
    ("csv empty", "simulate -G {d}/empty.csv -V {d}/V.npy -o {d}/o.npz", "conductances"),
    ("csv binary", "simulate -G {d}/binary.csv -V {d}/V.npy -o {d}/o.npz", "conductances"),
    ("negative G file", "simulate -G {d}/neg.npy -V {d}/V.npy -o {d}/o.npz", "conductances"),
    ("batch/rows mismatch", "simulate -G {d}/G.npy -V {d}/V5.npy -o {d}/o.npz", "inputs"),
    ("r-wl not a number", "simulate -G {d}/G.npy -V {d}/V.npy --r-wl abc -o {d}/o.npz", "--r-wl"),
    ("r-bl negative", "simulate -G {d}/G.npy -V {d}/V.npy --r-bl -2 -o {d}/o.npz", "--r-bl"),
    ("cli engine unknown", "simulate -G {d}/G.npy -V {d}/V.npy --engine xyce -o {d}/o.npz", "--engine"),
    ("out suffix", "simulate -G {d}/G.npy -V {d}/V.npy -o {d}/o.txt", "--out"),
    ("out is a folder", "simulate -G {d}/G.npy -V {d}/V.npy -o {d}/adir.npy.npz", "--out"),
    ("out unwritable", "simulate -G {d}/G.npy -V {d}/V.npy -o /proc/spicebar/o.npz", "--out"),
    ("conductances missing", "simulate -V {d}/V.npy -o {d}/o.npz", "--conductances"),
    ("label injection", "generate -G {d}/G.npy --label x{nl}.include{sp}/etc/passwd -o {d}/x.cir",
     "label"),
    ("vector out of range", "generate -G {d}/G.npy -V {d}/V.npy --vector 7 -o {d}/x.cir",
     "--vector"),
    ("vector without inputs", "generate -G {d}/G.npy --vector 1 -o {d}/x.cir", "--vector"),
    ("netlist suffix", "generate -G {d}/G.npy -o {d}/x.npz", "--out"),
    ("engines unknown", "compare -G {d}/G.npy -V {d}/V.npy --engines ideal,hspice", "--engines"),
    ("engines just one", "compare -G {d}/G.npy -V {d}/V.npy --engines nodal", "--engines"),
    ("cli timeout negative", "simulate -G {d}/G.npy -V {d}/V.npy --engine ngspice --timeout -1 "
     "-o {d}/o.npz", "--timeout"),
    ("demo size zero", "demo --size 0 --out {d}/demo", "--size"),
    ("unknown command", "frobnicate", "frobnicate"),
]


CLI += [  # Hardening II (issue 13)
    ("G is a FIFO", "simulate -G {d}/fifo.npy -V {d}/V.npy -o {d}/o.npz", "conductances"),
    ("G links to /dev/zero", "simulate -G {d}/zero.csv -V {d}/V.npy -o {d}/o.npz", "conductances"),
    ("G bool npy", "simulate -G {d}/bool.npy -V {d}/V.npy -o {d}/o.npz", "conductances"),
    ("G timedelta npy", "simulate -G {d}/td.npy -V {d}/V.npy -o {d}/o.npz", "conductances"),
    ("G absurd npy header", "simulate -G {d}/header.npy -V {d}/V.npy -o {d}/o.npz", "conductances"),
    ("V invalid UTF-8 csv", "simulate -G {d}/G.npy -V {d}/utf8.csv -o {d}/o.npz", "inputs"),
    ("mos-model with .control", "simulate -G {d}/G.npy -V {d}/V.npy --cell 1t1r --vg-on 1.8 "
     "--mos-model {d}/control.lib --engine ngspice -o {d}/o.npz", "control.lib line 2"),
    ("mos-model with .include", "generate -G {d}/G.npy --cell 1t1r --vg-on 1.8 "
     "--mos-model {d}/include.lib -o {d}/x.cir", "include.lib line 2"),
    ("mos-model with an element", "generate -G {d}/G.npy --cell 1t1r --vg-on 1.8 "
     "--mos-model {d}/element.lib -o {d}/x.cir", "outside a subcircuit"),
    ("mos-model with .temp", "simulate -G {d}/G.npy -V {d}/V.npy --cell 1t1r --vg-on 1.8 "
     "--mos-model {d}/temp.lib -o {d}/o.npz", ".temp"),
    ("mos-model is a FIFO", "generate -G {d}/G.npy --cell 1t1r --vg-on 1.8 "
     "--mos-model {d}/fifo.lib -o {d}/x.cir", "FIFO"),
    ("generate over its own model", "generate -G {d}/G.npy --cell 1t1r --vg-on 1.8 "
     "--mos-model {d}/card.sp -o {d}/card.sp", "--out"),
    ("out links to an input", "simulate -G {d}/G.npy -V {d}/V.npy -o {d}/link.npz", "--out"),
    ("out below a file", "simulate -G {d}/G.npy -V {d}/V.npy -o {d}/afile/o.npz", "--out"),
    ("G of 1e30 S", "simulate -G {d}/big.npy -V {d}/V.npy --r-wl 1 -o {d}/o.npz", "conductances"),
    ("r-wl 1e12 ohm", "simulate -G {d}/G.npy -V {d}/V.npy --r-wl 1e12 -o {d}/o.npz", "--r-wl"),
    ("t-int 1e6 s", "simulate -G {d}/G.npy -V {d}/V.npy --readout integrator --t-int 1e6 "
     "--engine nodal -o {d}/o.npz", "readout.t_int_s"),
    ("adc-range 1e308", "simulate -G {d}/G.npy -V {d}/V.npy --readout integrator --adc-bits 8 "
     "--adc-range=-1e308,1e308 --engine nodal -o {d}/o.npz", "adc.x_min"),
    ("steps per window 2", "simulate -G {d}/G.npy -V {d}/V.npy --readout integrator "
     "--steps-per-window 2 --engine nodal -o {d}/o.npz", "--steps-per-window"),
    ("transient tol 0.5", "simulate -G {d}/G.npy -V {d}/V.npy --readout integrator "
     "--transient-tol 0.5 --engine nodal -o {d}/o.npz", "--transient-tol"),
    ("transient tol with ngspice", "simulate -G {d}/G.npy -V {d}/V.npy --readout integrator "
     "--transient-tol 1e-5 --engine ngspice -o {d}/o.npz", "--transient-tol"),
    ("demo seed negative", "demo --seed -1 --out {d}/demo", "--seed"),
    ("demo r-wire absurd", "demo --r-wire 1e12 --out {d}/demo", "--r-wire"),
    ("compare out is a file", "compare -G {d}/G.npy -V {d}/V.npy --engines ideal,nodal "
     "--out {d}/afile", "--out"),
    ("sweep file invalid UTF-8", "sweep {d}/utf8.toml --out {d}/so", "SWEEP.toml"),
    ("sweep file deeply nested", "sweep {d}/nested.toml --out {d}/so", "SWEEP.toml"),
    ("sweep file is a FIFO", "sweep {d}/fifo.toml --out {d}/so", "FIFO"),
    ("cli sweep size 10000", "sweep {d}/size.toml --out {d}/so", "size"),
    ("cli sweep raw cards untrusted", "sweep {d}/cards.toml --out {d}/so", "trust-netlist-cards"),
    ("sweep model that raises", "sweep {d}/model.toml --out {d}/so", "sweep.models"),
    ("sweep of 40000 points", "sweep {d}/grid.toml --out {d}/so", "grid"),
    ("sweep out is a file", "sweep {d}/ok.toml --out {d}/afile", "--out"),
    ("mvm out links to an input", "mvm --weights {d}/G.npy --inputs {d}/V.npy --array 4x4 "
     "--out {d}/link.npz", "--out"),
]


CLI += [  # Hardening III: every case gives exit 2 and one line naming the flag, before any output
    ("simulate timeout zero", "simulate -G {d}/G.npy -V {d}/V.npy --engine ngspice --timeout 0 "
     "-o {d}/o.npz", "--timeout"),
    ("simulate timeout nan", "simulate -G {d}/G.npy -V {d}/V.npy --timeout nan -o {d}/o.npz",
     "--timeout"),
    ("mvm timeout negative", "mvm --weights {d}/G.npy --inputs {d}/V.npy --array 4x4 "
     "--timeout -1 --out {d}/y.npz", "--timeout"),
    ("network timeout zero", "network --demo --timeout 0 --out {d}/net", "--timeout"),
    ("compare the same engine twice", "compare -G {d}/G.npy -V {d}/V.npy --engines ideal,ideal",
     "--engines"),
    ("workdir is a file", "simulate -G {d}/G.npy -V {d}/V.npy --engine ngspice --workdir "
     "{d}/afile -o {d}/o.npz", "--workdir"),
    ("workdir with a newline", "simulate -G {d}/G.npy -V {d}/V.npy --engine ngspice --workdir "
     "{d}/a{nl}b -o {d}/o.npz", "--workdir"),
    ("demo r-wire negative", "demo --r-wire -1 --out {d}/demo", "--r-wire"),
    ("unused flag nan (v0, passive cells)", "simulate -G {d}/G.npy -V {d}/V.npy --v0 nan "
     "-o {d}/o.npz", "--v0"),
    ("unused flag negative (bits, no readout)", "simulate -G {d}/G.npy -V {d}/V.npy --bits -1 "
     "-o {d}/o.npz", "--bits"),
    ("mos-model kp = 1e300", "generate -G {d}/G.npy --cell 1t1r --vg-on 1.8 "
     "--mos-model {d}/absurd.lib -o {d}/x.cir", "kp = 1e300"),
    ("noise --device-noise without a device", "noise -G {d}/G.npy -V {d}/V.npy --readout tia "
     "--device-noise shot --out-dir {d}/n", "--device-noise"),
    ("noise --selector-noise without a selector device", "noise -G {d}/G.npy -V {d}/V.npy "
     "--readout tia --cell device --device {d}/G.npy --selector-noise shot --out-dir {d}/n",
     "--selector-noise"),
    ("noise of a bsim4 access transistor", "noise -G {d}/G.npy -V {d}/V.npy --readout tia "
     "--cell 1t1r --vg-on 1.8 --mos-model bsim4 --out-dir {d}/n", "--mos-model"),
    ("write a 1t1r cell with vg-on nan", "write --rows 3 --cols 3 --g 1e-5 --v-write 2 "
     "--cell 1t1r --vg-on nan --json {d}/w.json", "--vg-on"),
    ("plot transient on text", "plot transient {d}/text.npz -o {d}/p.png", "text.npz"),
    ("plot transient on pickled npz", "plot transient {d}/pickled.npz -o {d}/p.png", "pickled"),
    ("plot transient on a DC result", "plot transient {d}/dc.npz -o {d}/p.png", "time"),
    ("plot sweep on object arrays", "plot sweep {d}/objsweep -o {d}/p.png", "objsweep"),
]


def run_main(argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("case", CLI, ids=[c[0] for c in CLI])
def test_cli_bad_input(tmp_path, case):
    name, argv, parameter = case
    _files(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    if name == "out is a folder":
        (tmp_path / "adir.npy.npz").mkdir()
        before = sorted(p.name for p in tmp_path.iterdir())
    args = [a.replace("{nl}", "\n").replace("{sp}", " ")
            for a in argv.replace("{d}", str(tmp_path)).split()]
    code, out, err = run_main(args)
    lines = err.strip().splitlines()
    assert code == 2, (code, err)
    assert len(lines) == 1 and lines[0].startswith("spicebar: error: "), err
    assert "Traceback" not in err
    if parameter:
        assert parameter in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_label_is_safe_in_the_netlist(tmp_path):
    code, _, err = run_main(["generate", "-G", str(_g(tmp_path)), "--label", "tile 3 (rev B)",
                             "-o", str(tmp_path / "x.cir")])
    assert code == 0, err
    first = (tmp_path / "x.cir").read_text().splitlines()[0]
    assert first.startswith("* spicebar: tile 3 (rev B): ")


def _g(d):
    np.save(d / "G.npy", G)
    return d / "G.npy"


def test_catalogue_size():
    """Issue 8 asked for at least 40 distinct bad inputs, issue 13 for 60 more entries
    (here and in test_cards.py, test_hardening.py)."""
    assert len(API) + len(CLI) >= 40 + 70
    assert len({b.id for b in API} | {c[0] for c in CLI}) == len(API) + len(CLI)
