"""Generated bags with fisheye, wide-angle and rectified (P) cameras through process-bag."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.ros.bag import read_bag
from promptdepth_ros.ros.convert.camera_info import camera_model_from_msg
from promptdepth_ros.ros.convert.image import image_to_depth_m
from promptdepth_ros.ros.scene_bag import INFO_TOPIC, write_scene_bag
from promptdepth_ros.sim.lenses import fisheye_camera, raw_calibration, wide_angle_camera
from promptdepth_ros.sim.render import camera_rays, render
from promptdepth_ros.sim.scene import default_camera, generate_tabletop_scene, plane_scene
from promptdepth_ros.tools import process_bag

LENSES = {
    "fisheye": (fisheye_camera(160, 120), None),
    "wide_angle": (wide_angle_camera(160, 120), None),
    "rectified": (default_camera(160, 120), raw_calibration(default_camera(160, 120))),
}


@pytest.mark.parametrize("camera", [fisheye_camera(160, 120), wide_angle_camera(160, 120)])
def test_a_distorted_render_sees_a_plane_at_its_distance(camera: CameraModel) -> None:
    frame = render(plane_scene(0.8, camera))
    seen = np.isfinite(frame.depth_m)
    assert seen.mean() > 0.8
    np.testing.assert_allclose(frame.depth_m[seen], 0.8, atol=1e-5)


@pytest.mark.parametrize("lens", sorted(LENSES))
def test_process_bag_gives_depth_and_points_in_the_lens_model(lens: str, tmp_path: Path) -> None:
    camera, raw = LENSES[lens]
    scene = generate_tabletop_scene(np.random.default_rng(5), camera)
    bag = write_scene_bag(tmp_path / "in", scene, duration_s=0.4, raw_camera=raw)
    info = next(iter(read_bag(bag.path, [INFO_TOPIC]))).decode()
    model = camera_model_from_msg(info)  # a rectified image's P, not its raw K
    np.testing.assert_allclose(model.K, camera.K)
    assert model.distortion == (camera.distortion or (0.0,) * 5)
    assert raw is None or not np.allclose(np.reshape(info.k, (3, 3)), camera.K)
    out = tmp_path / "out"
    assert process_bag.main([str(bag.path), str(out), "--no-grasps"]) == 0
    truth = bag.truth.depth_m
    topics = ["/prompt_depth_node/depth", "/prompt_depth_node/points"]
    records = [record.decode() for record in read_bag(out, topics)]
    depths = [image_to_depth_m(msg) for msg in records if msg.__class__.__name__ == "Image"]
    assert len(depths) == len(bag.prompt_stamps_ns)
    for depth in depths:
        both = np.isfinite(depth) & np.isfinite(truth)
        assert both.sum() >= 0.99 * np.isfinite(truth).sum()
        assert np.median(np.abs(depth[both] - truth[both]) / truth[both]) < 0.03
    cloud = next(msg for msg in records if msg.__class__.__name__ == "PointCloud2")
    xyzrgb = np.frombuffer(bytes(cloud.data), np.float32).reshape(120, 160, 4)
    rays = camera_rays(camera)
    seen = np.isfinite(xyzrgb[..., 2])
    directions = xyzrgb[seen, :3] / np.linalg.norm(xyzrgb[seen, :3], axis=1, keepdims=True)
    np.testing.assert_allclose(directions, rays[seen], atol=1e-4)  # unprojected with the lens


def test_make_bag_writes_lens_and_moving_camera_bags(tmp_path: Path, capsys) -> None:
    from promptdepth_ros.ros.bag import bag_message_counts
    from promptdepth_ros.tools import make_bag

    small = ["--width", "80", "--height", "60", "--duration", "0.3"]
    assert make_bag.main([str(tmp_path / "fish"), "--lens", "fisheye", *small]) == 0
    info = next(iter(read_bag(tmp_path / "fish", [INFO_TOPIC]))).decode()
    assert info.distortion_model == "equidistant"
    assert make_bag.main([str(tmp_path / "arm"), "--moving-camera", *small]) == 0
    assert bag_message_counts(tmp_path / "arm")["/tf"] >= 30  # 100 Hz over 0.3 s
    bad = [str(tmp_path / "bad"), "--moving-camera", "--lens", "rectified", *small]
    assert make_bag.main(bad) == 2
    assert "unrectified" in capsys.readouterr().err
