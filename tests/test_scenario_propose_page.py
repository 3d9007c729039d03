"""The "Propose sites" panel of the scenario page (views/scenario_propose.py) on acceptance scene A.

Scene A (tests/acceptance/scenes.py) has 4G-less hamlets far from the two 4G sites: A-NONE (Ấp Xa
Xôi, 150 households), A-PLAN (Ấp Mới, 100, beside a 2G-only VNPT site) and the weak or unserved
hamlets east of the omni site (A-POOR, Ấp Cây Da, 200 households, the largest). The panel's plan is
:func:`analysis.site_planning.plan_sites` on the draft's network; the tests check the page's table
against the library run directly, then add the proposal to the draft and evaluate it: the scenario
reports the households the plan promised, and the hamlets it serves lose their signal flag. With a
2G switch-off in the draft, sites proposed for the hamlets left without service bring the households
losing all service down. A partner's proposal is its own operator's sites, on its own masts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.acceptance.scenes import radio_scene, write_package

TIMEOUT_S = 300
SIGNAL_FLAGS = ("NO_MOBILE_COVERAGE", "WEAK_MOBILE_COVERAGE")


def _page_app(lang: str) -> None:
    import importlib

    import streamlit as st

    st.session_state.setdefault("app_lang", lang)
    importlib.import_module("views.scenarios").render()


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def _run(lang: str = "en", state: dict[str, Any] | None = None) -> AppTest:
    at = AppTest.from_function(_page_app, args=(lang,), default_timeout=TIMEOUT_S)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    return _ok(at.run())


@pytest.fixture(scope="module")
def scene_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scenario_propose") / "pkg"
    write_package(radio_scene(), root, "2025-07")
    return root


@pytest.fixture(autouse=True)
def _scene(scene_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PHUSONG_TILES", "none")
    monkeypatch.setenv("PHUSONG_DATA", str(scene_root))
    return scene_root


@pytest.fixture
def results(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every scenario result the page shows (its headline numbers are rounded; these are not)."""
    from views import scenario_parts

    shown: list[Any] = []
    real = scenario_parts.show_results

    def spy(result, *args, **kwargs):
        shown.append(result)
        return real(result, *args, **kwargs)

    monkeypatch.setattr(scenario_parts, "show_results", spy)
    return shown


def _propose(at: AppTest, n: int, target: str | None = None) -> AppTest:
    at.number_input(key="scenarios_propose_n").set_value(n)
    if target is not None:
        at.selectbox(key="scenarios_propose_target").set_value(target)
    at.button(key="scenarios_propose_go").click()
    return _ok(at.run())


def _proposal_table(at: AppTest) -> pd.DataFrame:
    """The proposal's table (the one with a rank column)."""
    (table,) = [d.value for d in at.dataframe if {"Rank", "Thứ tự"} & set(d.value.columns)]
    return table


def _map_script(at: AppTest) -> str:
    (component,) = at.get("component_instance")
    return json.loads(component.proto.json_args)["script"]


def _evaluate(at: AppTest, results: list[Any]):
    at.button(key="scenarios_evaluate").click()
    _ok(at.run())
    assert results, "the page showed a result"
    return results[-1]


def _flags(result, hamlet_id: str) -> tuple[str, str]:
    row = result.hamlets[result.hamlets["hamlet_id"].astype(str) == hamlet_id].iloc[0]
    return str(row["flags_before"]), str(row["flags_after"])


def test_one_site_for_under_served_hamlets_matches_plan_sites_and_evaluates_to_its_gain(
    _scene: Path, results: list[Any]
) -> None:
    from analysis.coverage_params import default_coverage_params
    from analysis.site_planning import plan_sites
    from geo.package import load_package
    from layers.i18n import format_number

    pkg = load_package(_scene)
    expected = plan_sites(pkg, n_sites=1, coverage_params=default_coverage_params())
    (gain,) = expected.summary["marginal_gain_households"]
    assert gain > 0
    at = _propose(_run("en"), 1)
    phases = [m.value for m in at.markdown if m.value.startswith("Done ")]
    assert [p.split(":")[0] for p in phases] == [
        "Done coverage today",
        "Done under-served hamlets",
        "Done candidate locations",
        "Done coverage matrix of the candidates",
        "Done choice of the sites",
    ], "the phases are shown as they end"
    table = _proposal_table(at)
    assert len(table) == 1
    row = table.iloc[0]
    assert row["Rank"] == 1 and row["Site"] == "PLAN-001"
    assert row["Households gained"] == format_number(gain, "en", decimals=1)
    assert row["Kind"] in ("New mast", "Shared mast") and "million" in row["Cost"]
    names = dict(zip(pkg.hamlets["hamlet_id"].astype(str), pkg.hamlets["hamlet_name"], strict=True))
    served = str(expected.summary["hamlets_served"].iloc[0]).split(";")
    assert row["Hamlets served"] == ", ".join(names[h] for h in served)
    assert any("placeholder" in w.value for w in at.warning), "the costs are said to be placeholders"
    proposal = at.session_state["scenarios_proposal"]
    assert proposal.plan.summary["marginal_gain_households"].tolist() == [gain]
    script = _map_script(at)
    for layer in ("Proposed sites (not added yet)", "Candidate locations"):
        assert json.dumps(layer)[1:-1] in script, layer
    # the same request again comes from the cache
    at.button(key="scenarios_propose_go").click()
    _ok(at.run())
    assert at.session_state["scenarios_proposal"].plan is proposal.plan
    # into the draft: three cells of PLAN-001, then evaluated like any added site
    at.button(key="scenarios_propose_add").click()
    _ok(at.run())
    assert "scenarios_proposal" not in at.session_state
    sites = at.session_state["scenarios_sites"]
    assert sites["site_id"].unique().tolist() == ["PLAN-001"] and len(sites) == 3
    assert any("PLAN\\-001" in m.value for m in at.markdown), "listed with the draft's changes"
    result = _evaluate(at, results)
    assert result.summary["households_gained_good_4g"] == pytest.approx(expected.gained_households, abs=0.1)
    top = served[0]  # the hamlet the site serves most: its signal flag clears
    before, after = _flags(result, top)
    assert any(f in before for f in SIGNAL_FLAGS) and not any(f in after for f in SIGNAL_FLAGS)
    # proposing again on the new draft: the served hamlet is no longer a target, ids do not clash
    at = _propose(at, 1)
    again = at.session_state["scenarios_proposal"]
    assert top not in ";".join(again.plan.summary["hamlets_served"])
    assert _proposal_table(at).iloc[0]["Site"] == "PLAN-002"


def test_sites_for_the_hamlets_a_2g_switch_off_leaves_without_service(results: list[Any]) -> None:
    at = _run("vi")
    at.multiselect(key="scenarios_off_techs").set_value(["2G"])
    _ok(at.run())
    target = at.selectbox(key="scenarios_propose_target")
    assert target.options == ["Các ấp thiếu sóng (cờ sóng di động)", "Các ấp mất hết sóng khi tắt 2G"]
    at = _propose(at, 3, "service_loss")
    # the draft was evaluated first (its results show): A-PLAN and A-NONE lose every service
    lost_before = results[-1].summary["households_lose_all_service"]
    assert lost_before >= 250
    proposal = at.session_state["scenarios_proposal"]
    assert proposal.request.target == "service_loss"
    table = _proposal_table(at)
    assert 1 <= len(table) <= 3
    served = ";".join(proposal.plan.summary["hamlets_served"]).split(";")
    lost = set(results[-1].service.hamlets.query("hh_lose_all_service > 0")["hamlet_id"].astype(str))
    assert set(served) <= lost, "only hamlets left without service are targets"
    at.button(key="scenarios_propose_add").click()
    _ok(at.run())
    assert at.multiselect(key="scenarios_off_techs").value == ["2G"], "the switch-off stays"
    after = _evaluate(at, results)
    lost_after = after.summary["households_lose_all_service"]
    assert lost_after < lost_before - 100, (lost_before, lost_after)


# --------------------------------------------------------------------------- a partner


@pytest.fixture
def partner_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from argon2 import PasswordHasher

    from auth.users import UserStore

    conf = tmp_path / "conf"
    (tmp_path / "auth.toml").write_text("[argon2]\ntime_cost = 1\nmemory_kib = 19456\nparallelism = 1\n")
    monkeypatch.setenv("PHUSONG_USERS", str(conf / "users.json"))
    monkeypatch.setenv("PHUSONG_AUDIT", str(conf / "audit.jsonl"))
    monkeypatch.setenv("PHUSONG_AUTH_CONFIG", str(tmp_path / "auth.toml"))
    store = UserStore(
        conf / "users.json", hasher=PasswordHasher(time_cost=1, memory_cost=19 * 1024, parallelism=1)
    )
    store.add("lan", "partner", "partner-Pass-03", operator="viettel")
    return conf / "users.json"


def test_a_partners_proposal_is_its_own_operators_sites_only(partner_env: Path, _scene: Path) -> None:
    from auth.sessions import new_session
    from auth.users import UserStore

    session = new_session(UserStore(Path(os.environ["PHUSONG_USERS"])).get("lan"))
    forged = {"auth_session": session, "scenarios_propose_operator": "MobiFone"}
    at = _run("en", forged)
    operator = at.selectbox(key="scenarios_propose_operator")
    assert operator.options == ["Viettel"] and operator.value == "Viettel"
    assert any("only Viettel's sites are proposed" in c.value for c in at.caption)
    at = _propose(at, 3)
    proposal = at.session_state["scenarios_proposal"]
    assert proposal.request.operator == "Viettel" and proposal.operator == "Viettel"
    plan = proposal.plan
    assert len(plan.summary) >= 1
    assert set(plan.sites["operator"]) == {"Viettel"} and set(proposal.cells["operator"]) == {"Viettel"}
    for frame in (plan.summary, plan.candidates):  # no other operator's mast is offered or shown
        assert set(frame["host_operator"].fillna("")) <= {"", "Viettel"}
    from geo.package import load_package

    others = load_package(_scene).cells.query("operator != 'Viettel'")["site_id"].astype(str)
    assert not set(plan.candidates["host_site_id"].fillna("")) & set(others)
    table = _proposal_table(at)
    assert not table["Host mast"].str.contains("MobiFone|VinaPhone").any()
    at.button(key="scenarios_propose_add").click()
    _ok(at.run())
    assert set(at.session_state["scenarios_sites"]["operator"]) == {"Viettel"}


# --------------------------------------------------------------------------- helpers


def test_proposed_ids_skip_the_used_ones_and_cells_follow() -> None:
    from views.scenario_propose import numbered

    cells = pd.DataFrame(
        {
            "site_id": ["PLAN-001", "PLAN-001", "PLAN-002"],
            "cell_id": ["PLAN-001-L18-1", "PLAN-001-L18-2", "PLAN-002-L18-1"],
        }
    )
    out, mapping = numbered(cells, {"PLAN-001", "PLAN-003", "S1"})
    assert mapping == {"PLAN-001": "PLAN-002", "PLAN-002": "PLAN-004"}
    assert out["cell_id"].tolist() == ["PLAN-002-L18-1", "PLAN-002-L18-2", "PLAN-004-L18-1"]
    assert cells["site_id"].tolist()[0] == "PLAN-001", "the input is not changed"
