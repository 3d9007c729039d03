"""Fibre under a budget: which hamlets to connect first, by households reached per VND.

The extension plan (:func:`analysis.fibre.plan_extension`) connects every hamlet beyond drop reach
at once. :func:`plan_fibre_budget` orders the same hamlets (``ReachParams.plan_classes`` with a road
path and households) and stops at a budget and / or a number of hamlets:

* connecting a hamlet costs the new cable from the **current network** to it along the road graph
  (the shortest path on the attached network the reach and the extension plan use, the hamlet's
  spur included), plus one cabinet, plus its drops (households × ``drop_takeup_share``, rounded),
  priced with :class:`analysis.params.UnitCosts`;
* the current network is every access node, every on-road node where new cable may branch off an
  existing route (:func:`analysis.fibre.route_join_nodes`, as in the extension plan) and the whole
  new cable of the hamlets already chosen (their cabinets and every junction on the way);
* each step takes the hamlet with the most households per VND among those whose cost fits in what
  is left of the budget (ties: the earlier hamlet in the hamlets layer). A hamlet that does not fit
  is passed over, not a stop: a cheaper one with a lower ratio may still fit. (A passed-over hamlet
  never fits later: later cable lowers its cost by at most that cable's cost, which the budget
  loses too.) The plan stops when no remaining hamlet fits, ``max_hamlets`` are chosen or none is
  left. Costs are whole VND (the cable cost of each choice is rounded), so the totals add up.

**Lazy re-evaluation.** After a choice the marginal cost of the other hamlets can only fall (more
cable to branch from), so a cost computed earlier is a *pessimistic* bound: a hamlet whose old ratio
is not the best may have become the best, and re-checking only the top of the queue would be wrong.
What is exact and cheap is the other way round: a hamlet's cost falls only if the new cable is
nearer to it than the network was, and one Dijkstra from the new cable, cut off at the largest
distance of any remaining hamlet, finds exactly those hamlets. Only they are re-priced and pushed
again on the priority queue; stale queue entries are dropped when they surface. The result equals a
greedy that recomputes every hamlet's cost after every choice (``tests/test_fibre_budget.py``).

The chosen cabinets come out as ``fibre/nodes`` rows (``node_id`` ``PLANF-<hamlet_id>``, type
``cabinet``, operator of the access node or route the new cable starts from), ready to be a
scenario's ``added_fibre_nodes``. Costs are the ``[costs]`` inputs of ``analysis/config/gaps.toml``:
illustrative placeholders, not claims.
"""

from __future__ import annotations

import heapq
import logging
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra

from analysis.fibre import ReachResult, route_join_nodes
from analysis.params import UnitCosts
from analysis.roadgraph import AttachedNetwork
from geo.errors import ParameterError

__all__ = ["CABINET_PREFIX", "FibreBudgetPlan", "plan_fibre_budget"]

log = logging.getLogger(__name__)

CABINET_PREFIX = "PLANF-"
"""``node_id`` prefix of the cabinets a budget plan adds (``PLANF-<hamlet_id>``)."""

#: Columns of :attr:`FibreBudgetPlan.choices`, in order.
CHOICE_COLUMNS: tuple[str, ...] = (
    "order",
    "hamlet_id",
    "hamlet_name",
    "commune_id",
    "households",
    "drops",
    "fibre_reach_class",
    "fibre_distance_m",
    "marginal_cable_m",
    "cable_cost_vnd",
    "cabinet_cost_vnd",
    "drop_cost_vnd",
    "marginal_cost_vnd",
    "households_per_million_vnd",
    "cumulative_cost_vnd",
    "cumulative_households",
    "from_node_id",
    "operator",
)

#: Columns of the cabinet rows (the ``fibre/nodes`` CSV columns).
NODE_COLUMNS: tuple[str, ...] = ("node_id", "operator", "node_type", "name", "commune_id", "lon", "lat")

_NO_PRED = -9999  # scipy's predecessor of sources and unreachable nodes
_BUDGET_SLACK_VND = 1e-6  # a cost equal to the remaining budget fits despite rounding
_TIE_M = 1e-6


@dataclass(frozen=True, eq=False)
class FibreBudgetPlan:
    """The hamlets to connect first under a budget, in order, with their cable and cabinets.

    Parameters
    ----------
    choices
        One row per chosen hamlet, in the order chosen (columns :data:`CHOICE_COLUMNS`):
        ``order`` (1, 2, ...), ``hamlet_id``, ``hamlet_name``, ``commune_id``, ``households``,
        ``drops``, ``fibre_reach_class`` and ``fibre_distance_m`` (before the plan),
        ``marginal_cable_m`` (new cable from the network as it was at that step, spur included),
        ``cable_cost_vnd``, ``cabinet_cost_vnd``, ``drop_cost_vnd``, ``marginal_cost_vnd`` (their
        sum), ``households_per_million_vnd``, ``cumulative_cost_vnd``, ``cumulative_households``,
        ``from_node_id`` (access node, ``route:<route_id>`` or an earlier ``PLANF-`` cabinet the
        new cable starts from) and ``operator`` (of that node or route).
    routes
        EPSG:4326 LineStrings, one per choice with new cable: ``route_id`` (``PLANF-R0001`` by
        order), ``order``, ``hamlet_id``, ``from_node_id``, ``operator``, ``length_m``,
        ``cable_cost_vnd``.
    cabinets
        EPSG:4326 points in the ``fibre/nodes`` format (:data:`NODE_COLUMNS` and geometry), one per
        chosen hamlet at the hamlet: ``node_id`` ``PLANF-<hamlet_id>``, ``node_type`` ``cabinet``.
    budget_vnd, max_hamlets
        The limits asked for (None = none).
    n_candidates
        Hamlets the plan could choose from (plan classes, road path, households > 0).
    n_no_road_path
        Hamlets of the plan classes without a road path to the network (never chosen).
    next_candidate
        The best remaining hamlet by ratio when the plan stopped (``hamlet_id``, ``households``,
        ``marginal_cost_vnd``, ``households_per_million_vnd``), or None when none is left.
    """

    choices: pd.DataFrame
    routes: gpd.GeoDataFrame
    cabinets: gpd.GeoDataFrame
    budget_vnd: float | None
    max_hamlets: int | None
    n_candidates: int
    n_no_road_path: int
    next_candidate: dict[str, Any] | None

    @property
    def total_cost_vnd(self) -> float:
        """Cost of every chosen hamlet (VND)."""
        return float(self.choices["marginal_cost_vnd"].sum())

    @property
    def households(self) -> int:
        """Households of the chosen hamlets."""
        return int(self.choices["households"].sum())

    @property
    def length_m(self) -> float:
        """New cable length (m)."""
        return float(self.choices["marginal_cable_m"].sum())

    def summary(self) -> dict[str, Any]:
        """Plain numbers for metadata, reports and the command line."""
        c = self.choices
        return {
            "budget_vnd": None if self.budget_vnd is None else round(self.budget_vnd),
            "max_hamlets": self.max_hamlets,
            "candidates": self.n_candidates,
            "candidates_without_road_path": self.n_no_road_path,
            "hamlets_chosen": int(len(c)),
            "households_reached": self.households,
            "route_length_km": round(self.length_m / 1000.0, 3),
            "cable_cost_vnd": round(float(c["cable_cost_vnd"].sum())),
            "cabinet_cost_vnd": round(float(c["cabinet_cost_vnd"].sum())),
            "drop_cost_vnd": round(float(c["drop_cost_vnd"].sum())),
            "total_cost_vnd": round(self.total_cost_vnd),
            "households_per_million_vnd": round(self.households / self.total_cost_vnd * 1e6, 3)
            if self.total_cost_vnd > 0
            else None,
        }


def plan_fibre_budget(
    reach: ReachResult,
    hamlets: gpd.GeoDataFrame,
    *,
    costs: UnitCosts,
    budget_vnd: float | None,
    max_hamlets: int | None,
    existing_routes: gpd.GeoDataFrame | None = None,
    nodes: gpd.GeoDataFrame | None = None,
) -> FibreBudgetPlan:
    """Order the hamlets beyond drop reach by households reached per VND, within a budget.

    Parameters
    ----------
    reach
        :func:`analysis.fibre.compute_reach` output for the same ``hamlets`` (same order).
    hamlets
        Hamlets with ``hamlet_id`` and ``households`` (``hamlet_name``, ``commune_id`` are copied
        when present), any CRS.
    costs
        Unit costs (VND).
    budget_vnd
        Money available (VND, >= 0); None = no budget limit.
    max_hamlets
        At most this many hamlets (>= 0); None = no limit.
    existing_routes
        The package's ``fibre/routes`` lines, or None: new cable may also branch off them (as in the
        extension plan, ``ReachParams.route_join_m``).
    nodes
        The fibre nodes layer given to ``compute_reach`` (``node_id``, ``operator``), for the
        operator of each access node; without it the operator comes from ``reach.table``.

    Returns
    -------
    FibreBudgetPlan

    Raises
    ------
    ParameterError
        A negative or non-finite budget, a negative ``max_hamlets``, or hamlets that are not the
        ones ``reach`` was computed for.
    """
    _check_limits(budget_vnd, max_hamlets)
    ids = hamlets["hamlet_id"].astype(str).to_numpy()
    if len(ids) != len(reach.table) or not np.array_equal(ids, reach.table.index.to_numpy()):
        raise ParameterError(
            "plan_fibre_budget: the hamlets are not those (or not in the order) of the reach"
        )
    net = reach.network
    households = pd.to_numeric(hamlets["households"], errors="coerce").fillna(0).to_numpy(float)
    target = reach.table["fibre_reach_class"].isin(reach.params.plan_classes).to_numpy()
    connected = reach.table["road_connected"].to_numpy(bool)
    cand = np.flatnonzero(target & connected & (households > 0))
    state = _NetworkState.start(reach, existing_routes, nodes)
    drops = np.round(households * costs.drop_takeup_share)
    fixed = costs.cabinet_vnd + drops * costs.drop_vnd
    per_m = costs.cable_vnd_per_km / 1000.0
    picks = _greedy(state, reach.hamlet_nodes, cand, ids, households, fixed, per_m, budget_vnd, max_hamlets)
    choices = _choices_frame(picks, reach, hamlets, households, drops, costs)
    routes = _routes_frame(net, picks, choices)
    cabinets = _cabinets_frame(hamlets, picks, choices)
    next_row = _next_candidate(state, reach.hamlet_nodes, cand, picks, households, fixed, per_m, ids)
    n_no_path = int((target & ~connected).sum())
    log.info(
        "fibre budget plan: %d of %d candidate hamlets, %.0f VND, %d households",
        len(choices),
        len(cand),
        float(choices["marginal_cost_vnd"].sum()),
        int(choices["households"].sum()),
    )
    return FibreBudgetPlan(
        choices=choices,
        routes=routes,
        cabinets=cabinets,
        budget_vnd=None if budget_vnd is None else float(budget_vnd),
        max_hamlets=max_hamlets,
        n_candidates=int(len(cand)),
        n_no_road_path=n_no_path,
        next_candidate=next_row,
    )


def _check_limits(budget_vnd: float | None, max_hamlets: int | None) -> None:
    if budget_vnd is not None:
        if isinstance(budget_vnd, bool) or not isinstance(budget_vnd, int | float):
            raise ParameterError(f"budget must be a number of VND, not {budget_vnd!r}")
        if not math.isfinite(budget_vnd) or budget_vnd < 0:
            raise ParameterError(f"budget must be a finite amount >= 0 VND, not {budget_vnd!r}")
    if max_hamlets is not None:
        if isinstance(max_hamlets, bool) or not isinstance(max_hamlets, int | np.integer) or max_hamlets < 0:
            raise ParameterError(f"the number of hamlets must be a whole number >= 0, not {max_hamlets!r}")


# ---------------------------------------------------------------------------------------------
# the growing network


@dataclass
class _NetworkState:
    """Distance from the current network to every node of the attached network, and where from.

    ``origin[v]`` indexes ``labels`` / ``operators``: the access node, join route or chosen cabinet
    whose cable the shortest path to ``v`` starts from.
    """

    net: AttachedNetwork
    dist: np.ndarray
    pred: np.ndarray
    origin: np.ndarray
    labels: list[str]
    operators: list[str]

    @classmethod
    def start(
        cls, reach: ReachResult, routes: gpd.GeoDataFrame | None, nodes: gpd.GeoDataFrame | None
    ) -> _NetworkState:
        """Multi-source Dijkstra from the access nodes and the route join nodes (the extension
        plan's roots: join nodes only when a road path leads from them to an access node)."""
        net = reach.network
        access_op = _access_operators(reach, nodes)
        reachable = np.isfinite(reach.distance_m)
        joins, join_routes = route_join_nodes(reach, routes)
        keep = reachable[joins] & ~np.isin(joins, reach.access_nodes)
        joins, join_routes = joins[keep], join_routes[keep]
        labels = [*reach.access_node_ids.astype(str), *("route:" + join_routes["route_id"].astype(str))]
        fallback = _most_common([*access_op, *join_routes["operator"]])
        operators = [op or fallback for op in [*access_op, *join_routes["operator"].astype(str)]]
        sources = np.concatenate([reach.access_nodes, joins]).astype(int)
        if len(sources) == 0:
            n = net.n_nodes
            return cls(net, np.full(n, np.inf), np.full(n, _NO_PRED), np.full(n, -1), labels, operators)
        # the first of duplicated sources wins: access nodes before join nodes
        first = np.unique(sources, return_index=True)[1]
        label_of = np.full(net.n_nodes, -1)
        label_of[sources[first]] = first
        dist, pred, src = dijkstra(
            net.csr, directed=False, indices=sources[np.sort(first)], min_only=True, return_predecessors=True
        )
        origin = np.where(src >= 0, label_of[np.maximum(src, 0)], -1)
        return cls(net, dist, pred, origin, labels, operators)

    def path_to(self, node: int) -> np.ndarray:
        """Nodes from ``node`` back to the network (``node`` first, the network node last)."""
        out = [int(node)]
        while self.pred[out[-1]] != _NO_PRED:
            out.append(int(self.pred[out[-1]]))
        return np.asarray(out)

    def grow(self, path: np.ndarray, label: str, limit_m: float) -> np.ndarray:
        """Add the new cable ``path`` to the network; return the nodes whose distance fell.

        Distances above ``limit_m`` are not updated (no remaining hamlet is that far)."""
        self.labels.append(label)
        self.operators.append(self.operators[self.origin[path[0]]])
        code = len(self.labels) - 1
        if not math.isfinite(limit_m):
            limit_m = np.inf
        dist, pred = dijkstra(
            self.net.csr,
            directed=False,
            indices=path,
            min_only=True,
            return_predecessors=True,
            limit=limit_m * (1 + 1e-9) + 1e-6,
        )[:2]
        # a node as near the old network as the new cable (within a micrometre: spurs of 0 m come
        # back from a reprojection as 1e-10 m) keeps its origin
        better = np.flatnonzero(dist < self.dist - _TIE_M)
        self.dist[better] = dist[better]
        self.pred[better] = pred[better]
        self.origin[better] = code
        return better


def _access_operators(reach: ReachResult, nodes: gpd.GeoDataFrame | None) -> list[str]:
    """Operator of each access node (``reach.access_node_ids`` order)."""
    if nodes is not None and {"node_id", "operator"} <= set(nodes.columns):
        table = nodes.assign(node_id=nodes["node_id"].astype(str)).drop_duplicates("node_id")
        ops = table.set_index("node_id")["operator"]
    else:
        t = reach.table
        ops = t.loc[t["fibre_node_id"] != "", ["fibre_node_id", "fibre_operator"]].drop_duplicates(
            "fibre_node_id"
        )
        ops = ops.set_index("fibre_node_id")["fibre_operator"]
    mapped = pd.Series(reach.access_node_ids.astype(str)).map(ops)
    return [("" if pd.isna(v) else str(v)) for v in mapped]


def _most_common(values: list[str]) -> str:
    counts = pd.Series([v for v in values if v], dtype=object).value_counts()
    return str(counts.index[0]) if len(counts) else ""


# ---------------------------------------------------------------------------------------------
# the greedy


@dataclass(frozen=True)
class _Pick:
    row: int
    cable_m: float
    cable_vnd: float
    cost_vnd: float
    path: np.ndarray
    from_label: str
    operator: str


def _greedy(
    state: _NetworkState,
    hamlet_nodes: np.ndarray,
    cand: np.ndarray,
    ids: np.ndarray,
    households: np.ndarray,
    fixed_vnd: np.ndarray,
    per_m_vnd: float,
    budget_vnd: float | None,
    max_hamlets: int | None,
) -> list[_Pick]:
    """Best ratio among the affordable hamlets, one at a time (see the module docstring)."""
    node_of = hamlet_nodes[cand]
    version = np.zeros(len(cand), int)
    open_ = np.ones(len(cand), bool)  # not chosen yet
    by_node: dict[int, list[int]] = {}
    for k, v in enumerate(node_of):
        by_node.setdefault(int(v), []).append(k)

    def cost(k: int) -> float:
        return _cable_vnd(float(state.dist[node_of[k]]), per_m_vnd) + float(fixed_vnd[cand[k]])

    def entry(k: int) -> tuple[float, int, int]:
        return (-_ratio(households[cand[k]], cost(k)), k, int(version[k]))

    heap = [entry(k) for k in range(len(cand)) if np.isfinite(state.dist[node_of[k]])]
    heapq.heapify(heap)
    remaining = math.inf if budget_vnd is None else float(budget_vnd)
    picks: list[_Pick] = []
    while heap and (max_hamlets is None or len(picks) < max_hamlets):
        k = -1
        while heap:
            _, j, ver = heapq.heappop(heap)
            if not open_[j] or ver != version[j]:
                continue  # chosen, or a stale price
            if cost(j) > remaining + _BUDGET_SLACK_VND:
                continue  # passed over; pushed again if later cable makes it cheaper
            k = j
            break
        if k < 0:
            break
        node = int(node_of[k])
        origin = int(state.origin[node])
        path = state.path_to(node)
        cable_m = float(state.dist[node])
        pick = _Pick(
            int(cand[k]),
            cable_m,
            _cable_vnd(cable_m, per_m_vnd),
            cost(k),
            path,
            state.labels[origin],
            state.operators[origin],
        )
        picks.append(pick)
        remaining -= pick.cost_vnd
        open_[k] = False
        d_open = state.dist[node_of[open_]]
        d_open = d_open[np.isfinite(d_open)]
        if d_open.size == 0:
            continue
        for v in state.grow(path, CABINET_PREFIX + str(ids[cand[k]]), float(d_open.max())):
            for j in by_node.get(int(v), ()):
                if open_[j]:
                    version[j] += 1
                    heapq.heappush(heap, entry(j))
    return picks


def _cable_vnd(length_m: float, per_m_vnd: float) -> float:
    """Cable cost in whole VND (every cost of the plan is whole VND, so the totals add up)."""
    return float(round(length_m * per_m_vnd))


def _ratio(households: float, cost_vnd: float) -> float:
    return float(households) / cost_vnd if cost_vnd > 0 else math.inf


# ---------------------------------------------------------------------------------------------
# outputs


def _text_column(hamlets: gpd.GeoDataFrame, name: str, rows: np.ndarray) -> np.ndarray:
    if name not in hamlets:
        return np.full(len(rows), "", dtype=object)
    col = hamlets[name]
    return col.astype(object).where(col.notna(), "").astype(str).to_numpy()[rows]


def _choices_frame(
    picks: list[_Pick],
    reach: ReachResult,
    hamlets: gpd.GeoDataFrame,
    households: np.ndarray,
    drops: np.ndarray,
    costs: UnitCosts,
) -> pd.DataFrame:
    rows = np.asarray([p.row for p in picks], dtype=int)
    cable_m = np.asarray([p.cable_m for p in picks], dtype=float)
    total = np.asarray([p.cost_vnd for p in picks], dtype=float)
    hh = households[rows].astype(int)
    n_drops = drops[rows].astype(int)
    table = reach.table
    frame = pd.DataFrame(
        {
            "order": np.arange(1, len(rows) + 1),
            "hamlet_id": table.index.to_numpy()[rows].astype(str),
            "hamlet_name": _text_column(hamlets, "hamlet_name", rows),
            "commune_id": _text_column(hamlets, "commune_id", rows),
            "households": hh,
            "drops": n_drops,
            "fibre_reach_class": table["fibre_reach_class"].to_numpy()[rows].astype(str),
            "fibre_distance_m": np.round(table["fibre_distance_m"].to_numpy(float)[rows], 1),
            "marginal_cable_m": np.round(cable_m, 1),
            "cable_cost_vnd": np.asarray([p.cable_vnd for p in picks], dtype=float),
            "cabinet_cost_vnd": np.full(len(rows), float(costs.cabinet_vnd)),
            "drop_cost_vnd": n_drops * float(costs.drop_vnd),
            "marginal_cost_vnd": total,
            "households_per_million_vnd": np.round(
                [_ratio(h, c) * 1e6 for h, c in zip(hh, total, strict=True)], 3
            ),
            "cumulative_cost_vnd": np.cumsum(total),
            "cumulative_households": np.cumsum(hh),
            "from_node_id": [p.from_label for p in picks],
            "operator": [p.operator for p in picks],
        },
        columns=list(CHOICE_COLUMNS),
    )
    return frame


def _oriented_line(net: AttachedNetwork, edge: int, start: int) -> np.ndarray:
    coords = shapely.get_coordinates(net.edge_line(edge))
    return coords if int(net.u[edge]) == start else coords[::-1]


def _path_line(net: AttachedNetwork, path: np.ndarray, lookup: _EdgeLookup) -> shapely.LineString | None:
    """The new cable of ``path`` (hamlet first) drawn from the network to the hamlet."""
    nodes = path[::-1]
    parts = []
    for a, b in zip(nodes[:-1], nodes[1:], strict=True):
        k = lookup.edge(int(a), int(b))
        if net.weight_m[k] > 0:
            parts.append(_oriented_line(net, k, int(a)))
    if not parts:
        return None
    coords = np.concatenate(parts)
    keep = np.r_[True, np.any(coords[1:] != coords[:-1], axis=1)]
    coords = coords[keep]
    return shapely.LineString(coords) if len(coords) >= 2 else None


class _EdgeLookup:
    """Augmented edge between two nodes (the shortest, should there be parallel edges)."""

    def __init__(self, net: AttachedNetwork) -> None:
        n = np.int64(net.n_nodes)
        lo = np.minimum(net.u, net.v).astype(np.int64)
        hi = np.maximum(net.u, net.v).astype(np.int64)
        key = lo * n + hi
        order = np.lexsort((net.weight_m, key))
        self._n = n
        self._keys = key[order]
        self._edges = order

    def edge(self, a: int, b: int) -> int:
        key = np.int64(min(a, b)) * self._n + np.int64(max(a, b))
        i = int(np.searchsorted(self._keys, key))
        if i >= len(self._keys) or self._keys[i] != key:  # pragma: no cover - a path follows edges
            raise RuntimeError(f"no edge between nodes {a} and {b}")
        return int(self._edges[i])


def _routes_frame(net: AttachedNetwork, picks: list[_Pick], choices: pd.DataFrame) -> gpd.GeoDataFrame:
    lookup = _EdgeLookup(net) if picks else None
    rows: list[dict[str, Any]] = []
    geoms: list[shapely.LineString] = []
    for pick, (_, choice) in zip(picks, choices.iterrows(), strict=True):
        if lookup is None or round(pick.cable_m, 1) == 0:  # no new cable (a spur of 0 m)
            continue
        line = _path_line(net, pick.path, lookup)
        if line is None:
            continue
        rows.append(
            {
                "route_id": f"PLANF-R{int(choice['order']):04d}",
                "order": int(choice["order"]),
                "hamlet_id": str(choice["hamlet_id"]),
                "from_node_id": pick.from_label,
                "operator": pick.operator,
                "length_m": round(pick.cable_m, 1),
                "cable_cost_vnd": pick.cable_vnd,
            }
        )
        geoms.append(line)
    columns = ["route_id", "order", "hamlet_id", "from_node_id", "operator", "length_m", "cable_cost_vnd"]
    frame = pd.DataFrame(rows, columns=columns).astype(
        {"order": int, "length_m": float, "cable_cost_vnd": float}
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=net.road.crs)).to_crs(4326)


def _cabinets_frame(hamlets: gpd.GeoDataFrame, picks: list[_Pick], choices: pd.DataFrame) -> gpd.GeoDataFrame:
    rows = np.asarray([p.row for p in picks], dtype=int)
    geom = hamlets.geometry.iloc[rows].to_crs(4326)
    points = geom.representative_point().to_numpy() if len(rows) else np.empty(0, dtype=object)
    lon = np.round(shapely.get_x(points), 7) if len(rows) else np.empty(0)
    lat = np.round(shapely.get_y(points), 7) if len(rows) else np.empty(0)
    frame = pd.DataFrame(
        {
            "node_id": [CABINET_PREFIX + h for h in choices["hamlet_id"]],
            "operator": choices["operator"].to_numpy(),
            "node_type": "cabinet",
            "name": [f"planned (fibre budget plan, #{o})" for o in choices["order"]],
            "commune_id": choices["commune_id"].to_numpy(),
            "lon": lon,
            "lat": lat,
        },
        columns=list(NODE_COLUMNS),
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(shapely.points(lon, lat), crs=4326))


def _next_candidate(
    state: _NetworkState,
    hamlet_nodes: np.ndarray,
    cand: np.ndarray,
    picks: list[_Pick],
    households: np.ndarray,
    fixed_vnd: np.ndarray,
    per_m_vnd: float,
    ids: np.ndarray,
) -> dict[str, Any] | None:
    """The best remaining hamlet by ratio, priced against the final network."""
    left = np.setdiff1d(cand, [p.row for p in picks])
    if left.size == 0:
        return None
    dist = state.dist[hamlet_nodes[left]]
    left, dist = left[np.isfinite(dist)], dist[np.isfinite(dist)]
    if left.size == 0:
        return None
    cost = np.asarray([_cable_vnd(d, per_m_vnd) for d in dist]) + fixed_vnd[left]
    ratio = np.asarray([_ratio(h, c) for h, c in zip(households[left], cost, strict=True)])
    best = int(np.lexsort((left, -ratio))[0])
    return {
        "hamlet_id": str(ids[left[best]]),
        "households": int(households[left[best]]),
        "marginal_cable_m": round(float(dist[best]), 1),
        "marginal_cost_vnd": round(float(cost[best])),
        "households_per_million_vnd": round(float(ratio[best]) * 1e6, 3),
    }
