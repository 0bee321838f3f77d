"""promptdepth-make-bag: write a generated tabletop (or plane) scene as a rosbag2 for replay."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from promptdepth_ros.ros.scene_bag import write_scene_bag
from promptdepth_ros.sim.scene import default_camera, generate_tabletop_scene, plane_scene
from promptdepth_ros.tools.cli import add_debug_option, run_tool


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
        choices=("cloud", "depth"),
        default="cloud",
        help="LiDAR as PointCloud2 (/lidar/points) or depth image (/lidar/depth)",
    )
    p.add_argument(
        "--plane-distance",
        type=float,
        help="a fronto-parallel plane at this distance (m) instead of a tabletop",
    )
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=480)
    add_debug_option(p)
    args = p.parse_args(argv)
    return run_tool(lambda: write_bag(args), args.debug)


def write_bag(args: argparse.Namespace) -> int:
    """Generate the scene, write the bag, say what it holds."""
    camera = default_camera(args.width, args.height)
    scene = (
        plane_scene(args.plane_distance, camera)
        if args.plane_distance
        else generate_tabletop_scene(np.random.default_rng(args.seed), camera)
    )
    bag = write_scene_bag(
        args.output,
        scene,
        args.duration,
        args.camera_hz,
        args.lidar_hz,
        args.lidar,
        seed=args.seed,
    )
    print(
        f"wrote {bag.path}: {len(bag.image_stamps_ns)} images, "
        f"{len(bag.prompt_stamps_ns)} LiDAR messages, {len(scene.objects)} objects"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
