"""Shared helpers for the engine tests: the real ARKitScenes sample and small random nets."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.typing import NDArray
from PIL import Image

SHARED = Path(__file__).resolve().parents[2] / "shared"
SAMPLE_DIR = SHARED / "data" / "arkitscenes_sample"
FIXTURE_DIR = SHARED / "fixtures" / "promptda_vits_random"

needs_sample = pytest.mark.skipif(
    not (SAMPLE_DIR / "image.jpg").is_file(), reason=f"ARKitScenes sample absent at {SAMPLE_DIR}"
)
needs_fixture = pytest.mark.skipif(
    not (FIXTURE_DIR / "model.ckpt").is_file(), reason=f"PromptDA fixture absent at {FIXTURE_DIR}"
)

torch.set_num_threads(2)


@lru_cache(maxsize=1)
def arkit_sample() -> tuple[NDArray[np.uint8], NDArray[np.float32]]:
    """(1440, 1920, 3) uint8 RGB and (192, 256) float32 LiDAR depth in metres."""
    rgb = np.asarray(Image.open(SAMPLE_DIR / "image.jpg").convert("RGB"))
    depth_mm = np.asarray(Image.open(SAMPLE_DIR / "arkit_depth.png"))
    return rgb, depth_mm.astype(np.float32) / np.float32(1000.0)


def small_arkit_sample(height: int, width: int) -> tuple[NDArray[np.uint8], NDArray[np.float32]]:
    """The ARKit sample resized to height x width (RGB) with its native-resolution prompt."""
    rgb, prompt = arkit_sample()
    small = Image.fromarray(rgb).resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(small), prompt


def generated_scene(
    height: int, width: int, prompt_hw: tuple[int, int], seed: int = 0
) -> tuple[NDArray[np.uint8], NDArray[np.float32]]:
    """A textured synthetic RGB image and a slanted-plane prompt (metres) with 10 % holes."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 128 + 60 * np.sin(xx / 9.0)[..., None] * np.cos(yy / 13.0)[..., None]
    rgb = np.clip(base + rng.normal(0, 20, (height, width, 3)), 0, 255).astype(np.uint8)
    ph, pw = prompt_hw
    prompt = np.linspace(0.8, 2.5, pw, dtype=np.float32)[None, :].repeat(ph, axis=0)
    prompt[rng.random((ph, pw)) < 0.1] = 0.0
    return rgb, prompt
