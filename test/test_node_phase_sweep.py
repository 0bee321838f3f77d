"""The phase sweep through prompt_depth_node over real DDS, streams paced in real time.

A handful of LiDAR phases across the camera period (with +-2 ms jitter, 500 ppm drift and 5 %
drops, as in test_sync_pairing's full 1 ms sweep of the pairing itself), 1.5 s each, so that
the test stays under a minute: every scan with an image within one camera period gives exactly
one depth frame stamped with its nearest image; in image_rate every image with a prompt does.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_helpers import ros_session, wait_until
from sensor_msgs.msg import CameraInfo, Image, PointCloud2
from std_msgs.msg import Header
from test_sync_pairing import CAMERA_PERIOD_S, free_running_streams

from promptdepth_ros.geometry.transforms import format_xyz_quat, invert_transform
from promptdepth_ros.ros.convert.camera_info import camera_info_msg_from_model
from promptdepth_ros.ros.convert.image import rgb_to_image_msg
from promptdepth_ros.ros.convert.pointcloud import create_xyz_cloud
from promptdepth_ros.ros.prompt_depth_node import PromptDepthNode
from promptdepth_ros.ros.scene_bag import LIDAR_FRAME, T_CAMERA_LIDAR
from promptdepth_ros.sim.lidar import simulate_lidar_points
from promptdepth_ros.sim.render import render
from promptdepth_ros.sim.scene import default_camera, plane_scene

QOS = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
PHASES_MS = (0, 9, 16, 17, 26)  # 16-17 ms: where the old 15 ms slop paired nothing
DURATION_S = 1.5
PHASE_SPACING_S = 100  # stamps of each phase's streams start this far apart
MAX_PROMPT_AGE_S = 0.2


def stamp(seconds: float) -> Time:
    ns = round(seconds * 1e9)
    return Time(sec=ns // 10**9, nanosec=ns % 10**9)


@pytest.fixture(scope="module")
def plane():
    camera = default_camera(160, 120)
    truth = render(plane_scene(0.8, camera))
    points = simulate_lidar_points(
        truth.depth_m, camera, invert_transform(T_CAMERA_LIDAR), np.random.default_rng(0)
    )
    return camera, truth, points


def node_factory(policy: str):
    overrides = [
        Parameter("input.reliable_qos", value=True),
        Parameter("processing.queue_depth", value=100),  # no set dropped for a newer one
        Parameter("sync.policy", value=policy),
        Parameter("sync.max_prompt_age_s", value=MAX_PROMPT_AGE_S),
        Parameter("tf.fallback_camera_from_lidar", value=format_xyz_quat(T_CAMERA_LIDAR)),
    ]
    return lambda context: PromptDepthNode(context=context, parameter_overrides=overrides)


def stream(plane, policy: str, phases: tuple[int, ...]) -> tuple[list[float], dict]:
    """Publish every phase's streams at their arrival times; the depth stamps (s) that came
    out and, per phase, (base, images, scans)."""
    camera, truth, points = plane
    runs = {}
    with ros_session(node_factory(policy)) as (_, helper, (node,)):
        depth: list[float] = []
        helper.create_subscription(
            Image,
            "/prompt_depth_node/depth",
            lambda m: depth.append(m.header.stamp.sec + m.header.stamp.nanosec * 1e-9),
            QOS,
        )
        pubs = (
            helper.create_publisher(Image, "image", QOS),
            helper.create_publisher(CameraInfo, "camera_info", QOS),
            helper.create_publisher(PointCloud2, "points", QOS),
        )
        node.trigger_configure()
        node.trigger_activate()
        assert wait_until(lambda: all(p.get_subscription_count() > 0 for p in pubs), 10.0)
        for k, phase_ms in enumerate(phases):
            base = (k + 1) * PHASE_SPACING_S
            arrivals, images, scans = free_running_streams(
                phase_ms * 1e-3, phase_ms, duration_s=DURATION_S
            )
            runs[phase_ms] = (base, images, scans)
            start = time.monotonic() - arrivals[0][0]
            for arrival, index, stamp_s, _ in arrivals:
                time.sleep(max(0.0, start + arrival - time.monotonic()))
                frame = camera.frame_id if index < 2 else LIDAR_FRAME
                header = Header(stamp=stamp(base + stamp_s), frame_id=frame)
                if index == 0:
                    pubs[0].publish(rgb_to_image_msg(truth.rgb, header))
                elif index == 1:
                    pubs[1].publish(camera_info_msg_from_model(camera, header))
                else:
                    pubs[2].publish(create_xyz_cloud(header, points))
        count = -1
        while count != len(depth):  # until nothing more comes out
            count = len(depth)
            time.sleep(1.0)
    return depth, runs


def of_phase(depth: list[float], base: float) -> list[float]:
    return sorted(s - base for s in depth if base - 1 <= s < base + PHASE_SPACING_S - 1)


def test_node_gives_each_scan_its_nearest_image_at_every_phase(plane) -> None:
    depth, runs = stream(plane, "prompt_rate", PHASES_MS)
    for phase_ms, (base, images, scans) in runs.items():
        expected = []
        for scan in scans:
            nearest = min(images, key=lambda t: (abs(t - scan), t))
            if abs(nearest - scan) <= CAMERA_PERIOD_S:
                expected.append(nearest)
        assert of_phase(depth, base) == pytest.approx(sorted(expected), abs=1e-6), phase_ms


def test_node_at_camera_rate_gives_a_frame_per_image_with_a_prompt(plane) -> None:
    depth, runs = stream(plane, "image_rate", (17,))
    ((base, images, scans),) = runs.values()
    out = np.round(of_phase(depth, base), 6)
    assert len(set(out)) == len(out) and set(out) <= set(np.round(images, 6))

    def has_scan(image: float, low: float, high: float) -> bool:
        return any(image - low <= s <= image + high for s in scans)

    # A scan stamped 35 ms before an image has surely arrived before it (latencies <= 30 ms).
    surely = sum(has_scan(i, MAX_PROMPT_AGE_S, -0.035) for i in images)
    possibly = sum(has_scan(i, MAX_PROMPT_AGE_S, CAMERA_PERIOD_S) for i in images)
    assert surely <= len(out) <= possibly
    assert len(out) >= len(images) - 6  # the images before the first scan, a double drop
