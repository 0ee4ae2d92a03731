"""Bad input gets a SpecError that names the parameter, before anything is built."""

import numpy as np
import pytest

from spicebar import CrossbarSpec, SpecError
from spicebar.circuit.spec import validate_inputs

GOOD = np.full((2, 3), 1e-4)


@pytest.mark.parametrize("g, parameter, fragment", [
    (np.array([[1e-4, np.nan]]), "conductances", "non-finite"),
    (np.array([[1e-4, np.inf]]), "conductances", "non-finite"),
    (np.array([[1e-4, 0.0]]), "conductances", "> 0 S"),
    (np.array([[1e-4, -1e-5]]), "conductances", "> 0 S"),
    (np.zeros((0, 3)), "conductances", "empty"),
    (np.ones(3) * 1e-4, "conductances", "2-D"),
    (np.ones((2, 2, 2)) * 1e-4, "conductances", "2-D"),
    (np.array([["a", "b"]]), "conductances", "dtype"),
    (np.array([[1e-4 + 1j]]), "conductances", "complex"),
    ([[1e-4, 1e-4], [1e-4]], "conductances", "cannot be read"),
])
def test_bad_conductances(g, parameter, fragment):
    with pytest.raises(SpecError) as err:
        CrossbarSpec(g)
    assert err.value.parameter == parameter
    assert fragment in str(err.value)


@pytest.mark.parametrize("field", ["r_wl", "r_bl", "r_driver", "r_sense"])
@pytest.mark.parametrize("value", [-1.0, float("nan"), float("inf"), "abc", None, True])
def test_bad_resistances(field, value):
    with pytest.raises(SpecError) as err:
        CrossbarSpec(GOOD, **{field: value})
    assert err.value.parameter == field
    assert "ohm" in str(err.value)


def test_per_segment_wire_shape_is_checked():
    CrossbarSpec(GOOD, r_wl=np.ones((2, 4)), r_bl=np.ones((3, 3)))
    with pytest.raises(SpecError, match=r"r_wl: has shape \(2, 3\).*\(2, 4\)"):
        CrossbarSpec(GOOD, r_wl=np.ones((2, 3)))
    with pytest.raises(SpecError, match="r_bl.*-1.0 ohm"):
        CrossbarSpec(GOOD, r_bl=-np.ones((3, 3)))


@pytest.mark.parametrize("field, value", [("drive", "top"), ("sense", "left"), ("drive", None)])
def test_bad_ends(field, value):
    with pytest.raises(SpecError) as err:
        CrossbarSpec(GOOD, **{field: value})
    assert err.value.parameter == field


def test_absurd_size_refused_before_building():
    huge = np.lib.stride_tricks.as_strided(np.array([1e-4]), shape=(5000, 5000), strides=(0, 0))
    with pytest.raises(SpecError, match="cells"):
        CrossbarSpec(huge)


@pytest.mark.parametrize("v, fragment", [
    (np.ones(3), "2 rows"),
    (np.ones((4, 3)), "2 rows"),
    (np.array([0.1, np.nan]), "non-finite"),
    (np.zeros((0, 2)), "empty"),
    (np.ones((1, 1, 2)), "1-D or 2-D"),
])
def test_bad_inputs(v, fragment):
    with pytest.raises(SpecError) as err:
        validate_inputs(v, rows=2)
    assert err.value.parameter == "inputs"
    assert fragment in str(err.value)


def test_spec_is_frozen_and_private():
    g = GOOD.copy()
    spec = CrossbarSpec(g, r_wl=1.0)
    g[0, 0] = 1.0  # the caller's array changes; the spec must not
    assert spec.conductances[0, 0] == 1e-4
    with pytest.raises(ValueError):
        spec.conductances[0, 0] = 2.0
    with pytest.raises(AttributeError):
        spec.r_wl = 2.0
