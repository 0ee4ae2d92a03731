"""DAC and ADC quantisers against their definitions."""

import numpy as np
import pytest

from spicebar.circuit.converters import ADCSpec, DACSpec
from spicebar.errors import SpecError


def test_dac_levels_and_clipping():
    dac = DACSpec(bits=2, v_min=0.0, v_max=0.3)
    assert dac.lsb == pytest.approx(0.1)
    np.testing.assert_allclose(dac.convert([-1.0, 0.04, 0.06, 0.29, 9.0]),
                               [0.0, 0.0, 0.1, 0.3, 0.3], atol=1e-15)  # float rounding only


def test_adc_error_is_at_most_half_an_lsb_inside_the_range():
    adc = ADCSpec(bits=8, x_min=-1e-4, x_max=1e-4)
    x = np.linspace(-1e-4, 1e-4, 10001)
    err = np.abs(adc.convert(x) - x)
    assert err.max() <= 0.5 * adc.lsb * (1 + 1e-9)  # the definition, plus float slack
    assert not adc.clipped(x).any()
    assert adc.clipped(np.array([2e-4, -2e-4])).all()
    assert adc.codes(np.array([5.0]))[0] == 255


@pytest.mark.parametrize("kwargs, name", [
    (dict(bits=0, x_min=0, x_max=1), "adc.bits"), (dict(bits=25, x_min=0, x_max=1), "adc.bits"),
    (dict(bits=2.5, x_min=0, x_max=1), "adc.bits"), (dict(bits=8, x_min=1, x_max=1), "adc.x_max"),
    (dict(bits=8, x_min=0, x_max=float("nan")), "adc.x_max"),
])
def test_bad_adc(kwargs, name):
    with pytest.raises(SpecError) as err:
        ADCSpec(**kwargs)
    assert err.value.parameter == name
