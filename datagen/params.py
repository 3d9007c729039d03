"""Frozen parameters of the generator: seed, calibration targets and modelling constants."""

from __future__ import annotations

from dataclasses import dataclass

from geo.errors import ParameterError

DEFAULT_SEED = 20261125
"""Seed of the bundled package (the date the generator was first run)."""

PERSONS_PER_HOUSEHOLD_2009 = 3.8
"""Average household size used to derive commune households from 2009 census population.

The 2009 Population and Housing Census reports about 3.8 persons per household nationally and
in the Mekong River Delta; the bundled ``households`` field is therefore *derived*, not counted.
"""


@dataclass(frozen=True)
class GeneratorParams:
    """Everything that steers one generator run.

    Parameters
    ----------
    seed
        Seed of ``numpy.random.default_rng``; the same seed gives byte-identical files.
    n_sites
        Number of base-station sites (the province's published figure is 1,227).
    target_ftth_household_share
        Province-wide household-weighted share of households with an FTTH subscription (0–1).
    target_smartphone_adult_share
        Province-wide adult-weighted share of adults owning a smartphone (0–1).
    target_internet_adult_share
        Province-wide adult-weighted share of adults using the internet (0–1).
    hamlets_per_commune_mean
        Mean number of hamlets (ấp / khóm) per commune.
    adult_share
        Share of residents aged 15+ (adults) used for survey ``adults``.
    persons_per_household
        Average household size (persons) used to derive commune households.
    survey_date
        ISO date written to every synthetic survey row.
    """

    seed: int = DEFAULT_SEED
    n_sites: int = 1227
    target_ftth_household_share: float = 0.693
    target_smartphone_adult_share: float = 0.76
    target_internet_adult_share: float = 0.84
    hamlets_per_commune_mean: float = 7.4
    adult_share: float = 0.70
    persons_per_household: float = PERSONS_PER_HOUSEHOLD_2009
    survey_date: str = "2023-10-10"

    def __post_init__(self) -> None:
        if self.n_sites < 1:
            raise ParameterError(f"n_sites must be at least 1, got {self.n_sites}")
        for name in (
            "target_ftth_household_share",
            "target_smartphone_adult_share",
            "target_internet_adult_share",
            "adult_share",
        ):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise ParameterError(f"{name} must be between 0 and 1 (exclusive), got {value}")
        if self.hamlets_per_commune_mean < 1.0:
            raise ParameterError(
                f"hamlets_per_commune_mean must be >= 1, got {self.hamlets_per_commune_mean}"
            )
        if self.persons_per_household <= 1.0:
            raise ParameterError(f"persons_per_household must be > 1, got {self.persons_per_household}")
