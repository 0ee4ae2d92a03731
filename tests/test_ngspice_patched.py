"""spicebar's private patched libngspice: how it is made, chosen and limited, and that it
gives the stock library's results (real ngspice through PySpice, each in its own worker
process, the library chosen by NGSPICE_LIBRARY_PATH as a user would)."""

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from spicebar import CrossbarSpec, simulate
from spicebar.circuit.cells import SelectorCell
from spicebar.circuit.encoding import EncodingSpec
from spicebar.circuit.readout import IntegratorSpec, OpAmpSpec
from spicebar.engines.memory import ResourceError
from spicebar.engines.ngspice import patched
from spicebar.engines.ngspice.engine import check_ngspice_size
from spicebar.engines.ngspice.toolchain import library_choice
from spicebar.engines.transient.run import simulate_readout

from .conftest import random_conductances
from .tolerances import PATCHED_LIBRARY_REL

pytestmark = pytest.mark.ngspice

STOCK = Path(patched.DEBIAN_LIBRARY)


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    """(stock, patched) library paths: the system's file and a copy patched here."""
    if patched.kind_of(STOCK) != "stock-46-bpo":
        pytest.fail(f"{STOCK} is not Debian 12 backports' libngspice 46 (the build this "
                    "machine's set-up installs); the patched copy cannot be checked", pytrace=False)
    dest = tmp_path_factory.mktemp("lib") / "libngspice.so.0"
    path, message = patched.make_private_copy(STOCK, dest)
    assert path == dest, message
    return STOCK, dest


def test_the_copy_changes_eight_bytes_and_leaves_the_source(copies):
    stock, copy = copies
    assert sha(stock) == patched.STOCK_SHA256          # the package's file is only read
    assert sha(copy) == patched.PATCHED_SHA256
    a, b = np.frombuffer(stock.read_bytes(), np.uint8), np.frombuffer(copy.read_bytes(), np.uint8)
    where = np.flatnonzero(a != b)
    assert where.min() >= patched.PATCH_OFFSET and where.max() < patched.PATCH_OFFSET + 8
    assert np.frombuffer(copy.read_bytes()[patched.PATCH_OFFSET:patched.PATCH_OFFSET + 8]) == 1.2


def test_another_build_is_not_patched(copies, tmp_path):
    stock, _ = copies
    other = tmp_path / "other.so"
    data = bytearray(stock.read_bytes())
    data[100] ^= 1                                   # one byte elsewhere: another build
    other.write_bytes(bytes(data))
    dest = tmp_path / "out" / "libngspice.so.0"
    path, message = patched.make_private_copy(other, dest)
    assert path is None and "not the known build" in message and not dest.exists()
    assert patched.kind_of(other) == "other"


def test_the_user_library_wins_and_the_private_copy_is_checked(copies, monkeypatch):
    stock, copy = copies
    monkeypatch.setenv("NGSPICE_LIBRARY_PATH", str(stock))
    choice = library_choice()
    assert (choice["path"], choice["kind"]) == (str(stock), "stock-46-bpo")
    monkeypatch.delenv("NGSPICE_LIBRARY_PATH")
    monkeypatch.setattr(patched, "private_library_path", lambda: copy)
    assert library_choice()["kind"] == "patched"
    monkeypatch.setattr(patched, "private_library_path", lambda: stock)  # wrong bytes there
    assert library_choice()["kind"] != "patched"


def test_sizes_are_refused_by_library_before_anything_runs():
    with pytest.raises(ResourceError, match="at most 832x832"):
        check_ngspice_size(1024, 1024, library_kind="stock-46-bpo", memory=1e12)
    check_ngspice_size(832, 832, library_kind="stock-46-bpo", memory=1e12)
    check_ngspice_size(1024, 1024, library_kind="patched", memory=1e12)
    with pytest.raises(ResourceError, match=r"2048x2048.*at most 20\d\dx20\d\d"):
        check_ngspice_size(2048, 2048, library_kind="patched", memory=1e12)
    with pytest.raises(ResourceError, match=r"largest square array that fits is about \d+x\d+"):
        check_ngspice_size(1024, 1024, library_kind="patched", memory=2e9)


def test_no_netlist_sets_klu_memgrow_factor():
    """``.options klu_memgrow_factor`` is broken in ngspice 46 (stored as ``val == 1.2``)."""
    root = Path(__file__).resolve().parent.parent / "spicebar"
    hits = [p for p in root.rglob("*.py") if "memgrow_factor" in p.read_text().replace(
        "`.options klu_memgrow_factor", "")]
    assert hits == []


def _run_cases(rng):
    """The suite's kinds of ngspice run at small sizes: one .op, a batch as one transient,
    Newton with 1S1R cells, and an integrator readout transient with wire capacitance."""
    g = random_conductances(rng, 48, 40)
    out = {}
    spec = CrossbarSpec(g, r_wl=1.0, r_bl=2.0)
    out["op"] = simulate(spec, rng.uniform(0, 0.2, 48), "ngspice")
    out["batch"] = simulate(spec, rng.uniform(0, 0.2, (3, 48)), "ngspice")
    sel = CrossbarSpec(g[:12, :12], r_wl=2.0, r_bl=2.0,
                       cell=SelectorCell(nonlinearity=100, v_read_volt=1.0, i_read_a=1e-5))
    out["1s1r"] = simulate(sel, rng.uniform(0, 1.0, (2, 12)), "ngspice")
    gi = g[:8, :8]
    ro = IntegratorSpec(c_int_f=0.2 * gi.sum(0).max() * 20e-9 / 0.6, t_int_s=20e-9,
                        opamp=OpAmpSpec("macro", a0=1e5, gbw_hz=1e9, v_lo=-1.0, v_hi=1.0),
                        c_wl_f=2e-15, c_bl_f=2e-15)
    out["readout"] = simulate_readout(CrossbarSpec(gi, r_wl=1.0, r_bl=1.0, readout=ro),
                                      rng.uniform(0, 0.2, (1, 8)),
                                      EncodingSpec("amplitude", bits=4, v_read=0.2), "ngspice")
    return out


def _arrays(result) -> dict:
    names = ("currents", "driver_currents", "v_wl", "v_bl", "time", "vout", "vg", "i_col",
             "samples")
    return {n: np.asarray(getattr(result, n)) for n in names if getattr(result, n, None) is not None}


def test_patched_and_stock_libraries_agree(copies, monkeypatch):
    stock, copy = copies
    runs = {}
    for name, lib in (("stock", stock), ("patched", copy)):
        monkeypatch.setenv("NGSPICE_LIBRARY_PATH", str(lib))
        runs[name] = _run_cases(np.random.default_rng(7))
        assert {r.info["ngspice_library"] for r in runs[name].values()} == {str(lib)}
    worst = 0.0
    for case, a in runs["stock"].items():
        b = runs["patched"][case]
        for key, x in _arrays(a).items():
            y = _arrays(b)[key]
            assert x.shape == y.shape, (case, key)
            scale = max(np.abs(x).max(initial=0.0), np.finfo(float).tiny)
            worst = max(worst, float(np.abs(x - y).max(initial=0.0) / scale))
    assert set(_arrays(runs["stock"]["readout"])) >= {"time", "vout", "samples"}
    assert worst <= PATCHED_LIBRARY_REL, worst


def test_long_runs_get_time_and_say_how_far_they_are(capsys):
    from spicebar.engines.ngspice import capacity
    from spicebar.engines.ngspice.engine import _progress_reporter
    from spicebar.engines.ngspice.limits import DEFAULT_TIMEOUT_S
    assert capacity.default_timeout(64, 64, DEFAULT_TIMEOUT_S) == DEFAULT_TIMEOUT_S
    big = capacity.default_timeout(1024, 1024, DEFAULT_TIMEOUT_S)
    assert big >= 3 * 400                      # a 1024x1024 .op: ~400 s CPU measured
    assert capacity.default_timeout(1024, 1024, 50.0) == 50.0   # the caller's limit stands
    assert capacity.default_timeout(1024, 1024, DEFAULT_TIMEOUT_S, batch=8) > big
    assert _progress_reporter(64, 64, 1, True) is None          # short runs say nothing
    report = _progress_reporter(1024, 1024, 1, True)
    report(10.0)
    report(31.0)
    err = capsys.readouterr().err
    assert err.count("ngspice is solving 1024x1024") == 1 and "31 s elapsed" in err


def test_doctor_says_which_library_runs_and_why(copies, monkeypatch):
    """The doctor's library lines (``spicebar doctor`` prints them after the version)."""
    from spicebar.engines.ngspice.doctor import library_lines
    from spicebar.engines.ngspice.toolchain import ngspice_version
    stock, copy = copies
    monkeypatch.delenv("NGSPICE_LIBRARY_PATH", raising=False)
    monkeypatch.setattr(patched, "private_library_path", lambda: copy)
    info = ngspice_version()
    out = "\n".join(library_lines(info))
    assert info["library"] == str(copy) and "kind: patched" in out and "sha256 verified" in out
    monkeypatch.setenv("NGSPICE_LIBRARY_PATH", str(stock))
    out = "\n".join(library_lines(ngspice_version()))
    assert "kind: stock-46-bpo" in out and "NGSPICE_LIBRARY_PATH is set" in out
    assert "up to 832x832" in out
