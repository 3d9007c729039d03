"""Road network graph in the province's metric CRS, and attachment of points to it by spurs.

:func:`build_road_graph` turns the roads layer into an undirected graph whose nodes are line ends,
shared vertices and intersections (vertices closer than a snap tolerance become one node) and
whose edges are the road pieces between them, weighted by their length in metres.
:func:`attach_points` hangs hamlets or fibre nodes on the nearest road by a straight spur whose
length counts, splitting road edges where they attach (:class:`AttachedNetwork`), so that road
distances between attached points are exact along the network.

The graph is kept both as a :class:`networkx.Graph` (for users and algorithms such as Steiner
trees) and as arrays / a SciPy CSR matrix (for fast multi-source Dijkstra).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
import shapely.ops
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from analysis.params import RoadGraphParams
from geo.errors import DataNotFoundError, InvalidGeometryError

__all__ = [
    "ComponentReport",
    "RoadGraph",
    "Attachment",
    "AttachedNetwork",
    "build_road_graph",
    "graph_from_edges",
    "attach_points",
    "replace_attachments",
    "attach_network",
]

log = logging.getLogger(__name__)

_MIN_SEG_M = 1e-9


@dataclass(frozen=True)
class ComponentReport:
    """Connected pieces of the road graph.

    Parameters
    ----------
    n_components
        Number of connected components.
    nodes
        Node count per component, largest (by length) first.
    length_m
        Total road length per component (m), largest first.
    """

    n_components: int
    nodes: tuple[int, ...]
    length_m: tuple[float, ...]

    @property
    def largest_share(self) -> float:
        """Share of the total road length in the largest component (0–1)."""
        total = float(sum(self.length_m))
        return float(self.length_m[0]) / total if total > 0 else 1.0

    def summary(self) -> str:
        """One line for logs and reports."""
        if self.n_components <= 1:
            return "road graph is connected (1 component)"
        small = self.n_components - 1
        return (
            f"road graph has {self.n_components} disconnected components; the largest holds "
            f"{self.largest_share:.1%} of {sum(self.length_m) / 1000:.1f} km, "
            f"{small} smaller piece(s) hold {sum(self.length_m[1:]) / 1000:.1f} km"
        )


@dataclass(frozen=True, eq=False)
class RoadGraph:
    """The road network of a province in a metric CRS.

    The arrays and the SciPy CSR matrix ``csr`` are built at once; the :class:`networkx.Graph`
    view (:attr:`graph`) is built from them on first use and then kept (it costs about as much as
    the rest of the build on a 100,000-edge network and is not needed for reach).

    Parameters
    ----------
    node_xy_m
        (n, 2) node coordinates in ``crs`` (metres).
    edge_u, edge_v, edge_length_m
        Edge end nodes and lengths (m); ``edge_u[k] < edge_v[k]`` is not guaranteed.
    edge_lines
        Shapely LineString per edge, drawn from ``edge_u`` to ``edge_v``, in ``crs``.
    edge_road_id
        ``road_id`` of the road each edge comes from.
    crs
        Projected CRS in metres.
    component
        Component label per node.
    components
        Report of disconnected pieces.
    csr
        Symmetric adjacency, weights in metres.
    """

    node_xy_m: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_lines: np.ndarray
    edge_road_id: np.ndarray
    crs: pyproj.CRS
    component: np.ndarray
    components: ComponentReport
    csr: sp.csr_array = field(repr=False)
    _tree: shapely.STRtree = field(repr=False)

    @functools.cached_property
    def graph(self) -> nx.Graph:
        """Undirected networkx graph: nodes ``0..n-1`` with ``x``, ``y`` (m); edges with
        ``length_m``, ``edge_id`` (index into the edge arrays) and ``road_id``."""
        graph = nx.Graph()
        graph.add_nodes_from((i, {"x": float(x), "y": float(y)}) for i, (x, y) in enumerate(self.node_xy_m))
        graph.add_edges_from(
            (int(a), int(b), {"length_m": float(w), "edge_id": k, "road_id": str(r)})
            for k, (a, b, w, r) in enumerate(
                zip(self.edge_u, self.edge_v, self.edge_length_m, self.edge_road_id, strict=True)
            )
        )
        return graph

    @property
    def n_nodes(self) -> int:
        """Number of graph nodes."""
        return int(self.node_xy_m.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of graph edges."""
        return int(self.edge_u.shape[0])


@dataclass(frozen=True)
class Attachment:
    """Where points meet the road graph (arrays, one entry per point).

    Parameters
    ----------
    edge
        Index of the nearest road edge.
    offset_m
        Distance along that edge from ``edge_u`` to the foot of the spur (m).
    spur_m
        Straight spur length from the point to the road (m).
    point_xy_m, road_xy_m
        (k, 2) point and foot-of-spur coordinates (m).
    """

    edge: np.ndarray
    offset_m: np.ndarray
    spur_m: np.ndarray
    point_xy_m: np.ndarray
    road_xy_m: np.ndarray


def replace_attachments(base: Attachment, rows: np.ndarray, other: Attachment) -> Attachment:
    """Copy of ``base`` whose entries ``rows`` are replaced by the entries of ``other`` (same length)."""
    out = {}
    for name in ("edge", "offset_m", "spur_m", "point_xy_m", "road_xy_m"):
        arr = getattr(base, name).copy()
        arr[rows] = getattr(other, name)
        out[name] = arr
    return Attachment(**out)


@dataclass(frozen=True, eq=False)
class AttachedNetwork:
    """Road graph plus attached points: road edges split at spur feet, one node per point.

    Node ``point_node[i]`` is the i-th attached point itself; edge weights are metres. Edges of
    kind ``road`` keep (``src_edge``, ``t0_m``, ``t1_m``): a piece of a road edge; edges of kind
    ``spur`` join a point to its foot on the road.
    """

    road: RoadGraph
    n_nodes: int
    u: np.ndarray
    v: np.ndarray
    weight_m: np.ndarray
    src_edge: np.ndarray
    t0_m: np.ndarray
    t1_m: np.ndarray
    point_node: np.ndarray
    attachment: Attachment
    csr: sp.csr_array

    def edge_line(self, k: int) -> shapely.LineString:
        """Geometry of augmented edge ``k`` (metric CRS), drawn from ``u[k]`` to ``v[k]``."""
        e = int(self.src_edge[k])
        if e < 0:  # spur: point -> foot
            i = int(-e - 1)
            a = self.attachment
            return shapely.LineString([a.point_xy_m[i], a.road_xy_m[i]])
        line = self.road.edge_lines[e]
        t0, t1 = float(self.t0_m[k]), float(self.t1_m[k])
        if t0 <= 0 and t1 >= self.road.edge_length_m[e]:
            return line
        return shapely.ops.substring(line, t0, t1)

    def to_networkx(self) -> nx.Graph:
        """Undirected graph with integer nodes and ``weight_m`` / ``aug_edge`` edge attributes."""
        g = nx.Graph()
        g.add_nodes_from(range(self.n_nodes))
        g.add_edges_from(
            (int(a), int(b), {"weight_m": float(w), "aug_edge": k})
            for k, (a, b, w) in enumerate(zip(self.u, self.v, self.weight_m, strict=True))
        )
        return g


# ---------------------------------------------------------------------------------------------
# building


def _lines_in_metric(roads: gpd.GeoDataFrame, crs: pyproj.CRS) -> tuple[np.ndarray, np.ndarray]:
    """Road LineStrings (exploded) in ``crs`` and the ``road_id`` of each."""
    if roads.crs is None:
        from geo.errors import CRSError

        raise CRSError("roads layer has no CRS; expected EPSG:4326")
    geom = roads.geometry
    bad_type = ~geom.isna() & ~geom.geom_type.isin(["LineString", "MultiLineString"])
    if bad_type.any():
        ids = _ids(roads, bad_type)
        raise InvalidGeometryError(
            f"roads layer: feature(s) {ids} are {sorted(set(geom[bad_type].geom_type))}, "
            "not LineString/MultiLineString; fix or remove them"
        )
    empty = geom.isna() | geom.is_empty
    if empty.any():
        log.warning(
            "roads layer: %d feature(s) with empty geometry ignored: %s", int(empty.sum()), _ids(roads, empty)
        )
    sub = roads.loc[~empty]
    road_ids = sub["road_id"].astype(str).to_numpy() if "road_id" in sub else sub.index.astype(str).to_numpy()
    metric = sub.geometry.to_crs(crs).to_numpy()
    parts, idx = shapely.get_parts(metric, return_index=True)
    return parts, road_ids[idx]


def _ids(frame: gpd.GeoDataFrame, mask: object) -> str:
    col = frame["road_id"] if "road_id" in frame else frame.index.to_series()
    vals = [str(v) for v in col[mask].tolist()]
    return ", ".join(vals[:10]) + (f" (+{len(vals) - 10} more)" if len(vals) > 10 else "")


def _cross2(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]


def _segment_intersections(
    coords: np.ndarray, seg_start: np.ndarray, tree: shapely.STRtree, segs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of segments that meet other than at a shared end vertex, and where.

    Candidates come from a bounding-box query (no GEOS predicate: fast); the meeting point is
    solved in NumPy: ``P1 + t (P2 - P1) = Q1 + u (Q2 - Q1)`` with ``t, u`` in [0, 1]. This finds
    proper crossings and a vertex of one road lying on another road's segment (a T junction);
    collinear overlaps are ignored. Which of the points are new vertices is decided by the caller.

    Returns (segment a, segment b, (k, 2) meeting points).
    """
    a, b = tree.query(segs)
    keep = (a < b) & ~((b == a + 1) & (seg_start[b] == seg_start[a] + 1))
    a, b = a[keep], b[keep]
    p1, p2 = coords[seg_start[a]], coords[seg_start[a] + 1]
    q1, q2 = coords[seg_start[b]], coords[seg_start[b] + 1]
    shared = np.zeros(len(a), bool)
    for p, q in ((p1, q1), (p1, q2), (p2, q1), (p2, q2)):
        shared |= np.all(p == q, axis=1)
    r, s_, qp = p2 - p1, q2 - q1, q1 - p1
    denom = _cross2(r, s_)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = _cross2(qp, s_) / denom
        u = _cross2(qp, r) / denom
    eps = 1e-9
    hit = ~shared & (denom != 0) & (t >= -eps) & (t <= 1 + eps) & (u >= -eps) & (u <= 1 + eps)
    pts = p1[hit] + t[hit, None] * r[hit]
    return a[hit], b[hit], pts


def _crossing_points(
    coords: np.ndarray, seg_start: np.ndarray, line_end_vertex: np.ndarray, tol_m: float, node_crossings: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points to insert into segments: proper crossings and line ends touching a segment.

    Returns (segment start vertex index, fraction along the segment in (0, 1), xy).
    """
    if seg_start.size == 0:
        return np.empty(0, int), np.empty(0), np.empty((0, 2))
    segs = shapely.linestrings(np.stack([coords[seg_start], coords[seg_start + 1]], axis=1))
    tree = shapely.STRtree(segs)
    seg_idx_parts, xy_parts = [], []
    if node_crossings:
        a, b, pxy = _segment_intersections(coords, seg_start, tree, segs)
        seg_idx_parts += [a, b]
        xy_parts += [pxy, pxy]
    # a line end on (or within tolerance of) another segment's interior: a T junction
    ends = shapely.points(coords[line_end_vertex])
    pi, si = tree.query(ends, predicate="dwithin", distance=max(tol_m, 0.0))
    if pi.size:
        proj = shapely.line_locate_point(segs[si], ends[pi])
        foot = shapely.get_coordinates(shapely.line_interpolate_point(segs[si], proj))
        seg_idx_parts.append(si)
        xy_parts.append(foot)
    if not seg_idx_parts:
        return np.empty(0, int), np.empty(0), np.empty((0, 2))
    s = np.concatenate(seg_idx_parts)
    xy = np.concatenate(xy_parts)
    p0, p1 = coords[seg_start[s]], coords[seg_start[s] + 1]
    seg_len = np.hypot(*(p1 - p0).T)
    frac = np.hypot(*(xy - p0).T) / np.maximum(seg_len, _MIN_SEG_M)
    d0 = np.hypot(*(xy - p0).T)
    d1 = np.hypot(*(xy - p1).T)
    inner = (d0 > max(tol_m, _MIN_SEG_M)) & (d1 > max(tol_m, _MIN_SEG_M))
    return seg_start[s][inner], frac[inner], xy[inner]


def _insert_points(
    coords: np.ndarray, line_of: np.ndarray, seg_vertex: np.ndarray, frac: np.ndarray, xy: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Insert points into the vertex sequence; returns coords, line index, inserted mask."""
    if seg_vertex.size == 0:
        return coords, line_of, np.zeros(len(coords), bool)
    key = np.concatenate([np.arange(len(coords), dtype=float), seg_vertex + frac])
    order = np.argsort(key, kind="stable")
    all_xy = np.concatenate([coords, xy])[order]
    all_line = np.concatenate([line_of, line_of[seg_vertex]])[order]
    inserted = np.concatenate([np.zeros(len(coords), bool), np.ones(len(xy), bool)])[order]
    return all_xy, all_line, inserted


def _snap_clusters(coords: np.ndarray, tol_m: float) -> np.ndarray:
    """Cluster label per vertex: vertices within ``tol_m`` (transitively) share a label."""
    n = len(coords)
    tree = cKDTree(coords)
    pairs = tree.query_pairs(max(tol_m, 1e-6), output_type="ndarray")
    if pairs.size == 0:
        return np.arange(n)
    adj = sp.coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(adj, directed=False)
    return labels


def build_road_graph(
    roads: gpd.GeoDataFrame, metric_crs: pyproj.CRS | str | int, *, params: RoadGraphParams | None = None
) -> RoadGraph:
    """Build the road graph.

    Parameters
    ----------
    roads
        Road centre lines (LineString / MultiLineString) in any CRS (EPSG:4326 in a package),
        with ``road_id``.
    metric_crs
        Projected CRS in metres (the package's UTM zone, EPSG:32648 for Trà Vinh).
    params
        Snap tolerance (m) and whether crossings become nodes.

    Returns
    -------
    RoadGraph

    Raises
    ------
    DataNotFoundError
        No usable road line.
    InvalidGeometryError
        A feature is not a line (the message names its ``road_id``).
    """
    params = params or RoadGraphParams()
    crs = pyproj.CRS.from_user_input(metric_crs)
    lines, road_ids = _lines_in_metric(roads, crs)
    coords, line_of = shapely.get_coordinates(lines, return_index=True)
    coords, line_of = _drop_repeats(coords, line_of)
    if len(coords) < 2:
        raise DataNotFoundError("roads layer has no usable road line (need at least one 2-point line)")
    tol = float(params.snap_tolerance_m)
    same_next = np.zeros(len(coords), bool)
    same_next[:-1] = line_of[:-1] == line_of[1:]
    seg_start = np.flatnonzero(same_next)
    first = np.r_[True, line_of[1:] != line_of[:-1]]
    last = np.r_[line_of[1:] != line_of[:-1], True]
    ends = np.flatnonzero(first | last)
    sv, fr, xy = _crossing_points(coords, seg_start, ends, tol, params.node_crossings)
    coords, line_of, inserted = _insert_points(coords, line_of, sv, fr, xy)
    labels = _snap_clusters(coords, tol)
    return _graph_from_clusters(coords, line_of, labels, inserted, road_ids, crs)


def _drop_repeats(coords: np.ndarray, line_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dup = np.zeros(len(coords), bool)
    if len(coords) > 1:
        dup[1:] = (line_of[1:] == line_of[:-1]) & np.all(coords[1:] == coords[:-1], axis=1)
    coords, line_of = coords[~dup], line_of[~dup]
    # drop lines left with a single vertex
    counts = np.bincount(line_of, minlength=line_of.max() + 1 if line_of.size else 0)
    keep = counts[line_of] >= 2
    return coords[keep], line_of[keep]


def _graph_from_clusters(
    coords: np.ndarray,
    line_of: np.ndarray,
    labels: np.ndarray,
    inserted: np.ndarray,
    road_ids: np.ndarray,
    crs: pyproj.CRS,
) -> RoadGraph:
    # representative coordinate per cluster: the mean of its members
    n_cl = int(labels.max()) + 1
    cnt = np.bincount(labels, minlength=n_cl)
    rep = (
        np.stack([np.bincount(labels, coords[:, 0], n_cl), np.bincount(labels, coords[:, 1], n_cl)], axis=1)
        / np.maximum(cnt, 1)[:, None]
    )
    # drop consecutive vertices of one line that collapsed into the same cluster
    keep = np.ones(len(labels), bool)
    keep[1:] = ~((line_of[1:] == line_of[:-1]) & (labels[1:] == labels[:-1]))
    labels, line_of, inserted = labels[keep], line_of[keep], inserted[keep]
    xy = rep[labels]
    first = np.r_[True, line_of[1:] != line_of[:-1]]
    last = np.r_[line_of[1:] != line_of[:-1], True]
    single = first & last
    labels, line_of, inserted, xy = labels[~single], line_of[~single], inserted[~single], xy[~single]
    first = np.r_[True, line_of[1:] != line_of[:-1]]
    last = np.r_[line_of[1:] != line_of[:-1], True]
    occurrences = np.bincount(labels, minlength=n_cl)
    is_node = first | last | inserted | (occurrences[labels] >= 2)
    node_pos = np.flatnonzero(is_node)
    pair = line_of[node_pos[:-1]] == line_of[node_pos[1:]]
    a_pos, b_pos = node_pos[:-1][pair], node_pos[1:][pair]
    step = np.zeros(len(xy))
    step[1:] = np.where(line_of[1:] == line_of[:-1], np.hypot(*(xy[1:] - xy[:-1]).T), 0.0)
    cum = np.cumsum(step)
    length = cum[b_pos] - cum[a_pos]
    return graph_from_edges(
        node_labels_u=labels[a_pos],
        node_labels_v=labels[b_pos],
        length_m=length,
        vertex_xy=xy,
        vertex_ranges=np.stack([a_pos, b_pos], axis=1),
        road_id=road_ids[line_of[a_pos]],
        cluster_xy=rep,
        crs=crs,
    )


def graph_from_edges(
    *,
    node_labels_u: np.ndarray,
    node_labels_v: np.ndarray,
    length_m: np.ndarray,
    vertex_xy: np.ndarray,
    vertex_ranges: np.ndarray,
    road_id: np.ndarray,
    cluster_xy: np.ndarray,
    crs: pyproj.CRS,
) -> RoadGraph:
    """Assemble a :class:`RoadGraph` from edge arrays (low level; used by :func:`build_road_graph`).

    Parameters
    ----------
    node_labels_u, node_labels_v
        End labels of each edge (any non-negative ints; renumbered to ``0..n-1``).
    length_m
        Edge lengths (m).
    vertex_xy, vertex_ranges
        Edge ``k`` is drawn through ``vertex_xy[vertex_ranges[k, 0] : vertex_ranges[k, 1] + 1]``.
    road_id
        Source road per edge.
    cluster_xy
        Coordinates of each label (m).
    crs
        Metric CRS.
    """
    # self loops never lie on a shortest path; parallel edges: keep the shortest
    loop = node_labels_u == node_labels_v
    lo = np.minimum(node_labels_u, node_labels_v)
    hi = np.maximum(node_labels_u, node_labels_v)
    order = np.lexsort((length_m, hi, lo))
    order = order[~loop[order]]
    dup = np.zeros(len(order), bool)
    dup[1:] = (lo[order][1:] == lo[order][:-1]) & (hi[order][1:] == hi[order][:-1])
    sel = np.sort(order[~dup])
    if sel.size == 0:
        raise DataNotFoundError("roads layer has no usable road segment after snapping")
    used, inverse = np.unique(np.concatenate([node_labels_u[sel], node_labels_v[sel]]), return_inverse=True)
    u, v = inverse[: len(sel)], inverse[len(sel) :]
    node_xy = cluster_xy[used]
    length = length_m[sel]
    ranges = vertex_ranges[sel]
    counts = ranges[:, 1] - ranges[:, 0] + 1
    starts = np.repeat(ranges[:, 0] - np.r_[0, np.cumsum(counts)[:-1]], counts)
    vidx = starts + np.arange(counts.sum())
    lines = shapely.linestrings(vertex_xy[vidx], indices=np.repeat(np.arange(len(sel)), counts))
    rid = road_id[sel]
    n = len(node_xy)
    csr = _csr(n, u, v, length)
    n_comp, comp = connected_components(csr, directed=False)
    report = _component_report(n_comp, comp, u, length)
    if report.n_components > 1:
        log.info("%s", report.summary())
    return RoadGraph(
        node_xy_m=node_xy,
        edge_u=u,
        edge_v=v,
        edge_length_m=length,
        edge_lines=lines,
        edge_road_id=rid,
        crs=crs,
        component=comp,
        components=report,
        csr=csr,
        _tree=shapely.STRtree(lines),
    )


def _csr(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> sp.csr_array:
    """Symmetric CSR adjacency; explicit zero weights stay edges."""
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    data = np.concatenate([w, w]).astype(float)
    return sp.csr_array((data, (rows, cols)), shape=(n, n))


def _component_report(n_comp: int, comp: np.ndarray, u: np.ndarray, length: np.ndarray) -> ComponentReport:
    nodes = np.bincount(comp, minlength=n_comp)
    lengths = np.bincount(comp[u], weights=length, minlength=n_comp)
    order = np.lexsort((-nodes, -lengths))
    return ComponentReport(
        n_components=int(n_comp),
        nodes=tuple(int(x) for x in nodes[order]),
        length_m=tuple(float(x) for x in lengths[order]),
    )


# ---------------------------------------------------------------------------------------------
# attaching points


def attach_points(road: RoadGraph, points_xy_m: np.ndarray, *, edges: np.ndarray | None = None) -> Attachment:
    """Attach points to their nearest road edge by a straight spur.

    Parameters
    ----------
    road
        The road graph.
    points_xy_m
        (k, 2) point coordinates in ``road.crs`` (metres).
    edges
        Only these edge indices are candidates (default: every edge).
    """
    pts_xy = np.asarray(points_xy_m, dtype=float).reshape(-1, 2)
    if pts_xy.size == 0 or (edges is not None and len(edges) == 0):
        if pts_xy.size:
            raise DataNotFoundError("no candidate road edge to attach points to")
        z = np.empty(0)
        return Attachment(np.empty(0, int), z, z, np.empty((0, 2)), np.empty((0, 2)))
    pts = shapely.points(pts_xy)
    tree = road._tree if edges is None else shapely.STRtree(road.edge_lines[edges])
    (src, edge), dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    order = np.argsort(src)
    edge, dist = edge[order], dist[order]
    if edges is not None:
        edge = np.asarray(edges)[edge]
    lines = road.edge_lines[edge]
    offset = shapely.line_locate_point(lines, pts)
    foot = shapely.get_coordinates(shapely.line_interpolate_point(lines, offset))
    # line_locate_point gives the offset along the drawn line; rescale to the stored length
    drawn = shapely.length(lines)
    offset = np.where(drawn > 0, offset / np.maximum(drawn, _MIN_SEG_M) * road.edge_length_m[edge], 0.0)
    return Attachment(edge=edge.astype(int), offset_m=offset, spur_m=dist, point_xy_m=pts_xy, road_xy_m=foot)


def attach_network(road: RoadGraph, attachment: Attachment) -> AttachedNetwork:
    """Split road edges at spur feet and add one node per attached point.

    Parameters
    ----------
    road
        The road graph.
    attachment
        From :func:`attach_points`.
    """
    n0, k = road.n_nodes, len(attachment.edge)
    foot_node = n0 + np.arange(k)
    point_node = n0 + k + np.arange(k)
    split = np.zeros(road.n_edges, bool)
    split[attachment.edge] = True
    keep = np.flatnonzero(~split)
    # chains u -> foot ... foot -> v on each split edge, feet sorted by offset
    order = np.lexsort((attachment.offset_m, attachment.edge))
    e_sorted = attachment.edge[order]
    t_sorted = np.clip(attachment.offset_m[order], 0.0, road.edge_length_m[e_sorted])
    f_sorted = foot_node[order]
    first = np.r_[True, e_sorted[1:] != e_sorted[:-1]]
    last = np.r_[e_sorted[1:] != e_sorted[:-1], True]
    inner = ~last
    cu = np.concatenate([road.edge_u[e_sorted[first]], f_sorted[inner], f_sorted[last]])
    cv = np.concatenate([f_sorted[first], f_sorted[1:][inner[:-1]], road.edge_v[e_sorted[last]]])
    ct0 = np.concatenate([np.zeros(first.sum()), t_sorted[inner], t_sorted[last]])
    ct1 = np.concatenate([t_sorted[first], t_sorted[1:][inner[:-1]], road.edge_length_m[e_sorted[last]]])
    ce = np.concatenate([e_sorted[first], e_sorted[inner], e_sorted[last]])
    u = np.concatenate([road.edge_u[keep], cu, point_node])
    v = np.concatenate([road.edge_v[keep], cv, foot_node])
    w = np.concatenate([road.edge_length_m[keep], ct1 - ct0, attachment.spur_m])
    src = np.concatenate([keep, ce, -(np.arange(k) + 1)])
    t0 = np.concatenate([np.zeros(len(keep)), ct0, np.zeros(k)])
    t1 = np.concatenate([road.edge_length_m[keep], ct1, attachment.spur_m])
    n = n0 + 2 * k
    return AttachedNetwork(
        road=road,
        n_nodes=n,
        u=u,
        v=v,
        weight_m=w,
        src_edge=src,
        t0_m=t0,
        t1_m=t1,
        point_node=point_node,
        attachment=attachment,
        csr=_csr(n, u, v, w),
    )
