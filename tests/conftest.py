"""Shared fixtures. ngspice is never skipped: a missing simulator fails loudly."""

from __future__ import annotations

import numpy as np
import pytest

from spicebar.engines.ngspice.toolchain import INSTALL_HINT, ngspice_version


@pytest.fixture(scope="session")
def ngspice_ready():
    """Fails (not skips) the tests that need ngspice when it is missing or lacks KLU."""
    info = ngspice_version()
    if not info["library"] or not info["executable"] or not info["klu"]:
        pytest.fail(f"ngspice with KLU is required for this test and is missing or unusable "
                    f"({info}); {INSTALL_HINT}", pytrace=False)
    return info


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def random_conductances(rng, rows, cols, g_min=1e-6, g_max=1e-4):
    """Log-uniform conductances in siemens (a typical RRAM window)."""
    return np.exp(rng.uniform(np.log(g_min), np.log(g_max), (rows, cols)))


def pytest_collection_modifyitems(config, items):
    """Work units for ``pytest -n N --dist loadgroup`` (``make test``): one file per worker
    at a time, except that each documentation page's blocks and each notebook are a unit of
    their own (they share nothing with their neighbours), so the long files spread over
    the workers. Without xdist the marker is inert."""
    for item in items:
        unit = item.nodeid.split("::", 1)[0]
        callspec = getattr(item, "callspec", None)
        if callspec is not None and unit.endswith("test_readme.py") and "block" in callspec.params:
            unit += ":" + str(callspec.params["block"].doc)
        elif callspec is not None and unit.endswith("test_notebooks.py") and "path" in callspec.params:
            unit += ":" + str(callspec.params["path"])
        item.add_marker(pytest.mark.xdist_group(unit))


@pytest.fixture(scope="session", autouse=True)
def no_strays_after_the_suite():
    """After the whole suite: no ngspice worker still running, no unmarked run folder left."""
    import os
    import shutil
    import tempfile
    import time

    from .processes import leaked_run_dirs, worker_pids

    # A private temporary folder for the session (and the processes it starts), so the
    # leak check sees only this run's folders.
    private = tempfile.mkdtemp(prefix="spicebar-tests-")
    saved = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir = private
    os.environ["TMPDIR"] = private
    start = time.time()
    yield
    deadline = time.monotonic() + 10  # a just-killed worker may take a moment to be reaped
    while worker_pids() and time.monotonic() < deadline:
        time.sleep(0.2)
    strays = worker_pids()
    leaked = leaked_run_dirs(private, since=start)
    tempfile.tempdir = saved[0]
    if saved[1] is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = saved[1]
    if not leaked:
        shutil.rmtree(private, ignore_errors=True)
    assert not strays, f"ngspice worker processes left running: {strays}"
    assert not leaked, f"temporary run folders left behind: {leaked}"


@pytest.fixture(scope="session", autouse=True)
def private_device_cache(tmp_path_factory):
    """Compiled OSDI libraries and device tables go to a folder of this session, not the
    user's cache (``SPICEBAR_CACHE_DIR``, see spicebar.circuit.devices.cache_dir)."""
    import os
    saved = os.environ.get("SPICEBAR_CACHE_DIR")
    os.environ["SPICEBAR_CACHE_DIR"] = str(tmp_path_factory.mktemp("spicebar-cache"))
    yield
    if saved is None:
        os.environ.pop("SPICEBAR_CACHE_DIR", None)
    else:
        os.environ["SPICEBAR_CACHE_DIR"] = saved
