"""Extrinsics for a node: tf2_ros when installed, else /tf_static, else a parameter."""

from __future__ import annotations

import importlib.util

import numpy as np
from numpy.typing import NDArray
from rclpy.clock_type import ClockType
from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.time import Time

from promptdepth_ros.errors import MissingTransform
from promptdepth_ros.geometry.transform_tree import StaticTransformBuffer, transform_from_msg
from promptdepth_ros.ros.qos import LATCHED_QOS


class ExtrinsicsLookup:
    """Looks up T_target_source (4x4) at a stamp in nanoseconds (ROS time).

    Sources, in order: tf2_ros (a full TF buffer) when importable; otherwise a static tree
    fed from /tf_static when tf2_msgs is importable; and the ``fallback`` transform (from a
    parameter) when neither knows the pair. ``backend`` says which of the first two runs.
    """

    def __init__(self, node: Node, fallback: NDArray[np.float64] | None, timeout_s: float) -> None:
        self._fallback = fallback
        self._timeout = Duration(seconds=timeout_s)
        self._static = StaticTransformBuffer()
        self._tf_buffer = None
        if importlib.util.find_spec("tf2_ros") is not None:
            import tf2_ros

            self._tf_buffer = tf2_ros.Buffer()
            self._listener = tf2_ros.TransformListener(self._tf_buffer, node)
            self.backend = "tf2_ros"
        elif importlib.util.find_spec("tf2_msgs") is not None:
            from tf2_msgs.msg import TFMessage

            node.create_subscription(
                TFMessage,
                "/tf_static",
                lambda m: self._static.set_transforms(m.transforms),
                LATCHED_QOS,
            )
            self.backend = "tf_static"
        else:
            self.backend = "parameter"

    def lookup(self, target_frame: str, source_frame: str, stamp_ns: int) -> NDArray[np.float64]:
        """T_target_source at ``stamp_ns``; raises MissingTransform naming the sources tried."""
        if target_frame == source_frame:
            return np.eye(4)
        problem = "no TF source available (tf2_ros and tf2_msgs are not installed)"
        if self._tf_buffer is not None:
            try:
                msg = self._tf_buffer.lookup_transform(
                    target_frame,
                    source_frame,
                    Time(nanoseconds=stamp_ns, clock_type=ClockType.ROS_TIME),
                    timeout=self._timeout,
                )
                return transform_from_msg(msg.transform)
            except Exception as error:
                problem = f"tf2: {error}"
        elif self.backend == "tf_static":
            try:
                return self._static.lookup(target_frame, source_frame)
            except MissingTransform as error:
                problem = str(error)
        if self._fallback is not None:
            return self._fallback
        raise MissingTransform(
            f"no transform from '{source_frame}' to '{target_frame}' ({problem}); publish it "
            "on /tf_static or set the node's tf.fallback_* parameter"
        )
