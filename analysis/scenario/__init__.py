"""Scenarios: test a fix before it is funded (sites, switch-offs, fibre, programmes; before / after).

Modules: :mod:`~analysis.scenario.model` (what a scenario is, its JSON document),
:mod:`~analysis.scenario.edits` (applying its changes to copies of the package's frames),
:mod:`~analysis.scenario.survey` (programmes in the survey rows), :mod:`~analysis.scenario.evaluate`
(baseline and after-state), :mod:`~analysis.scenario.compare` (before / after tables) and
:mod:`~analysis.scenario.costs` (unit costs).
"""

from analysis.scenario.model import (
    CellEdit,
    Programme,
    Scenario,
    SiteMove,
    SwitchOff,
    scenario_from_document,
    scenario_slug,
    scenario_to_document,
)

__all__ = [
    "CellEdit",
    "Programme",
    "Scenario",
    "SiteMove",
    "SwitchOff",
    "scenario_from_document",
    "scenario_slug",
    "scenario_to_document",
]
