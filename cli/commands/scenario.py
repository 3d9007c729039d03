"""``python -m analysis scenario DATA_DIR [changes] --out DIR``: a scenario's before / after.

Changes come from a saved scenario (``--scenario NAME`` of ``DATA_DIR/scenarios/``), a scenario
folder or ``scenario.json`` file (``--scenario PATH``), and / or the options: ``--add-sites
SITES.csv`` (rows in the ``towers/sites.csv`` format), ``--remove-sites ID,...``, ``--switch-off
2G[,3G]`` with ``--operator NAME``, ``--add-fibre-nodes NODES.csv``, ``--add-fibre-routes
ROUTES.geojson``, ``--adopt-fibre-plan``. The
options add to the scenario's own changes. ``--save NAME`` stores the result as a saved scenario.

Writes into DIR (see :func:`layers.scenario_export.write_scenario_outputs`): ``hamlets.csv`` (one
row per hamlet: ``hamlet_id``, ``flags_before``, ``flags_after``, households at good 4G before and
after, fibre reach class, survey shares, priority, and with a switch-off the households losing all
service or dropping to weak), ``communes.csv``, ``changes.xlsx``, ``changes.gpkg``,
``towers_after.csv``, ``summary.json``, ``scenario.pdf`` (one A4 page) and the scenario
(``scenario.json`` and its layers).

Exit 0 on success, 2 on bad arguments or bad input (the file, row and field; no traceback).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

from cli.commands._common import check_data_dir
from geo.errors import ParameterError

if TYPE_CHECKING:
    from analysis.scenario.model import Scenario
    from geo.package import DataPackage

NAME = "scenario"
HELP = (
    "test a plan before it is funded: add / remove sites, switch 2G/3G off, fibre, programmes; before/after"
)
EXIT_OK = 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the arguments of ``scenario``."""
    parser.add_argument(
        "data_dir", metavar="DATA_DIR", type=Path, help="data package folder (holds dataset.toml)"
    )
    parser.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="folder to write the results into"
    )
    parser.add_argument("--force", action="store_true", help="write into DIR even if it holds files")
    parser.add_argument(
        "--scenario",
        metavar="NAME|PATH",
        help="a saved scenario's name, or a scenario folder / scenario.json",
    )
    parser.add_argument("--name", help="name of the scenario (default: from --scenario, else 'CLI scenario')")
    parser.add_argument(
        "--add-sites", type=Path, metavar="SITES.csv", help="planned cells, towers/sites.csv format"
    )
    parser.add_argument("--remove-sites", metavar="ID,...", help="site_id(s) to remove, comma-separated")
    parser.add_argument("--switch-off", metavar="2G[,3G]", help="technologies to switch off")
    parser.add_argument("--operator", metavar="NAME", help="switch off for this operator only (e.g. Viettel)")
    parser.add_argument("--add-fibre-nodes", type=Path, metavar="NODES.csv", help="fibre access nodes to add")
    parser.add_argument(
        "--add-fibre-routes",
        type=Path,
        metavar="ROUTES.geojson",
        help="fibre cable routes to add (costed per km)",
    )
    parser.add_argument(
        "--adopt-fibre-plan",
        action="store_true",
        help="build the fibre extension plan (one cabinet per hamlet)",
    )
    parser.add_argument(
        "--propose-sites",
        type=int,
        metavar="N",
        help="with --switch-off: propose up to N new 4G sites for the hamlets left without service "
        "(written, with their own before/after, into DIR/proposal/)",
    )
    parser.add_argument("--propose-budget", type=float, metavar="VND", help="budget of the proposed sites")
    parser.add_argument("--save", metavar="NAME", help="also save the scenario in DATA_DIR/scenarios/")
    parser.add_argument(
        "--lang", choices=("vi", "en"), default="vi", help="language of scenario.pdf (default vi)"
    )
    parser.add_argument(
        "--config", type=Path, metavar="GAPS.toml", help="gap parameters (analysis/config/gaps.toml)"
    )


def _check_out_dir(out: Path, *, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {str(out)!r} is a file; give a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ParameterError(f"--out {str(out)!r} is not empty; use --force to write into it")
    if not out.parent.resolve().is_dir():
        raise ParameterError(f"folder {str(out.parent)!r} of --out does not exist; create it first")


def _load_scenario(arg: str, pkg: DataPackage) -> Scenario:
    """A saved scenario by name, or a scenario folder / ``scenario.json`` on disk."""
    from analysis.scenario.files import scenario_from_files
    from geo.scenario_store import read_scenario_files

    path = Path(arg)
    if path.is_dir():
        files = {p.name: p.read_bytes() for p in path.iterdir() if p.is_file()}
        return scenario_from_files(files, layout=pkg.meta.layout, display=str(path))
    if path.is_file():
        files = {"scenario.json": path.read_bytes()}
        for name in ("sites.csv", "fibre_nodes.csv"):
            if (path.parent / name).is_file():
                files[name] = (path.parent / name).read_bytes()
        return scenario_from_files(files, layout=pkg.meta.layout, display=str(path.parent))
    from analysis.scenario.model import scenario_slug

    files = read_scenario_files(pkg.root, scenario_slug(arg))
    return scenario_from_files(files, layout=pkg.meta.layout, display=f"scenarios/{scenario_slug(arg)}")


def _with_options(scenario: Scenario, args: argparse.Namespace, pkg: DataPackage) -> Scenario:
    """The scenario with the command-line changes added."""
    import pandas as pd

    from analysis.scenario.files import read_layer
    from analysis.scenario.model import SWITCHABLE_TECHNOLOGIES, SwitchOff

    changes: dict[str, object] = {}
    if args.add_sites is not None:
        new = read_layer(args.add_sites, "towers", layout=pkg.meta.layout, display=str(args.add_sites))
        old = scenario.added_sites
        changes["added_sites"] = new if old is None else pd.concat([old, new], ignore_index=True)
    if args.add_fibre_nodes is not None:
        new = read_layer(
            args.add_fibre_nodes, "fibre_nodes", layout=pkg.meta.layout, display=str(args.add_fibre_nodes)
        )
        old = scenario.added_fibre_nodes
        changes["added_fibre_nodes"] = new if old is None else pd.concat([old, new], ignore_index=True)
    if args.add_fibre_routes is not None:
        new = read_layer(
            args.add_fibre_routes, "fibre_routes", layout=pkg.meta.layout, display=str(args.add_fibre_routes)
        )
        old = scenario.added_fibre_routes
        changes["added_fibre_routes"] = new if old is None else pd.concat([old, new], ignore_index=True)
    if args.remove_sites:
        ids = tuple(s.strip() for s in args.remove_sites.split(",") if s.strip())
        changes["removed_sites"] = scenario.removed_sites + ids
    if args.switch_off:
        techs = tuple(t.strip().upper() for t in args.switch_off.split(",") if t.strip())
        bad = [t for t in techs if t not in SWITCHABLE_TECHNOLOGIES]
        if bad or not techs:
            raise ParameterError(f"--switch-off {args.switch_off!r}: give 2G, 3G or 2G,3G")
        changes["switch_off"] = SwitchOff(techs, args.operator)
    elif args.operator:
        raise ParameterError("--operator applies to --switch-off; give --switch-off too")
    if args.adopt_fibre_plan:
        changes["adopt_fibre_plan"] = True
    if args.name:
        changes["name"] = " ".join(args.name.split())
    return scenario.with_changes(**changes)


def _params(args: argparse.Namespace):  # noqa: ANN202 - GapParams, imported lazily
    from analysis.params import default_gap_params, gap_params_from_toml

    params = default_gap_params()
    if args.config is not None:
        try:
            text = args.config.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ParameterError(f"cannot read --config {str(args.config)!r}: {exc}") from None
        params = gap_params_from_toml(text, base=params, source=str(args.config))
    return params


def _print_summary(summary: dict, out: Path, seconds: float) -> None:
    keys = (
        "households_gained_good_4g",
        "hamlets_with_cleared_flags",
        "hamlets_with_new_flags",
        "households_lose_all_service",
        "hamlets_lose_all_service",
        "households_drop_to_weak",
        "households_lose_operator_service",
        "cost_total_vnd",
        "cost_per_household_to_target_vnd",
    )
    parts = [f"{k} {summary[k]}" for k in keys if k in summary and summary[k] is not None]
    print(f"wrote {out}: " + ", ".join(parts) + f" in {seconds:.1f} s")


def _propose(result, args: argparse.Namespace) -> None:  # noqa: ANN001 - ScenarioResult, imported lazily
    """Sites for the hamlets the switch-off leaves without service, evaluated as a scenario of their own."""
    from analysis.scenario.evaluate import evaluate_scenario
    from analysis.scenario.propose import proposal_scenario, propose_sites_for_service_loss
    from layers.scenario_export import write_scenario_outputs

    if result.scenario.switch_off is None:
        raise ParameterError(
            "--propose-sites needs --switch-off (it plans for the hamlets left without service)"
        )
    if not 1 <= args.propose_sites <= 1000:
        raise ParameterError(f"--propose-sites {args.propose_sites}: give 1 to 1000")
    plan = propose_sites_for_service_loss(result, n_sites=args.propose_sites, budget_vnd=args.propose_budget)
    if plan is None or plan.summary.empty:
        print("proposal: no hamlet loses all service; no site proposed")
        return
    after = evaluate_scenario(result.baseline, proposal_scenario(result, plan))
    write_scenario_outputs(after, args.out / "proposal", lang=args.lang)
    lost = result.summary.get("households_lose_all_service", 0.0)
    still = after.summary.get("households_lose_all_service", 0.0)
    print(
        f"proposal: {len(plan.summary)} 4G site(s) in {args.out / 'proposal'}; households losing all "
        f"service {lost:,.1f} -> {still:,.1f}"
    )


def run(args: argparse.Namespace) -> int:
    """Evaluate the scenario and write its outputs."""
    from analysis.scenario.evaluate import compute_baseline, evaluate_scenario
    from analysis.scenario.files import scenario_files
    from analysis.scenario.model import Scenario, scenario_slug
    from geo.package import load_package
    from geo.scenario_store import save_scenario_files
    from layers.scenario_export import write_scenario_outputs

    check_data_dir(args.data_dir)
    _check_out_dir(args.out, force=args.force)
    start = time.perf_counter()
    pkg = load_package(args.data_dir.resolve())
    params = _params(args)
    if args.scenario:
        scenario = _load_scenario(args.scenario, pkg)
        if scenario.base_version and scenario.base_version != pkg.version:
            print(
                f"note: scenario {scenario.name!r} was made on package version {scenario.base_version}; "
                f"the package is now {pkg.version} (its changes are applied to the current data)"
            )
    else:
        scenario = Scenario(name="CLI scenario", base_version=pkg.version)
    scenario = _with_options(scenario, args, pkg).with_changes(base_version=pkg.version)
    if scenario.is_empty:
        raise ParameterError(
            "the scenario changes nothing: give --scenario or a change (--add-sites, --switch-off, ...)"
        )
    base = compute_baseline(pkg, params)
    result = evaluate_scenario(base, scenario)
    try:
        write_scenario_outputs(result, args.out, lang=args.lang)
    except OSError as exc:
        raise ParameterError(f"cannot write into {str(args.out)!r}: {exc.strerror}") from None
    if args.propose_sites is not None:
        _propose(result, args)
    if args.save:
        saved = scenario.with_changes(name=" ".join(args.save.split()))
        save_scenario_files(pkg.root, scenario_slug(saved.name), scenario_files(saved), overwrite=args.force)
        print(f"saved scenario {saved.name!r} in {pkg.root / 'scenarios' / scenario_slug(saved.name)}")
    _print_summary(json.loads(json.dumps(result.summary, default=str)), args.out, time.perf_counter() - start)
    return EXIT_OK
