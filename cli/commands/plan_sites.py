"""``python -m analysis plan-sites DATA_DIR --sites N --out PLAN.gpkg``: propose new sites.

Chooses up to N new sites (or as many as ``--budget`` allows) that bring the most households of
under-served hamlets to good coverage (greedy maximum coverage, docs/PLANNING.md), and writes

* ``PLAN.gpkg``: layer ``sites`` (the chosen sites, one row per cell in the ``towers/sites.csv``
  format, ``status = planned``, with each site's marginal gain, cumulative gain, cost and hamlets
  served), ``hamlets`` (the under-served hamlets, households gained), ``candidates`` (every
  candidate with its gain alone; leave out with ``--no-candidates``) and ``metadata``;
* ``PLAN.csv``: the rows of the ``sites`` layer (towers/sites.csv columns first), for a scenario's
  added sites (``scenario --add-sites`` evaluates active cells only: write them with
  ``--status active`` and ``--operator`` for that).

Prints the chosen sites with their marginal gains. Refuses to overwrite either file unless
``--force``. Exit 0 on success, 2 on bad arguments or bad data (message on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.coverage_params import TECHNOLOGIES
from cli.commands._common import check_data_dir, check_out_file
from geo.errors import ParameterError

if TYPE_CHECKING:
    from analysis.site_planning import SitePlan

NAME = "plan-sites"
HELP = "propose up to N new sites that bring the most households of under-served hamlets to good 4G"

EXIT_OK = 0

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the arguments of ``plan-sites``."""
    parser.add_argument(
        "data_dir", metavar="DATA_DIR", type=Path, help="data package folder (holds dataset.toml)"
    )
    parser.add_argument(
        "--sites", required=True, type=int, metavar="N", help="most new sites to choose (1-1000)"
    )
    parser.add_argument(
        "--budget",
        type=float,
        metavar="VND",
        help="total cost not to exceed, VND (unit costs in the planning config are PLACEHOLDERS)",
    )
    parser.add_argument(
        "--operator",
        metavar="NAME",
        help="plan for this operator (its own coverage and cells; e.g. Viettel); "
        "default: the best server of every operator",
    )
    parser.add_argument(
        "--technology", default="4G", choices=TECHNOLOGIES, help="technology of the new cells (default 4G)"
    )
    parser.add_argument("--out", required=True, type=Path, metavar="PLAN.gpkg", help="GeoPackage to write")
    parser.add_argument("--force", action="store_true", help="overwrite PLAN.gpkg and PLAN.csv if they exist")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="PLANNING.toml",
        help="planning parameters shaped like analysis/config/planning.toml (missing entries: defaults)",
    )
    parser.add_argument(
        "--coverage-config",
        type=Path,
        metavar="COVERAGE.toml",
        help="coverage parameters in the shape of analysis/config/coverage.toml",
    )
    parser.add_argument(
        "--resolution", type=float, metavar="METRES", help="coverage pixel size in metres (default 25)"
    )
    parser.add_argument(
        "--include-planned",
        action="store_true",
        help="count the package's planned cells as on air today (and their masts as existing)",
    )
    parser.add_argument(
        "--status",
        choices=("planned", "active"),
        default="planned",
        help="status of the written cells (default planned; `scenario --add-sites` evaluates active "
        "cells only: write active to feed it the plan)",
    )
    parser.add_argument("--no-candidates", action="store_true", help="leave the candidates layer out")


def _csv_path(out: Path) -> Path:
    return out.with_suffix(".csv")


def _check_args(args: argparse.Namespace) -> str | None:
    """Validate everything that needs no data; return the canonical operator (or None)."""
    from analysis.site_planning import known_operator

    check_data_dir(args.data_dir)
    if not 1 <= args.sites <= 1000:
        raise ParameterError(f"--sites must be a whole number from 1 to 1000, got {args.sites}")
    if args.budget is not None and not (args.budget > 0 and args.budget < float("inf")):
        raise ParameterError(f"--budget must be a positive amount of VND, got {args.budget:g}")
    if args.out.suffix.lower() != ".gpkg":
        raise ParameterError(f"--out {str(args.out)!r} must end in .gpkg")
    for path in (args.out, _csv_path(args.out)):
        check_out_file(path, force=args.force)
    for opt in ("config", "coverage_config"):
        path = getattr(args, opt)
        if path is not None and not path.is_file():
            raise ParameterError(f"--{opt.replace('_', '-')} {str(path)!r} does not exist")
    return known_operator(args.operator) if args.operator is not None else None


def run(args: argparse.Namespace) -> int:
    """Plan the sites of ``args.data_dir`` and write ``args.out`` (+ the CSV)."""
    operator = _check_args(args)
    from analysis.coverage_params import coverage_params_from_toml, default_coverage_params
    from analysis.site_planning import default_planning_params, plan_sites, planning_params_from_toml
    from geo.package import load_package

    started = time.perf_counter()
    planning = default_planning_params()
    if args.config is not None:
        planning = planning_params_from_toml(args.config, base=planning)
    params = (
        coverage_params_from_toml(args.coverage_config) if args.coverage_config else default_coverage_params()
    )
    if args.resolution is not None:
        params = params.with_overrides(resolution_m=float(args.resolution))
    pkg = load_package(args.data_dir.resolve())
    plan = plan_sites(
        pkg,
        n_sites=args.sites,
        budget_vnd=args.budget,
        operator=operator,
        technology=args.technology,
        coverage_params=params,
        planning=planning,
        include_planned=args.include_planned,
        cell_status=args.status,
    )
    _write(plan, args)
    _print_table(plan, args, time.perf_counter() - started)
    return EXIT_OK


def _write(plan: SitePlan, args: argparse.Namespace) -> None:
    """The GeoPackage (layers sites, hamlets, candidates, metadata) and the CSV of the sites layer."""
    from analysis.site_planning import PLAN_COLUMNS, SITE_COLUMNS
    from layers.exports import write_export

    meta = {"created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), **plan.metadata}
    layers = {"sites": plan.sites, "hamlets": plan.hamlets}
    if not args.no_candidates:
        layers["candidates"] = plan.candidates
    csv_path = _csv_path(args.out)
    partial = csv_path.with_name(f".{csv_path.name}.{os.getpid()}.partial")
    try:
        write_export(layers, args.out, metadata=meta, overwrite=args.force)
        plan.sites[[*SITE_COLUMNS, *PLAN_COLUMNS]].to_csv(partial, index=False, encoding="utf-8")
        os.replace(partial, csv_path)
    except OSError as exc:
        raise ParameterError(f"cannot write the plan: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)


def _print_table(plan: SitePlan, args: argparse.Namespace, elapsed_s: float) -> None:
    summary = plan.summary
    header = (
        f"{'rank':>4}  {'site_id':<9} {'kind':<12} {'host':<12} {'commune':<10} "
        f"{'gain_hh':>9} {'cum_hh':>9} {'cost_MVND':>10}  hamlets"
    )
    lines = [header]
    for row in summary.itertuples(index=False):
        hamlets = str(row.hamlets_served).split(";") if row.hamlets_served else []
        shown = ", ".join(hamlets[:3]) + (f" +{len(hamlets) - 3}" if len(hamlets) > 3 else "")
        lines.append(
            f"{row.plan_rank:>4}  {row.site_id:<9} {row.kind:<12} {row.host_site_id or '-':<12} "
            f"{row.commune_id or '-':<10} {row.marginal_gain_households:>9.1f} "
            f"{row.cumulative_households:>9.1f} {row.cost_vnd / 1e6:>10.0f}  {shown}"
        )
    meta = plan.metadata
    op = meta["operator"] if args.operator else None
    lines.append(
        f"{len(summary)} site(s) for {op or 'all operators'} ({args.technology}), stop: {plan.greedy.stop}; "
        f"{plan.gained_households:.0f} of {plan.target_households:.0f} households not at good "
        f"{args.technology} in {meta['underserved_hamlets']} under-served hamlets brought to good; "
        f"{meta['candidates']} candidates; cost {plan.greedy.total_cost / 1e6:.0f} million VND "
        f"(PLACEHOLDER unit costs: see --config)"
    )
    if op is None and len(summary):
        lines.append("no --operator: the operator column is empty (any operator); fill it in before use")
    lines.append(f"wrote {args.out} and {_csv_path(args.out)} in {elapsed_s:.1f} s")
    print("\n".join(lines))
