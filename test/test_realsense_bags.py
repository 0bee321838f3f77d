"""Generated room-scale bags with a RealSense-like depth camera: make-bag, process-bag."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from promptdepth_ros.eval.metrics import coverage, depth_metrics
from promptdepth_ros.prompt.conditioning import PromptConditioningConfig
from promptdepth_ros.prompt.sources import DepthImagePrompt, build_raw_prompt
from promptdepth_ros.ros.bag import bag_message_counts, read_bag
from promptdepth_ros.ros.convert.camera_info import camera_model_from_msg
from promptdepth_ros.ros.convert.image import image_to_depth_m
from promptdepth_ros.ros.convert.stamps import stamp_ns
from promptdepth_ros.ros.scene_bag import (
    DEPTH_FRAME,
    DEPTH_INFO_TOPIC,
    DEPTH_TOPIC,
    INFO_TOPIC,
    ROOM_FRAME,
    T_CAMERA_DEPTH,
    write_scene_bag,
)
from promptdepth_ros.sim.room import generate_room_scene
from promptdepth_ros.sim.scene import default_camera
from promptdepth_ros.tools import make_bag, process_bag

OUTPUT_DEPTH = "/prompt_depth_node/depth"


@pytest.fixture(scope="module")
def room_bag(tmp_path_factory: pytest.TempPathFactory):
    scene = generate_room_scene(np.random.default_rng(3), default_camera(320, 240))
    path = tmp_path_factory.mktemp("room") / "bag"
    return write_scene_bag(path, scene, duration_s=0.3, lidar_mode="realsense", seed=3)


def _processed(bag, tmp_path: Path, registered: bool) -> list:
    """The output depth messages of process-bag in input.mode depth."""
    params = tmp_path / "params.yaml"
    params.write_text(
        "prompt_depth_node:\n  ros__parameters:\n    input.mode: depth\n"
        f"    input.depth_registered: {str(registered).lower()}\n"
    )
    out = tmp_path / "out"
    argv = [str(bag.path), str(out), "--no-grasps", "--params", str(params)]
    assert process_bag.main(argv) == 0
    return [r.decode() for r in read_bag(out, [OUTPUT_DEPTH])]


def _check_beats_the_sensor(bag, outputs: list, raws: dict) -> None:
    """Every output covers >= 99 % of the surfaces in range and has a lower AbsRel than the
    sensor's depth (``raws`` by stamp, in the image) on the pixels where the sensor is valid."""
    gt = bag.truth.depth_m
    cond = PromptConditioningConfig()
    with np.errstate(invalid="ignore"):
        surface = (gt >= cond.min_range_m) & (gt <= cond.max_range_m)
    assert len(outputs) == len(raws)
    images = np.asarray(bag.image_stamps_ns)
    for msg in outputs:
        depth = image_to_depth_m(msg)
        assert depth.shape == gt.shape
        assert coverage(depth, surface) >= 0.99
        # The scan this output came from: the one whose nearest image is the output's.
        image = stamp_ns(msg.header)
        scan = next(s for s in raws if images[np.argmin(np.abs(images - s))] == image)
        sensor_valid = surface & np.isfinite(raws[scan])
        ours = depth_metrics(depth, gt, sensor_valid).absrel
        sensor = depth_metrics(raws[scan], gt, sensor_valid).absrel
        assert ours < sensor, (ours, sensor)


def test_the_bag_holds_what_a_realsense_publishes(room_bag) -> None:
    depth_msgs = [r.decode() for r in read_bag(room_bag.path, [DEPTH_TOPIC])]
    assert len(depth_msgs) == len(room_bag.prompt_stamps_ns) == 3
    info = next(iter(read_bag(room_bag.path, [INFO_TOPIC]))).decode()
    depth_infos = [r.decode() for r in read_bag(room_bag.path, [DEPTH_INFO_TOPIC])]
    assert [stamp_ns(m.header) for m in depth_infos] == [stamp_ns(m.header) for m in depth_msgs]
    assert camera_model_from_msg(depth_infos[0]) == camera_model_from_msg(info)
    gt = room_bag.truth.depth_m
    assert np.isnan(gt).any()  # the open doorway: no surface
    for msg in depth_msgs:
        assert (msg.encoding, msg.width, msg.height) == ("16UC1", 320, 240)
        assert msg.header.frame_id == room_bag.camera_frame
        raw = image_to_depth_m(msg)
        valid = np.isfinite(raw)
        assert 0.5 < valid.mean() < np.isfinite(gt).mean()  # holes at edges and thin parts
        error, z = np.abs(raw[valid] - gt[valid]), gt[valid]
        near, far = z < 2.5, z > 4.0
        # Noise ∝ z² (the model's): faster than z^1.5 (the ratio is about z² here).
        depth_ratio = np.median(z[far]) / np.median(z[near])
        assert np.median(error[far]) / np.median(error[near]) > depth_ratio**1.5
    first, second = (image_to_depth_m(m) for m in depth_msgs[:2])
    assert not np.array_equal(first, second)  # an independent noisy frame each time
    tf = bag_message_counts(room_bag.path)
    assert tf["/tf_static"] == 1
    tf_msg = next(iter(read_bag(room_bag.path, ["/tf_static"]))).decode()
    assert [t.header.frame_id for t in tf_msg.transforms] == [ROOM_FRAME]


def test_process_bag_beats_the_raw_sensor_and_covers_every_surface_in_range(
    room_bag, tmp_path: Path
) -> None:
    """Issue 9's done-when on a room-scale RealSense-like bag, through the node's pipeline."""
    raws = {
        stamp_ns(m.header): image_to_depth_m(m)
        for m in (r.decode() for r in read_bag(room_bag.path, [DEPTH_TOPIC]))
    }
    _check_beats_the_sensor(room_bag, _processed(room_bag, tmp_path, True), raws)


def test_an_unregistered_depth_camera_is_registered_through_tf(tmp_path: Path) -> None:
    """The depth camera in its own frame (wider, 15 mm aside): depth_camera_info + /tf_static."""
    camera = default_camera(320, 240)
    scene = generate_room_scene(np.random.default_rng(4), camera)
    bag = write_scene_bag(
        tmp_path / "in", scene, 0.3, lidar_mode="realsense", seed=4, depth_registered=False
    )
    info = next(iter(read_bag(bag.path, [DEPTH_INFO_TOPIC]))).decode()
    depth_camera = camera_model_from_msg(info)
    assert info.header.frame_id == DEPTH_FRAME and depth_camera.fx < 0.8 * camera.fx
    tf_msg = next(iter(read_bag(bag.path, ["/tf_static"]))).decode()
    assert (DEPTH_FRAME, -0.015) in [
        (t.child_frame_id, t.transform.translation.x) for t in tf_msg.transforms
    ]
    raws = {}  # the sensor's depth moved into the image, as the package registers it
    for msg in (r.decode() for r in read_bag(bag.path, [DEPTH_TOPIC])):
        assert msg.header.frame_id == DEPTH_FRAME
        prompt = DepthImagePrompt(image_to_depth_m(msg), depth_camera, T_CAMERA_DEPTH)
        raws[stamp_ns(msg.header)] = build_raw_prompt(prompt, camera, (240, 320))
    outputs = _processed(bag, tmp_path, False)
    _check_beats_the_sensor(bag, outputs, raws)
    # Taken as registered (the wrong setting), the wider view is misplaced in the image.
    wrong_setting = tmp_path / "as_registered"
    wrong_setting.mkdir()
    wrong = _processed(bag, wrong_setting, True)
    for right_msg, wrong_msg in zip(outputs, wrong, strict=True):
        right_absrel = depth_metrics(image_to_depth_m(right_msg), bag.truth.depth_m).absrel
        wrong_absrel = depth_metrics(image_to_depth_m(wrong_msg), bag.truth.depth_m).absrel
        assert wrong_absrel > 2.0 * right_absrel, (wrong_absrel, right_absrel)


def test_make_bag_writes_room_and_realsense_bags(tmp_path: Path, capsys) -> None:
    small = ["--width", "80", "--height", "60", "--duration", "0.3"]
    argv = [str(tmp_path / "room"), "--scene", "room", "--lidar", "realsense", *small]
    assert make_bag.main(argv) == 0
    assert "3 depth-camera messages" in capsys.readouterr().out
    counts = bag_message_counts(tmp_path / "room")
    assert counts[DEPTH_TOPIC] == counts[DEPTH_INFO_TOPIC] == 3
    assert "/lidar/points" not in counts
    assert make_bag.main([str(tmp_path / "lidar"), "--scene", "room", *small]) == 0
    assert bag_message_counts(tmp_path / "lidar")["/lidar/points"] == 3
    for bad, said in (
        (["--scene", "room", "--plane-distance", "1.0"], "--plane-distance"),
        (["--scene", "room", "--moving-camera"], "tabletop"),
        (["--lidar", "realsense", "--moving-camera"], "cloud LiDAR"),
        (["--depth-unregistered"], "--lidar realsense"),
    ):
        assert make_bag.main([str(tmp_path / "bad"), *bad, *small]) == 2
        assert said in capsys.readouterr().err
        assert not (tmp_path / "bad").exists()
