"""Separable resampling: OpenCV INTER_AREA and torch bilinear reproduced without OpenCV."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from promptdepth_ros.engines.resampling import resize_image, resize_weights
from promptdepth_ros.errors import InputError


def test_area_with_integer_factor_equals_torch_area_pooling() -> None:
    image = np.random.default_rng(0).random((12, 18, 3), dtype=np.float32)
    expected = (
        torch.nn.functional.interpolate(
            torch.from_numpy(image).permute(2, 0, 1)[None], size=(4, 6), mode="area"
        )[0]
        .permute(1, 2, 0)
        .numpy()
    )
    np.testing.assert_allclose(resize_image(image, 4, 6, "area"), expected, atol=1e-6)


def test_area_with_fractional_factor_weights_partial_cells_like_opencv() -> None:
    # 5 -> 2 samples: scale 2.5, the middle source pixel is split half/half
    row = np.array([[1.0, 2.0, 4.0, 8.0, 16.0]], dtype=np.float32)
    out = resize_image(row, 1, 2, "area")
    np.testing.assert_allclose(out[0], [(1 + 2 + 0.5 * 4) / 2.5, (0.5 * 4 + 8 + 16) / 2.5])


def test_area_weights_of_1920_to_1008_rows_sum_to_one() -> None:
    weights = resize_weights(1920, 1008, "area").toarray()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)
    assert (np.count_nonzero(weights, axis=1) <= 3).all()  # 1.905 px per cell


def test_area_keeps_a_constant_image_constant() -> None:
    image = np.full((1440, 1920, 3), 0.25, dtype=np.float32)
    out = resize_image(image, 756, 1008, "area")
    assert out.shape == (756, 1008, 3)
    np.testing.assert_allclose(out, 0.25, atol=1e-6)


@pytest.mark.parametrize(("height", "width"), [(7, 9), (40, 30), (13, 13)])
def test_bilinear_equals_torch_bilinear_without_antialias(height: int, width: int) -> None:
    image = np.random.default_rng(1).random((20, 16), dtype=np.float32)
    expected = torch.nn.functional.interpolate(
        torch.from_numpy(image)[None, None],
        size=(height, width),
        mode="bilinear",
        align_corners=False,
    )[0, 0].numpy()
    np.testing.assert_allclose(resize_image(image, height, width, "bilinear"), expected, atol=1e-5)


def test_area_only_shrinks() -> None:
    image = np.random.default_rng(2).random((4, 4), dtype=np.float32)
    with pytest.raises(InputError, match="only shrinks"):
        resize_image(image, 8, 8, "area")


@pytest.mark.parametrize(
    ("src", "dst"),
    [
        ((1440, 1920), (756, 1008)),
        ((480, 640), (476, 630)),
        ((97, 131), (40, 53)),
        ((300, 200), (299, 77)),
    ],
)
def test_area_equals_opencv_inter_area(src: tuple[int, int], dst: tuple[int, int]) -> None:
    cv2 = pytest.importorskip("cv2")
    image = np.random.default_rng(sum(src)).random((*src, 3), dtype=np.float32)
    expected = cv2.resize(image, (dst[1], dst[0]), interpolation=cv2.INTER_AREA)
    np.testing.assert_allclose(resize_image(image, *dst, "area"), expected, atol=2e-6)


def test_empty_image_is_rejected() -> None:
    with pytest.raises(InputError, match="image"):
        resize_image(np.zeros((0, 4), np.float32), 2, 2, "area")


def test_bilinear_resize_uses_pixel_centres_and_is_exact_on_ramps():
    ramp = np.tile(np.arange(4, dtype=np.float32), (2, 1)) + 1.0
    out = resize_image(ramp, 4, 8, "bilinear")
    np.testing.assert_allclose(out[0], [1.0, 1.25, 1.75, 2.25, 2.75, 3.25, 3.75, 4.0])
    np.testing.assert_allclose(out[:, 3], 2.25)
