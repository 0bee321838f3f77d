"""Image message decoding/encoding: every encoding, step padding, big-endian, bad sizes."""

from __future__ import annotations

import array
from types import SimpleNamespace

import numpy as np
import pytest
from std_msgs.msg import Header

from promptdepth_ros.errors import InputError, UnsupportedEncoding
from promptdepth_ros.ros.convert.image import (
    depth_to_mm_image_msg,
    float_to_image_msg,
    image_to_depth_m,
    image_to_rgb,
    rgb_to_image_msg,
)

RNG = np.random.default_rng(7)


def make_image(
    pixels: np.ndarray,
    encoding: str,
    big_endian: bool = False,
    pad: int = 0,
    container: str = "bytes",
) -> SimpleNamespace:
    """An Image-like message whose rows carry ``pad`` garbage bytes after the pixels."""
    height, width = pixels.shape[:2]
    dtype = pixels.dtype.newbyteorder(">" if big_endian else "<")
    rows = pixels.astype(dtype).reshape(height, -1).view(np.uint8)
    padded = np.concatenate([rows, np.full((height, pad), 0xAB, np.uint8)], axis=1)
    raw = padded.tobytes()
    data = {
        "bytes": raw,
        "array": array.array("B", raw),
        "numpy": np.frombuffer(raw, np.uint8).copy(),
    }[container]
    return SimpleNamespace(
        height=height,
        width=width,
        encoding=encoding,
        is_bigendian=int(big_endian),
        step=padded.shape[1],
        data=data,
    )


@pytest.mark.parametrize("container", ["bytes", "array", "numpy"])
@pytest.mark.parametrize(
    ("encoding", "channels", "to_rgb"),
    [
        ("rgb8", 3, lambda p: p),
        ("bgr8", 3, lambda p: p[..., ::-1]),
        ("8UC3", 3, lambda p: p[..., ::-1]),
        ("rgba8", 4, lambda p: p[..., :3]),
        ("bgra8", 4, lambda p: p[..., [2, 1, 0]]),
        ("mono8", 1, lambda p: np.repeat(p, 3, axis=2)),
    ],
)
def test_eight_bit_encodings_decode_to_rgb_with_padded_rows(encoding, channels, to_rgb, container):
    pixels = RNG.integers(0, 256, (5, 7, channels), dtype=np.uint8)
    msg = make_image(pixels, encoding, pad=3, container=container)
    rgb = image_to_rgb(msg)
    assert rgb.shape == (5, 7, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb, to_rgb(pixels))


def test_rgb8_decoding_is_a_view_on_the_message_buffer():
    msg = make_image(
        RNG.integers(0, 256, (4, 6, 3), dtype=np.uint8), "rgb8", pad=2, container="numpy"
    )
    rgb = image_to_rgb(msg)
    assert np.shares_memory(rgb, msg.data)


@pytest.mark.parametrize("big_endian", [False, True])
def test_mono16_keeps_the_high_byte_in_both_byte_orders(big_endian):
    values = np.array([[0, 255, 256, 65535], [4660, 32768, 1, 65280]], np.uint16)[..., None]
    rgb = image_to_rgb(make_image(values, "mono16", big_endian=big_endian, pad=2))
    expected = np.array([[0, 0, 1, 255], [18, 128, 0, 255]], np.uint8)
    np.testing.assert_array_equal(rgb, np.repeat(expected[..., None], 3, axis=2))


def _yuv_reference(y: int, u: int, v: int) -> list[int]:
    """BT.601 video range, written per pixel."""
    c, d, e = y - 16, u - 128, v - 128
    rgb = [1.164 * c + 1.596 * e, 1.164 * c - 0.391 * d - 0.813 * e, 1.164 * c + 2.018 * d]
    return [int(min(255, max(0, round(x)))) for x in rgb]


@pytest.mark.parametrize("encoding", ["yuv422", "yuv422_yuy2"])
def test_yuv422_orders_decode_per_bt601(encoding):
    height, width = 3, 4
    packed = RNG.integers(16, 236, (height, width // 2, 4), dtype=np.uint8)
    msg = make_image(packed.reshape(height, width, 2), encoding, pad=4)
    rgb = image_to_rgb(msg)
    for r in range(height):
        for pair in range(width // 2):
            b0, b1, b2, b3 = (int(b) for b in packed[r, pair])
            if encoding == "yuv422":  # UYVY
                u, y0, v, y1 = b0, b1, b2, b3
            else:  # YUYV
                y0, u, y1, v = b0, b1, b2, b3
            assert rgb[r, 2 * pair].tolist() == _yuv_reference(y0, u, v)
            assert rgb[r, 2 * pair + 1].tolist() == _yuv_reference(y1, u, v)


def test_yuv422_white_black_and_red_are_recognised():
    uyvy = np.array(
        [[[128, 235], [128, 235], [128, 16], [128, 16], [90, 81], [240, 81]]], np.uint8
    )
    rgb = image_to_rgb(make_image(uyvy, "yuv422"))
    assert rgb[0, 0].tolist() == [255, 255, 255]
    assert rgb[0, 2].tolist() == [0, 0, 0]
    assert abs(int(rgb[0, 4, 0]) - 255) <= 1 and rgb[0, 4, 1:].tolist() == [0, 0]


@pytest.mark.parametrize("encoding", ["16UC1", "mono16"])
@pytest.mark.parametrize("big_endian", [False, True])
def test_millimetre_depth_becomes_metres_with_zero_as_nan(encoding, big_endian):
    mm = np.array([[0, 1000, 1500], [65535, 250, 0]], np.uint16)[..., None]
    depth = image_to_depth_m(make_image(mm, encoding, big_endian=big_endian, pad=6))
    assert depth.dtype == np.float32
    expected = np.array([[np.nan, 1.0, 1.5], [65.535, 0.25, np.nan]], np.float32)
    np.testing.assert_allclose(depth, expected, rtol=1e-6)


@pytest.mark.parametrize("big_endian", [False, True])
def test_float_depth_marks_zero_nan_and_inf_as_no_return(big_endian):
    metres = np.array([[0.0, 1.25, np.nan], [np.inf, -np.inf, 7.5]], np.float32)[..., None]
    depth = image_to_depth_m(make_image(metres, "32FC1", big_endian=big_endian, pad=4))
    expected = np.array([[np.nan, 1.25, np.nan], [np.nan, np.nan, 7.5]], np.float32)
    np.testing.assert_array_equal(depth, expected)


def test_unsupported_encoding_names_it_and_the_supported_list():
    msg = make_image(np.zeros((2, 2, 1), np.uint8), "bayer_rggb8")
    with pytest.raises(UnsupportedEncoding, match=r"bayer_rggb8.*rgb8"):
        image_to_rgb(msg)
    with pytest.raises(UnsupportedEncoding, match=r"rgb8.*32FC1"):
        image_to_depth_m(make_image(np.zeros((2, 2, 3), np.uint8), "rgb8"))


def test_truncated_data_and_short_step_raise_input_error():
    msg = make_image(np.zeros((3, 4, 3), np.uint8), "rgb8")
    msg.data = msg.data[:-1]
    with pytest.raises(InputError, match="expected step\\*height"):
        image_to_rgb(msg)
    short = make_image(np.zeros((3, 4, 3), np.uint8), "rgb8")
    short.step = 11
    with pytest.raises(InputError, match="smaller than width"):
        image_to_rgb(short)


@pytest.mark.parametrize(
    ("decode", "encoding", "height", "width"),
    [
        (image_to_depth_m, "16UC1", 0, 0),
        (image_to_depth_m, "32FC1", 4, 0),
        (image_to_rgb, "rgb8", 0, 5),
    ],
)
def test_an_empty_image_is_an_input_error(decode, encoding, height, width):
    msg = SimpleNamespace(
        height=height, width=width, encoding=encoding, is_bigendian=0, step=0, data=b""
    )
    with pytest.raises(InputError, match=f"image is {width}x{height} px; expected at least 1x1"):
        decode(msg)


def test_depth_message_round_trip_keeps_nan_and_values():
    depth = np.array([[1.0, np.nan], [0.5, 12.25]], np.float32)
    header = Header(frame_id="camera_optical_frame")
    msg = float_to_image_msg(depth, header)
    assert (msg.encoding, msg.step, msg.height, msg.width) == ("32FC1", 8, 2, 2)
    assert msg.header.frame_id == "camera_optical_frame"
    np.testing.assert_array_equal(np.frombuffer(msg.data, np.float32).reshape(2, 2), depth)


def test_millimetre_depth_message_rounds_and_zeroes_what_it_cannot_hold():
    depth = np.array([[1.2344, np.nan], [-0.5, 70.0]], np.float32)
    msg = depth_to_mm_image_msg(depth, Header())
    assert (msg.encoding, msg.step) == ("16UC1", 4)
    np.testing.assert_array_equal(
        np.frombuffer(msg.data, np.uint16).reshape(2, 2), [[1234, 0], [0, 0]]
    )
    np.testing.assert_allclose(
        image_to_depth_m(msg), [[1.234, np.nan], [np.nan, np.nan]], rtol=1e-6
    )


@pytest.mark.parametrize("encoding", ["rgb8", "bgr8"])
def test_rgb_message_round_trip(encoding):
    rgb = RNG.integers(0, 256, (3, 5, 3), dtype=np.uint8)
    msg = rgb_to_image_msg(rgb, Header(), encoding)
    assert msg.encoding == encoding and msg.step == 15
    np.testing.assert_array_equal(image_to_rgb(msg), rgb)


def test_encoders_reject_wrong_arrays():
    with pytest.raises(InputError, match="2-D float"):
        float_to_image_msg(np.zeros((2, 2), np.uint16), Header())
    with pytest.raises(InputError, match="2-D float"):
        depth_to_mm_image_msg(np.zeros((2, 2, 1), np.float32), Header())
    with pytest.raises(InputError, match="uint8"):
        rgb_to_image_msg(np.zeros((2, 2, 3), np.float32), Header())
    with pytest.raises(UnsupportedEncoding, match="mono8"):
        rgb_to_image_msg(np.zeros((2, 2, 3), np.uint8), Header(), "mono8")
