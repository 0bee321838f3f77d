"""promptdepth-make-bag: write a generated tabletop, room or plane scene as a rosbag2."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from promptdepth_ros.errors import ConfigError
from promptdepth_ros.ros.arm_bag import write_eye_in_hand_bag
from promptdepth_ros.ros.scene_bag import PROMPT_MODES, write_scene_bag
from promptdepth_ros.sim.lenses import fisheye_camera, raw_calibration, wide_angle_camera
from promptdepth_ros.sim.room import RoomScene, generate_room_scene
from promptdepth_ros.sim.scene import (
    TabletopScene,
    default_camera,
    generate_tabletop_scene,
    plane_scene,
)
from promptdepth_ros.tools.cli import add_debug_option, run_tool

LENSES = {
    "pinhole": default_camera,
    "fisheye": fisheye_camera,
    "wide-angle": wide_angle_camera,
    "rectified": default_camera,
}


def main(argv: list[str] | None = None) -> int:
    """Write the bag and print what it holds."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("output", type=Path, help="bag directory to create (must not exist)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--duration", type=float, default=3.0, help="seconds")
    p.add_argument("--camera-hz", type=float, default=30.0)
    p.add_argument("--lidar-hz", type=float, default=10.0)
    p.add_argument(
        "--lidar",
        choices=PROMPT_MODES,
        default="cloud",
        help="prompt sensor: LiDAR as PointCloud2 (/lidar/points) or depth image (/lidar/depth), "
        "or a RealSense-like stereo depth camera (16UC1 on /lidar/depth registered to the "
        "camera, /lidar/depth_camera_info; at --lidar-hz)",
    )
    p.add_argument(
        "--depth-unregistered",
        action="store_true",
        help="--lidar realsense in its own frame (camera_depth_optical_frame, 15 mm aside in "
        "/tf_static) with its own 87 deg intrinsics: process with input.depth_registered false",
    )
    p.add_argument(
        "--scene",
        choices=("tabletop", "room"),
        default="tabletop",
        help="objects on a table, or a furnished room (depths 1-6 m, an open doorway)",
    )
    p.add_argument(
        "--plane-distance",
        type=float,
        help="a fronto-parallel plane at this distance (m) instead of a tabletop",
    )
    p.add_argument(
        "--lens",
        choices=tuple(LENSES),
        default="pinhole",
        help="camera model: rectified pinhole, equidistant fisheye (150 deg), plumb_bob wide "
        "angle, or a rectified image whose CameraInfo K is the raw calibration (P used)",
    )
    p.add_argument(
        "--moving-camera",
        action="store_true",
        help="eye-in-hand: the camera on an arm moving at 0.5 m/s (/tf at 100 Hz), the LiDAR "
        "fixed to base_link (cloud LiDAR; not with --lens rectified)",
    )
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=480)
    add_debug_option(p)
    args = p.parse_args(argv)
    return run_tool(lambda: write_bag(args), args.debug)


def write_bag(args: argparse.Namespace) -> int:
    """Generate the scene, write the bag, say what it holds."""
    camera = LENSES[args.lens](args.width, args.height)
    raw = raw_calibration(camera) if args.lens == "rectified" else None
    rng = np.random.default_rng(args.seed)
    scene: TabletopScene | RoomScene
    if args.plane_distance and args.scene == "room":
        raise ConfigError("--plane-distance replaces the scene; it takes no --scene room")
    if args.plane_distance:
        scene = plane_scene(args.plane_distance, camera)
    elif args.scene == "room":
        scene = generate_room_scene(rng, camera)
    else:
        scene = generate_tabletop_scene(rng, camera)
    if args.depth_unregistered and args.lidar != "realsense":
        raise ConfigError("--depth-unregistered takes --lidar realsense")
    if args.moving_camera:
        if args.lidar != "cloud" or args.lens == "rectified" or isinstance(scene, RoomScene):
            raise ConfigError(
                "--moving-camera takes a tabletop, a cloud LiDAR and an unrectified lens"
            )
        bag = write_eye_in_hand_bag(
            args.output, scene, None, args.duration, args.camera_hz, args.lidar_hz, seed=args.seed
        )
    else:
        bag = write_scene_bag(
            args.output,
            scene,
            args.duration,
            args.camera_hz,
            args.lidar_hz,
            args.lidar,
            seed=args.seed,
            raw_camera=raw,
            depth_registered=not args.depth_unregistered,
        )
    things = (
        f"{len(scene.furniture)} furniture parts"
        if isinstance(scene, RoomScene)
        else f"{len(scene.objects)} objects"
    )
    sensor = "depth-camera" if args.lidar == "realsense" else "LiDAR"
    print(
        f"wrote {bag.path}: {len(bag.image_stamps_ns)} images, "
        f"{len(bag.prompt_stamps_ns)} {sensor} messages, {things}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
