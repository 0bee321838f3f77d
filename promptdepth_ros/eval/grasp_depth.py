"""Depth sources of the grasp evaluation: ground truth, or a simulated sensor run through the
package's own :class:`~promptdepth_ros.pipeline.depth.DepthPipeline` (projection, conditioning,
fallback, engine), as the depth node runs it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from promptdepth_ros.engines.registry import create_engine
from promptdepth_ros.engines.spec import EngineSpec
from promptdepth_ros.geometry.transforms import invert_transform
from promptdepth_ros.pipeline.depth import DepthPipeline, FrameInput, FrameOutput, PipelineConfig
from promptdepth_ros.prompt.sources import DepthImagePrompt, LidarPrompt, PromptSource
from promptdepth_ros.sim.lidar import simulate_lidar_depth, simulate_lidar_points
from promptdepth_ros.sim.render import RenderedFrame
from promptdepth_ros.sim.scene import TabletopScene

SourceName = Literal["ground_truth", "guided", "guided_lidar"]
SOURCE_NAMES: tuple[SourceName, ...] = ("ground_truth", "guided", "guided_lidar")
DEFAULT_SOURCES: tuple[SourceName, ...] = ("ground_truth", "guided")
IPHONE_HW = (192, 256)  # an iPhone-like LiDAR depth map (rows, cols)
LIDAR_ABOVE_CAMERA_M = 0.05
LIDAR_RINGS = 64
LIDAR_POINTS_PER_RING = 1024

# depth (H, W) float32 metres, or None when the pipeline skipped the frame
DepthSource = Callable[
    [RenderedFrame, TabletopScene, np.random.Generator], NDArray[np.float32] | None
]


def _ground_truth(
    frame: RenderedFrame, scene: TabletopScene, rng: np.random.Generator
) -> NDArray[np.float32] | None:
    return frame.depth_m


def _iphone_prompt(
    frame: RenderedFrame, scene: TabletopScene, rng: np.random.Generator
) -> PromptSource:
    """A low-resolution depth map registered to the camera, with noise, bleeding and holes
    (:data:`IPHONE_HW`, or the image size where that is smaller)."""
    height, width = frame.depth_m.shape
    out_hw = (min(IPHONE_HW[0], height), min(IPHONE_HW[1], width))
    return DepthImagePrompt(simulate_lidar_depth(frame.depth_m, rng, out_hw=out_hw))


def _lidar_prompt(
    frame: RenderedFrame, scene: TabletopScene, rng: np.random.Generator
) -> PromptSource:
    """A ring scan from a LiDAR mounted just above the camera, 1 cm range noise."""
    T_lidar_camera = np.eye(4)
    T_lidar_camera[1, 3] = LIDAR_ABOVE_CAMERA_M  # optical y points down: the LiDAR sits above
    points = simulate_lidar_points(
        frame.depth_m,
        scene.camera,
        T_lidar_camera,
        rng,
        n_rings=LIDAR_RINGS,
        points_per_ring=LIDAR_POINTS_PER_RING,
    )
    return LidarPrompt(points, invert_transform(T_lidar_camera))


def _pipeline_source(
    make_prompt: Callable[[RenderedFrame, TabletopScene, np.random.Generator], PromptSource],
) -> DepthSource:
    """Depth from the guided engine behind the full pipeline, with default settings."""
    pipeline = DepthPipeline(PipelineConfig(), create_engine(EngineSpec(engine="guided")))

    def depth(
        frame: RenderedFrame, scene: TabletopScene, rng: np.random.Generator
    ) -> NDArray[np.float32] | None:
        pipeline.reconfigure(pipeline.config)  # scenes are unrelated: no last good prompt
        rgb, camera = frame.rgb, scene.camera
        output = pipeline.process(FrameInput(0.0, rgb, camera, make_prompt(frame, scene, rng)))
        return output.depth_m if isinstance(output, FrameOutput) else None

    return depth


def depth_source(name: SourceName) -> DepthSource:
    """The depth source called ``name`` (ground_truth; guided: an iPhone-like 256x192 depth
    map; guided_lidar: a 64-ring scan), ready to call once per scene."""
    if name == "ground_truth":
        return _ground_truth
    return _pipeline_source(_iphone_prompt if name == "guided" else _lidar_prompt)
