"""Shared fixtures. ngspice is never skipped: a missing simulator fails loudly."""

from __future__ import annotations

import numpy as np
import pytest

from spicebar.toolchain import INSTALL_HINT, ngspice_version


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
