"""RIAC: split the space into regions and sample where learning progress is high.

Baranes & Oudeyer 2009, "R-IAC: Robust Intrinsically Motivated Exploration and Active
Learning" (IEEE TAMD), in the variant Portelas, Colas, Hofmann, Oudeyer 2019 compare against
("Teacher algorithms for curriculum learning of Deep RL in continuously parameterized
environments", CoRL, §5 and appendix; reference code ``teachDRL/teachers/algos/riac.py`` in
flowersteam/teachDeepRL). A tree of axis-aligned regions covers the space; each region keeps
its most recent (params, score) pairs and their absolute learning progress (ALP). A leaf that
holds too many pairs is split where the two children's ALPs differ most, so the tree refines
itself around the frontier of what the student is learning.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from gymnasium import spaces

from teachgym.checks import check_int, check_probability, check_real
from teachgym.spaces import ParamSpace
from teachgym.teachers.base import Teacher

# The reference redraws a split until both children are populated enough, with no bound; a
# leaf whose points all sit on one spot would loop forever. After this many redraws the
# attempt counts as invalid.
_MAX_REDRAWS = 100

# Children are half-open ([low, threshold) and [threshold, high)); a worst-params draw
# clipped to a region's upper face would belong to the neighbour, so it stops this far
# short of it (the reference keeps 1e-5 away from both faces for the same reason).
_UPPER_FACE_MARGIN = 1e-9

# An ALP below this fraction of the magnitude of the summed scores is rounding noise.
_ALP_ROUNDING = 1e-13


class RIAC(Teacher):
    """Robust Intelligent Adaptive Curiosity: a region tree driven by learning progress.

    All geometry lives in the unit cube (``param_space.normalize``); samples are returned in
    the space's units.

    *Regions.* The root is the whole space. Every region keeps its last
    ``max_region_size + 1`` (params, score) pairs. An episode is recorded in every region
    that contains its params, from the root down to one leaf (a split sends a point to
    exactly one child). A region's ALP, over its ``n`` stored scores with
    ``w = min(n, alp_window_size)`` and ``h = w // 2``, is
    ``|mean(scores[-w:-h]) - mean(scores[-h:])|`` (0 while ``n <= 2``).

    *Splits.* When a leaf holds more than ``max_region_size`` pairs, ``n_split_attempts``
    random cuts (a dimension, then a threshold uniform within the leaf) are drawn, each
    redrawn until both sides get at least ``min_region_fraction * max_region_size`` pairs.
    A cut is valid when both children span at least ``min_range_fraction`` of the full range
    of every parameter; the valid cut with the largest ``|ALP(left) - ALP(right)|`` wins (a
    later cut wins ties). Children inherit their parent's pairs on their side; the parent
    keeps its own. With no valid cut, the leaf forgets its oldest
    ``int(max_region_size * discard_fraction)`` pairs instead.

    *Sampling.* With probability ``worst_params_ratio``: pick a region in proportion to its
    ALP (uniformly if every ALP is 0), take its lowest-scoring stored params and add
    ``N(0, worst_params_noise)`` noise per unit dimension, clipped to the region. With
    probability ``random_ratio``: uniform over the space. Otherwise: pick a region in
    proportion to its ALP and sample uniformly inside it. Regions are all nodes of the tree
    (root and inner ones included) unless ``sampling_in_leaves_only``.

    Where the reference code has a bug this class does the intended thing, noted in the
    code: children get the ALP of their own pairs, a leaf that discarded pairs stays bounded,
    a point on a cut goes to one child, and the redraws of a cut are capped.

    Args:
        param_space: The parameter space.
        seed: Seed of ``self.rng`` (every random draw: mode, region, cut, params).
        max_region_size: Pairs a leaf holds before it tries to split (paper: 200).
        alp_window_size: Most recent scores a region's ALP looks at; ``None`` means
            ``max_region_size``.
        n_split_attempts: Random cuts tried per split (paper: 50).
        min_region_fraction: Each child needs at least this fraction of
            ``max_region_size`` pairs (paper: 1/20).
        min_range_fraction: Each child spans at least this fraction of every parameter's
            full range (paper: 1/15).
        discard_fraction: Fraction of ``max_region_size`` oldest pairs a leaf forgets when no
            cut is valid (paper: 1/4).
        sampling_in_leaves_only: Choose among leaves only instead of all regions.
        random_ratio: Probability of a uniform sample over the whole space (paper: 0.2).
        worst_params_ratio: Probability of perturbing a region's worst params (paper: 0.1).
        worst_params_noise: Standard deviation of that perturbation, as a fraction of each
            parameter's range (paper: 0.1).
    """

    def __init__(
        self,
        param_space: ParamSpace | spaces.Box,
        *,
        seed: int | None = None,
        max_region_size: int = 200,
        alp_window_size: int | None = None,
        n_split_attempts: int = 50,
        min_region_fraction: float = 1 / 20,
        min_range_fraction: float = 1 / 15,
        discard_fraction: float = 1 / 4,
        sampling_in_leaves_only: bool = False,
        random_ratio: float = 0.2,
        worst_params_ratio: float = 0.1,
        worst_params_noise: float = 0.1,
    ) -> None:
        super().__init__(param_space, seed=seed)
        self.max_region_size = check_int("max_region_size", max_region_size, minimum=2)
        if alp_window_size is None:
            alp_window_size = self.max_region_size
        self.alp_window_size = check_int("alp_window_size", alp_window_size, minimum=2)
        self.n_split_attempts = check_int("n_split_attempts", n_split_attempts, minimum=1)
        self.min_region_fraction = check_real(
            "min_region_fraction", min_region_fraction, low=0.0, high=0.5
        )
        self.min_range_fraction = check_real(
            "min_range_fraction", min_range_fraction, low=0.0, high=0.5
        )
        self.discard_fraction = check_probability("discard_fraction", discard_fraction)
        if not isinstance(sampling_in_leaves_only, (bool, np.bool_)):
            raise ValueError(
                f"sampling_in_leaves_only must be True or False; got {sampling_in_leaves_only!r}"
            )
        self.sampling_in_leaves_only = bool(sampling_in_leaves_only)
        self.random_ratio = check_probability("random_ratio", random_ratio)
        self.worst_params_ratio = check_probability("worst_params_ratio", worst_params_ratio)
        if self.random_ratio + self.worst_params_ratio > 1.0 + 1e-12:
            raise ValueError(
                f"random_ratio + worst_params_ratio must be at most 1; got {random_ratio} + "
                f"{worst_params_ratio}"
            )
        self.worst_params_noise = check_real("worst_params_noise", worst_params_noise, low=0.0)
        self._capacity = self.max_region_size + 1
        self._window = min(self.alp_window_size, self._capacity)
        self._min_points = self.min_region_fraction * self.max_region_size
        self._n_discard = int(self.max_region_size * self.discard_fraction)
        self._slots = np.arange(self._capacity)
        self._allocate(1)
        dim = self.param_space.dim
        self._add_region(np.zeros(dim), np.ones(dim), parent=-1)
        self._update_candidates()

    # ------------------------------------------------------------------ public views
    @property
    def n_regions(self) -> int:
        """Number of regions in the tree, root included."""
        return self._n_regions

    @property
    def region_alps(self) -> np.ndarray:
        """ALP of each region, in creation order (region 0 is the root)."""
        return self._alp[: self._n_regions].copy()

    @property
    def region_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)`` of each region in the space's units, each ``(n_regions, dim)``."""
        n = self._n_regions
        return (
            self.param_space.denormalize(self._low[:n]),
            self.param_space.denormalize(self._high[:n]),
        )

    @property
    def leaf_indices(self) -> np.ndarray:
        """Indices of the regions that have no children."""
        return np.flatnonzero(np.asarray(self._first_child) < 0)

    # ------------------------------------------------------------------ Teacher hooks
    def _sample(self) -> np.ndarray:
        dim = self.param_space.dim
        mode = self.rng.random()
        if mode < self.worst_params_ratio:
            if self._count[0] == 0:
                unit = self.rng.random(dim)
            else:
                unit = self._near_worst_params(self._choose_region())
        elif mode < self.worst_params_ratio + self.random_ratio:
            unit = self.rng.random(dim)
        else:
            region = self._choose_region()
            low = self._low[region]
            unit = low + (self._high[region] - low) * self.rng.random(dim)
        return self.param_space.denormalize(unit)

    def _update(self, params: np.ndarray, score: float) -> None:
        unit = np.minimum(np.maximum(self.param_space.normalize(params), 0.0), 1.0)
        coordinates = unit.tolist()
        capacity = self._capacity
        path: list[int] = []
        slots: list[int] = []
        region = 0
        # The reference's containment test is inclusive, so a point on a cut went to both
        # children; here children are half-open and each level takes exactly one.
        while True:
            head = self._head[region]
            path.append(region)
            slots.append(head)
            self._score_prefix[region][head] = self._score_total[region]
            self._score_total[region] += score
            self._head[region] = head + 1 if head + 1 < capacity else 0
            if self._count[region] < capacity:
                self._count[region] += 1
            child = self._first_child[region]
            if child < 0:
                break
            if coordinates[self._split_dim[region]] >= self._split_threshold[region]:
                child += 1
            region = child
        self._scores[path, slots] = score
        self._points[path, slots] = unit
        if self._count[region] > self.max_region_size:
            self._split_or_discard(region)
        self._alp[path] = [self._region_alp(visited) for visited in path]

    def _state_dict(self) -> dict[str, Any]:
        """Per region (creation order, root first): unit-cube ``low``/``high``, ``parent``,
        ``children`` (-1 for none), ``split_dim``/``split_threshold`` of its cut, ``alp``,
        ``counts`` and ``score_totals``; then every region's stored pairs, oldest first and
        region after region: ``unit_params``, ``scores`` and ``score_prefix``."""
        n = self._n_regions
        chronological = [self._chronological_slots(region) for region in range(n)]
        first_child = np.asarray(self._first_child, dtype=np.int64)
        children = np.where(first_child[:, None] >= 0, first_child[:, None] + np.arange(2), -1)
        return {
            "low": self._low[:n].copy(),
            "high": self._high[:n].copy(),
            "parent": np.asarray(self._parent, dtype=np.int64),
            "children": children.astype(np.int64),
            "split_dim": np.asarray(self._split_dim, dtype=np.int64),
            "split_threshold": np.asarray(self._split_threshold, dtype=np.float64),
            "alp": self._alp[:n].copy(),
            "counts": np.asarray(self._count, dtype=np.int64),
            "unit_params": np.concatenate(
                [self._points[region, slots] for region, slots in enumerate(chronological)]
            ),
            "scores": np.concatenate(
                [self._scores[region, slots] for region, slots in enumerate(chronological)]
            ),
            "score_prefix": np.concatenate(
                [
                    np.asarray(self._score_prefix[region], dtype=np.float64)[slots]
                    for region, slots in enumerate(chronological)
                ]
            ),
            "score_totals": np.asarray(self._score_total, dtype=np.float64),
        }

    def _load_state_dict(self, state: dict[str, Any]) -> None:
        dim = self.param_space.dim
        try:
            low = np.asarray(state["low"], dtype=np.float64)
            high = np.asarray(state["high"], dtype=np.float64)
            parent = np.asarray(state["parent"], dtype=np.int64).reshape(-1)
            children = np.asarray(state["children"], dtype=np.int64)
            split_dim = np.asarray(state["split_dim"], dtype=np.int64).reshape(-1)
            split_threshold = np.asarray(state["split_threshold"], dtype=np.float64).reshape(-1)
            alp = np.asarray(state["alp"], dtype=np.float64).reshape(-1)
            counts = np.asarray(state["counts"], dtype=np.int64).reshape(-1)
            unit_params = np.asarray(state["unit_params"], dtype=np.float64)
            scores = np.asarray(state["scores"], dtype=np.float64).reshape(-1)
            score_prefix = np.asarray(state["score_prefix"], dtype=np.float64).reshape(-1)
            score_totals = np.asarray(state["score_totals"], dtype=np.float64).reshape(-1)
        except KeyError as error:
            raise ValueError(f"RIAC state is missing the key {error}") from None
        n = len(parent)
        if n < 1:
            raise ValueError("RIAC state has no regions; the root is always there")
        for name, array, shape in [
            ("low", low, (n, dim)),
            ("high", high, (n, dim)),
            ("children", children, (n, 2)),
            ("split_dim", split_dim, (n,)),
            ("split_threshold", split_threshold, (n,)),
            ("alp", alp, (n,)),
            ("counts", counts, (n,)),
            ("score_totals", score_totals, (n,)),
        ]:
            if array.shape != shape:
                raise ValueError(f"RIAC state {name!r} has shape {array.shape}; expected {shape}")
        if np.any(counts < 0) or np.any(counts > self._capacity):
            raise ValueError(f"RIAC state region counts must be in [0, {self._capacity}]")
        total = int(counts.sum())
        if unit_params.shape != (total, dim) or {scores.shape, score_prefix.shape} != {(total,)}:
            raise ValueError(
                f"RIAC state holds params {unit_params.shape}, scores {scores.shape} and "
                f"score_prefix {score_prefix.shape}; its counts need ({total}, {dim}), "
                f"({total},) and ({total},)"
            )
        numbers_ = (low, high, split_threshold, alp, unit_params, scores, score_prefix)
        if not all(np.all(np.isfinite(array)) for array in (*numbers_, score_totals)):
            raise ValueError("RIAC state holds non-finite numbers")
        if np.any(alp < 0):
            raise ValueError("RIAC state holds a negative ALP")
        if np.any(low < 0) or np.any(high > 1) or np.any(low > high):
            raise ValueError("RIAC state region bounds must satisfy 0 <= low <= high <= 1")
        if np.any(unit_params < 0) or np.any(unit_params > 1):
            raise ValueError("RIAC state params must lie in the unit cube")
        if not (np.all(low[0] == 0) and np.all(high[0] == 1)):
            raise ValueError("RIAC state root region must be the whole unit cube")
        _check_tree(parent, children, split_dim, split_threshold, low, high)

        self._allocate(n)
        offsets = np.concatenate([[0], np.cumsum(counts)])
        for region in range(n):
            self._add_region(low[region], high[region], int(parent[region]))
            self._alp[region] = alp[region]
            stored = slice(offsets[region], offsets[region + 1])
            self._fill_region(
                region,
                unit_params[stored],
                scores[stored],
                score_prefix[stored].tolist(),
                float(score_totals[region]),
            )
        self._first_child[:] = children[:, 0].tolist()
        self._split_dim[:] = split_dim.tolist()
        self._split_threshold[:] = split_threshold.tolist()
        self._update_candidates()

    def _metrics(self) -> dict[str, float]:
        alps = self._alp[: self._n_regions]
        return {
            "n_regions": float(self._n_regions),
            "n_leaves": float(len(self.leaf_indices)),
            "max_alp": float(alps.max()),
            "mean_alp": float(alps.mean()),
        }

    # ------------------------------------------------------------------ region storage
    def _allocate(self, n_regions: int) -> None:
        """Empty storage with room for ``n_regions`` regions."""
        size = max(8, n_regions)
        dim = self.param_space.dim
        self._n_regions = 0
        self._low = np.zeros((size, dim))
        self._high = np.zeros((size, dim))
        self._alp = np.zeros(size)
        # Each region keeps its pairs in a ring of `_capacity` slots: `_head` is the next slot
        # to write and the `_count` slots before it hold the newest pairs.
        self._points = np.zeros((size, self._capacity, dim))
        self._scores = np.zeros((size, self._capacity))
        self._head: list[int] = []
        self._count: list[int] = []
        # Running sums make a region's ALP O(1) per episode: `_score_total` sums every score
        # the region ever stored, `_score_prefix` holds that sum as it was just before the
        # pair in the same slot, so a window's sum is a difference of two of them.
        self._score_total: list[float] = []
        self._score_prefix: list[list[float]] = []
        # Children are created in pairs: `first_child` holds x[dim] < threshold and
        # `first_child + 1` the rest; -1 marks a leaf.
        self._parent: list[int] = []
        self._first_child: list[int] = []
        self._split_dim: list[int] = []
        self._split_threshold: list[float] = []

    def _add_region(self, low: np.ndarray, high: np.ndarray, parent: int) -> int:
        region = self._n_regions
        size = len(self._alp)
        if region == size:
            for name in ("_low", "_high", "_alp", "_points", "_scores"):
                old = getattr(self, name)
                new = np.zeros((2 * size, *old.shape[1:]), dtype=old.dtype)
                new[:size] = old
                setattr(self, name, new)
        self._low[region], self._high[region] = low, high
        self._alp[region] = 0.0
        self._head.append(0)
        self._count.append(0)
        self._score_total.append(0.0)
        self._score_prefix.append([0.0] * self._capacity)
        self._parent.append(parent)
        self._first_child.append(-1)
        self._split_dim.append(-1)
        self._split_threshold.append(0.0)
        self._n_regions += 1
        return region

    def _fill_region(
        self,
        region: int,
        unit_params: np.ndarray,
        scores: np.ndarray,
        score_prefix: list[float],
        score_total: float,
    ) -> None:
        """Store pairs (oldest first) in an empty region, from slot 0 on."""
        count = len(scores)
        self._points[region, :count] = unit_params
        self._scores[region, :count] = scores
        self._score_prefix[region][:count] = score_prefix
        self._score_total[region] = score_total
        self._count[region] = count
        self._head[region] = count % self._capacity

    def _chronological_slots(self, region: int) -> np.ndarray:
        """Ring slots of a region's stored pairs, oldest first."""
        count = self._count[region]
        return (self._head[region] - count + self._slots[:count]) % self._capacity

    def _update_candidates(self) -> None:
        """The regions sampling chooses among (``None``: all of them)."""
        self._candidates = self.leaf_indices if self.sampling_in_leaves_only else None

    # ------------------------------------------------------------------ ALP
    def _region_alp(self, region: int) -> float:
        """|mean(older half) - mean(newer half)| of the region's last scores."""
        count = self._count[region]
        if count <= 2:
            return 0.0
        window = min(count, self._window)
        half = window // 2
        prefix = self._score_prefix[region]
        head = self._head[region]
        # The sum of scores stored before the `half`-th newest (and the `window`-th newest).
        before_newer = prefix[(head - half) % self._capacity]
        before_window = prefix[(head - window) % self._capacity]
        total = self._score_total[region]
        alp = abs((before_newer - before_window) / (window - half) - (total - before_newer) / half)
        # Constant scores must give exactly 0, not the sums' rounding error (~1e-16): an ALP
        # of 1e-16 beside zeros would otherwise take every proportional draw.
        return alp if alp > _ALP_ROUNDING * max(1.0, abs(total), abs(before_window)) else 0.0

    def _cut_alps(self, scores: np.ndarray, left: np.ndarray) -> np.ndarray:
        """``(attempts, 2)`` ALPs of the left and right children of each attempted cut.

        ``scores`` are the leaf's scores oldest first; ``left[a]`` marks those that attempt
        ``a`` sends to its left child. Computed from the scores directly, all at once.
        """
        members = np.concatenate([left, ~left])
        # 1 for a child's newest score, 2 for the one before …; 0 for the other child's.
        newest_rank = np.cumsum(members[:, ::-1], axis=1)[:, ::-1] * members
        counts = members.sum(axis=1)
        window = np.minimum(counts, self._window)
        half = window // 2
        newer = (newest_rank >= 1) & (newest_rank <= half[:, None])
        older = (newest_rank > half[:, None]) & (newest_rank <= window[:, None])
        newer_mean = np.where(newer, scores, 0.0).sum(axis=1) / np.maximum(half, 1)
        older_mean = np.where(older, scores, 0.0).sum(axis=1) / np.maximum(window - half, 1)
        alps = np.abs(older_mean - newer_mean)
        alps[(counts <= 2) | (alps <= _ALP_ROUNDING * max(1.0, np.abs(scores).max()))] = 0.0
        return alps.reshape(2, -1).T

    # ------------------------------------------------------------------ splitting
    def _split_or_discard(self, leaf: int) -> None:
        slots = self._chronological_slots(leaf)
        unit_params = self._points[leaf, slots]
        scores = self._scores[leaf, slots]
        low, high = self._low[leaf], self._high[leaf]
        # When every cut would leave a child narrower than allowed, skip the doomed attempts.
        if np.any(high - low >= 2 * self.min_range_fraction):
            best = self._best_cut(unit_params, scores, low, high)
            if best is not None:
                self._split(leaf, unit_params, scores, *best)
                return
        # No valid cut: forget the oldest pairs so the leaf waits for fresher evidence.
        # (The reference rebuilds its deques without maxlen here, so a leaf that later does
        # split keeps every pair it ever gets; the bound is kept here.)
        self._count[leaf] -= min(self._n_discard, self._count[leaf])

    def _best_cut(
        self, unit_params: np.ndarray, scores: np.ndarray, low: np.ndarray, high: np.ndarray
    ) -> tuple[int, float, np.ndarray] | None:
        """Draw the split attempts; return ``(dim, threshold, left_mask)`` of the best valid
        one, or ``None``."""
        n_points = len(scores)
        attempts = self.n_split_attempts
        dims = np.empty(attempts, dtype=np.int64)
        thresholds = np.empty(attempts)
        left = np.empty((attempts, n_points), dtype=bool)
        populated = np.zeros(attempts, dtype=bool)
        # All attempts are drawn at once; those with a too sparse child are redrawn.
        for _ in range(_MAX_REDRAWS + 1):
            redraw = np.flatnonzero(~populated)
            if redraw.size == 0:
                break
            dims[redraw] = self.rng.integers(self.param_space.dim, size=redraw.size)
            cut_low, cut_high = low[dims[redraw]], high[dims[redraw]]
            cuts = cut_low + (cut_high - cut_low) * self.rng.random(redraw.size)
            thresholds[redraw] = cuts
            left[redraw] = np.less(unit_params[:, dims[redraw]].T, cuts[:, None])
            n_left = left[redraw].sum(axis=1)
            populated[redraw] = (n_left >= self._min_points) & (
                n_points - n_left >= self._min_points
            )
        # Children keep the leaf's extent on the other dimensions, which is already wide
        # enough, so only the cut dimension can make a child too narrow.
        min_width = self.min_range_fraction
        valid = (
            populated
            & (thresholds - low[dims] >= min_width)
            & (high[dims] - thresholds >= min_width)
        )
        if not valid.any():
            return None
        alps = self._cut_alps(scores, left)
        # The reference scores a cut as len(sub_reg1) * len(sub_reg2) * |ΔALP|, meaning to
        # weigh by population; those are its 2-element [scores, params] lists, so the factor
        # is always 4 and the score is |ΔALP|. Ties go to the later attempt (its `>=`).
        contrast = np.where(valid, np.abs(alps[:, 0] - alps[:, 1]), -1.0)
        best = attempts - 1 - int(np.argmax(contrast[::-1]))
        return int(dims[best]), float(thresholds[best]), left[best]

    def _split(
        self,
        leaf: int,
        unit_params: np.ndarray,
        scores: np.ndarray,
        dim: int,
        threshold: float,
        left: np.ndarray,
    ) -> None:
        low, high = self._low[leaf].copy(), self._high[leaf].copy()
        left_high, right_low = high.copy(), low.copy()
        left_high[dim] = right_low[dim] = threshold
        first = self._add_region(low, left_high, parent=leaf)
        self._add_region(right_low, high, parent=leaf)
        for child, side in ((first, left), (first + 1, ~left)):
            prefix = list(itertools.accumulate(scores[side].tolist(), initial=0.0))
            self._fill_region(child, unit_params[side], scores[side], prefix[:-1], prefix[-1])
            # The reference hands both children the ALPs of its *last* attempt, not of the
            # chosen cut; each child gets the ALP of its own pairs here.
            self._alp[child] = self._region_alp(child)
        self._first_child[leaf] = first
        self._split_dim[leaf] = dim
        self._split_threshold[leaf] = threshold
        self._update_candidates()

    # ------------------------------------------------------------------ sampling
    def _choose_region(self) -> int:
        """A candidate region drawn in proportion to its ALP (uniformly if all are 0)."""
        candidates = self._candidates
        alps = self._alp[: self._n_regions] if candidates is None else self._alp[candidates]
        cumulative = alps.cumsum()
        total = cumulative[-1]
        if total <= 0.0:
            index = int(self.rng.integers(len(alps)))
        else:
            index = int(cumulative.searchsorted(self.rng.random() * total, "right"))
            if index == len(alps):  # the product above rounded up to the total
                index = int(np.flatnonzero(alps)[-1])
        return index if candidates is None else int(candidates[index])

    def _near_worst_params(self, region: int) -> np.ndarray:
        """The region's lowest-scoring stored params (oldest on ties), perturbed."""
        low, high = self._low[region], self._high[region]
        slots = self._chronological_slots(region)
        if len(slots) == 0:  # only when min_region_fraction = 0 left a child empty
            return low + (high - low) * self.rng.random(self.param_space.dim)
        worst = self._points[region, slots[np.argmin(self._scores[region, slots])]]
        unit = worst + self.worst_params_noise * self.rng.standard_normal(self.param_space.dim)
        upper = np.where(high < 1.0, np.maximum(high - _UPPER_FACE_MARGIN, low), high)
        return np.minimum(np.maximum(unit, low), upper)


def _check_tree(
    parent: np.ndarray,
    children: np.ndarray,
    split_dim: np.ndarray,
    split_threshold: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
) -> None:
    """Raise ``ValueError`` unless the arrays describe a RIAC region tree: children created
    in pairs after their parent, each pair cutting the parent in two at its threshold."""
    n, dim = low.shape
    if parent[0] != -1:
        raise ValueError("RIAC state: region 0 (the root) must have parent -1")
    seen_as_child = np.zeros(n, dtype=bool)
    for region in range(n):
        first, second = children[region]
        if first < 0:
            if second >= 0:
                raise ValueError(f"RIAC state: region {region} has one child")
            continue
        if not (region < first and second == first + 1 and second < n):
            raise ValueError(
                f"RIAC state: region {region} has children {children[region].tolist()}; "
                f"expected two consecutive later regions"
            )
        if seen_as_child[first] or parent[first] != region or parent[second] != region:
            raise ValueError(f"RIAC state: children of region {region} disagree on their parent")
        seen_as_child[first] = seen_as_child[second] = True
        cut = int(split_dim[region])
        threshold = split_threshold[region]
        if not 0 <= cut < dim:
            raise ValueError(f"RIAC state: region {region} is split on dimension {cut}")
        left_high, right_low = high[region].copy(), low[region].copy()
        left_high[cut] = right_low[cut] = threshold
        if not (
            np.array_equal(low[first], low[region])
            and np.array_equal(high[first], left_high)
            and np.array_equal(low[second], right_low)
            and np.array_equal(high[second], high[region])
        ):
            raise ValueError(
                f"RIAC state: the children of region {region} do not cut it at "
                f"dimension {cut}, threshold {threshold}"
            )
    if not np.all(seen_as_child[1:]):
        raise ValueError("RIAC state: some region is nobody's child")
