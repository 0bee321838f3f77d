"""A static transform tree fed with TransformStamped messages (duck-typed; tf2 fallback)."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.errors import InputError, MissingTransform
from promptdepth_ros.geometry.transforms import (
    invert_transform,
    make_transform,
    quaternion_to_matrix,
)


def transform_from_msg(msg: Any) -> NDArray[np.float64]:
    """4x4 T of a geometry_msgs/Transform (``translation``, ``rotation``; duck-typed)."""
    t, r = msg.translation, msg.rotation
    return make_transform(quaternion_to_matrix(r.x, r.y, r.z, r.w), np.array([t.x, t.y, t.z]))


class StaticTransformBuffer:
    """Static transform tree fed with TransformStamped-like messages; thread-safe.

    Each message adds the edge ``T_parent_child`` (``header.frame_id`` -> ``child_frame_id``);
    a later message for the same child replaces the earlier one, as in tf2.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parent: dict[str, tuple[str, NDArray[np.float64]]] = {}

    def set_transform(self, msg: Any) -> None:
        """Add or replace one edge from a geometry_msgs/TransformStamped (duck-typed)."""
        parent = str(msg.header.frame_id).lstrip("/")
        child = str(msg.child_frame_id).lstrip("/")
        if not parent or not child or parent == child:
            raise InputError(
                f"a transform needs two different non-empty frames, got '{parent}' -> '{child}'"
            )
        transform = transform_from_msg(msg.transform)
        with self._lock:
            self._parent[child] = (parent, transform)

    def set_transforms(self, msgs: Any) -> None:
        """Add every TransformStamped of an iterable (e.g. ``tf2_msgs/TFMessage.transforms``)."""
        for msg in msgs:
            self.set_transform(msg)

    def known_frames(self) -> list[str]:
        """Sorted names of every frame that appears in the tree."""
        with self._lock:
            frames = set(self._parent) | {parent for parent, _ in self._parent.values()}
        return sorted(frames)

    def lookup(self, target_frame: str, source_frame: str) -> NDArray[np.float64]:
        """4x4 T_target_source, composed along the tree in either direction.

        Raises MissingTransform naming both frames and the known frames when they are not
        connected.
        """
        target, source = target_frame.lstrip("/"), source_frame.lstrip("/")
        if target == source:
            return np.eye(4)
        with self._lock:
            edges = dict(self._parent)
        neighbours: dict[str, list[tuple[str, NDArray[np.float64]]]] = {}
        for child, (parent, t_parent_child) in edges.items():
            neighbours.setdefault(parent, []).append((child, invert_transform(t_parent_child)))
            neighbours.setdefault(child, []).append((parent, t_parent_child))
        # Breadth-first search from the source, accumulating T_frame_source.
        reached: dict[str, NDArray[np.float64]] = {source: np.eye(4)}
        queue = deque([source])
        while queue:
            frame = queue.popleft()
            for other, t_other_frame in neighbours.get(frame, []):
                if other not in reached:
                    reached[other] = t_other_frame @ reached[frame]
                    queue.append(other)
        if target not in reached:
            known = sorted(set(neighbours))
            raise MissingTransform(
                f"no transform from '{source}' to '{target}'; known frames: {known}. "
                "Publish it on /tf_static or set the extrinsic parameters"
            )
        return reached[target]
