"""Link budget: reference power per resource element, sector pattern, RSRP."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.linkbudget import (
    reference_power_dbm,
    relative_angle_deg,
    rsrp_dbm,
    sector_gain_db,
    subcarrier_count,
)
from geo.errors import ParameterError


def test_subcarriers_per_bandwidth():
    assert subcarrier_count("4G", [5, 10, 15, 20]).tolist() == [300, 600, 900, 1200]
    assert subcarrier_count("5G", 100.0) == 3276


def test_reference_power_example_from_references():
    # 46 dBm + 15 dBi - 2 dB over 10 MHz -> 31.2 dBm per RE
    assert reference_power_dbm(59.0, "4G", 10.0) == pytest.approx(31.2, abs=0.02)
    assert reference_power_dbm(56.0, "3G", 5.0) == pytest.approx(46.0)
    assert reference_power_dbm(56.0, "2G", 0.2) == pytest.approx(56.0)
    with pytest.raises(ParameterError):
        reference_power_dbm(56.0, "6G", 5.0)


def test_sector_pattern_values():
    g = sector_gain_db(
        np.array([0.0, 32.5, -32.5, 65.0, 180.0, 360.0]), beamwidth_deg=65.0, max_attenuation_db=20.0
    )
    np.testing.assert_allclose(g, [0.0, -3.0, -3.0, -12.0, -20.0, 0.0])


@settings(max_examples=100, deadline=None)
@given(theta=st.floats(-720, 720), bw=st.floats(20, 120), am=st.floats(10, 30))
def test_sector_gain_is_largest_on_boresight(theta, bw, am):
    assert sector_gain_db(theta, beamwidth_deg=bw, max_attenuation_db=am) <= sector_gain_db(
        0.0, beamwidth_deg=bw, max_attenuation_db=am
    )
    assert sector_gain_db(theta, beamwidth_deg=bw, max_attenuation_db=am) >= -am


def test_relative_angle_wraps():
    np.testing.assert_allclose(relative_angle_deg([350.0, 10.0, 190.0], 10.0), [20.0, 0.0, 180.0])


def test_rsrp_sum():
    assert rsrp_dbm(31.2, 130.0, pattern_gain_db=-3.0, indoor_loss_db=12.0, margin_db=2.0) == pytest.approx(
        -115.8
    )
