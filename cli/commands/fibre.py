"""``python -m analysis fibre DATA_DIR --out FILE.gpkg``: fibre reach per hamlet and an extension plan.

Writes three layers: ``reach`` (hamlet points with road distance to the nearest access node, the
node, reach class and plan status), ``extension_plan`` (new cable routes along roads, an
approximate Steiner tree, with length and cable cost) and ``access_nodes``. Also ``.kml``,
``.shp.zip`` and ``.xlsx``. Costs come from the ``[costs]`` section of the config (inputs, not
claims). Refuses to overwrite unless ``--force``; exit 2 with a message on bad input.
"""

from __future__ import annotations

import argparse
import logging
import time

from cli.commands._common import gap_params_from_args
from cli.commands.gaps import add_common_arguments, check_inputs
from geo.errors import ParameterError

NAME = "fibre"
HELP = "road-distance fibre reach per hamlet and a priced extension plan (GeoPackage)"

EXIT_OK = 0

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the arguments of ``fibre``."""
    add_common_arguments(parser, out_help="output file: .gpkg (also .kml, .shp.zip, .xlsx)")


def run(args: argparse.Namespace) -> int:
    """Compute reach and the extension plan of ``args.data_dir`` and write ``args.out``."""
    from analysis.fibre import analyse_fibre
    from geo.package import load_package
    from layers.exports import write_export

    check_inputs(args, formats=("gpkg", "kml", "shp.zip", "xlsx"))
    params = gap_params_from_args(args)
    start = time.perf_counter()
    pkg = load_package(args.data_dir.resolve())
    result = analyse_fibre(pkg, params)
    layers = {
        "reach": result.reach_layer,
        "extension_plan": result.plan.routes,
        "access_nodes": result.access_nodes,
    }
    try:
        write_export(layers, args.out, metadata=result.metadata, overwrite=args.force)
    except OSError as exc:
        raise ParameterError(f"cannot write {str(args.out)!r}: {exc.strerror}") from None
    classes = result.reach_layer["fibre_reach_class"].value_counts()
    s = result.plan.summary()
    print(
        f"wrote {args.out}: {len(result.reach_layer)} hamlets "
        f"(drop {classes.get('drop', 0)}, extendable {classes.get('extendable', 0)}, "
        f"out of reach {classes.get('out_of_reach', 0)}); plan {s['route_length_km']} km to "
        f"{s['hamlets_planned']} hamlets, {s['total_cost_vnd']:,} VND "
        f"in {time.perf_counter() - start:.1f} s"
    )
    return EXIT_OK
