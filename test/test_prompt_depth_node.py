"""prompt_depth_node over real DDS: synced inputs in, depth / camera_info / cloud out."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_helpers import ros_session, wait_until
from sensor_msgs.msg import CameraInfo, Image, PointCloud2
from std_msgs.msg import Header

from promptdepth_ros.geometry.transforms import format_xyz_quat, invert_transform
from promptdepth_ros.ros.convert.camera_info import camera_info_msg_from_model
from promptdepth_ros.ros.convert.image import image_to_depth_m, rgb_to_image_msg
from promptdepth_ros.ros.convert.pointcloud import create_xyz_cloud
from promptdepth_ros.ros.prompt_depth_node import PromptDepthNode
from promptdepth_ros.ros.scene_bag import LIDAR_FRAME, T_CAMERA_LIDAR
from promptdepth_ros.sim.lidar import simulate_lidar_points
from promptdepth_ros.sim.render import render
from promptdepth_ros.sim.scene import default_camera, plane_scene

QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
DISTANCE_M = 0.8


@pytest.fixture(scope="module")
def plane():
    camera = default_camera(320, 240)
    truth = render(plane_scene(DISTANCE_M, camera))
    rng = np.random.default_rng(0)
    points = simulate_lidar_points(
        truth.depth_m, camera, invert_transform(T_CAMERA_LIDAR), rng, noise_std_m=0.002
    )
    return camera, truth, points


def _inputs(camera, truth, points, sec: int, encoding: str = "rgb8"):
    stamp = Time(sec=sec, nanosec=0)
    cam_header = Header(stamp=stamp, frame_id=camera.frame_id)
    image = rgb_to_image_msg(truth.rgb, cam_header)
    image.encoding = encoding
    info = camera_info_msg_from_model(camera, cam_header)
    cloud = create_xyz_cloud(Header(stamp=stamp, frame_id=LIDAR_FRAME), points)
    return image, info, cloud


def _node(with_tf: bool):
    overrides = [
        Parameter("input.reliable_qos", value=True),
        Parameter("diagnostics.period_s", value=0.2),
    ]
    if with_tf:
        overrides.append(
            Parameter("tf.fallback_camera_from_lidar", value=format_xyz_quat(T_CAMERA_LIDAR))
        )
    return lambda context: PromptDepthNode(context=context, parameter_overrides=overrides)


def _wire(helper):
    outputs: dict[str, list] = {"depth": [], "info": [], "points": [], "diag": []}
    helper.create_subscription(Image, "/prompt_depth_node/depth", outputs["depth"].append, QOS)
    helper.create_subscription(
        CameraInfo, "/prompt_depth_node/camera_info", outputs["info"].append, QOS
    )
    helper.create_subscription(
        PointCloud2, "/prompt_depth_node/points", outputs["points"].append, QOS
    )
    helper.create_subscription(DiagnosticArray, "/diagnostics", outputs["diag"].append, 10)
    pubs = (
        helper.create_publisher(Image, "image", QOS),
        helper.create_publisher(CameraInfo, "camera_info", QOS),
        helper.create_publisher(PointCloud2, "points", QOS),
    )
    return outputs, pubs


def _activate(node, pubs) -> None:
    node.trigger_configure()
    node.trigger_activate()
    assert wait_until(lambda: all(p.get_subscription_count() > 0 for p in pubs), 10.0)


def _send(pubs, msgs) -> None:
    for pub, msg in zip(pubs, msgs, strict=True):
        pub.publish(msg)


def _counter(diagnostics: list, key: str) -> int:
    for array in reversed(diagnostics):
        for status in array.status:
            for kv in status.values:
                if kv.key == key:
                    return int(kv.value)
    return 0


def test_node_publishes_metric_depth_info_and_cloud_for_a_synced_set(plane) -> None:
    camera, truth, points = plane
    with ros_session(_node(with_tf=True)) as (_, helper, (node,)):
        outputs, pubs = _wire(helper)
        _activate(node, pubs)
        _send(pubs, _inputs(camera, truth, points, sec=100))
        assert wait_until(lambda: outputs["points"], 30.0)

    (depth_msg,) = outputs["depth"]
    assert depth_msg.encoding == "32FC1"
    assert depth_msg.header.frame_id == camera.frame_id
    assert depth_msg.header.stamp.sec == 100
    depth = image_to_depth_m(depth_msg)
    assert depth.shape == (camera.height, camera.width)
    interior = depth[20:-20, 20:-20]
    assert np.isfinite(interior).all()
    assert np.abs(interior - DISTANCE_M).max() < 0.01

    (info,) = outputs["info"]
    assert info.header == depth_msg.header
    assert (info.width, info.height) == (camera.width, camera.height)
    np.testing.assert_allclose(np.asarray(info.k).reshape(3, 3), camera.K)

    (cloud,) = outputs["points"]
    assert (cloud.height, cloud.width) == (camera.height, camera.width)
    assert [f.name for f in cloud.fields] == ["x", "y", "z", "rgb"]
    xyzrgb = np.frombuffer(bytes(cloud.data), np.float32).reshape(camera.height, camera.width, 4)
    np.testing.assert_allclose(xyzrgb[..., 2], depth, rtol=1e-6)
    packed = xyzrgb[120, 160, 3:].view(np.uint32)[0]
    assert ((packed >> 16) & 255, (packed >> 8) & 255, packed & 255) == tuple(truth.rgb[120, 160])


def test_bad_encoding_is_counted_and_the_next_good_set_still_comes_out(plane) -> None:
    camera, truth, points = plane
    with ros_session(_node(with_tf=True)) as (_, helper, (node,)):
        outputs, pubs = _wire(helper)
        _activate(node, pubs)
        _send(pubs, _inputs(camera, truth, points, 10, "bayer_rggb8"))
        assert wait_until(
            lambda: _counter(outputs["diag"], "error.UnsupportedEncoding") == 1, 15.0
        )
        _send(pubs, _inputs(camera, truth, points, 11))
        assert wait_until(lambda: outputs["depth"], 30.0)
    assert [m.header.stamp.sec for m in outputs["depth"]] == [11]


def test_missing_extrinsic_is_reported_not_fatal(plane) -> None:
    camera, truth, points = plane
    with ros_session(_node(with_tf=False)) as (_, helper, (node,)):
        outputs, pubs = _wire(helper)
        _activate(node, pubs)
        _send(pubs, _inputs(camera, truth, points, 20))
        assert wait_until(lambda: _counter(outputs["diag"], "error.MissingTransform") == 1, 15.0)
        assert _counter(outputs["diag"], "synced_sets") == 1
    assert outputs["depth"] == []


def test_a_negative_camera_info_stamp_is_counted_and_the_next_good_set_still_comes_out(
    plane,
) -> None:
    camera, truth, points = plane
    with ros_session(_node(with_tf=True)) as (_, helper, (node,)):
        outputs, pubs = _wire(helper)
        _activate(node, pubs)
        image, info, cloud = _inputs(camera, truth, points, 30)
        info.header = Header(stamp=Time(sec=-1, nanosec=0), frame_id=camera.frame_id)
        _send(pubs, (image, info, cloud))
        assert wait_until(lambda: _counter(outputs["diag"], "error.InvalidStamp") == 1, 15.0)
        _send(pubs, _inputs(camera, truth, points, 31))
        assert wait_until(lambda: outputs["depth"], 30.0)
    assert [m.header.stamp.sec for m in outputs["depth"]] == [31]


def test_an_all_nan_cloud_is_a_counted_skip_that_turns_diagnostics_to_warn(plane) -> None:
    camera, truth, points = plane
    with ros_session(_node(with_tf=True)) as (_, helper, (node,)):
        outputs, pubs = _wire(helper)
        _activate(node, pubs)
        _send(pubs, _inputs(camera, truth, np.full_like(points, np.nan), 40))
        assert wait_until(lambda: _counter(outputs["diag"], "skipped.prompt_empty") == 1, 15.0)
        warnings = [
            status.message
            for array in outputs["diag"]
            for status in array.status
            if status.level == DiagnosticStatus.WARN
        ]
    assert warnings and warnings[-1].startswith("skipped.prompt_empty: no finite return")
    assert outputs["depth"] == []


def test_scans_without_images_are_said_as_skipped_frames(plane) -> None:
    """A camera that stopped: every scan is a counted skip and /diagnostics says why."""
    camera, truth, points = plane
    with ros_session(_node(with_tf=True)) as (_, helper, (node,)):
        outputs, pubs = _wire(helper)
        _activate(node, pubs)
        _send(pubs, _inputs(camera, truth, points, 50))
        assert wait_until(lambda: outputs["depth"], 30.0)
        for sec in (60, 61, 62):
            pubs[2].publish(_inputs(camera, truth, points, sec)[2])
        assert wait_until(
            lambda: _counter(outputs["diag"], "skipped.prompt_without_image") == 3, 15.0
        )
        warnings = [
            status.message
            for array in outputs["diag"]
            for status in array.status
            if status.level == DiagnosticStatus.WARN
        ]
    assert any("prompts had no image within" in w for w in warnings)
    assert [m.header.stamp.sec for m in outputs["depth"]] == [50]


def _fuzz_cases(camera, truth, points, rng):
    """(name, set) pairs: each a good set at its own stamp with something broken."""

    def broken(indices, sec, change):
        msgs = _inputs(camera, truth, points, sec)
        for index in indices:  # headers are replaced, never changed in place (they are shared)
            change(msgs[index])
        return msgs

    def restamp(sec, nanosec=0):
        def change(msg):
            msg.header = Header(stamp=Time(sec=sec, nanosec=nanosec), frame_id=msg.header.frame_id)

        return change

    def assign(**fields):
        return lambda msg: [setattr(msg, k, v) for k, v in fields.items()]

    image_bytes, cloud_bytes = (len(m.data) for m in _inputs(camera, truth, points, 0)[::2])
    all_nan = np.full(cloud_bytes // 4, np.nan, np.float32).tobytes()
    return [
        ("negative sec", broken([1], 100, restamp(-1))),
        ("nanosec >= 1e9", broken([0], 101, restamp(101, 2**32 - 1))),
        ("INT32_MAX sec", broken([0, 1, 2], 102, restamp(2**31 - 1))),
        ("0x0 image", broken([0], 103, assign(height=0, width=0, step=0, data=b""))),
        ("point_step 2**31", broken([2], 104, assign(point_step=2**31))),
        ("random image bytes", broken([0], 105, assign(data=rng.bytes(image_bytes - 7)))),
        ("random cloud bytes", broken([2], 106, assign(data=rng.bytes(cloud_bytes)))),
        ("empty cloud", broken([2], 107, assign(width=0, row_step=0, data=b""))),
        ("all-NaN cloud", broken([2], 108, assign(data=all_nan))),
        ("bayer image", broken([0], 109, assign(encoding="bayer_rggb8"))),
    ]


def test_fuzzed_inputs_are_logged_once_per_cause_and_the_node_goes_on(plane, tmp_path) -> None:
    camera, truth, points = plane
    cases = _fuzz_cases(camera, truth, points, np.random.default_rng(0))
    log = tmp_path / "node.log"
    command = [
        sys.executable,
        "-m",
        "promptdepth_ros.ros.prompt_depth_node",
        "--ros-args",
        "-p",
        "input.reliable_qos:=true",
        "-p",
        "diagnostics.period_s:=0.1",
        "-p",
        "log_throttle_s:=600.0",
        "-p",
        "processing.queue_depth:=20",  # every set is processed, none skipped for a newer one
        "-p",
        "sync.max_offset_s:=0.015",  # sets 1 s apart: no scan pairs with a neighbour's image
        "-p",
        f"tf.fallback_camera_from_lidar:={format_xyz_quat(T_CAMERA_LIDAR)}",
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        with ros_session() as (_, helper, _nodes):
            outputs, pubs = _wire(helper)
            assert wait_until(lambda: all(p.get_subscription_count() > 0 for p in pubs), 30.0)
            for sent, (name, msgs) in enumerate(cases, start=1):
                _send(pubs, msgs)
                assert wait_until(
                    lambda n=sent: all(
                        _counter(outputs["diag"], f"received.{t}") == n
                        for t in ("image", "camera_info", "points")
                    ),
                    10.0,
                ), name
            _send(pubs, _inputs(camera, truth, points, 200))
            assert wait_until(lambda: outputs["depth"], 30.0)
            wait_until(lambda: _counter(outputs["diag"], "published") == 1, 2.0)
            assert proc.poll() is None
            counts = {
                key: _counter(outputs["diag"], key)
                for key in (
                    "error.InvalidStamp",
                    "error.InputError",
                    "error.UnsupportedEncoding",
                    "skipped.prompt_empty",
                    "skipped.prompt_too_sparse",
                    "published",
                )
            }
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert [m.header.stamp.sec for m in outputs["depth"]] == [200]
    assert counts == {
        "error.InvalidStamp": 5,
        "error.InputError": 3,
        "error.UnsupportedEncoding": 1,
        "skipped.prompt_empty": 2,
        "skipped.prompt_too_sparse": 1,  # a few of the random floats land on the image
        "published": 1,
    }
    lines = log.read_text().splitlines()
    for cause in (
        "dropped (InvalidStamp)",
        "dropped (InputError)",
        "dropped (UnsupportedEncoding)",
        "skipped (prompt_empty)",
        "skipped (prompt_too_sparse)",
    ):
        assert len([line for line in lines if cause in line]) == 1, (cause, lines)
    assert any("'camera_info' message dropped (InvalidStamp): " in line for line in lines)
    assert not any("Traceback" in line or "[ERROR]" in line for line in lines)
