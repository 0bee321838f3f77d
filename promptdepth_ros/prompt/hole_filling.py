"""Prompt hole filling: the nearest valid return, or the inverse-distance mean of the k nearest."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from scipy.spatial import cKDTree

from promptdepth_ros.errors import InputError

MAX_FILL_K = 64
GRID_SEARCH_PX = 16.0  # exact k-NN on the pixel grid up to here, a KD-tree beyond


def fill_prompt_holes(
    depth_m: NDArray[np.floating], k: int, max_distance_px: float = 0.0
) -> NDArray[np.float32]:
    """Fill NaN pixels with the inverse-distance weighted mean of the ``k`` nearest valid ones.

    (h, w) float32 metres in and out; k = 0, or no valid pixel, returns an unfilled copy.
    Holes farther than ``max_distance_px`` from every valid pixel stay NaN (0 = no limit); the
    bound is inclusive and only neighbours within it count. The k-NN is exact (equidistant
    neighbours in any order): a ring-by-ring search on the pixel grid up to ``GRID_SEARCH_PX``,
    then a KD-tree of the valid pixels near the holes it leaves.
    """
    depth = np.array(depth_m, dtype=np.float32)
    if depth.ndim != 2:
        raise InputError(f"depth must be 2-D (h, w), got shape {depth.shape}")
    valid = np.isfinite(depth)
    n_valid = int(valid.sum())
    if k <= 0 or n_valid == 0 or n_valid == depth.size:
        return depth
    neighbours = min(int(k), n_valid)
    bound = max_distance_px if max_distance_px > 0.0 else math.inf
    nearest_d2 = np.rint(ndimage.distance_transform_edt(~valid) ** 2).astype(np.int64).ravel()
    holes = np.flatnonzero(~valid.ravel() & (np.sqrt(nearest_d2) <= bound))
    reach = min(bound, GRID_SEARCH_PX)
    filled, rest = _fill_on_grid(depth, holes, nearest_d2[holes], neighbours, reach)
    if bound > reach:
        rest = np.union1d(rest, np.flatnonzero(np.sqrt(nearest_d2[holes]) > reach))
        if rest.size:
            filled[rest] = _fill_with_kdtree(depth, valid, holes[rest], neighbours, bound)
    depth.ravel()[holes] = filled
    return depth


def fill_prompt_holes_nearest(
    depth_m: NDArray[np.floating], valid: NDArray[np.bool_]
) -> NDArray[np.float32]:
    """Copy into every invalid pixel the depth of its nearest valid pixel (Euclidean).

    (h, w) metres and (h, w) mask in, (h, w) float32 metres out. Equidistant candidates resolve
    as ``scipy.ndimage.distance_transform_edt`` does. Raises InputError when no pixel is valid.
    """
    if not valid.any():
        raise InputError(f"no valid pixel to fill the {depth_m.shape} depth from")
    if valid.all():
        return depth_m.astype(np.float32)
    nearest = ndimage.distance_transform_edt(~valid, return_distances=False, return_indices=True)
    return depth_m[nearest[0], nearest[1]].astype(np.float32)


@lru_cache(maxsize=16)
def _grid_offsets(reach: float) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """(dy, dx, d2) of the grid offsets 0 < length <= ``reach`` px, sorted by squared length."""
    radius = math.floor(reach)
    dy, dx = (a.ravel() for a in np.mgrid[-radius : radius + 1, -radius : radius + 1])
    d2 = dy * dy + dx * dx
    keep = (d2 > 0) & (np.sqrt(d2) <= reach)
    order = np.argsort(d2[keep], kind="stable")
    return dy[keep][order], dx[keep][order], d2[keep][order]


def _fill_on_grid(
    depth: NDArray[np.float32],
    holes: NDArray[np.intp],
    hole_d2: NDArray[np.int64],
    k: int,
    reach: float,
) -> tuple[NDArray[np.float32], NDArray[np.intp]]:
    """Fill the flat ``holes`` from the valid pixels of ``depth`` within ``reach`` px of each.

    Visits neighbour offsets by increasing squared length ``d2``; a hole joins at the length of
    its nearest valid pixel (``hole_d2``) and leaves once it has ``k`` neighbours. Returns the
    filled values (n,) and the positions in ``holes`` of those with fewer than ``k`` in reach.
    """
    w = depth.shape[1]
    pad = math.floor(reach)
    flat = np.pad(depth, pad, constant_values=np.nan).ravel()
    stride = w + 2 * pad
    dy, dx, d2 = _grid_offsets(reach)
    offsets = dy * stride + dx
    levels, starts = np.unique(d2, return_index=True)
    ends = np.append(starts[1:], d2.size)
    order = np.argsort(hole_d2, kind="stable")
    joins = np.searchsorted(hole_d2[order], np.append(levels, np.iinfo(np.int64).max))
    hole_pos = (holes // w + pad) * stride + holes % w + pad
    out = np.full(holes.size, np.nan, np.float32)
    ids, pos = np.zeros(0, np.intp), np.zeros(0, np.intp)
    acc = np.zeros((3, 0))  # per active hole: weighted sum, weight sum, neighbour count
    for i, level in enumerate(levels):
        new = order[joins[i] : joins[i + 1]]
        ids, pos = np.concatenate([ids, new]), np.concatenate([pos, hole_pos[new]])
        acc = np.concatenate([acc, np.zeros((3, new.size))], axis=1)
        sample = flat[offsets[starts[i] : ends[i], None] + pos]  # (offsets, holes)
        found = sample == sample
        got = found.sum(axis=0)
        need = k - acc[2].astype(np.intp)
        over = np.flatnonzero(got > need)
        if over.size:  # equidistant neighbours beyond the k-th: keep the first ones
            part = found[:, over]
            part &= np.cumsum(part, axis=0) <= need[over]
            found[:, over] = part
            got[over] = need[over]
        total = np.where(found, sample, np.float32(0.0)).sum(axis=0, dtype=np.float64)
        acc[:2] += np.stack([total, got]) / math.sqrt(level)
        acc[2] += got  # exact: a count scaled and unscaled by sqrt(level) can miss k
        done = acc[2] >= k
        if done.any():
            out[ids[done]] = acc[0, done] / acc[1, done]
            ids, pos, acc = ids[~done], pos[~done], acc[:, ~done]
    with np.errstate(invalid="ignore"):
        out[ids] = acc[0] / acc[1]
    return out, ids


def _fill_with_kdtree(
    depth: NDArray[np.float32],
    valid: NDArray[np.bool_],
    holes: NDArray[np.intp],
    k: int,
    bound: float,
) -> NDArray[np.float32]:
    """IDW fill (n,) of the flat ``holes`` from the ``k`` nearest valid pixels within ``bound``."""
    # cKDTree's bound is exclusive; holes exactly ``bound`` px away are still filled.
    upper = float(np.nextafter(bound, np.inf))
    points = np.column_stack(np.unravel_index(holes, depth.shape))
    # Only valid pixels within the bound of one of these holes can be a neighbour: the tree
    # holds those alone (a band around the large holes, not the whole image).
    near = valid & _near(points, depth.shape, bound) if math.isfinite(bound) else valid
    # Neighbours beyond the bound come back with distance inf and index n_near (weight 0).
    distances, index = cKDTree(np.argwhere(near)).query(points, k=k, distance_upper_bound=upper)
    if k == 1:
        distances, index = distances[:, None], index[:, None]
    values = np.append(depth[near], np.float32(0.0))[index]
    weights = 1.0 / distances  # holes are never valid pixels, so every distance is >= 1
    with np.errstate(invalid="ignore", divide="ignore"):
        filled = (weights * values).sum(axis=1) / weights.sum(axis=1)  # NaN: none in bound
    return filled.astype(np.float32)


def _near(points: NDArray[np.intp], shape: tuple[int, ...], bound: float) -> NDArray[np.bool_]:
    """(h, w) True within ``bound`` px of any of the (n, 2) pixel ``points`` along both axes
    (a square around each: it holds every pixel within ``bound`` px, and is cheap to dilate)."""
    reach = math.floor(bound)
    top, left = np.maximum(points.min(axis=0) - reach, 0)
    bottom, right = np.minimum(points.max(axis=0) + reach + 1, shape)
    seeds = np.zeros((bottom - top, right - left), bool)
    seeds[points[:, 0] - top, points[:, 1] - left] = True
    out = np.zeros(shape, bool)
    out[top:bottom, left:right] = ndimage.maximum_filter(seeds, size=2 * reach + 1)
    return out
