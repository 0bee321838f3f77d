"""prompt_depth_node's lifecycle over real DDS: runtime parameters between frames, cleanup
that releases everything, configure-time parameters while unconfigured, an inactive node
that says so, the no-output watchdog, input loss, and shutdown that ends the process."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_helpers import ros_session, wait_until
from sensor_msgs.msg import CameraInfo, Image, PointCloud2
from std_msgs.msg import Header

import promptdepth_ros.engines.registry as registry
from promptdepth_ros.geometry.transforms import format_xyz_quat, invert_transform
from promptdepth_ros.ros.convert.camera_info import camera_info_msg_from_model
from promptdepth_ros.ros.convert.image import rgb_to_image_msg
from promptdepth_ros.ros.convert.pointcloud import create_xyz_cloud
from promptdepth_ros.ros.prompt_depth_node import PromptDepthNode
from promptdepth_ros.ros.scene_bag import LIDAR_FRAME, T_CAMERA_LIDAR
from promptdepth_ros.sim.lidar import simulate_lidar_points
from promptdepth_ros.sim.render import render
from promptdepth_ros.sim.scene import default_camera, plane_scene

QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


@pytest.fixture(scope="module")
def plane() -> tuple[Any, Any, np.ndarray]:
    camera = default_camera(160, 120)
    truth = render(plane_scene(0.8, camera))
    points = simulate_lidar_points(
        truth.depth_m, camera, invert_transform(T_CAMERA_LIDAR), np.random.default_rng(0)
    )
    return camera, truth, points


def _set(plane: Any, ns: int, cloud_points: np.ndarray | None = None) -> tuple[Any, Any, Any]:
    camera, truth, points = plane
    stamp = Time(sec=ns // 10**9, nanosec=ns % 10**9)
    header = Header(stamp=stamp, frame_id=camera.frame_id)
    cloud = points if cloud_points is None else cloud_points
    return (
        rgb_to_image_msg(truth.rgb, header),
        camera_info_msg_from_model(camera, header),
        create_xyz_cloud(Header(stamp=stamp, frame_id=LIDAR_FRAME), cloud),
    )


def _node(**params: Any) -> Any:
    overrides = [
        Parameter("input.reliable_qos", value=True),
        Parameter("diagnostics.period_s", value=0.2),
        Parameter("tf.fallback_camera_from_lidar", value=format_xyz_quat(T_CAMERA_LIDAR)),
        *(Parameter(name.replace("__", "."), value=value) for name, value in params.items()),
    ]
    return lambda context: PromptDepthNode(context=context, parameter_overrides=overrides)


def _wire(helper: Any) -> tuple[dict[str, list[Any]], tuple[Any, ...]]:
    out: dict[str, list[Any]] = {"depth": [], "diag": []}
    helper.create_subscription(Image, "/prompt_depth_node/depth", out["depth"].append, QOS)
    helper.create_subscription(DiagnosticArray, "/diagnostics", out["diag"].append, 10)
    pubs = (
        helper.create_publisher(Image, "image", QOS),
        helper.create_publisher(CameraInfo, "camera_info", QOS),
        helper.create_publisher(PointCloud2, "points", QOS),
    )
    return out, pubs


def _send(pubs: tuple[Any, ...], msgs: tuple[Any, ...]) -> None:
    for pub, msg in zip(pubs, msgs, strict=True):
        pub.publish(msg)


def _subscribed(pubs: tuple[Any, ...]) -> bool:
    return all(p.get_subscription_count() > 0 for p in pubs)


def _counter(node: PromptDepthNode, key: str) -> int:
    return node.health.snapshot()[0].get(key, 0)


def _last_status(out: dict[str, list[Any]]) -> DiagnosticStatus | None:
    return out["diag"][-1].status[0] if out["diag"] else None


def _entities(node: PromptDepthNode) -> tuple[list[str], list[str], int, int]:
    return (
        sorted(p.topic_name for p in node.publishers),
        sorted(s.topic_name for s in node.subscriptions),
        len(list(node.timers)),
        len(node._managed_entities),  # type: ignore[attr-defined]
    )


def test_runtime_changes_apply_between_frames_keeping_counters_and_the_last_good_prompt(
    plane: Any,
) -> None:
    empty = np.full_like(plane[2], np.nan)
    node_factory = _node(prompt__fallback="last_good", prompt__last_good_max_age_s=60.0)
    with ros_session(node_factory) as (_, helper, (node,)):
        out, pubs = _wire(helper)
        node.trigger_configure()
        node.trigger_activate()
        assert wait_until(lambda: _subscribed(pubs), 10.0)
        _send(pubs, _set(plane, 10 * 10**9))
        assert wait_until(lambda: len(out["depth"]) == 1, 30.0)
        _send(pubs, _set(plane, 11 * 10**9, empty))
        assert wait_until(lambda: len(out["depth"]) == 2, 30.0)
        assert _counter(node, "fallback.use_last_good") == 1
        assert node.set_parameters([Parameter("prompt.fill_k", value=2)])[0].successful
        assert node.pipeline is not None
        assert node.pipeline.config.conditioning.fill_k == 4, "applied by the worker, not here"
        _send(pubs, _set(plane, 12 * 10**9, empty))
        assert wait_until(lambda: len(out["depth"]) == 3, 30.0)
        assert node.pipeline.config.conditioning.fill_k == 2
    assert _counter(node, "fallback.use") == 1
    assert _counter(node, "fallback.use_last_good") == 2


def test_a_fallback_extrinsic_set_at_run_time_applies_from_the_next_frame(plane: Any) -> None:
    with ros_session(_node(tf__fallback_camera_from_lidar="")) as (_, helper, (node,)):
        out, pubs = _wire(helper)
        node.trigger_configure()
        node.trigger_activate()
        assert wait_until(lambda: _subscribed(pubs), 10.0)
        _send(pubs, _set(plane, 10 * 10**9))
        assert wait_until(lambda: _counter(node, "error.MissingTransform") == 1, 30.0)
        bad = node.set_parameters([Parameter("tf.fallback_camera_from_lidar", value="1 2")])
        assert not bad[0].successful and "tf.fallback_camera_from_lidar" in bad[0].reason
        text = format_xyz_quat(T_CAMERA_LIDAR)
        extrinsic = Parameter("tf.fallback_camera_from_lidar", value=text)
        assert node.set_parameters([extrinsic])[0].successful
        _send(pubs, _set(plane, 11 * 10**9))
        assert wait_until(lambda: out["depth"], 30.0)
    assert [m.header.stamp.sec for m in out["depth"]] == [11]


def test_configure_time_parameters_change_only_while_unconfigured(plane: Any) -> None:
    with ros_session(_node()) as (_, helper, (node,)):
        node.trigger_configure()
        refused = node.set_parameters([Parameter("input.mode", value="depth")])[0]
        assert not refused.successful
        assert "input.mode cannot change: the node is inactive" in refused.reason
        assert "cleanup" in refused.reason
        node.trigger_cleanup()
        changed = node.set_parameters(
            [Parameter("input.mode", value="depth"), Parameter("engine.num_threads", value=2)]
        )
        assert all(result.successful for result in changed)
        depth_pub = helper.create_publisher(Image, "depth", QOS)
        node.trigger_configure()
        node.trigger_activate()
        assert wait_until(lambda: depth_pub.get_subscription_count() > 0, 10.0)
        assert node.params["engine.num_threads"] == 2


def test_cleanup_releases_everything_and_reconfiguring_adds_nothing(
    plane: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[str] = []
    create = registry.create_engine

    def recording_create(spec: Any) -> Any:
        engine = create(spec)
        close = engine.close
        engine.close = lambda: (closed.append(engine.name), close())[1]
        return engine

    monkeypatch.setattr(registry, "create_engine", recording_create)
    with ros_session(_node(diagnostics__period_s=0.1)) as (_, helper, (node,)):
        out, pubs = _wire(helper)
        before = _entities(node)
        node.trigger_configure()
        configured = _entities(node)
        assert node._extrinsics is not None and "/diagnostics" in configured[0]
        assert ("/tf" in configured[1]) == (node._extrinsics.backend != "parameter")
        for cycle in range(3):
            node.trigger_activate()
            assert wait_until(lambda: _subscribed(pubs), 10.0)
            _send(pubs, _set(plane, (20 + cycle) * 10**9))
            assert wait_until(lambda n=cycle + 1: len(out["depth"]) == n, 30.0)
            node.trigger_deactivate()
            assert not _subscribed(pubs) or wait_until(lambda: not _subscribed(pubs), 10.0)
            assert wait_until(
                lambda: (
                    (status := _last_status(out)) is not None
                    and status.level == DiagnosticStatus.WARN
                    and status.message.startswith("inactive: not subscribed")
                ),
                10.0,
            )
            node.trigger_cleanup()
            assert _entities(node) == before
            assert closed == ["guided"] * (cycle + 1)
            node.trigger_configure()
            assert _entities(node) == configured
    assert _counter(node, "synced_sets") == 3


def test_a_failed_configure_releases_what_it_built(monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[str] = []
    create = registry.create_engine

    def recording_create(spec: Any) -> Any:
        engine = create(spec)
        engine.close = lambda: closed.append(engine.name)
        return engine

    monkeypatch.setattr(registry, "create_engine", recording_create)
    bad_extrinsic = _node(tf__fallback_camera_from_lidar="1 2 3")
    with ros_session(bad_extrinsic) as (_, _helper, (node,)):
        before = _entities(node)
        assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
        assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
        assert node.pipeline is None and closed == ["guided", "guided"]
        assert _entities(node) == before


def test_the_watchdog_and_input_loss_turn_diagnostics_to_warn_with_the_cause(
    plane: Any,
) -> None:
    node_factory = _node(diagnostics__no_output_warn_s=1.0, sync__max_wait_s=0.05)
    with ros_session(node_factory) as (_, helper, (node,)):
        out, pubs = _wire(helper)
        node.trigger_configure()
        node.trigger_activate()
        assert wait_until(lambda: _subscribed(pubs), 10.0)
        cloud = _set(plane, 10**9)[2]
        # A 10 Hz LiDAR whose scans 7 and 8 never arrive, and no camera.
        for i in (*range(7), *range(9, 25)):
            ns = 30 * 10**9 + i * 10**8
            cloud.header.stamp = Time(sec=ns // 10**9, nanosec=ns % 10**9)
            pubs[2].publish(cloud)
            time.sleep(0.1)
        messages = [s.message for array in out["diag"] for s in array.status]
    assert _counter(node, "lost.points") == 2
    assert any("'points': 2 messages missing" in m and "input.reliable_qos" in m for m in messages)
    stalled = [m.split("stalled.no_output: ")[1] for m in messages if "stalled.no_output" in m]
    assert stalled, messages
    assert stalled[-1].startswith("nothing published for ")
    assert " points): " in stalled[-1] and "skipped.prompt_without_image (+" in stalled[-1]


def test_lifecycle_shutdown_ends_the_process_with_exit_0() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptdepth_ros.ros.prompt_depth_node"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with ros_session() as (_, helper, _nodes):
            client = helper.create_client(ChangeState, "/prompt_depth_node/change_state")
            assert client.wait_for_service(timeout_sec=60.0)
            request = ChangeState.Request()
            request.transition.id = Transition.TRANSITION_ACTIVE_SHUTDOWN
            # A response can be lost while discovery of the client is incomplete: ask again.
            for _ in range(6):
                future = client.call_async(request)
                if wait_until(lambda f=future: f.done() or proc.poll() is not None, 5.0):
                    break
        output, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, output
    assert "Traceback" not in output
