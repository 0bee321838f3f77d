"""Front-end benchmark: LiDAR PointCloud2 -> prompt, and depth -> XYZRGB PointCloud2.

Compares our functions with the PointCloud2 reference library (``sensor_msgs_py.point_cloud2``
when importable, else the ``pointcloud2`` package, same API) doing the same task with its own
read/create functions and our projection math, and with Open3D's equivalents.

Usage: python benchmarks/frontend.py [--json] [--repeats N]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import time
from collections.abc import Callable
from functools import partial
from types import ModuleType
from typing import Any

# Open3D's OpenMP threads otherwise keep spinning after each call and slow down whichever
# contender runs next; passive waiting keeps the comparison fair on a small machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
from numpy.lib import recfunctions
from sensor_msgs.msg import PointCloud2, PointField
from std_msgs.msg import Header

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.camera.projection import depth_to_points
from promptdepth_ros.geometry.transforms import (
    make_transform,
    quaternion_to_matrix,
    transform_points,
)
from promptdepth_ros.prompt.projection import project_cloud_to_depth, project_points_to_depth
from promptdepth_ros.ros.convert.image import message_data
from promptdepth_ros.ros.convert.pointcloud import (
    create_xyzrgb_cloud,
    depth_to_xyzrgb_cloud,
    read_xyz,
    xyz_points,
    xyzrgb_fields,
)

PROMPT_HW = (192, 256)
RGB_CAMERA = CameraModel(1920, 1440, 1590.0, 1590.0, 959.5, 719.5, frame_id="camera_optical")
# LiDAR x forward, z up -> camera optical frame (z forward, x right, y down), 5 cm below.
T_CAMERA_LIDAR = make_transform(
    quaternion_to_matrix(-0.5, 0.5, -0.5, 0.5), np.array([0.0, 0.05, 0.0])
)


def load_reference() -> tuple[str, ModuleType]:
    """The PointCloud2 library to compare with, and its name."""
    for name in ("sensor_msgs_py.point_cloud2", "pointcloud2"):
        try:
            return name, importlib.import_module(name)
        except ImportError:
            continue
    raise SystemExit("neither sensor_msgs_py nor the pointcloud2 package is installed")


def load_open3d() -> Any:
    """The open3d module, or None."""
    try:
        return importlib.import_module("open3d")
    except ImportError:
        return None


def lidar_cloud(n_points: int, seed: int = 0) -> PointCloud2:
    """An Ouster-like cloud in the LiDAR frame: x y z intensity (f4), t (u4), ring (u2), pad."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(
        {
            "names": ["x", "y", "z", "intensity", "t", "ring"],
            "formats": ["<f4", "<f4", "<f4", "<f4", "<u4", "<u2"],
            "offsets": [0, 4, 8, 16, 20, 24],
            "itemsize": 32,
        }
    )
    points = np.zeros(n_points, dtype=dtype)
    azimuth = rng.uniform(-np.pi, np.pi, n_points)
    elevation = rng.uniform(-0.4, 0.4, n_points)
    rng_m = rng.uniform(0.5, 20.0, n_points)
    points["x"] = rng_m * np.cos(elevation) * np.cos(azimuth)
    points["y"] = rng_m * np.cos(elevation) * np.sin(azimuth)
    points["z"] = rng_m * np.sin(elevation)
    points["x"][rng.random(n_points) < 0.05] = np.nan  # no return
    points["intensity"] = rng.uniform(0, 1000, n_points)
    msg = PointCloud2()
    msg.height, msg.width = 1, n_points
    msg.fields = [
        PointField(name="x", offset=0, datatype=PointField.FLOAT32, count=1),
        PointField(name="y", offset=4, datatype=PointField.FLOAT32, count=1),
        PointField(name="z", offset=8, datatype=PointField.FLOAT32, count=1),
        PointField(name="intensity", offset=16, datatype=PointField.FLOAT32, count=1),
        PointField(name="t", offset=20, datatype=PointField.UINT32, count=1),
        PointField(name="ring", offset=24, datatype=PointField.UINT16, count=1),
    ]
    msg.point_step, msg.row_step = 32, 32 * n_points
    msg.is_dense = False
    msg.data = message_data(points)
    return msg


def ours_cloud_to_prompt(msg: PointCloud2) -> np.ndarray:
    return project_cloud_to_depth(xyz_points(msg), T_CAMERA_LIDAR, RGB_CAMERA, PROMPT_HW)


def reference_cloud_to_prompt(lib: ModuleType, msg: PointCloud2) -> np.ndarray:
    structured = lib.read_points(msg, field_names=["x", "y", "z"], skip_nans=True)
    xyz = recfunctions.structured_to_unstructured(structured).astype(np.float32)
    return project_points_to_depth(transform_points(T_CAMERA_LIDAR, xyz), RGB_CAMERA, PROMPT_HW)


def open3d_cloud_to_prompt(o3d: Any, msg: PointCloud2) -> np.ndarray:
    camera = RGB_CAMERA.scaled(PROMPT_HW[1], PROMPT_HW[0])
    cloud = o3d.t.geometry.PointCloud(o3d.core.Tensor(read_xyz(msg)))
    image = cloud.project_to_depth_image(
        PROMPT_HW[1],
        PROMPT_HW[0],
        o3d.core.Tensor(camera.K),
        o3d.core.Tensor(T_CAMERA_LIDAR),
        depth_scale=1.0,
        depth_max=100.0,
    )
    return np.asarray(image)


def ours_depth_to_cloud(depth: np.ndarray, rgb: np.ndarray) -> PointCloud2:
    return create_xyzrgb_cloud(Header(), depth_to_points(depth, RGB_CAMERA), rgb)


def reference_depth_to_cloud(lib: ModuleType, depth: np.ndarray, rgb: np.ndarray) -> Any:
    fields = xyzrgb_fields()
    points = np.empty(depth.shape, dtype=lib.dtype_from_fields(fields))
    xyz = depth_to_points(depth, RGB_CAMERA)
    points["x"], points["y"], points["z"] = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    colour = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8)
    points["rgb"] = (colour | rgb[..., 2]).view(np.float32)
    return lib.create_cloud(Header(), fields, points)


def open3d_depth_to_cloud(o3d: Any, depth: np.ndarray, rgb: np.ndarray) -> Any:
    c = RGB_CAMERA
    intrinsic = o3d.camera.PinholeCameraIntrinsic(c.width, c.height, c.fx, c.fy, c.cx, c.cy)
    rgbd = o3d.geometry.RGBDImage.create_from_color_and_depth(
        o3d.geometry.Image(rgb),
        o3d.geometry.Image(np.nan_to_num(depth, nan=0.0)),
        depth_scale=1.0,
        depth_trunc=1000.0,
        convert_rgb_to_intensity=False,
    )
    return o3d.geometry.PointCloud.create_from_rgbd_image(rgbd, intrinsic)


def median_ms(fns: dict[str, Callable[[], object] | None], repeats: int) -> dict[str, Any]:
    """Median wall time in ms of each function (None stays None), measured round-robin.

    Interleaving the contenders (in a rotating order) keeps a change of machine load or
    allocator state from favouring one of them.
    """
    active = {key: fn for key, fn in fns.items() if fn is not None}
    times: dict[str, list[float]] = {key: [] for key in active}
    for fn in active.values():
        fn()  # warm-up: caches, first-touch allocations, lazy imports
    keys = list(active)
    for round_index in range(repeats):
        # Rotate the order so that no contender always runs right after the same one.
        shift = round_index % len(keys)
        for key in keys[shift:] + keys[:shift]:
            fn = active[key]
            start = time.perf_counter()
            fn()
            times[key].append((time.perf_counter() - start) * 1e3)
    return {key: statistics.median(times[key]) if key in times else None for key in fns}


def scene_depth() -> tuple[np.ndarray, np.ndarray]:
    """A 1920x1440 depth (metres, 3 % holes) and RGB image."""
    rng = np.random.default_rng(1)
    v, u = np.mgrid[0:1440, 0:1920]
    depth = (1.0 + 0.5 * np.sin(u / 200.0) + 0.3 * np.cos(v / 150.0)).astype(np.float32)
    depth[rng.random(depth.shape) < 0.03] = np.nan
    rgb = rng.integers(0, 256, (1440, 1920, 3), dtype=np.uint8)
    return depth, rgb


def run(repeats: int) -> tuple[str, list[dict[str, Any]]]:
    """Time every case; returns the reference library name and the result rows."""
    ref_name, lib = load_reference()
    o3d = load_open3d()
    rows = []
    for n_points, label in ((100_000, "100k"), (1_000_000, "1M")):
        msg = lidar_cloud(n_points)
        ours = ours_cloud_to_prompt(msg)
        np.testing.assert_array_equal(reference_cloud_to_prompt(lib, msg), ours)
        timings = median_ms(
            {
                "ours_ms": partial(ours_cloud_to_prompt, msg),
                "sensor_msgs_py_ms": partial(reference_cloud_to_prompt, lib, msg),
                "open3d_ms": None if o3d is None else partial(open3d_cloud_to_prompt, o3d, msg),
            },
            repeats,
        )
        rows.append({"case": f"cloud-to-prompt {label} pts -> 192x256", **timings})
    depth, rgb = scene_depth()
    reference = reference_depth_to_cloud(lib, depth, rgb)
    ours_cases = {
        "depth-to-cloud 1920x1440 (two steps)": lambda: ours_depth_to_cloud(depth, rgb),
        "depth-to-cloud 1920x1440 (fused)": lambda: depth_to_xyzrgb_cloud(
            Header(), depth, RGB_CAMERA, rgb
        ),
    }
    for case, ours_fn in ours_cases.items():
        if bytes(ours_fn().data) != reference.data:
            raise SystemExit(f"{case}: our cloud differs from the reference library's")
        timings = median_ms(
            {
                "ours_ms": ours_fn,
                "sensor_msgs_py_ms": lambda: reference_depth_to_cloud(lib, depth, rgb),
                "open3d_ms": None
                if o3d is None
                else lambda: open3d_depth_to_cloud(o3d, depth, rgb),
            },
            repeats,
        )
        rows.append({"case": case, **timings})
    return ref_name, rows


def print_table(ref_name: str, rows: list[dict[str, Any]]) -> None:
    """Print the rows with ratios peer / ours (> 1 means ours is faster)."""
    print(f"reference PointCloud2 library: {ref_name} (column sensor_msgs_py)")
    print(
        "open3d: read_xyz + t.PointCloud.project_to_depth_image (no lens distortion); "
        "create_from_rgbd_image (an open3d cloud, no PointCloud2 message)"
    )
    head = (
        f"{'case':<46} {'ours ms':>9} {'ref ms':>9} {'ref/ours':>9} {'o3d ms':>9} {'o3d/ours':>9}"
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        ours, ref, o3d = row["ours_ms"], row["sensor_msgs_py_ms"], row["open3d_ms"]
        o3d_text = "n/a" if o3d is None else f"{o3d:9.1f}"
        o3d_ratio = "n/a" if o3d is None else f"{o3d / ours:9.2f}"
        print(
            f"{row['case']:<46} {ours:9.1f} {ref:9.1f} {ref / ours:9.2f} {o3d_text:>9} "
            f"{o3d_ratio:>9}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the rows as JSON last")
    parser.add_argument("--repeats", type=int, default=11, help="timed runs per case (median)")
    args = parser.parse_args()
    ref_name, rows = run(max(1, args.repeats))
    print_table(ref_name, rows)
    if args.json:
        print(json.dumps({"reference": ref_name, "rows": rows}))


if __name__ == "__main__":
    main()
