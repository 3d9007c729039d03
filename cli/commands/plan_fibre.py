"""``python -m analysis plan-fibre DATA_DIR --budget VND --out PLAN.gpkg``: fibre under a budget.

Orders the hamlets beyond drop reach by households reached per VND (new cable from the growing
network along roads + one cabinet + drops; :mod:`analysis.fibre_budget`, docs/PLANNING_FIBRE.md) and
stops at ``--budget`` VND and / or ``--hamlets N``. Writes ``PLAN.gpkg`` with the layers ``hamlets``
(the chosen hamlets in order, points), ``routes`` (the new cable of each choice) and ``cabinets``,
and ``PLAN_fibre_nodes.csv`` beside it: the cabinets in the ``fibre/nodes`` format, which
``python -m analysis scenario DATA_DIR --add-fibre-nodes PLAN_fibre_nodes.csv --out DIR`` takes as
a scenario. Prints the order with ratios and cumulative totals. Costs come from the ``[costs]``
section of the config (placeholders: inputs, not claims). Refuses to overwrite unless ``--force``;
exit 2 with a message on bad input.
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.commands.gaps import add_common_arguments, check_inputs
from geo.errors import ParameterError

if TYPE_CHECKING:
    import geopandas as gpd

    from analysis.fibre_budget import FibreBudgetPlan

NAME = "plan-fibre"
HELP = "which hamlets to connect to fibre first under a budget (households per VND); a scenario's nodes"

EXIT_OK = 0

NODES_SUFFIX = "_fibre_nodes.csv"
ROUTES_SUFFIX = "_fibre_routes.geojson"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the arguments of ``plan-fibre``."""
    add_common_arguments(
        parser, out_help=f"output .gpkg; the cabinets go to <name>{NODES_SUFFIX} in the same folder"
    )
    parser.add_argument(
        "--budget", metavar="VND", help="money available, VND (e.g. 20000000000 or 2e10); stop when spent"
    )
    parser.add_argument("--hamlets", metavar="N", help="connect at most N hamlets")


def nodes_csv_path(out: Path) -> Path:
    """Where the cabinets CSV of ``out`` goes: ``plan.gpkg`` -> ``plan_fibre_nodes.csv``."""
    return out.with_name(
        out.name[: -len(out.suffix)] + NODES_SUFFIX if out.suffix else out.name + NODES_SUFFIX
    )


def parse_budget(text: str | None) -> float | None:
    """``--budget`` as VND (> 0), or None when not given.

    Raises
    ------
    ParameterError
        Not a number, not finite or not above 0.
    """
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        raise ParameterError(
            f"--budget {text!r} is not an amount of VND; "
            "give digits, e.g. 20000000000, 20_000_000_000 or 2e10"
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise ParameterError(f"--budget {text!r}: the budget must be a finite amount above 0 VND")
    return value


def parse_hamlets(text: str | None) -> int | None:
    """``--hamlets`` as a whole number >= 1, or None when not given."""
    if text is None:
        return None
    try:
        value = int(text.strip())
    except ValueError:
        raise ParameterError(f"--hamlets {text!r} is not a whole number") from None
    if value < 1:
        raise ParameterError(f"--hamlets {text!r}: give at least 1")
    return value


def _hamlets_layer(plan: FibreBudgetPlan, hamlets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    import geopandas as gpd

    ids = hamlets["hamlet_id"].astype(str)
    pos = {h: i for i, h in enumerate(ids)}
    rows = [pos[h] for h in plan.choices["hamlet_id"]]
    points = hamlets.geometry.iloc[rows].to_crs(4326).representative_point().to_numpy()
    return gpd.GeoDataFrame(plan.choices.copy(), geometry=gpd.GeoSeries(points, crs=4326))


def _metadata(plan: FibreBudgetPlan, pkg: Any, params: Any) -> dict[str, str]:
    from datetime import UTC, datetime

    meta: dict[str, str] = {
        "title": f"PhuSong fibre under a budget: {getattr(pkg.meta, 'name', '')}",
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dataset": str(getattr(pkg.meta, "name", "")),
        "dataset_version": str(getattr(pkg, "version", "")),
        "rule": (
            "greedy by households per VND: each step the hamlet with the most households per VND "
            "among those whose marginal cost (new cable from the current network along roads + "
            "cabinet + drops) fits in the budget left; a hamlet that does not fit is passed over"
        ),
        "costs_note": "unit costs are the [costs] inputs (illustrative placeholders, not claims)",
    }
    for section in ("reach", "costs"):
        for name, value in params.to_dict()[section].items():
            meta[f"param_{section}_{name}"] = str(value)
    for key, value in plan.summary().items():
        meta[f"plan_{key}"] = "" if value is None else str(value)
    return meta


def _write_csv(frame: Any, path: Path, *, force: bool) -> None:
    if path.exists() and not force:
        raise ParameterError(f"{str(path)!r} already exists; use --force to overwrite it")
    text = frame.to_csv(index=False, lineterminator="\n")
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.part"
    try:
        with open(tmp, "x", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise ParameterError(f"cannot write {str(path)!r}: {exc.strerror}") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _money(x: float) -> str:
    return f"{x:,.0f}"


def print_plan(plan: FibreBudgetPlan) -> None:
    """The order with costs, ratios and cumulative totals, one line per hamlet."""
    head = (
        f"{'#':>4}  {'hamlet_id':<14} {'households':>10} {'cable_m':>9} {'cost_VND':>15} "
        f"{'hh/M_VND':>9} {'cum_cost_VND':>17} {'cum_hh':>8}  from"
    )
    print(head)
    for r in plan.choices.itertuples(index=False):
        print(
            f"{r.order:>4}  {r.hamlet_id:<14} {r.households:>10,} {r.marginal_cable_m:>9,.0f} "
            f"{_money(r.marginal_cost_vnd):>15} {r.households_per_million_vnd:>9.3f} "
            f"{_money(r.cumulative_cost_vnd):>17} {r.cumulative_households:>8,}  {r.from_node_id}"
        )


def run(args: argparse.Namespace) -> int:
    """Plan the fibre connections of ``args.data_dir`` under the budget and write ``args.out``."""
    import pandas as pd

    from analysis.fibre import compute_reach
    from analysis.fibre_budget import NODE_COLUMNS, plan_fibre_budget
    from analysis.roadgraph import build_road_graph
    from cli.commands._common import gap_params_from_args
    from geo.package import load_package
    from layers.exports import write_export

    budget = parse_budget(args.budget)
    max_hamlets = parse_hamlets(args.hamlets)
    if budget is None and max_hamlets is None:
        raise ParameterError("give --budget VND (and / or --hamlets N): the plan needs a limit")
    check_inputs(args, formats=("gpkg",))
    csv_path = nodes_csv_path(args.out)
    if csv_path.exists() and not args.force:
        raise ParameterError(f"{str(csv_path)!r} already exists; use --force to overwrite it")
    params = gap_params_from_args(args)
    start = time.perf_counter()
    pkg = load_package(args.data_dir.resolve())
    road = build_road_graph(pkg.roads, pkg.metric_crs, params=params.roads)
    reach = compute_reach(
        road, pkg.hamlets, pkg.fibre_nodes, params=params.reach, max_spur_m=params.roads.max_spur_m
    )
    plan = plan_fibre_budget(
        reach,
        pkg.hamlets,
        costs=params.costs,
        budget_vnd=budget,
        max_hamlets=max_hamlets,
        existing_routes=pkg.fibre_routes,
        nodes=pkg.fibre_nodes,
    )
    layers = {
        "hamlets": _hamlets_layer(plan, pkg.hamlets),
        "routes": plan.routes,
        "cabinets": plan.cabinets,
    }
    try:
        write_export(layers, args.out, metadata=_metadata(plan, pkg, params), overwrite=args.force)
    except OSError as exc:
        raise ParameterError(f"cannot write {str(args.out)!r}: {exc.strerror}") from None
    _write_csv(pd.DataFrame(plan.cabinets[list(NODE_COLUMNS)]), csv_path, force=args.force)
    routes_path = args.out.with_name(args.out.name.removesuffix(".gpkg") + ROUTES_SUFFIX)
    if len(plan.routes):
        try:
            write_export(
                plan.routes[["route_id", "operator", "geometry"]],
                routes_path,
                metadata={},
                overwrite=args.force,
            )
        except OSError as exc:
            raise ParameterError(f"cannot write {str(routes_path)!r}: {exc.strerror}") from None
    seconds = time.perf_counter() - start
    print_plan(plan)
    s = plan.summary()
    limit = " and ".join(
        part
        for part in (
            f"budget {_money(budget)} VND" if budget is not None else "",
            f"at most {max_hamlets} hamlets" if max_hamlets is not None else "",
        )
        if part
    )
    print(
        f"wrote {args.out} and {csv_path.name}: {s['hamlets_chosen']} of {s['candidates']} hamlets "
        f"beyond drop reach, {s['households_reached']:,} households, {s['route_length_km']} km new "
        f"cable, {_money(s['total_cost_vnd'])} VND ({limit}) in {seconds:.1f} s"
    )
    nxt = plan.next_candidate
    if nxt is not None:
        print(
            f"next by ratio: {nxt['hamlet_id']} ({nxt['households']:,} households, "
            f"{_money(nxt['marginal_cost_vnd'])} VND, "
            f"{nxt['households_per_million_vnd']:.3f} per million VND)"
        )
    if len(plan.choices):
        print(
            f"as a scenario: python -m analysis scenario {args.data_dir} "
            f"--add-fibre-nodes {csv_path} --add-fibre-routes {routes_path} --out DIR"
        )
    return EXIT_OK
