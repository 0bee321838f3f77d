"""grasp_planner_node over real DDS: a tabletop cloud in, grasps, poses and markers out, on
every cloud or on request (~/plan_grasps)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from copy import copy
from typing import Any

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseArray
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_helpers import ros_session, wait_until
from sensor_msgs.msg import PointCloud2
from std_msgs.msg import Header
from visualization_msgs.msg import Marker, MarkerArray

from promptdepth_ros.camera.projection import depth_to_points
from promptdepth_ros.geometry.transforms import format_xyz_quat
from promptdepth_ros.msg import GraspArray
from promptdepth_ros.ros.convert.pointcloud import create_xyzrgb_cloud
from promptdepth_ros.ros.grasp_planner_node import GraspPlannerNode
from promptdepth_ros.sim.render import render
from promptdepth_ros.sim.scene import TabletopScene, default_camera, generate_tabletop_scene
from promptdepth_ros.srv import PlanGrasps

QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
SERVICE = "/grasp_planner_node/plan_grasps"


@pytest.fixture(scope="module")
def tabletop() -> tuple[TabletopScene, PointCloud2]:
    """A rendered tabletop scene and its cloud (camera frame, stamped 42.000000005 s)."""
    camera = default_camera(320, 240)
    scene = generate_tabletop_scene(np.random.default_rng(11), camera)
    truth = render(scene)
    header = Header(stamp=Time(sec=42, nanosec=5), frame_id=camera.frame_id)
    cloud = create_xyzrgb_cloud(header, depth_to_points(truth.depth_m, camera), truth.rgb)
    return scene, cloud


@contextmanager
def planner_session(
    scene: TabletopScene, **params: Any
) -> Iterator[tuple[Any, dict[str, list[Any]], Any, GraspPlannerNode]]:
    """A planner in 'table' with ``params`` ('__' for '.'); yields the cloud publisher, what
    arrived on ~/grasps and /diagnostics, a ~/plan_grasps client and the node."""
    overrides = [
        Parameter("input.reliable_qos", value=True),
        Parameter("planning_frame", value="table"),
        Parameter("tf.fallback_planning_from_camera", value=format_xyz_quat(scene.T_world_camera)),
        *(Parameter(name.replace("__", "."), value=value) for name, value in params.items()),
    ]
    got: dict[str, list[Any]] = {"grasps": [], "diagnostics": []}
    with ros_session(lambda ctx: GraspPlannerNode(context=ctx, parameter_overrides=overrides)) as (
        _,
        helper,
        (node,),
    ):
        helper.create_subscription(
            GraspArray, "/grasp_planner_node/grasps", got["grasps"].append, QOS
        )
        helper.create_subscription(DiagnosticArray, "/diagnostics", got["diagnostics"].append, 10)
        pub = helper.create_publisher(PointCloud2, "points", QOS)
        client = helper.create_client(PlanGrasps, SERVICE)
        assert wait_until(lambda: pub.get_subscription_count() > 0, 10.0)
        assert client.wait_for_service(timeout_sec=10.0)
        try:
            yield pub, got, client, node
        finally:
            node.release()


def plan_on_request(client: Any, min_stamp: Time | None = None) -> Any:
    """Call ~/plan_grasps and return its response (within 60 s)."""
    future = client.call_async(PlanGrasps.Request(min_stamp=min_stamp or Time()))
    assert wait_until(future.done, 60.0)
    return future.result()


def stamped(cloud: PointCloud2, sec: int) -> PointCloud2:
    """``cloud`` with its stamp set to ``sec`` seconds."""
    return PointCloud2(
        header=Header(stamp=Time(sec=sec), frame_id=cloud.header.frame_id),
        height=cloud.height,
        width=cloud.width,
        fields=cloud.fields,
        is_bigendian=cloud.is_bigendian,
        point_step=cloud.point_step,
        row_step=cloud.row_step,
        data=cloud.data,
        is_dense=cloud.is_dense,
    )


def diagnostic_values(got: dict[str, list[Any]]) -> dict[str, str]:
    """The key/values of the newest /diagnostics status received."""
    return {kv.key: kv.value for kv in got["diagnostics"][-1].status[0].values}


def test_planner_node_publishes_sorted_grasps_poses_and_markers_in_the_planning_frame() -> None:
    camera = default_camera(320, 240)
    scene = generate_tabletop_scene(np.random.default_rng(11), camera)
    truth = render(scene)
    T = scene.T_world_camera
    tf_text = format_xyz_quat(T)
    overrides = [
        Parameter("input.reliable_qos", value=True),
        Parameter("planning_frame", value="table"),
        Parameter("tf.fallback_planning_from_camera", value=tf_text),
    ]
    got: dict[str, list] = {"grasps": [], "poses": [], "markers": []}
    with ros_session(lambda ctx: GraspPlannerNode(context=ctx, parameter_overrides=overrides)) as (
        _,
        helper,
        (node,),
    ):
        helper.create_subscription(
            GraspArray, "/grasp_planner_node/grasps", got["grasps"].append, QOS
        )
        helper.create_subscription(
            PoseArray, "/grasp_planner_node/grasp_poses", got["poses"].append, QOS
        )
        helper.create_subscription(
            MarkerArray, "/grasp_planner_node/markers", got["markers"].append, QOS
        )
        pub = helper.create_publisher(PointCloud2, "points", QOS)
        assert wait_until(lambda: pub.get_subscription_count() > 0, 10.0)
        header = Header(stamp=Time(sec=42, nanosec=5), frame_id=camera.frame_id)
        pub.publish(create_xyzrgb_cloud(header, depth_to_points(truth.depth_m, camera), truth.rgb))
        assert wait_until(lambda: got["markers"], 60.0)
        node.release()

    (grasps,), (poses,), (markers,) = got["grasps"], got["poses"], got["markers"]
    for msg in (grasps, poses):
        assert msg.header.frame_id == "table"
        assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (42, 5)
    assert len(grasps.grasps) > 0
    scores = [g.score for g in grasps.grasps]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < g.width <= 0.10 + 1e-6 for g in grasps.grasps)
    assert [p.position for p in poses.poses] == [g.pose.position for g in grasps.grasps]
    for g in grasps.grasps:
        assert g.object_id >= 0
        a = np.array([g.approach.x, g.approach.y, g.approach.z])
        assert abs(np.linalg.norm(a) - 1.0) < 1e-5
        # Every grasp centre lies above the table and inside the table's extent.
        p = g.pose.position
        assert p.z > 0.0 and abs(p.x) < scene.table_extent_m[0] / 2 + 0.1
    kinds = [m.action for m in markers.markers]
    assert kinds[0] == Marker.DELETEALL
    assert len(markers.markers) == 1 + 3 * len(grasps.grasps)
    assert all(m.header.frame_id == "table" for m in markers.markers[1:])


def test_the_service_returns_the_plan_it_publishes_in_continuous_mode(tabletop) -> None:
    scene, cloud = tabletop
    with planner_session(scene) as (pub, got, client, _):
        pub.publish(cloud)
        assert wait_until(lambda: got["grasps"], 60.0)  # planned without being asked
        response = plan_on_request(client, min_stamp=Time(sec=42))
        assert wait_until(lambda: len(got["grasps"]) == 2, 10.0)

    assert response.success, response.message
    assert response.grasps == got["grasps"][-1]
    assert (response.grasps.header.stamp.sec, response.grasps.header.stamp.nanosec) == (42, 5)
    assert response.grasps.header.frame_id == "table"
    assert len(response.grasps.grasps) > 0
    assert f"{len(response.grasps.grasps)} grasps on the cloud stamped 42.000 s" in (
        response.message
    )


def test_on_demand_mode_plans_only_when_asked_and_waits_for_a_fresh_cloud(tabletop) -> None:
    scene, cloud = tabletop
    with planner_session(scene, mode="on_demand", service__wait_timeout_s=0.5) as (
        pub,
        got,
        client,
        node,
    ):
        pub.publish(cloud)
        assert not wait_until(lambda: got["grasps"], 1.5)  # nothing until asked
        response = plan_on_request(client)
        assert wait_until(lambda: len(got["grasps"]) == 1, 10.0)
        assert response.success, response.message
        assert response.grasps == got["grasps"][0]
        assert len(response.grasps.grasps) > 0

        # A cloud newer than the one held is asked for: none comes within the wait.
        stale = plan_on_request(client, min_stamp=Time(sec=43))
        assert not stale.success
        assert stale.message.startswith("StaleInput: the newest cloud is stamped 42.000000005 s")
        assert "before min_stamp 43.000000000 s (waited 0.5 s)" in stale.message
        assert stale.grasps == GraspArray()

        # It arrives while the request waits: the request plans on it.
        node.set_parameters([Parameter("service.wait_timeout_s", value=30.0)])
        future = client.call_async(PlanGrasps.Request(min_stamp=Time(sec=43)))
        assert not wait_until(future.done, 0.5)  # waiting, not answered
        pub.publish(stamped(cloud, 43))
        assert wait_until(future.done, 60.0)
        fresh = future.result()
        assert wait_until(lambda: len(got["grasps"]) == 2, 10.0)

    assert fresh.success, fresh.message
    assert fresh.grasps.header.stamp.sec == 43
    assert fresh.grasps == got["grasps"][-1]


def test_a_request_without_a_cloud_fails_saying_why_and_is_counted(tabletop) -> None:
    scene, _ = tabletop
    with planner_session(scene, service__wait_timeout_s=0.2, diagnostics__period_s=0.1) as (
        _,
        got,
        client,
        _,
    ):
        response = plan_on_request(client)
        assert wait_until(
            lambda: got["diagnostics"] and "error.NoInput" in diagnostic_values(got), 10.0
        )
        values = diagnostic_values(got)

    assert not response.success
    assert response.message == "NoInput: no cloud received yet (waited 0.2 s)"
    assert response.grasps == GraspArray()
    assert values["error.NoInput"] == "1"
    assert (values["service.requests"], values["service.failed"]) == ("1", "1")
    assert not got["grasps"]


def test_the_node_process_receives_clouds_while_a_request_waits(tabletop) -> None:
    """The console script's executor (run_node) keeps the subscription going during a wait."""
    scene, cloud = tabletop
    params = {
        "mode": "on_demand",
        "service.wait_timeout_s": "30.0",
        "input.reliable_qos": "true",
        "planning_frame": "table",
        "tf.fallback_planning_from_camera": f"'{format_xyz_quat(scene.T_world_camera)}'",
    }
    arguments = [a for name, value in params.items() for a in ("-p", f"{name}:={value}")]
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptdepth_ros.ros.grasp_planner_node", "--ros-args", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with ros_session() as (_, helper, _):
            pub = helper.create_publisher(PointCloud2, "points", QOS)
            client = helper.create_client(PlanGrasps, SERVICE)
            assert client.wait_for_service(timeout_sec=60.0)
            assert wait_until(lambda: pub.get_subscription_count() > 0, 10.0)
            future = client.call_async(PlanGrasps.Request(min_stamp=Time(sec=42)))
            assert not wait_until(future.done, 1.0)  # waiting for a cloud
            pub.publish(cloud)
            assert wait_until(future.done, 60.0)
            response = future.result()
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    assert response.success, response.message + output
    assert len(response.grasps.grasps) > 0
    assert proc.returncode == 0, output


def test_clouds_that_give_no_plan_are_said_by_the_no_output_watchdog(tabletop) -> None:
    """Continuous mode: a bad stamp and clouds without x, y, z are counted, nothing is
    published, and /diagnostics says why; the next good cloud is planned."""
    scene, cloud = tabletop
    no_xyz = stamped(cloud, 43)
    no_xyz.fields = [copy(field) for field in cloud.fields]
    for field in no_xyz.fields:
        field.name += "_"
    with planner_session(scene, diagnostics__period_s=0.2, diagnostics__no_output_warn_s=1.0) as (
        pub,
        got,
        _client,
        _node,
    ):
        pub.publish(stamped(cloud, -1))
        for _ in range(15):
            pub.publish(no_xyz)
            time.sleep(0.2)
        messages = [s.message for array in got["diagnostics"] for s in array.status]
        pub.publish(cloud)
        assert wait_until(lambda: got["grasps"], 60.0)
    stalled = [m.split("stalled.no_output: ")[1] for m in messages if "stalled.no_output" in m]
    assert stalled, messages
    assert stalled[-1].startswith("nothing published for ")
    assert " points): " in stalled[-1] and "error.UnsupportedEncoding (+" in stalled[-1]
    assert any("error.InvalidStamp" in m for m in messages)
