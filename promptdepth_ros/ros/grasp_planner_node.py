"""grasp_planner_node: point cloud → scored parallel-jaw grasps, poses and RViz markers.

Subscribes ``points`` (PointCloud2, any frame) and keeps the newest cloud. ``mode:
continuous`` plans the newest cloud in a worker thread (at most ``max_rate_hz``); ``mode:
on_demand`` plans only when asked. The service ``~/plan_grasps`` (PlanGrasps) plans, in both
modes, on the newest cloud the request accepts and returns the GraspArray. Every plan is made
in ``planning_frame`` (z-up) and published on ``~/grasps`` (GraspArray), ``~/grasp_poses``
(PoseArray) and ``~/markers`` (MarkerArray).
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from geometry_msgs.msg import PoseArray
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from sensor_msgs.msg import PointCloud2
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from promptdepth_ros.errors import InputError
from promptdepth_ros.geometry.transforms import parse_xyz_quat
from promptdepth_ros.grasp.planner import plan_grasps_in_frame
from promptdepth_ros.msg import GraspArray
from promptdepth_ros.ros.convert.grasps import grasp_plan_messages
from promptdepth_ros.ros.convert.pointcloud import read_xyz
from promptdepth_ros.ros.convert.stamps import NS_PER_S, stamp_ns
from promptdepth_ros.ros.diagnostics import DiagnosticsPublisher, report_dropped
from promptdepth_ros.ros.grasp_planner_params import GRASP_PLANNER_PARAMS, grasp_config_from_params
from promptdepth_ros.ros.health import HealthMonitor
from promptdepth_ros.ros.parameters import declare_parameters
from promptdepth_ros.ros.qos import OUTPUT_QOS, input_qos, subscription_events
from promptdepth_ros.ros.runner import run_node
from promptdepth_ros.ros.tf import ExtrinsicsLookup
from promptdepth_ros.srv import PlanGrasps
from promptdepth_ros.sync.newest import Freshness, NewestInput
from promptdepth_ros.sync.worker import LatestWorker


class GraspPlannerNode(Node):
    """Thin wiring of topics, parameters and QoS around :func:`plan_grasps`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("grasp_planner_node", **kwargs)
        self.params = declare_parameters(self, GRASP_PLANNER_PARAMS, self._on_params)
        self.config = grasp_config_from_params(self.params)
        self.health = HealthMonitor(throttle_s=float(self.params["log_throttle_s"]))
        self._extrinsics = ExtrinsicsLookup(
            self,
            parse_xyz_quat(
                self.params["tf.fallback_planning_from_camera"],
                "tf.fallback_planning_from_camera",
            ),
            float(self.params["tf.timeout_s"]),
        )
        self._pub_grasps = self.create_publisher(GraspArray, "~/grasps", OUTPUT_QOS)
        self._pub_poses = self.create_publisher(PoseArray, "~/grasp_poses", OUTPUT_QOS)
        self._pub_markers = self.create_publisher(MarkerArray, "~/markers", OUTPUT_QOS)
        self._clouds: NewestInput[PointCloud2] = NewestInput("cloud")
        self._plan_lock = threading.Lock()  # one plan at a time: worker or service
        self._worker: LatestWorker[PointCloud2] = LatestWorker(
            self._plan, self._on_worker_error, name="grasp-planner"
        )
        self.create_subscription(
            PointCloud2,
            "points",
            self._on_cloud,
            input_qos(bool(self.params["input.reliable_qos"])),
            event_callbacks=subscription_events(self, "points", self.health),
        )
        # Its own group: while a request waits for a cloud, the subscription keeps delivering
        # (with a multi-threaded executor, see main).
        self.create_service(
            PlanGrasps,
            "~/plan_grasps",
            self._on_plan_request,
            callback_group=MutuallyExclusiveCallbackGroup(),
        )
        self._diagnostics = DiagnosticsPublisher(
            self,
            self.health,
            float(self.params["diagnostics.period_s"]),
            float(self.params["diagnostics.no_output_warn_s"]),
        )
        self._watch_output(str(self.params["mode"]))
        self.get_logger().info(
            f"planning in '{self.params['planning_frame']}' ({self.params['mode']}), "
            f"TF from {self._extrinsics.backend}"
        )

    def _on_params(self, values: dict[str, Any]) -> None:
        self.config = grasp_config_from_params(values)  # ConfigError refuses the change
        self.health.throttle_s = float(values["log_throttle_s"])
        if values["mode"] != self.params["mode"]:
            self._watch_output(str(values["mode"]))

    def _watch_output(self, mode: str) -> None:
        """Only continuous planning promises output while clouds arrive."""
        if mode == "continuous":
            self.health.watch()
        else:
            self.health.unwatch()

    def _on_cloud(self, msg: PointCloud2) -> None:
        self.health.count("received.points")
        try:
            stamp = stamp_ns(msg.header)
        except InputError as error:  # an executor callback must not raise
            report_dropped(self, self.health, error, "'points' message")
            return
        self._clouds.put(msg, stamp)
        if self.params["mode"] == "continuous":
            self._worker.submit(msg)
            stats = self._worker.stats
            self.health.set_counts("worker", {"skipped_for_newer": stats.skipped})

    def _on_plan_request(
        self, request: PlanGrasps.Request, response: PlanGrasps.Response
    ) -> PlanGrasps.Response:
        """Plan on the newest cloud the request accepts, waiting at most service.wait_timeout_s."""
        self.health.count("service.requests")
        try:
            min_stamp = request.min_stamp
            freshness = Freshness.from_request(
                min_stamp.sec * NS_PER_S + min_stamp.nanosec, request.max_age_s
            )
            cloud = self._clouds.wait_for(
                freshness,
                lambda: self.get_clock().now().nanoseconds,
                float(self.params["service.wait_timeout_s"]),
            )
            response.grasps = self._plan_and_publish(cloud.item)
        except Exception as error:  # answered, counted and logged: never lost
            report_dropped(self, self.health, error, "~/plan_grasps request")
            self.health.count("service.failed")
            response.success = False
            response.message = f"{type(error).__name__}: {error}"
            return response
        self.health.count("service.succeeded")
        response.success = True
        response.message = (
            f"{len(response.grasps.grasps)} grasps on the cloud stamped "
            f"{cloud.stamp_ns * 1e-9:.3f} s in '{cloud.item.header.frame_id}'"
        )
        return response

    def _plan(self, msg: PointCloud2) -> None:
        start = time.monotonic()
        try:
            self._plan_and_publish(msg)
        finally:
            # Rate limit: the worker rests, clouds arriving meanwhile replace each other, and
            # the newest is planned next, so the last cloud of a burst is never left out.
            rate = float(self.params["max_rate_hz"])
            if rate > 0.0:
                time.sleep(max(0.0, 1.0 / rate - (time.monotonic() - start)))

    def _plan_and_publish(self, msg: PointCloud2) -> GraspArray:
        """Plan on ``msg``, publish the plan and return its GraspArray (one plan at a time)."""
        with self._plan_lock:
            frame = str(self.params["planning_frame"])
            T = self._extrinsics.lookup(frame, msg.header.frame_id, stamp_ns(msg.header))
            plan = plan_grasps_in_frame(read_xyz(msg), T, self.config)
            for stage, ms in plan.timings_ms.items():
                self.health.timing(f"plan.{stage.removesuffix('_ms')}", ms)
            header = Header(stamp=msg.header.stamp, frame_id=frame)
            grasps, poses, markers = grasp_plan_messages(
                plan.grasps, header, self.config.gripper, float(self.params["markers.lifetime_s"])
            )
            self._pub_grasps.publish(grasps)
            self._pub_poses.publish(poses)
            self._pub_markers.publish(markers)
            self.health.output("planned")
            self.health.count("grasps_published", len(plan.grasps))
            return grasps

    def _on_worker_error(self, error: BaseException) -> None:
        report_dropped(self, self.health, error, "cloud")

    def release(self) -> None:
        """Stop the planning worker."""
        self._worker.close(timeout=5.0)


def main(args: list[str] | None = None) -> int:
    """Run the node until shutdown (two executor threads: a request may wait for a cloud)."""
    return run_node("grasp_planner_node", GraspPlannerNode, args, threads=2)


if __name__ == "__main__":
    sys.exit(main())
