"""Extrinsics for a node: tf2_ros when installed, else the package's buffer of /tf and
/tf_static, and a parameter for frames the tree does not have."""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rclpy.clock_type import ClockType
from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.qos import QoSProfile
from rclpy.time import Time

from promptdepth_ros.errors import MissingTransform, TransformExtrapolation
from promptdepth_ros.geometry.transform_tree import TransformBuffer, transform_from_msg
from promptdepth_ros.ros.qos import LATCHED_QOS

TF_QOS = QoSProfile(depth=100)


class ExtrinsicsLookup:
    """Looks up T_target_source (4x4) at stamps in nanoseconds (ROS time).

    Sources: tf2_ros (a full TF buffer) when importable, otherwise the package's
    :class:`TransformBuffer` fed from /tf and /tf_static (when tf2_msgs is importable). The
    ``fallback`` transform (a parameter) applies only when the tree does not have the frames;
    an extrapolation or a disconnected tree raises. ``fallback_uses`` counts its uses;
    ``backend`` says which source runs. ``fixed_frame`` (may be empty) is the world-fixed
    frame of :meth:`lookup_full`. :meth:`destroy` unsubscribes from TF.
    """

    def __init__(
        self,
        node: Node,
        fallback: NDArray[np.float64] | None,
        timeout_s: float,
        fixed_frame: str = "",
    ) -> None:
        self._logger = node.get_logger()
        self.configure(fallback, timeout_s, fixed_frame)
        self.fallback_uses = 0
        self._own = TransformBuffer()
        self._node = node
        self._subscriptions: list[Any] = []
        self._listener: Any = None
        self._tf2: Any = None
        if importlib.util.find_spec("tf2_ros") is not None:
            import tf2_ros

            self._tf2 = tf2_ros
            self._tf_buffer = tf2_ros.Buffer()
            self._listener = tf2_ros.TransformListener(self._tf_buffer, node)
            self.backend = "tf2_ros"
        elif importlib.util.find_spec("tf2_msgs") is not None:
            from tf2_msgs.msg import TFMessage

            self._subscriptions = [
                node.create_subscription(
                    TFMessage,
                    "/tf",
                    lambda m: self._own.set_transforms(m.transforms, False),
                    TF_QOS,
                ),
                node.create_subscription(
                    TFMessage,
                    "/tf_static",
                    lambda m: self._own.set_transforms(m.transforms, True),
                    LATCHED_QOS,
                ),
            ]
            self.backend = "tf"
        else:
            self.backend = "parameter"

    def configure(
        self, fallback: NDArray[np.float64] | None, timeout_s: float, fixed_frame: str
    ) -> None:
        """Set the fallback transform, the lookup timeout and the fixed frame."""
        self._fallback = fallback
        self._timeout = Duration(seconds=timeout_s)
        self.fixed_frame = fixed_frame

    def destroy(self) -> None:
        """Unsubscribe from /tf and /tf_static (safe to call twice)."""
        if self._listener is not None:
            self._listener.unregister()
            self._listener = None
        for subscription in self._subscriptions:
            self._node.destroy_subscription(subscription)
        self._subscriptions = []

    def lookup(self, target_frame: str, source_frame: str, stamp_ns: int) -> NDArray[np.float64]:
        """T_target_source at ``stamp_ns``. Raises MissingTransform (or its subclass
        TransformExtrapolation) naming the cause."""
        return self.lookup_full(target_frame, stamp_ns, source_frame, stamp_ns)

    def lookup_full(
        self, target_frame: str, target_ns: int, source_frame: str, source_ns: int
    ) -> NDArray[np.float64]:
        """T_target(target_ns)_source(source_ns): the source at its stamp moved to the target
        at its stamp through ``fixed_frame``; with no fixed frame, one lookup at ``source_ns``.
        """
        if target_frame == source_frame:
            return np.eye(4)
        try:
            return self._tree_lookup(target_frame, target_ns, source_frame, source_ns)
        except TransformExtrapolation:
            raise
        except MissingTransform as error:
            if self._fallback is None:
                raise
            self.fallback_uses += 1
            self._logger.warning(
                f"using the tf.fallback_* extrinsic for '{source_frame}' -> '{target_frame}': "
                f"{error}",
                once=True,
            )
            return self._fallback

    def _tree_lookup(
        self, target: str, target_ns: int, source: str, source_ns: int
    ) -> NDArray[np.float64]:
        if self._tf2 is None:
            if self.backend == "parameter":
                raise MissingTransform(
                    f"no transform from '{source}' to '{target}': no TF source (tf2_ros and "
                    "tf2_msgs are not installed); set the node's tf.fallback_* parameter"
                )
            if self.fixed_frame:
                return self._own.lookup_full(
                    target, target_ns, source, source_ns, self.fixed_frame
                )
            return self._own.lookup(target, source, source_ns)
        tf2 = self._tf2
        source_time = Time(nanoseconds=source_ns, clock_type=ClockType.ROS_TIME)
        try:
            if self.fixed_frame:
                target_time = Time(nanoseconds=target_ns, clock_type=ClockType.ROS_TIME)
                msg = self._tf_buffer.lookup_transform_full(
                    target, target_time, source, source_time, self.fixed_frame, self._timeout
                )
            else:
                msg = self._tf_buffer.lookup_transform(
                    target, source, source_time, timeout=self._timeout
                )
        except tf2.ExtrapolationException as error:
            raise TransformExtrapolation(f"tf2: {error}") from None
        except (tf2.LookupException, tf2.ConnectivityException) as error:
            raise MissingTransform(f"tf2 ({type(error).__name__}): {error}") from None
        return transform_from_msg(msg.transform)
