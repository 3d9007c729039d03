"""Terrain: knife-edge loss, flat ground, a ridge that shadows a receiver."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis import terrain
from analysis.terrain import diffraction_loss_db, knife_edge_loss_db, line_of_sight
from geo.errors import ParameterError

RES_M = 50.0


def _j(nu: float) -> float:
    return 6.9 + 20 * math.log10(math.sqrt((nu - 0.1) ** 2 + 1) + nu - 0.1)


def test_knife_edge_matches_p526():
    np.testing.assert_allclose(knife_edge_loss_db(np.array([0.0, 1.0, 2.4])), [_j(0.0), _j(1.0), _j(2.4)])
    assert knife_edge_loss_db(np.array([-1.0]))[0] == 0.0
    assert _j(0.0) == pytest.approx(6.03, abs=0.01)


def _dem_with_ridge(height_m: float) -> np.ndarray:
    dem = np.full((21, 81), 3.0)  # flat delta at 3 m
    dem[:, 40] += height_m  # a north-south ridge 2 km east of the site
    return dem


WINDOW = (slice(10, 11), slice(0, 81))  # the row of the site, west to east
SITE = (10, 0)


def test_flat_ground_adds_no_loss():
    loss = diffraction_loss_db(
        np.full((21, 81), 7.0),
        RES_M,
        SITE,
        (slice(0, 21), slice(0, 81)),
        tx_height_m=30,
        rx_height_m=1.5,
        f_mhz=900,
    )
    assert np.all(loss == 0.0)


def test_ridge_puts_receiver_in_shadow():
    loss = diffraction_loss_db(
        _dem_with_ridge(60.0), RES_M, SITE, WINDOW, tx_height_m=30, rx_height_m=1.5, f_mhz=1800
    )[0]
    assert np.all(loss[:40] == 0.0)  # in front of the ridge: clear
    assert np.all(loss[42:] > 15.0)  # behind it: deep shadow
    los = line_of_sight(_dem_with_ridge(60.0), RES_M, SITE, WINDOW, tx_height_m=30, rx_height_m=1.5)[0]
    assert los[:40].all() and not los[42:].any()


def test_single_edge_loss_equals_hand_computation():
    dem = _dem_with_ridge(60.0)
    loss = diffraction_loss_db(
        dem,
        RES_M,
        SITE,
        (slice(10, 11), slice(80, 81)),
        tx_height_m=30,
        rx_height_m=1.5,
        f_mhz=1800,
        method="single",
        k_factor=1e9,
    )[0, 0]
    # edge at 2000 m of a 4000 m path: line height (33 + 4.5) / 2, edge top 63 m
    d, d1 = 4000.0, 2000.0
    h = 63.0 - (33.0 + 4.5) / 2
    lam = 299_792_458.0 / 1.8e9
    nu = h * math.sqrt(2 * d / (lam * d1 * (d - d1)))
    assert loss == pytest.approx(_j(nu), abs=0.05)


def test_deygout_adds_secondary_edges():
    dem = _dem_with_ridge(40.0)
    dem[:, 60] += 45.0
    single = diffraction_loss_db(
        dem, RES_M, SITE, WINDOW, tx_height_m=30, rx_height_m=1.5, f_mhz=900, method="single"
    )[0]
    deygout = diffraction_loss_db(dem, RES_M, SITE, WINDOW, tx_height_m=30, rx_height_m=1.5, f_mhz=900)[0]
    assert deygout[75] > single[75] > 0


def test_lower_ridge_less_loss_and_bad_input():
    low = diffraction_loss_db(
        _dem_with_ridge(20.0), RES_M, SITE, WINDOW, tx_height_m=30, rx_height_m=1.5, f_mhz=900
    )[0, 70]
    high = diffraction_loss_db(
        _dem_with_ridge(60.0), RES_M, SITE, WINDOW, tx_height_m=30, rx_height_m=1.5, f_mhz=900
    )[0, 70]
    assert high > low
    with pytest.raises(ParameterError):
        diffraction_loss_db(
            _dem_with_ridge(1.0),
            RES_M,
            SITE,
            WINDOW,
            tx_height_m=30,
            rx_height_m=1.5,
            f_mhz=900,
            method="bullington",
        )


def _random_dem(seed: int, shape: tuple[int, int] = (60, 70)) -> np.ndarray:
    """Hills, a ridge, noise and a NaN hole."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(float)
    dem = rng.normal(0.0, 3.0, shape) + 10.0
    for _ in range(6):
        cy, cx = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
        dem += rng.uniform(20, 300) * np.exp(
            -((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * rng.uniform(2, 12) ** 2)
        )
    dem[:, int(rng.integers(5, shape[1] - 5))] += rng.uniform(30, 120)
    r, c = int(rng.integers(0, shape[0] - 6)), int(rng.integers(0, shape[1] - 6))
    dem[r : r + 5, c : c + 5] = np.nan
    return dem.astype(np.float32 if seed % 2 else np.float64)


CASES = [
    # (site, window, tx m, rx m, MHz, k, method, max samples)
    ((30, 35), (slice(0, 60), slice(0, 70)), 30.0, 1.5, 1800.0, 4 / 3, "deygout", 256),
    ((0, 0), (slice(0, 40), slice(0, 50)), 45.0, 1.5, 900.0, 4 / 3, "deygout", 256),
    ((59, 69), (slice(10, 60), slice(20, 70)), 20.0, 10.0, 2600.0, 1.0, "deygout", 256),
    ((-8, 80), (slice(0, 60), slice(30, 70)), 35.0, 1.5, 700.0, 4 / 3, "deygout", 256),  # outside the DEM
    ((30, 35), (slice(25, 26), slice(0, 70)), 30.0, 1.5, 3500.0, 4 / 3, "single", 256),
    ((12, 50), (slice(0, 60), slice(0, 70)), 25.0, 2.0, 1800.0, 4 / 3, "deygout", 17),
    ((30, 35), (slice(30, 31), slice(35, 36)), 30.0, 1.5, 1800.0, 4 / 3, "deygout", 256),  # site pixel
]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("case", CASES)
def test_compiled_matches_numpy_reference(seed, case):
    pytest.importorskip("numba")
    site, window, tx_m, rx_m, f_mhz, k, method, samples = case
    dem = _random_dem(seed)
    kw = dict(tx_height_m=tx_m, rx_height_m=rx_m, f_mhz=f_mhz, k_factor=k, method=method, max_samples=samples)
    got = diffraction_loss_db(dem, RES_M * (1 + seed), site, window, **kw)
    ref = terrain._diffraction_loss_numpy(dem, RES_M * (1 + seed), site, window, **kw)
    assert got.dtype == np.float32 and got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-4)
    assert (ref > 0).any() or window[0].stop - window[0].start == 1


def test_numpy_fallback_without_numba(monkeypatch):
    monkeypatch.setattr(terrain, "_compiled_kernel", lambda: None)
    dem = _random_dem(3)
    kw = dict(tx_height_m=30.0, rx_height_m=1.5, f_mhz=1800.0)
    got = diffraction_loss_db(dem, RES_M, (5, 5), (slice(0, 20), slice(0, 30)), **kw)
    np.testing.assert_array_equal(
        got, terrain._diffraction_loss_numpy(dem, RES_M, (5, 5), (slice(0, 20), slice(0, 30)), **kw)
    )


def test_empty_window_and_window_off_the_dem():
    dem = _random_dem(0)
    kw = dict(tx_height_m=30.0, rx_height_m=1.5, f_mhz=1800.0)
    assert diffraction_loss_db(dem, RES_M, (5, 5), (slice(3, 3), slice(0, 10)), **kw).shape == (0, 10)
    with pytest.raises(ParameterError):
        diffraction_loss_db(dem, RES_M, (5, 5), (slice(50, 61), slice(0, 10)), **kw)
    with pytest.raises(ParameterError):
        diffraction_loss_db(dem, RES_M, (5, 5), (slice(-1, 5), slice(0, 10)), **kw)
