"""Fibre reach along roads and an extension plan for hamlets out of reach.

Reach is a *route* distance: hamlets and fibre access nodes hang on the road graph by straight
spurs (their length counts) and a multi-source Dijkstra from every access node (optionally one
operator's) gives each hamlet its road distance to the nearest node and which node that is.
Never straight-line.

The extension plan connects the hamlets in ``ReachParams.plan_classes`` to the existing network by
an approximate Steiner tree on the road graph (networkx ``steiner_tree``, Mehlhorn's
2-approximation, which needs no ``metric_closure``); all access nodes are joined to one virtual
root by zero-length edges, so the tree may start from any of them. Cable length, cabinet and drop
counts are priced with :class:`analysis.params.UnitCosts` — inputs, not claims.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import shapely
from networkx.algorithms.approximation import steiner_tree
from scipy.sparse.csgraph import dijkstra

from analysis.params import ReachParams, UnitCosts
from analysis.roadgraph import (
    AttachedNetwork,
    Attachment,
    RoadGraph,
    attach_network,
    attach_points,
    replace_attachments,
)
from geo.errors import DataNotFoundError, SchemaError

__all__ = [
    "REACH_CLASSES",
    "ReachResult",
    "ExtensionPlan",
    "select_access_nodes",
    "point_xy_m",
    "compute_reach",
    "reach_class",
    "plan_extension",
    "route_join_nodes",
    "FibreAnalysis",
    "analyse_fibre",
]

log = logging.getLogger(__name__)

REACH_CLASSES: tuple[str, ...] = ("drop", "extendable", "out_of_reach")
"""Reach classes, nearest first (thresholds in :class:`analysis.params.ReachParams`)."""

REACH_LABELS: dict[str, tuple[str, str]] = {
    "drop": ("Trong tầm kéo cáp thuê bao", "Within drop reach"),
    "extendable": ("Có thể kéo dài tuyến cáp", "Extendable"),
    "out_of_reach": ("Ngoài tầm cáp quang", "Out of reach"),
}


@dataclass(frozen=True, eq=False)
class ReachResult:
    """Road distance from every hamlet to its nearest access node.

    Parameters
    ----------
    table
        Indexed by ``hamlet_id``: ``fibre_distance_m`` (road + spurs, m; NaN when no road path
        leads to any node), ``fibre_node_id``, ``fibre_operator``, ``fibre_node_type``,
        ``fibre_reach_class``, ``hamlet_spur_m`` (hamlet to road, m), ``road_connected`` (bool).
    network
        Road graph with the hamlets (first) and access nodes (after them) attached.
    hamlet_nodes, access_nodes
        Node numbers of the hamlets and access nodes in ``network``.
    access_node_ids
        ``node_id`` of each access node, in ``access_nodes`` order.
    distance_m
        Distance from the nearest access node to every node of ``network`` (m, inf unreachable).
    predecessor
        Dijkstra predecessor of every node (-9999 at sources and unreachable nodes).
    params
        The parameters used.
    """

    table: pd.DataFrame
    network: AttachedNetwork
    hamlet_nodes: np.ndarray
    access_nodes: np.ndarray
    access_node_ids: np.ndarray
    distance_m: np.ndarray
    predecessor: np.ndarray
    params: ReachParams


@dataclass(frozen=True)
class ExtensionPlan:
    """Approximate Steiner extension of the fibre network to hamlets beyond reach.

    Parameters
    ----------
    routes
        EPSG:4326 LineStrings: ``route_id``, ``length_m``, ``cable_cost_vnd``.
    hamlets
        One row per target hamlet: ``hamlet_id``, ``fibre_reach_class``, ``households``,
        ``plan_status`` (``planned`` / ``no_road_path``), ``drops``.
    length_m
        Total new cable route length (m), spurs included.
    n_cabinets, n_drops
        One cabinet per planned hamlet; drops = households × ``drop_takeup_share`` (rounded).
    cable_cost_vnd, cabinet_cost_vnd, drop_cost_vnd, total_cost_vnd
        Costs from the unit costs (VND).
    """

    routes: gpd.GeoDataFrame
    hamlets: pd.DataFrame
    length_m: float
    n_cabinets: int
    n_drops: int
    cable_cost_vnd: float
    cabinet_cost_vnd: float
    drop_cost_vnd: float
    total_cost_vnd: float

    def summary(self) -> dict[str, Any]:
        """Plain numbers for metadata and reports."""
        planned = self.hamlets["plan_status"] == "planned"
        return {
            "hamlets_targeted": int(len(self.hamlets)),
            "hamlets_planned": int(planned.sum()),
            "hamlets_without_road_path": int((~planned).sum()),
            "households_planned": int(self.hamlets.loc[planned, "households"].sum()),
            "route_length_km": round(self.length_m / 1000.0, 3),
            "cabinets": self.n_cabinets,
            "drops": self.n_drops,
            "cable_cost_vnd": round(self.cable_cost_vnd),
            "cabinet_cost_vnd": round(self.cabinet_cost_vnd),
            "drop_cost_vnd": round(self.drop_cost_vnd),
            "total_cost_vnd": round(self.total_cost_vnd),
        }


def select_access_nodes(nodes: gpd.GeoDataFrame, params: ReachParams) -> gpd.GeoDataFrame:
    """Access nodes of the requested types (and operator, if one is set).

    Raises
    ------
    SchemaError
        ``node_id`` / ``operator`` / ``node_type`` missing.
    DataNotFoundError
        No node is left after filtering (the message says which filter emptied it).
    """
    missing = [c for c in ("node_id", "operator", "node_type") if c not in nodes.columns]
    if missing:
        raise SchemaError(f"fibre nodes layer lacks column(s) {', '.join(missing)}")
    types_lower = {t.lower() for t in params.node_types}
    sel = nodes[nodes["node_type"].astype(str).str.lower().isin(types_lower)]
    if params.operator is not None:
        ops = sorted(set(nodes["operator"].astype(str)))
        sel = sel[sel["operator"].astype(str).str.lower() == params.operator.lower()]
        if sel.empty:
            raise DataNotFoundError(
                f"no fibre access node of operator {params.operator!r} "
                f"(types {', '.join(params.node_types)}); operators in the layer: {', '.join(ops) or 'none'}"
            )
    if nodes.empty:
        log.warning("the fibre nodes layer is empty: every hamlet is out of fibre reach")
        return nodes
    if sel.empty:
        types = ", ".join(sorted(set(nodes["node_type"].astype(str))))
        raise DataNotFoundError(
            f"fibre nodes layer has no access node of type {', '.join(params.node_types)} "
            f"(its types: {types}); change [reach] node_types"
        )
    sel = sel[~(sel.geometry.isna() | sel.geometry.is_empty)]
    return sel


def point_xy_m(frame: gpd.GeoDataFrame, crs: pyproj.CRS) -> np.ndarray:
    """(k, 2) metric coordinates of points (polygons: their representative point)."""
    geom = frame.geometry.to_crs(crs)
    pts = np.where(
        geom.geom_type.isin(["Point"]).to_numpy(), geom.to_numpy(), geom.representative_point().to_numpy()
    )
    return shapely.get_coordinates(pts).reshape(-1, 2)


def reach_class(distance_m: np.ndarray, params: ReachParams) -> np.ndarray:
    """Reach class per distance (NaN / inf = no road path = ``out_of_reach``)."""
    d = np.asarray(distance_m, dtype=float)
    out = np.full(d.shape, "out_of_reach", dtype=object)
    finite = np.isfinite(d)
    out[finite & (d <= params.extendable_m)] = "extendable"
    out[finite & (d <= params.drop_reach_m)] = "drop"
    return out


def compute_reach(
    road: RoadGraph,
    hamlets: gpd.GeoDataFrame,
    nodes: gpd.GeoDataFrame,
    *,
    params: ReachParams,
    max_spur_m: float | None = None,
) -> ReachResult:
    """Road distance from every hamlet to its nearest fibre access node.

    Parameters
    ----------
    road
        Road graph (:func:`analysis.roadgraph.build_road_graph`), metric CRS ``road.crs``.
    hamlets
        Hamlets with ``hamlet_id``, any CRS (points, or polygons via a representative point).
    nodes
        Fibre nodes with ``node_id``, ``operator``, ``node_type``; filtered by ``params``.
    params
        Reach classes, operator and node types.
    max_spur_m
        Log a warning naming the hamlets / nodes farther than this from any road (m).

    Returns
    -------
    ReachResult
    """
    access = select_access_nodes(nodes, params)
    h_xy = point_xy_m(hamlets, road.crs)
    n_xy = point_xy_m(access, road.crs)
    attachment = attach_points(road, np.concatenate([h_xy, n_xy]))
    k = len(h_xy)
    attachment = _reattach_stranded(road, attachment, k, params.fragment_reattach_m, hamlets["hamlet_id"])
    net = attach_network(road, attachment)
    if max_spur_m is not None:
        _warn_far(attachment.spur_m[:k], hamlets["hamlet_id"], "hamlet", max_spur_m)
        _warn_far(attachment.spur_m[k:], access["node_id"], "fibre node", max_spur_m)
    hamlet_nodes, access_nodes = net.point_node[:k], net.point_node[k:]
    if len(access_nodes):
        dist, pred, src = dijkstra(
            net.csr, directed=False, indices=access_nodes, min_only=True, return_predecessors=True
        )
    else:  # no fibre at all: nothing is reachable
        dist = np.full(net.n_nodes, np.inf)
        pred = np.full(net.n_nodes, -9999)
        src = np.full(net.n_nodes, -9999)
    d_h = dist[hamlet_nodes]
    node_of = np.full(net.n_nodes, -1)
    node_of[access_nodes] = np.arange(len(access_nodes))
    src_h = src[hamlet_nodes]
    nearest = np.where(src_h >= 0, node_of[np.maximum(src_h, 0)], -1)
    table = _reach_table(hamlets, access, d_h, nearest, attachment.spur_m[:k], params)
    return ReachResult(
        table=table,
        network=net,
        hamlet_nodes=hamlet_nodes,
        access_nodes=access_nodes,
        access_node_ids=access["node_id"].astype(str).to_numpy(),
        distance_m=dist,
        predecessor=pred,
        params=params,
    )


def _reattach_stranded(
    road: RoadGraph, attachment: Attachment, k: int, slack_m: float, ids: pd.Series
) -> Attachment:
    """Move hamlets (the first ``k`` points) off road fragments that hold no access node.

    A hamlet whose nearest road lies in a component without any access node is attached instead
    to the nearest road of a component that has one, when that spur is at most ``slack_m`` longer.
    """
    if slack_m <= 0 or len(attachment.edge) <= k:
        return attachment
    comp_of_edge = road.component[road.edge_u]
    fibre_comps = np.unique(comp_of_edge[attachment.edge[k:]])
    stranded = np.flatnonzero(~np.isin(comp_of_edge[attachment.edge[:k]], fibre_comps))
    if stranded.size == 0:
        return attachment
    good = np.flatnonzero(np.isin(comp_of_edge, fibre_comps))
    alt = attach_points(road, attachment.point_xy_m[stranded], edges=good)
    better = alt.spur_m - attachment.spur_m[stranded] <= slack_m
    if better.any():
        moved = ids.astype(str).to_numpy()[stranded[better]]
        log.info(
            "%d hamlet(s) moved from a road fragment without fibre to the connected network: %s",
            int(better.sum()),
            ", ".join(moved[:10]),
        )
        picked = Attachment(
            alt.edge[better],
            alt.offset_m[better],
            alt.spur_m[better],
            alt.point_xy_m[better],
            alt.road_xy_m[better],
        )
        attachment = replace_attachments(attachment, stranded[better], picked)
    return attachment


def _warn_far(spur_m: np.ndarray, ids: pd.Series, what: str, max_spur_m: float) -> None:
    far = spur_m > max_spur_m
    if far.any():
        names = ", ".join(
            f"{i} ({d:.0f} m)" for i, d in zip(ids.astype(str)[far][:10], spur_m[far][:10], strict=True)
        )
        log.warning(
            "%d %s(s) are more than %.0f m from any road; their spur counts in the distance: %s",
            int(far.sum()),
            what,
            max_spur_m,
            names,
        )


def _reach_table(
    hamlets: gpd.GeoDataFrame,
    access: gpd.GeoDataFrame,
    d_h: np.ndarray,
    nearest: np.ndarray,
    spur_m: np.ndarray,
    params: ReachParams,
) -> pd.DataFrame:
    found = nearest >= 0
    idx = np.maximum(nearest, 0)

    def pick(col: str) -> np.ndarray:
        if col not in access or access.empty:
            return np.full(len(idx), "", dtype=object)
        return np.where(found, access[col].astype(str).to_numpy()[idx], "")

    return pd.DataFrame(
        {
            "fibre_distance_m": np.where(np.isfinite(d_h), d_h, np.nan),
            "fibre_node_id": pick("node_id"),
            "fibre_operator": pick("operator"),
            "fibre_node_type": pick("node_type"),
            "fibre_reach_class": reach_class(d_h, params),
            "hamlet_spur_m": spur_m,
            "road_connected": np.isfinite(d_h),
        },
        index=pd.Index(hamlets["hamlet_id"].astype(str).to_numpy(), name="hamlet_id"),
    )


def plan_extension(
    reach: ReachResult,
    hamlets: gpd.GeoDataFrame,
    *,
    costs: UnitCosts,
    existing_routes: gpd.GeoDataFrame | None = None,
) -> ExtensionPlan:
    """Approximate Steiner tree from the existing network to the hamlets beyond reach.

    The existing network is every access node and, when ``existing_routes`` is given and
    ``ReachParams.route_join_m`` > 0, every road-graph node within that distance of an existing
    cable route (of the chosen operator, if one is set): new cable may branch off there.

    Parameters
    ----------
    reach
        :func:`compute_reach` output for the same ``hamlets`` (same order).
    hamlets
        Hamlets with ``hamlet_id`` and ``households``.
    costs
        Unit costs (VND).
    existing_routes
        The package's ``fibre/routes`` lines (any CRS), or None.

    Returns
    -------
    ExtensionPlan
        Routes in EPSG:4326 and the cost breakdown; an empty plan when nothing is targeted.
    """
    table = reach.table
    target = table["fibre_reach_class"].isin(reach.params.plan_classes).to_numpy()
    connected = table["road_connected"].to_numpy()
    households = pd.to_numeric(hamlets["households"], errors="coerce").fillna(0).to_numpy()
    planned = target & connected
    joins = _route_join_nodes(reach, existing_routes) if planned.any() else np.empty(0, int)
    edges = _steiner_edges(reach, reach.hamlet_nodes[planned], joins) if planned.any() else []
    routes, length_m = _routes_frame(reach.network, edges, costs)
    drops = np.where(planned, np.round(households * costs.drop_takeup_share), 0).astype(int)
    hamlet_rows = pd.DataFrame(
        {
            "hamlet_id": table.index.to_numpy()[target],
            "fibre_reach_class": table["fibre_reach_class"].to_numpy()[target],
            "households": households[target].astype(int),
            "plan_status": np.where(connected[target], "planned", "no_road_path"),
            "drops": drops[target],
        }
    )
    n_cab, n_drops = int(planned.sum()), int(drops.sum())
    cable = length_m / 1000.0 * costs.cable_vnd_per_km
    cab = n_cab * costs.cabinet_vnd
    drop = n_drops * costs.drop_vnd
    if (target & ~connected).any():
        log.warning(
            "%d hamlet(s) beyond fibre reach have no road path to any access node",
            int((target & ~connected).sum()),
        )
    return ExtensionPlan(
        routes=routes,
        hamlets=hamlet_rows,
        length_m=length_m,
        n_cabinets=n_cab,
        n_drops=n_drops,
        cable_cost_vnd=cable,
        cabinet_cost_vnd=cab,
        drop_cost_vnd=drop,
        total_cost_vnd=cable + cab + drop,
    )


_ROOT = -1


def _road_node_xy(net: AttachedNetwork) -> np.ndarray:
    """(n, 2) coordinates of the on-road nodes of the attached network (m): road-graph nodes, then
    spur feet (their node numbers are ``0..n-1``; the attached points themselves follow)."""
    return np.concatenate([net.road.node_xy_m, net.attachment.road_xy_m])


def _route_join_nodes(reach: ReachResult, routes: gpd.GeoDataFrame | None) -> np.ndarray:
    """Nodes of ``reach.network`` within ``route_join_m`` of an existing route."""
    return route_join_nodes(reach, routes)[0]


def route_join_nodes(reach: ReachResult, routes: gpd.GeoDataFrame | None) -> tuple[np.ndarray, pd.DataFrame]:
    """On-road nodes of ``reach.network`` where new cable may branch off an existing route.

    The same nodes the extension plan ties to its root: within ``ReachParams.route_join_m`` of a
    route of ``routes`` (of the chosen operator, if one is set).

    Parameters
    ----------
    reach
        :func:`compute_reach` output.
    routes
        The package's ``fibre/routes`` lines (any CRS), or None.

    Returns
    -------
    nodes : ndarray of int
        Sorted, unique node numbers of ``reach.network``.
    nearest_route : DataFrame
        One row per node (same order): ``route_id`` and ``operator`` of the nearest such route
        (empty text when the layer lacks the column).
    """
    join_m = reach.params.route_join_m
    empty = (
        np.empty(0, int),
        pd.DataFrame({"route_id": pd.Series(dtype=str), "operator": pd.Series(dtype=str)}),
    )
    if routes is None or routes.empty or join_m <= 0:
        return empty
    if reach.params.operator is not None and "operator" in routes:
        routes = routes[routes["operator"].astype(str).str.lower() == reach.params.operator.lower()]
    usable = routes[~(routes.geometry.isna() | routes.geometry.is_empty)]
    lines = usable.geometry.to_crs(reach.network.road.crs).to_numpy()
    if len(lines) == 0:
        return empty
    tree = shapely.STRtree(lines)
    node_pts = shapely.points(_road_node_xy(reach.network))  # cable follows roads: on-road nodes only
    hit, line = tree.query(node_pts, predicate="dwithin", distance=join_m)
    nearest = np.lexsort((shapely.distance(node_pts[hit], lines[line]), hit))
    nodes, first = np.unique(hit[nearest], return_index=True)
    pick = line[nearest][first]

    def column(name: str) -> np.ndarray:
        if name not in usable:
            return np.full(len(pick), "", dtype=object)
        return usable[name].astype(str).to_numpy()[pick]

    return nodes, pd.DataFrame({"route_id": column("route_id"), "operator": column("operator")})


def _steiner_edges(reach: ReachResult, terminals: np.ndarray, joins: np.ndarray) -> list[int]:
    """Augmented-edge indices of an approximate Steiner tree joining ``terminals`` to the root.

    The virtual root is tied by zero-length edges to every access node and every join node."""
    net = reach.network
    reachable = np.isfinite(reach.distance_m)
    keep = reachable[net.u] & reachable[net.v]
    g = nx.Graph()
    g.add_edges_from(
        (int(a), int(b), {"weight_m": float(w), "aug_edge": int(k)})
        for k, a, b, w in zip(np.flatnonzero(keep), net.u[keep], net.v[keep], net.weight_m[keep], strict=True)
    )
    roots = np.union1d(reach.access_nodes, joins[reachable[joins]])
    g.add_edges_from((_ROOT, int(n), {"weight_m": 0.0, "aug_edge": -1}) for n in roots)
    terms = [_ROOT, *(int(t) for t in np.unique(terminals))]
    tree = steiner_tree(g, terms, weight="weight_m", method="mehlhorn")
    return sorted(int(d["aug_edge"]) for _, _, d in tree.edges(data=True) if d["aug_edge"] >= 0)


def _routes_frame(net: AttachedNetwork, edges: list[int], costs: UnitCosts) -> tuple[gpd.GeoDataFrame, float]:
    cols = ["route_id", "length_m", "cable_cost_vnd"]
    if not edges:
        empty = gpd.GeoDataFrame(
            {c: pd.Series(dtype=t) for c, t in zip(cols, ("str", float, float), strict=True)},
            geometry=gpd.GeoSeries([], crs=net.road.crs),
        ).to_crs(4326)
        return empty, 0.0
    lines = [
        line
        for line in (net.edge_line(k) for k in edges if net.weight_m[k] > 0)
        if line.geom_type == "LineString" and line.length > 0
    ]
    if not lines:
        return _routes_frame(net, [], costs)[0], float(net.weight_m[edges].sum())
    merged = shapely.line_merge(shapely.multilinestrings(lines))
    parts = shapely.get_parts(merged)
    lengths = shapely.length(parts)
    order = np.argsort(-lengths, kind="stable")
    parts, lengths = parts[order], lengths[order]
    total = float(net.weight_m[edges].sum())
    routes = gpd.GeoDataFrame(
        {
            "route_id": [f"EXT-{i + 1:04d}" for i in range(len(parts))],
            "length_m": np.round(lengths, 1),
            "cable_cost_vnd": np.round(lengths / 1000.0 * costs.cable_vnd_per_km),
        },
        geometry=gpd.GeoSeries(parts, crs=net.road.crs),
    ).to_crs(4326)
    return routes, total


@dataclass(frozen=True, eq=False)
class FibreAnalysis:
    """Reach and extension plan of one data package, ready to map or export.

    Parameters
    ----------
    reach_layer
        EPSG:4326 hamlets: ``hamlet_id``, ``hamlet_name``, ``commune_id``, ``households``, the
        :class:`ReachResult` table columns, ``plan_status`` (``planned`` / ``no_road_path`` / ""
        when not targeted) and ``drops``.
    access_nodes
        EPSG:4326 access nodes that were used.
    plan
        The extension plan.
    reach
        The raw reach result (graph, distances) for further work, e.g. :func:`analysis.gaps.compute_gaps`.
    metadata
        Export metadata: source data, date, parameters, plan summary, road-graph components.
    """

    reach_layer: gpd.GeoDataFrame
    access_nodes: gpd.GeoDataFrame
    plan: ExtensionPlan
    reach: ReachResult
    metadata: dict[str, str]


def analyse_fibre(pkg: Any, params: Any) -> FibreAnalysis:
    """Road graph, reach and extension plan of a data package.

    Parameters
    ----------
    pkg
        :class:`geo.package.DataPackage`.
    params
        :class:`analysis.params.GapParams` (``roads``, ``reach``, ``costs`` are used).
    """
    from datetime import UTC, datetime

    from analysis.roadgraph import build_road_graph

    road = build_road_graph(pkg.roads, pkg.metric_crs, params=params.roads)
    reach = compute_reach(
        road, pkg.hamlets, pkg.fibre_nodes, params=params.reach, max_spur_m=params.roads.max_spur_m
    )
    plan = plan_extension(reach, pkg.hamlets, costs=params.costs, existing_routes=pkg.fibre_routes)
    cols = [c for c in ("hamlet_id", "hamlet_name", "commune_id", "households") if c in pkg.hamlets]
    layer = pkg.hamlets[cols + ["geometry"]].copy()
    layer["hamlet_id"] = layer["hamlet_id"].astype(str)
    layer = layer.join(reach.table, on="hamlet_id")
    status = plan.hamlets.set_index("hamlet_id")
    layer["plan_status"] = layer["hamlet_id"].map(status["plan_status"]).fillna("")
    layer["drops"] = layer["hamlet_id"].map(status["drops"]).fillna(0).astype(int)
    meta: dict[str, str] = {
        "title": f"PhuSong fibre reach: {getattr(pkg.meta, 'name', '')}",
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dataset": str(getattr(pkg.meta, "name", "")),
        "dataset_version": str(getattr(pkg, "version", "")),
        "road_graph": road.components.summary(),
        "road_graph_size": f"{road.n_nodes} nodes, {road.n_edges} edges",
        "distance": "road distance incl. straight spurs from hamlet and node to the nearest road (m)",
    }
    for key in ("fibre_nodes", "roads", "hamlets"):
        layer_meta = dict(getattr(pkg.meta, "layers", {}) or {}).get(key)
        if layer_meta is not None:
            synth = " (synthetic)" if getattr(layer_meta, "synthetic", False) else ""
            meta[f"source_{key}"] = f"{layer_meta.source}; licence {layer_meta.licence}{synth}"
    for section in ("roads", "reach", "costs"):
        for name, value in params.to_dict()[section].items():
            meta[f"param_{section}_{name}"] = str(value)
    meta["threshold_drop_reach_m"] = str(params.reach.drop_reach_m)
    meta["threshold_extendable_m"] = str(params.reach.extendable_m)
    for k, v in plan.summary().items():
        meta[f"plan_{k}"] = str(v)
    access = select_access_nodes(pkg.fibre_nodes, params.reach)
    return FibreAnalysis(
        reach_layer=gpd.GeoDataFrame(layer, geometry="geometry", crs=pkg.hamlets.crs),
        access_nodes=access,
        plan=plan,
        reach=reach,
        metadata=meta,
    )
