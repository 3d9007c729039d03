"""Propagation models against hand-computed values (REFERENCES.md) and their properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.propagation import (
    ENV_RURAL,
    ENV_SUBURBAN,
    ENV_URBAN,
    cost231_hata_db,
    fspl_db,
    model_for_band,
    okumura_hata_db,
    path_loss_db,
    tr38901_rma_db,
    tr38901_uma_db,
)
from geo.errors import ModelRangeError

D = np.array([1.0, 5.0, 10.0])


@pytest.mark.parametrize(
    ("func", "expected"),
    [
        (lambda d: fspl_db(d, 900), [91.52, 105.50, 111.52]),
        (lambda d: okumura_hata_db(d, 900, 30, 1.5, ENV_URBAN), [126.40, 151.02, 161.63]),
        (lambda d: okumura_hata_db(d, 900, 30, 1.5, ENV_SUBURBAN), [116.46, 141.08, 151.69]),
        (lambda d: okumura_hata_db(d, 900, 30, 1.5, ENV_RURAL), [97.90, 122.52, 133.12]),
        (lambda d: cost231_hata_db(d, 1800, 30, 1.5, ENV_URBAN), [136.20, 160.82, 171.42]),
    ],
)
def test_reference_vectors(func, expected):
    np.testing.assert_allclose(func(D), expected, atol=0.006)


def test_cost231_metropolitan_adds_3_db_on_urban_only():
    env = np.array([ENV_URBAN, ENV_SUBURBAN])
    base = cost231_hata_db(np.array([2.0, 2.0]), 1800, 30, 1.5, env)
    metro = cost231_hata_db(np.array([2.0, 2.0]), 1800, 30, 1.5, env, c_urban_db=3.0)
    np.testing.assert_allclose(metro - base, [3.0, 0.0])
    with pytest.raises(ModelRangeError):
        cost231_hata_db(1.0, 1800, 30, 1.5, c_urban_db=2.0)


def test_hata_hand_computation_at_other_inputs():
    # 800 MHz, hb 50 m, hm 2 m, d 3 km computed term by term from Hata (1980)
    f, hb, hm, d = 800.0, 50.0, 2.0, 3.0
    a = (1.1 * math.log10(f) - 0.7) * hm - (1.56 * math.log10(f) - 0.8)
    urban = (
        69.55
        + 26.16 * math.log10(f)
        - 13.82 * math.log10(hb)
        - a
        + (44.9 - 6.55 * math.log10(hb)) * math.log10(d)
    )
    assert okumura_hata_db(d, f, hb, hm, ENV_URBAN) == pytest.approx(urban, abs=1e-9)


def test_tr38901_hand_values():
    # UMa NLOS at 3.5 GHz, hBS 25 m, hUT 1.5 m, d2D 500 m: 13.54 + 39.08 log d3D + 20 log fc
    d3 = math.hypot(500.0, 23.5)
    nlos = 13.54 + 39.08 * math.log10(d3) + 20 * math.log10(3.5)
    los_dbp = 4 * 24 * 0.5 * 3.5e9 / 299_792_458.0
    los = 28.0 + 40 * math.log10(d3) + 20 * math.log10(3.5) - 9 * math.log10(los_dbp**2 + 23.5**2)
    assert tr38901_uma_db(0.5, 3500, 25, 1.5) == pytest.approx(max(nlos, los), abs=1e-9)
    # RMa LOS below the breakpoint at 2.6 GHz, hBS 35 m, d 200 m
    d3 = math.hypot(200.0, 33.5)
    h = 5.0
    pl1 = (
        20 * math.log10(40 * math.pi * d3 * 2.6 / 3)
        + min(0.03 * h**1.72, 10) * math.log10(d3)
        - min(0.044 * h**1.72, 14.77)
        + 0.002 * math.log10(h) * d3
    )
    assert tr38901_rma_db(0.2, 2600, 35, 1.5, los=True) == pytest.approx(pl1, abs=1e-9)


def test_strict_ranges_raise_and_lenient_falls_back_to_free_space():
    with pytest.raises(ModelRangeError, match="distance"):
        okumura_hata_db(0.5, 900, 30, 1.5)
    with pytest.raises(ModelRangeError, match="base-station height"):
        okumura_hata_db(2.0, 900, 20, 1.5)
    with pytest.raises(ModelRangeError, match="frequency"):
        okumura_hata_db(2.0, 1800, 30, 1.5, strict=False)
    with pytest.raises(ModelRangeError, match="NLOS"):
        tr38901_rma_db(6.0, 2600, 35, 1.5)
    short = okumura_hata_db(np.array([0.05]), 900, 30, 1.5, ENV_RURAL, strict=False)
    assert short[0] == pytest.approx(fspl_db(0.05, 900), abs=1e-9)


def test_model_choice_by_band():
    assert [model_for_band(f) for f in (900, 1800, 2100, 2600, 3500)] == [
        "hata",
        "cost231",
        "tr38901",
        "tr38901",
        "tr38901",
    ]
    with pytest.raises(ModelRangeError):
        model_for_band(100)


def test_path_loss_uses_uma_on_urban_and_rma_elsewhere():
    d = np.array([1.0, 1.0])
    out = path_loss_db(d, 2600, 30, 1.5, np.array([ENV_URBAN, ENV_RURAL]))
    assert out[0] == pytest.approx(tr38901_uma_db(1.0, 2600, 30, 1.5, strict=False))
    assert out[1] == pytest.approx(tr38901_rma_db(1.0, 2600, 30, 1.5, strict=False))


bands = st.sampled_from([900.0, 1800.0, 2100.0, 2600.0, 3500.0])
envs = st.sampled_from([ENV_RURAL, ENV_SUBURBAN, ENV_URBAN])


@settings(max_examples=60, deadline=None)
@given(f=bands, env=envs, hb=st.floats(15, 60), d1=st.floats(0.02, 15), ratio=st.floats(1.01, 3))
def test_loss_grows_with_distance(f, env, hb, d1, ratio):
    a = path_loss_db(np.array([d1]), f, hb, 1.5, np.array([env]))
    b = path_loss_db(np.array([d1 * ratio]), f, hb, 1.5, np.array([env]))
    assert b[0] >= a[0]


@settings(max_examples=60, deadline=None)
@given(
    env=envs,
    hb=st.floats(15, 60),
    d=st.floats(0.02, 15),
    pair=st.sampled_from([(200, 1400), (900, 1500), (1500, 1990), (2100, 3500), (2600, 6000)]),
)
def test_loss_grows_with_frequency_within_a_model(env, hb, d, pair):
    lo = path_loss_db(np.array([d]), pair[0], hb, 1.5, np.array([env]))
    hi = path_loss_db(np.array([d]), pair[1], hb, 1.5, np.array([env]))
    assert hi[0] >= lo[0]


def test_float32_distances_stay_float32_for_38901():
    out = tr38901_uma_db(np.array([0.5, 1.0], dtype=np.float32), 3500, 25, 1.5)
    assert out.dtype == np.float32
