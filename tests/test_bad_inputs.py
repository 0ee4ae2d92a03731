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


@pytest.mark.parametrize("bad", API, ids=[b.id for b in API])
def test_api_bad_input(bad):
    with pytest.raises(SpecError) as err:
        bad.call()
    assert err.value.parameter == bad.parameter, str(err.value)
    assert str(err.value).startswith(f"{bad.parameter}: ")
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
    ("r-bl negative", "simulate -G {d}/G.npy -V {d}/V.npy --r-bl -2 -o {d}/o.npz", "r_bl"),
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
     "-o {d}/o.npz", "timeout_s"),
    ("demo size zero", "demo --size 0 --out {d}/demo", "--size"),
    ("unknown command", "frobnicate", "frobnicate"),
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
    """The issue asks for at least 40 distinct bad inputs."""
    assert len(API) + len(CLI) >= 40
    assert len({b.id for b in API} | {c[0] for c in CLI}) == len(API) + len(CLI)
