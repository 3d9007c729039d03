"""Maximum coverage: greedy with lazy re-evaluation (CELF) and the exact integer program (HiGHS)."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import Bounds, LinearConstraint, milp

from analysis.site_planning.params import _check, _finite

# ---------------------------------------------------------------------------------------------
# maximum coverage: greedy (lazy) and exact


@dataclass(frozen=True)
class GreedyResult:
    """Sites chosen by :func:`greedy_max_coverage`, in the order they were chosen.

    Attributes
    ----------
    chosen : tuple of int
        Candidate rows.
    gains : tuple of float
        Marginal gain of each choice (weight newly covered).
    costs : tuple of float
        Cost of each choice (0 without costs).
    evaluations : int
        Marginal gains computed (the lazy variant computes far fewer than ``k × candidates``).
    stop : str
        Why it stopped: ``"k"`` (k chosen), ``"budget"`` (no candidate fits the budget left),
        ``"no gain"`` (nothing left to cover) or ``"no candidate"``.
    """

    chosen: tuple[int, ...]
    gains: tuple[float, ...]
    costs: tuple[float, ...]
    evaluations: int
    stop: str

    @property
    def total_gain(self) -> float:
        """Weight covered by all choices."""
        return float(sum(self.gains))

    @property
    def total_cost(self) -> float:
        """Cost of all choices."""
        return float(sum(self.costs))


@dataclass(frozen=True)
class ExactResult:
    """Optimum of the integer program of :func:`exact_max_coverage`.

    Attributes
    ----------
    chosen : tuple of int
        Candidate rows of the optimal choice (ascending).
    total_gain : float
        Weight they cover.
    optimal : bool
        HiGHS proved optimality (False: time limit; ``total_gain`` is then the best found).
    message : str
        The solver's status message.
    """

    chosen: tuple[int, ...]
    total_gain: float
    optimal: bool
    message: str


def _as_csr(matrix: ArrayLike | sp.sparray | sp.spmatrix) -> sp.csr_array:
    out = sp.csr_array(matrix, dtype=bool)
    out.sum_duplicates()
    out.sort_indices()
    return out


def _problem_inputs(
    matrix: ArrayLike | sp.sparray | sp.spmatrix,
    weights: ArrayLike,
    k: int,
    costs: ArrayLike | None,
    budget: float | None,
) -> tuple[sp.csr_array, NDArray[np.float64], NDArray[np.float64]]:
    csr = _as_csr(matrix)
    w = np.asarray(weights, dtype=np.float64).ravel()
    _check(w.shape == (csr.shape[1],), f"weights: {len(w)} values for {csr.shape[1]} items")
    _check(bool(np.all(np.isfinite(w) & (w >= 0))), "weights must be finite and >= 0")
    _check(isinstance(k, int | np.integer) and k >= 0, f"k must be an integer >= 0, got {k!r}")
    c = np.zeros(csr.shape[0]) if costs is None else np.asarray(costs, dtype=np.float64).ravel()
    _check(c.shape == (csr.shape[0],), f"costs: {len(c)} values for {csr.shape[0]} candidates")
    _check(bool(np.all(np.isfinite(c) & (c >= 0))), "costs must be finite and >= 0")
    if budget is not None:
        _check(costs is not None, "a budget needs costs")
        _check(_finite(float(budget), 0.0, math.inf), f"budget must be a number >= 0, got {budget!r}")
    return csr, w, c


def greedy_max_coverage(
    matrix: ArrayLike | sp.sparray | sp.spmatrix,
    weights: ArrayLike,
    k: int,
    costs: ArrayLike | None = None,
    budget: float | None = None,
    *,
    lazy: bool = True,
) -> GreedyResult:
    """Greedy weighted maximum coverage, with lazy re-evaluation (CELF).

    Each step adds the candidate whose newly covered items weigh most (ties: the lowest candidate
    row) among the candidates whose cost fits the budget left; it stops after ``k`` choices, when
    no candidate fits or when the best gain is 0. The lazy variant keeps every candidate's last
    gain in a heap as an upper bound (gains only shrink as items get covered: submodularity) and
    re-evaluates only the top until the top is fresh; it returns exactly the choices of the plain
    variant (``lazy=False``, every gain recomputed at every step).

    Parameters
    ----------
    matrix : array_like or scipy sparse, shape (candidates, items)
        True where a candidate covers an item.
    weights : array_like, shape (items,)
        Weight of each item (>= 0), e.g. households.
    k : int
        Most candidates to choose.
    costs : array_like, shape (candidates,), optional
        Cost of each candidate (>= 0).
    budget : float, optional
        Total cost not to exceed (needs ``costs``).
    lazy : bool, keyword-only
        CELF (default) or plain greedy.

    Returns
    -------
    GreedyResult

    Raises
    ------
    ParameterError
        Shapes disagree, negative weights or costs, a budget without costs.
    """
    csr, w, c = _problem_inputs(matrix, weights, k, costs, budget)
    left = math.inf if budget is None else float(budget)
    covered = np.zeros(csr.shape[1], dtype=bool)
    indptr, indices = csr.indptr, csr.indices
    evaluations = 0

    def gain(i: int) -> float:
        nonlocal evaluations
        evaluations += 1
        items = indices[indptr[i] : indptr[i + 1]]
        return float(w[items[~covered[items]]].sum())

    chosen: list[int] = []
    gains: list[float] = []
    stop = "k"
    alive = np.ones(csr.shape[0], dtype=bool)
    heap: list[tuple[float, int, int]] = [
        (-math.inf, i, -1) for i in range(csr.shape[0])
    ]  # (-bound, row, step)
    while len(chosen) < k:
        alive &= c <= left
        if lazy:
            pick, best = _lazy_step(heap, alive, len(chosen), gain)
        else:
            pick, best = _plain_step(alive, gain)
        if pick < 0:
            stop = "budget" if budget is not None and csr.shape[0] > len(chosen) else "no candidate"
            break
        if best <= 0.0:
            stop = "no gain"
            break
        chosen.append(pick)
        gains.append(best)
        alive[pick] = False
        covered[indices[indptr[pick] : indptr[pick + 1]]] = True
        left -= c[pick]
    return GreedyResult(tuple(chosen), tuple(gains), tuple(float(c[i]) for i in chosen), evaluations, stop)


def _plain_step(alive: NDArray[np.bool_], gain: Callable[[int], float]) -> tuple[int, float]:
    rows = np.nonzero(alive)[0]
    if not len(rows):
        return -1, 0.0
    values = np.array([gain(int(i)) for i in rows])
    j = int(np.argmax(values))  # first maximum: lowest row on ties
    return int(rows[j]), float(values[j])


def _lazy_step(
    heap: list[tuple[float, int, int]], alive: NDArray[np.bool_], step: int, gain: Callable[[int], float]
) -> tuple[int, float]:
    """Pop until the top of the heap was evaluated at this step (ties: lowest row, the heap order)."""
    while heap:
        neg_bound, i, seen = heap[0]
        if not alive[i]:
            heapq.heappop(heap)
            continue
        if seen == step:
            heapq.heappop(heap)
            return i, -neg_bound
        heapq.heapreplace(heap, (-gain(i), i, step))
    return -1, 0.0


def _merged_items(csr: sp.csr_array, w: NDArray[np.float64]) -> tuple[sp.csc_array, NDArray[np.float64]]:
    """Items covered by the same candidates merged into one (weights summed); uncovered items dropped."""
    csc = sp.csc_array(csr)
    csc.sort_indices()
    groups: dict[bytes, int] = {}
    group_of = np.empty(csc.shape[1], dtype=np.int64)
    for j in range(csc.shape[1]):
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        group_of[j] = groups.setdefault(rows.tobytes(), len(groups)) if len(rows) else -1
    keep = group_of >= 0
    merged_w = np.bincount(group_of[keep], weights=w[keep], minlength=len(groups)).astype(np.float64)
    first = np.unique(group_of[keep], return_index=True)[1]
    columns = np.nonzero(keep)[0][first]
    return sp.csc_array(csc[:, columns]), merged_w


def exact_max_coverage(
    matrix: ArrayLike | sp.sparray | sp.spmatrix,
    weights: ArrayLike,
    k: int,
    costs: ArrayLike | None = None,
    budget: float | None = None,
    *,
    time_limit_s: float = 60.0,
) -> ExactResult:
    """Optimal weighted maximum coverage by integer programming (scipy.optimize.milp, HiGHS).

    maximise Σ_i w_i y_i subject to y_i ≤ Σ_{c covers i} x_c, Σ_c x_c ≤ k, Σ_c cost_c x_c ≤ budget,
    x binary, 0 ≤ y ≤ 1. Items covered by the same candidates are merged first. Meant for small
    instances (tests, checks of the greedy choice): the solve time grows quickly with size.

    Parameters
    ----------
    matrix, weights, k, costs, budget
        As for :func:`greedy_max_coverage`.
    time_limit_s : float, keyword-only
        Solver time limit, s.

    Returns
    -------
    ExactResult
    """
    csr, w, c = _problem_inputs(matrix, weights, k, costs, budget)
    n = csr.shape[0]
    if n == 0 or k == 0:
        return ExactResult((), 0.0, True, "trivial")
    cover, merged_w = _merged_items(csr, w)
    m = cover.shape[1]
    # rows: y_j - sum_c cover[c, j] x_c <= 0 (one per merged item), sum x <= k, sum cost x <= budget
    link = sp.hstack([-cover.T.astype(np.float64), sp.eye_array(m)], format="csr")
    rows = [link, sp.csr_array(np.concatenate([np.ones(n), np.zeros(m)])[None, :])]
    upper = [np.zeros(m), np.array([float(k)])]
    if budget is not None:
        rows.append(sp.csr_array(np.concatenate([c, np.zeros(m)])[None, :]))
        upper.append(np.array([float(budget)]))
    constraint = LinearConstraint(sp.vstack(rows, format="csr"), -np.inf, np.concatenate(upper))
    result = milp(
        c=np.concatenate([np.zeros(n), -merged_w]),
        constraints=constraint,
        integrality=np.concatenate([np.ones(n), np.zeros(m)]),
        bounds=Bounds(0.0, 1.0),
        options={"time_limit": float(time_limit_s), "mip_rel_gap": 0.0},
    )
    if result.x is None:
        return ExactResult((), 0.0, False, str(result.message))
    chosen = tuple(int(i) for i in np.nonzero(result.x[:n] > 0.5)[0])
    return ExactResult(chosen, _covered_weight(csr, w, chosen), result.status == 0, str(result.message))


def _covered_weight(csr: sp.csr_array, w: NDArray[np.float64], chosen: Sequence[int]) -> float:
    covered = np.zeros(csr.shape[1], dtype=bool)
    for i in chosen:
        covered[csr.indices[csr.indptr[i] : csr.indptr[i + 1]]] = True
    return float(w[covered].sum())
