"""A transform tree fed with TransformStamped messages from /tf and /tf_static (tf2 fallback).

Static edges hold at every time; dynamic edges keep a time history and are interpolated
(linear translation, spherical rotation) as tf2 does. Messages are duck-typed.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.errors import InputError, MissingTransform, TransformExtrapolation
from promptdepth_ros.geometry.transforms import (
    invert_transform,
    make_transform,
    matrix_to_quaternion,
    quaternion_to_matrix,
)

LATEST = 0  # a lookup at stamp 0 takes each edge's newest transform, as tf2's Time(0)


def transform_from_msg(msg: Any) -> NDArray[np.float64]:
    """4x4 T of a geometry_msgs/Transform (``translation``, ``rotation``; duck-typed)."""
    t, r = msg.translation, msg.rotation
    return make_transform(quaternion_to_matrix(r.x, r.y, r.z, r.w), np.array([t.x, t.y, t.z]))


def interpolate_transform(
    a: NDArray[np.float64], b: NDArray[np.float64], fraction: float
) -> NDArray[np.float64]:
    """Transform ``fraction`` of the way from ``a`` to ``b``: lerp translation, slerp rotation."""
    qa = np.asarray(matrix_to_quaternion(a[:3, :3]))
    qb = np.asarray(matrix_to_quaternion(b[:3, :3]))
    dot = float(qa @ qb)
    if dot < 0.0:
        qb, dot = -qb, -dot
    if dot > 0.9995:
        q = qa + fraction * (qb - qa)
    else:
        angle = np.arccos(dot)
        q = (np.sin((1 - fraction) * angle) * qa + np.sin(fraction * angle) * qb) / np.sin(angle)
    translation = (1 - fraction) * a[:3, 3] + fraction * b[:3, 3]
    return make_transform(quaternion_to_matrix(*q), translation)


@dataclass
class _Edge:
    """T_parent_child: one static transform, or a time history (stamps ns, ascending)."""

    parent: str
    static: NDArray[np.float64] | None = None
    stamps: list[int] = field(default_factory=list)
    transforms: list[NDArray[np.float64]] = field(default_factory=list)

    def at(self, stamp_ns: int, child: str) -> NDArray[np.float64]:
        """T_parent_child at ``stamp_ns``; raises TransformExtrapolation outside the history."""
        if self.static is not None:
            return self.static
        if stamp_ns == LATEST or stamp_ns == self.stamps[-1]:
            return self.transforms[-1]
        i = bisect.bisect_left(self.stamps, stamp_ns)
        if i == 0 or i == len(self.stamps):
            raise TransformExtrapolation(
                f"'{self.parent}' -> '{child}' is known from {self.stamps[0] * 1e-9:.3f} s to "
                f"{self.stamps[-1] * 1e-9:.3f} s, not at {stamp_ns * 1e-9:.3f} s"
            )
        t0, t1 = self.stamps[i - 1], self.stamps[i]
        return interpolate_transform(
            self.transforms[i - 1], self.transforms[i], (stamp_ns - t0) / (t1 - t0)
        )


class TransformBuffer:
    """Transform tree of static and time-stamped edges; thread-safe.

    Each TransformStamped adds ``T_parent_child`` (``header.frame_id`` -> ``child_frame_id``);
    a static one replaces the edge, a dynamic one extends its history (``cache_s`` long).
    """

    def __init__(self, cache_s: float = 10.0) -> None:
        self._lock = threading.Lock()
        self._edges: dict[str, _Edge] = {}
        self._cache_ns = round(cache_s * 1e9)

    def set_transform(self, msg: Any, static: bool) -> None:
        """Add one geometry_msgs/TransformStamped (duck-typed). Raises InputError."""
        parent = str(msg.header.frame_id).lstrip("/")
        child = str(msg.child_frame_id).lstrip("/")
        if not parent or not child or parent == child:
            raise InputError(
                f"a transform needs two different non-empty frames, got '{parent}' -> '{child}'"
            )
        transform = transform_from_msg(msg.transform)
        stamp = int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)
        with self._lock:
            edge = self._edges.get(child)
            if static or edge is None or edge.parent != parent or edge.static is not None:
                edge = _Edge(parent, transform if static else None)
                self._edges[child] = edge
            if static:
                return
            i = bisect.bisect_left(edge.stamps, stamp)
            if i < len(edge.stamps) and edge.stamps[i] == stamp:
                edge.transforms[i] = transform
            else:
                edge.stamps.insert(i, stamp)
                edge.transforms.insert(i, transform)
            while edge.stamps[-1] - edge.stamps[0] > self._cache_ns:
                del edge.stamps[0], edge.transforms[0]

    def set_transforms(self, msgs: Any, static: bool) -> None:
        """Add every TransformStamped of an iterable (e.g. ``tf2_msgs/TFMessage.transforms``)."""
        for msg in msgs:
            self.set_transform(msg, static)

    def known_frames(self) -> list[str]:
        """Sorted names of every frame that appears in the tree."""
        with self._lock:
            return sorted(set(self._edges) | {edge.parent for edge in self._edges.values()})

    def lookup(self, target_frame: str, source_frame: str, stamp_ns: int) -> NDArray[np.float64]:
        """4x4 T_target_source at ``stamp_ns`` (``LATEST`` = newest of each edge).

        Raises MissingTransform when the frames are unknown or not connected,
        TransformExtrapolation when a dynamic edge has no history at the stamp.
        """
        target, source = target_frame.lstrip("/"), source_frame.lstrip("/")
        if target == source:
            return np.eye(4)
        with self._lock:
            path_up = self._path_to_root(source)
            path_down = self._path_to_root(target)
            common = next((f for f in path_up if f in path_down), None)
            if common is None:
                known = sorted(set(self._edges) | {e.parent for e in self._edges.values()})
                raise MissingTransform(
                    f"no transform from '{source}' to '{target}'; known frames: {known}"
                )
            T_common_source = self._chain(path_up[: path_up.index(common)], stamp_ns)
            T_common_target = self._chain(path_down[: path_down.index(common)], stamp_ns)
        return invert_transform(T_common_target) @ T_common_source

    def lookup_full(
        self,
        target_frame: str,
        target_ns: int,
        source_frame: str,
        source_ns: int,
        fixed_frame: str,
    ) -> NDArray[np.float64]:
        """T_target(target_ns)_source(source_ns) through ``fixed_frame``, as tf2's
        lookup_transform_full (the source moved at its time, the target at its time)."""
        return self.lookup(target_frame, fixed_frame, target_ns) @ self.lookup(
            fixed_frame, source_frame, source_ns
        )

    def _path_to_root(self, frame: str) -> list[str]:
        """``frame`` and its ancestors up to the root."""
        path = [frame]
        while path[-1] in self._edges and len(path) <= len(self._edges):
            path.append(self._edges[path[-1]].parent)
        return path

    def _chain(self, frames: list[str], stamp_ns: int) -> NDArray[np.float64]:
        """T_ancestor_frames[0] along ``frames`` (each the child of the next frame up)."""
        transform = np.eye(4)
        for child in reversed(frames):
            transform = transform @ self._edges[child].at(stamp_ns, child)
        return transform
