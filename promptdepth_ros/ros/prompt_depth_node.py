"""prompt_depth_node: image + camera_info + LiDAR cloud / depth image → metric depth and cloud.

Subscribes ``image``, ``camera_info`` and ``points`` (input.mode cloud) or ``depth`` (+
``depth_camera_info`` when not registered); publishes ``~/depth`` (32FC1 metres, NaN = no
depth), ``~/camera_info`` (with Depth Pro's estimated focal length when ``focal.source`` is
``estimated``), ``~/points`` (organized XYZRGB) and ``~/confidence`` (32FC1 in [0, 1], engines
that have one). A lifecycle node: the engine and TF load in on_configure, the worker and
subscriptions live while active, cleanup releases everything; the launch-time (read-only)
parameters change only while unconfigured.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from typing import Any

from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import CameraInfo, Image, PointCloud2

from promptdepth_ros.errors import PromptDepthError
from promptdepth_ros.geometry.transforms import parse_xyz_quat
from promptdepth_ros.pipeline.depth import DepthPipeline, FrameSkip, PipelineConfig
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

INPUT_TYPES = {
    "image": Image,
    "camera_info": CameraInfo,
    "points": PointCloud2,
    "depth": Image,
    "depth_camera_info": CameraInfo,
}


class PromptDepthNode(LifecycleNode):
    """Thin wiring of topics, parameters and QoS around :class:`DepthPipeline`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("prompt_depth_node", **kwargs)
        self.lifecycle_state = "unconfigured"  # lifecycle state label, kept by the transitions
        self.finished = False  # shutdown transition done: run_node ends the process
        self.params = declare_parameters(
            self, PROMPT_DEPTH_PARAMS, self._on_params, locked=self._configured
        )
        self.health = HealthMonitor(throttle_s=float(self.params["log_throttle_s"]))
        self.pipeline: DepthPipeline | None = None
        self._extrinsics: ExtrinsicsLookup | None = None
        self._worker: LatestWorker[tuple[Any, ...]] | None = None
        self._sync: TopicSynchronizer | None = None
        self._diagnostics: DiagnosticsPublisher | None = None
        # Runtime changes wait here and the worker applies them between frames.
        self._params_lock = threading.Lock()
        self._pending: tuple[PipelineConfig, dict[str, Any]] | None = None
        self._frame_params: dict[str, Any] = dict(self.params)

    def _configured(self) -> str:
        if self.lifecycle_state == "unconfigured":
            return ""
        return (
            f"the node is {self.lifecycle_state}; they change only while it is unconfigured "
            f"(ros2 lifecycle set {self.get_fully_qualified_name()} cleanup)"
        )

    def _on_params(self, values: dict[str, Any]) -> None:
        config = pipeline_config_from_params(values)  # raises ConfigError for bad combinations
        _tf_settings(values)  # raises ConfigError for a bad fallback extrinsic
        if self.pipeline is not None:
            self.pipeline.check_config(config)
        self.health.throttle_s = float(values["log_throttle_s"])
        with self._params_lock:
            self._pending = (config, dict(values))

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Load and validate the engine; FAILURE with the reason (any exception) when it cannot,
        with whatever was built released."""
        try:
            self._configure()
        except Exception as error:
            self.release()
            # A bug or a library's error gets its traceback: rclpy's lifecycle would swallow it.
            text = str(error) if isinstance(error, PromptDepthError) else traceback.format_exc()
            self.get_logger().error(f"cannot configure: {text}")
            return TransitionCallbackReturn.FAILURE
        self.lifecycle_state = "inactive"
        return TransitionCallbackReturn.SUCCESS

    def _configure(self) -> None:
        from promptdepth_ros.engines.registry import create_engine

        with self._params_lock:
            self._pending = None
            self._frame_params = dict(self.params)
        config = pipeline_config_from_params(self.params)
        engines = [create_engine(engine_spec_from_params(self.params))]
        try:
            if self.params["monocular.name"]:
                engines.append(create_engine(engine_spec_from_params(self.params, "monocular")))
            self.pipeline = DepthPipeline(config, *engines)
        except BaseException:
            for built in engines:
                built.close()
            raise
        engine = engines[0]
        self._extrinsics = ExtrinsicsLookup(self, *_tf_settings(self.params))
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
        self._diagnostics = DiagnosticsPublisher(
            self,
            self.health,
            float(self.params["diagnostics.period_s"]),
            float(self.params["diagnostics.no_output_warn_s"]),
            warnings=self._state_warnings,
        )

    def _state_warnings(self) -> list[str]:
        if self.lifecycle_state == "active":
            return []
        return [
            f"{self.lifecycle_state}: not subscribed, nothing is published (ros2 lifecycle set "
            f"{self.get_fully_qualified_name()} activate)"
        ]

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Start the worker and subscribe to the inputs."""
        self._worker = LatestWorker(
            self._process,
            self._on_worker_error,
            name="prompt-depth",
            max_pending=int(self.params["processing.queue_depth"]),
        )
        names = input_topics(
            self.params["input.mode"], bool(self.params["input.depth_registered"])
        )
        self._sync = TopicSynchronizer(
            self,
            [(name, INPUT_TYPES[name]) for name in names],
            input_qos(bool(self.params["input.reliable_qos"])),
            sync_config_from_params(self.params),
            self._on_synced,
            self.health,
            event_callbacks=lambda topic: subscription_events(self, topic, self.health),
            check=self._check_input,
        )
        self.health.watch()
        self.lifecycle_state = "active"
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Unsubscribe, let the worker finish the sets it holds, then stop it."""
        self._unsubscribe()
        self._stop_worker(drain_s=5.0)
        self.health.unwatch()
        self.lifecycle_state = "inactive"
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release the engine, TF, the publishers and diagnostics."""
        self.release()
        self.lifecycle_state = "unconfigured"
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release everything; the process then ends (run_node watches ``finished``)."""
        self.release()
        self.lifecycle_state = "finalized"
        self.finished = True
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        """A transition raised: release everything and go back to unconfigured."""
        self.release()
        self.lifecycle_state = "unconfigured"
        return TransitionCallbackReturn.SUCCESS

    def _unsubscribe(self) -> None:
        if self._sync is not None:
            self._sync.destroy()
            self._sync = None

    def _stop_worker(self, drain_s: float) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        skipped = worker.stats.skipped
        if drain_s > 0.0:
            worker.wait_idle(timeout=drain_s)
        worker.close(timeout=5.0)
        self.health.count("worker.skipped_for_newer", worker.stats.skipped - skipped)

    def release(self) -> None:
        """Stop receiving and the worker, free the engine, TF and publishers (safe twice)."""
        self._unsubscribe()
        self._stop_worker(drain_s=0.0)
        self.health.unwatch()
        if self.pipeline is not None:
            self.pipeline.close()
            self.pipeline = None
        if self._extrinsics is not None:
            self._extrinsics.destroy()
            self._extrinsics = None
        if self._diagnostics is not None:
            self._diagnostics.destroy()
            self._diagnostics = None
        for pub in ("_pub_depth", "_pub_info", "_pub_points", "_pub_confidence"):
            if hasattr(self, pub):
                self.destroy_lifecycle_publisher(getattr(self, pub))
                delattr(self, pub)

    def _check_input(self, name: str, msg: Any) -> None:
        check_input(name, msg, self.get_clock().now().nanoseconds)

    def _on_synced(self, *msgs: Any) -> None:
        # Runs in the synchroniser's callback: hand over and return at once.
        worker = self._worker
        if worker is not None:
            skipped = worker.stats.skipped
            worker.submit(msgs)
            self.health.count("worker.skipped_for_newer", worker.stats.skipped - skipped)

    def _apply_pending(
        self, pipeline: DepthPipeline, extrinsics: ExtrinsicsLookup
    ) -> dict[str, Any]:
        """Apply a runtime parameter change (between frames); the parameters of this frame."""
        with self._params_lock:
            if self._pending is not None:
                config, self._frame_params = self._pending
                self._pending = None
                pipeline.reconfigure(config)
                extrinsics.configure(*_tf_settings(self._frame_params))
            return self._frame_params

    def _process(self, msgs: tuple[Any, ...]) -> None:
        pipeline, extrinsics = self.pipeline, self._extrinsics
        if pipeline is None or extrinsics is None:
            return
        params = self._apply_pending(pipeline, extrinsics)
        frame = frame_from_messages(msgs, params["input.mode"], extrinsics.lookup_full)
        before = pipeline.decisions
        out = pipeline.process(frame)
        for decision, n in pipeline.decisions.items():
            self.health.count(f"fallback.{decision}", n - before.get(decision, 0))
        if isinstance(out, FrameSkip):
            report_skipped(self, self.health, out.cause, out.reason)
            return
        for stage, ms in out.timings_ms.items():
            self.health.timing(stage.removesuffix("_ms"), ms)
        start = time.perf_counter()
        depth, info, points = output_messages(
            frame, out, msgs[0].header, bool(params["output.publish_points"])
        )
        self.health.timing("messages", (time.perf_counter() - start) * 1e3)
        self._pub_depth.publish(depth)
        self._pub_info.publish(info)
        if points is not None:
            self._pub_points.publish(points)
        if out.confidence is not None:
            self._pub_confidence.publish(float_to_image_msg(out.confidence, msgs[0].header))
        self.health.output()

    def _on_worker_error(self, error: BaseException) -> None:
        report_dropped(self, self.health, error, "frame")


def _tf_settings(values: dict[str, Any]) -> tuple[Any, float, str]:
    """ExtrinsicsLookup's fallback, timeout and fixed frame; ConfigError for a bad fallback."""
    name = "tf.fallback_camera_from_lidar"
    fallback = parse_xyz_quat(values[name], name)
    return fallback, float(values["tf.timeout_s"]), str(values["tf.fixed_frame"])


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
