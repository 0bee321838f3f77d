"""A camera on a moving arm and a LiDAR fixed to the base: the prompt is moved through TF.

With ``tf.fixed_frame`` the scan at its stamp is placed in the camera at the image stamp
(lookup_transform_full); without it one lookup at the scan stamp leaves the prompt where the
camera was when the LiDAR fired, off by the arm's motion in between.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from promptdepth_ros.ros.arm_bag import BASE_FRAME, EyeInHandBag, write_eye_in_hand_bag
from promptdepth_ros.ros.bag import read_bag
from promptdepth_ros.ros.convert.image import image_to_depth_m
from promptdepth_ros.ros.convert.stamps import stamp_ns
from promptdepth_ros.sim.arm import ArmStroke
from promptdepth_ros.sim.scene import default_camera, plane_scene
from promptdepth_ros.tools import process_bag

SPEED_MPS = 0.5
TOLERANCE_M = 0.01


def stroke_error_m(image_ns: int, scan_ns: int) -> float:
    """How far the camera moved along its axis between a scan and an image."""
    return SPEED_MPS * abs(image_ns - scan_ns) * 1e-9


def process(bag: EyeInHandBag, out: Path, params: str) -> dict[int, np.ndarray]:
    """Run process-bag with ``params`` (node parameter lines); image stamp -> depth."""
    param_file = out.with_suffix(".yaml")
    param_file.write_text(f"prompt_depth_node:\n  ros__parameters:\n    {params}\n")
    assert (
        process_bag.main([str(bag.path), str(out), "--no-grasps", "--params", str(param_file)])
        == 0
    )
    depth = {}
    for record in read_bag(out, ["/prompt_depth_node/depth"]):
        msg = record.decode()
        depth[stamp_ns(msg.header)] = image_to_depth_m(msg)
    return depth


def abs_error_m(bag: EyeInHandBag, image_ns: int, depth: np.ndarray) -> np.ndarray:
    truth = bag.truth_depth_m[image_ns]
    valid = np.isfinite(depth) & np.isfinite(truth)
    assert valid.mean() > 0.9
    return np.abs(depth[valid] - truth[valid])


@pytest.fixture(scope="module")
def moving_bag(tmp_path_factory: pytest.TempPathFactory) -> EyeInHandBag:
    """0.8 s of a 30 Hz camera approaching a plane at 0.5 m/s, a 10 Hz LiDAR 15 ms out of
    phase with it."""
    scene = plane_scene(0.9, default_camera(160, 120))
    stroke = ArmStroke(scene.T_world_camera, (0.0, 0.0, -1.0), SPEED_MPS, 0.45)
    return write_eye_in_hand_bag(
        tmp_path_factory.mktemp("arm") / "bag",
        scene,
        stroke,
        duration_s=0.8,
        lidar_noise_m=0.005,
        lidar_offset_s=0.015,
        seed=3,
    )


def newest_scan_ns(bag: EyeInHandBag, image_ns: int) -> int:
    """The scan image_rate pairs with an image: the newest at or before it."""
    return max(s for s in bag.prompt_stamps_ns if s <= image_ns)


def test_camera_rate_depth_through_the_fixed_frame_is_within_a_centimetre(
    moving_bag: EyeInHandBag, tmp_path: Path
) -> None:
    depth = process(
        moving_bag, tmp_path / "full", f"tf.fixed_frame: {BASE_FRAME}\n    sync.policy: image_rate"
    )
    with_scan = [s for s in moving_bag.image_stamps_ns if s >= moving_bag.prompt_stamps_ns[0]]
    assert sorted(depth) == with_scan
    ages = [s - newest_scan_ns(moving_bag, s) for s in depth]
    assert max(ages) > 60e6  # prompts up to two camera periods old: arm moved 3+ cm since
    for image_ns, frame in depth.items():
        assert np.percentile(abs_error_m(moving_bag, image_ns, frame), 90) < TOLERANCE_M


def test_camera_rate_depth_with_the_scan_stamp_lookup_is_off_by_the_arm_motion(
    moving_bag: EyeInHandBag, tmp_path: Path
) -> None:
    depth = process(moving_bag, tmp_path / "scan_stamp", "sync.policy: image_rate")
    off = 0
    for image_ns, frame in depth.items():
        moved = stroke_error_m(image_ns, newest_scan_ns(moving_bag, image_ns))
        error = float(np.median(abs_error_m(moving_bag, image_ns, frame)))
        assert error == pytest.approx(moved, abs=0.004)  # the prompt lags by the motion
        off += error > TOLERANCE_M
    assert off >= len(depth) // 2


def test_scan_rate_depth_through_the_fixed_frame_is_within_a_centimetre(
    moving_bag: EyeInHandBag, tmp_path: Path
) -> None:
    depth = process(moving_bag, tmp_path / "scan_rate", f"tf.fixed_frame: {BASE_FRAME}")
    assert len(depth) == len(moving_bag.prompt_stamps_ns)
    for image_ns, frame in depth.items():
        assert np.percentile(abs_error_m(moving_bag, image_ns, frame), 90) < TOLERANCE_M


def test_the_arm_turns_back_at_the_ends_of_its_stroke() -> None:
    stroke = ArmStroke(np.eye(4), (0.0, 0.0, 2.0), speed_mps=0.5, travel_m=0.2)
    assert [stroke.offset_m(t) for t in (0.0, 0.2, 0.4, 0.6, 0.8)] == pytest.approx(
        [0.0, 0.1, 0.2, 0.1, 0.0]
    )
    np.testing.assert_allclose(stroke.T_base_camera(0.2)[:3, 3], [0.0, 0.0, 0.1])
