"""prompt_depth_node: image + camera_info + LiDAR cloud / depth image → metric depth and cloud.

Subscribes ``image``, ``camera_info`` and ``points`` (input.mode cloud) or ``depth`` (+
``depth_camera_info`` when not registered); publishes ``~/depth`` (32FC1 metres, NaN = no
depth), ``~/camera_info`` (with Depth Pro's estimated focal length when ``focal.source`` is
``estimated``), ``~/points`` (organized XYZRGB) and ``~/confidence`` (32FC1 in [0, 1], engines
that have one). A lifecycle node: the engine loads in on_configure.
"""

from __future__ import annotations

import sys
import time
import traceback
from typing import Any

from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import CameraInfo, Image, PointCloud2

from promptdepth_ros.errors import PromptDepthError
from promptdepth_ros.geometry.transforms import parse_xyz_quat
from promptdepth_ros.pipeline.depth import DepthPipeline, FrameSkip
from promptdepth_ros.ros.convert.image import float_to_image_msg
from promptdepth_ros.ros.convert.synced_set import (
    check_input,
    frame_from_messages,
    input_topics,
    output_messages,
)
from promptdepth_ros.ros.diagnostics import (
    DiagnosticsPublisher,
    report_dropped,
    report_skipped,
)
from promptdepth_ros.ros.health import HealthMonitor
from promptdepth_ros.ros.parameters import declare_parameters
from promptdepth_ros.ros.prompt_depth_params import (
    PROMPT_DEPTH_PARAMS,
    engine_spec_from_params,
    pipeline_config_from_params,
    sync_config_from_params,
)
from promptdepth_ros.ros.qos import OUTPUT_QOS, input_qos, subscription_events
from promptdepth_ros.ros.runner import run_node
from promptdepth_ros.ros.sync_adapter import TopicSynchronizer
from promptdepth_ros.ros.tf import ExtrinsicsLookup
from promptdepth_ros.sync.worker import LatestWorker


class PromptDepthNode(LifecycleNode):
    """Thin wiring of topics, parameters and QoS around :class:`DepthPipeline`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("prompt_depth_node", **kwargs)
        self.params = declare_parameters(self, PROMPT_DEPTH_PARAMS, self._on_params)
        self.health = HealthMonitor(throttle_s=float(self.params["log_throttle_s"]))
        self.pipeline: DepthPipeline | None = None
        self._worker: LatestWorker[tuple[Any, ...]] | None = None
        self._sync: TopicSynchronizer | None = None
        self._diagnostics: DiagnosticsPublisher | None = None

    def _on_params(self, values: dict[str, Any]) -> None:
        config = pipeline_config_from_params(values)  # raises ConfigError for bad combinations
        self.health.throttle_s = float(values["log_throttle_s"])
        if self.pipeline is not None:
            self.pipeline.reconfigure(config)

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Load and validate the engine; FAILURE with the reason (any exception) when it cannot."""
        from promptdepth_ros.engines.registry import create_engine

        try:
            config = pipeline_config_from_params(self.params)
            engine = create_engine(engine_spec_from_params(self.params))
            monocular = (
                create_engine(engine_spec_from_params(self.params, "monocular"))
                if self.params["monocular.name"]
                else None
            )
            self.pipeline = DepthPipeline(config, engine, monocular)
            self._extrinsics = ExtrinsicsLookup(
                self,
                parse_xyz_quat(
                    self.params["tf.fallback_camera_from_lidar"], "tf.fallback_camera_from_lidar"
                ),
                float(self.params["tf.timeout_s"]),
                str(self.params["tf.fixed_frame"]),
            )
        except PromptDepthError as error:
            self.get_logger().error(f"cannot configure: {error}")
            return TransitionCallbackReturn.FAILURE
        except Exception:  # a bug or a library's error: rclpy's lifecycle would swallow it
            self.get_logger().error(f"cannot configure: {traceback.format_exc()}")
            return TransitionCallbackReturn.FAILURE
        weights = getattr(engine, "weights_description", "no weights")
        ready = f"engine '{engine.name}' ready ({weights}); TF from {self._extrinsics.backend}"
        if "RANDOM" in weights:  # one call site per severity (rclpy fixes it per call site)
            self.get_logger().warning(ready)
        else:
            self.get_logger().info(ready)
        self._pub_depth = self.create_lifecycle_publisher(Image, "~/depth", OUTPUT_QOS)
        self._pub_info = self.create_lifecycle_publisher(CameraInfo, "~/camera_info", OUTPUT_QOS)
        self._pub_points = self.create_lifecycle_publisher(PointCloud2, "~/points", OUTPUT_QOS)
        self._pub_confidence = self.create_lifecycle_publisher(Image, "~/confidence", OUTPUT_QOS)
        self._worker = LatestWorker(
            self._process,
            self._on_worker_error,
            name="prompt-depth",
            max_pending=int(self.params["processing.queue_depth"]),
        )
        self._diagnostics = DiagnosticsPublisher(
            self, self.health, float(self.params["diagnostics.period_s"])
        )
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Subscribe to the inputs."""
        names = input_topics(
            self.params["input.mode"], bool(self.params["input.depth_registered"])
        )
        types = {
            "image": Image,
            "camera_info": CameraInfo,
            "points": PointCloud2,
            "depth": Image,
            "depth_camera_info": CameraInfo,
        }
        topics = [(name, types[name]) for name in names]
        qos = input_qos(bool(self.params["input.reliable_qos"]))
        self._sync = TopicSynchronizer(
            self,
            topics,
            qos,
            sync_config_from_params(self.params),
            self._on_synced,
            self.health,
            event_callbacks=lambda topic: subscription_events(self, topic),
            check=self._check_input,
        )
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Stop receiving; queued sets are dropped and counted."""
        self._unsubscribe()
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release the engine, the worker and the publishers."""
        self.release()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release everything on the way out."""
        self._unsubscribe()
        self.release()
        return TransitionCallbackReturn.SUCCESS

    def _unsubscribe(self) -> None:
        if self._sync is not None:
            self._sync.destroy()
            self._sync = None

    def release(self) -> None:
        """Stop the worker and free the engine and publishers (safe to call twice)."""
        if self._worker is not None:
            self._worker.close(timeout=5.0)
            self._worker = None
        if self.pipeline is not None:
            self.pipeline.close()
            self.pipeline = None
        if self._diagnostics is not None:
            self._diagnostics.destroy()
            self._diagnostics = None
        for pub in ("_pub_depth", "_pub_info", "_pub_points", "_pub_confidence"):
            if hasattr(self, pub):
                self.destroy_publisher(getattr(self, pub))
                delattr(self, pub)

    def _check_input(self, name: str, msg: Any) -> None:
        check_input(name, msg, self.get_clock().now().nanoseconds)

    def _on_synced(self, *msgs: Any) -> None:
        # Runs in the synchroniser's callback: hand over and return at once.
        if self._worker is not None:
            self._worker.submit(msgs)
            self.health.set_counts("worker", {"skipped_for_newer": self._worker.stats.skipped})

    def _process(self, msgs: tuple[Any, ...]) -> None:
        pipeline = self.pipeline
        if pipeline is None:
            return
        frame = frame_from_messages(msgs, self.params["input.mode"], self._extrinsics.lookup_full)
        out = pipeline.process(frame)
        self.health.set_counts("fallback", pipeline.decisions)
        if isinstance(out, FrameSkip):
            report_skipped(self, self.health, out.cause, out.reason)
            return
        for stage, ms in out.timings_ms.items():
            self.health.timing(stage.removesuffix("_ms"), ms)
        start = time.perf_counter()
        depth, info, points = output_messages(
            frame, out, msgs[0].header, bool(self.params["output.publish_points"])
        )
        self.health.timing("messages", (time.perf_counter() - start) * 1e3)
        self._pub_depth.publish(depth)
        self._pub_info.publish(info)
        if points is not None:
            self._pub_points.publish(points)
        if out.confidence is not None:
            self._pub_confidence.publish(float_to_image_msg(out.confidence, msgs[0].header))
        self.health.count("published")

    def _on_worker_error(self, error: BaseException) -> None:
        report_dropped(self, self.health, error, "frame")


def _started() -> PromptDepthNode:
    node = PromptDepthNode()
    if node.params["autostart"] and node.trigger_configure() == TransitionCallbackReturn.SUCCESS:
        node.trigger_activate()
    return node


def main(args: list[str] | None = None) -> int:
    """Run the node (autostarts configure + activate unless autostart is false)."""
    return run_node("prompt_depth_node", _started, args)


if __name__ == "__main__":
    sys.exit(main())
