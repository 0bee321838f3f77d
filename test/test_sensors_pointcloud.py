"""PointCloud2 reading over random layouts (vs struct.unpack) and XYZRGB cloud writing."""

from __future__ import annotations

import struct
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sensor_msgs.msg import PointField
from std_msgs.msg import Header

from promptdepth_ros.camera.model import CameraModel
from promptdepth_ros.camera.projection import depth_to_points
from promptdepth_ros.errors import InputError, UnsupportedEncoding
from promptdepth_ros.ros.convert.pointcloud import (
    create_xyzrgb_cloud,
    depth_to_xyzrgb_cloud,
    read_xyz,
    xyz_points,
)

FLOAT = st.one_of(
    st.floats(-1e6, 1e6, width=32),
    st.sampled_from([float("nan"), float("inf"), float("-inf")]),
)


@st.composite
def layouts(draw):
    """A random cloud: field order, types, gaps, padding, byte order, organisation, values."""
    fields, offset = [], 0
    if draw(st.booleans()):  # the usual layout: x, y, z adjacent float32 somewhere in the point
        names = draw(st.sampled_from([["xyz", "intensity"], ["intensity", "xyz"]]))
    else:
        names = draw(st.permutations(["x", "y", "z", "intensity"]))
    for name in names:
        offset += draw(st.integers(0, 5))
        if name == "xyz":
            fields += [(axis, offset + 4 * i, PointField.FLOAT32) for i, axis in enumerate("xyz")]
            offset += 12
            continue
        datatype = draw(st.sampled_from([PointField.FLOAT32, PointField.FLOAT64]))
        fields.append((name, offset, datatype))
        offset += 4 if datatype == PointField.FLOAT32 else 8
    point_step = offset + draw(st.integers(0, 7))
    height = draw(st.integers(1, 4))
    width = draw(st.integers(0, 6))
    row_step = width * point_step + draw(st.integers(0, 9))
    big = draw(st.booleans())
    values = draw(
        st.lists(
            st.lists(FLOAT, min_size=4, max_size=4),
            min_size=height * width,
            max_size=height * width,
        )
    )
    return fields, point_step, height, width, row_step, big, values


def pack_cloud(fields, point_step, height, width, row_step, big, values) -> SimpleNamespace:
    """Brute-force serialisation with struct.pack; padding bytes are 0xEE."""
    order = ">" if big else "<"
    data = bytearray(b"\xee" * (row_step * height))
    for i, point in enumerate(values):
        row, col = divmod(i, width)
        base = row * row_step + col * point_step
        for (_, offset, datatype), value in zip(fields, point, strict=True):
            fmt = order + ("f" if datatype == PointField.FLOAT32 else "d")
            struct.pack_into(fmt, data, base + offset, value)
    return SimpleNamespace(
        height=height,
        width=width,
        is_bigendian=big,
        point_step=point_step,
        row_step=row_step,
        data=bytes(data),
        is_dense=False,
        fields=[SimpleNamespace(name=n, offset=o, datatype=d, count=1) for n, o, d in fields],
    )


def unpack_reference(msg) -> np.ndarray:
    """x, y, z of finite points read back one by one with struct.unpack."""
    order = ">" if msg.is_bigendian else "<"
    by_name = {f.name: f for f in msg.fields}
    points = []
    for row in range(msg.height):
        for col in range(msg.width):
            base = row * msg.row_step + col * msg.point_step
            point = []
            for name in "xyz":
                f = by_name[name]
                fmt = order + ("f" if f.datatype == PointField.FLOAT32 else "d")
                point.append(struct.unpack_from(fmt, msg.data, base + f.offset)[0])
            if all(np.isfinite(point)):
                points.append(point)
    return np.array(points, dtype=np.float32).reshape(-1, 3)


@settings(max_examples=300, deadline=None)
@given(layouts())
def test_read_xyz_matches_struct_unpack_for_any_layout(layout):
    msg = pack_cloud(*layout)
    xyz = read_xyz(msg)
    assert xyz.dtype == np.float32 and xyz.shape[1] == 3
    np.testing.assert_array_equal(xyz, unpack_reference(msg))


@settings(max_examples=200, deadline=None)
@given(layouts())
def test_xyz_points_are_every_point_and_a_view_for_the_usual_layout(layout):
    msg = pack_cloud(*layout)
    points = xyz_points(msg)
    finite = np.isfinite(points).all(axis=1)
    np.testing.assert_array_equal(points[finite].astype(np.float32), unpack_reference(msg))
    names = [f.name for f in msg.fields]
    offsets = {f.name: f.offset for f in msg.fields}
    usual = (
        names[names.index("x") : names.index("x") + 3] == ["x", "y", "z"]
        and all(f.datatype == PointField.FLOAT32 for f in msg.fields if f.name in "xyz")
        and (offsets["y"], offsets["z"]) == (offsets["x"] + 4, offsets["x"] + 8)  # adjacent
    )
    unpadded = msg.height == 1 or msg.row_step == msg.width * msg.point_step
    if usual and unpadded and msg.width > 0:
        assert points.shape == (msg.height * msg.width, 3)
        assert np.shares_memory(points, np.frombuffer(msg.data, np.uint8))


def test_missing_z_field_is_unsupported():
    msg = pack_cloud([("x", 0, 7), ("y", 4, 7)], 8, 1, 2, 16, False, [[1, 2], [3, 4]])
    with pytest.raises(UnsupportedEncoding, match="x, y, z"):
        read_xyz(msg)


def test_integer_coordinates_are_unsupported():
    msg = pack_cloud([("x", 0, 7), ("y", 4, 7), ("z", 8, 7)], 12, 1, 1, 12, False, [[1, 2, 3]])
    msg.fields[2].datatype = PointField.INT32
    with pytest.raises(UnsupportedEncoding, match="FLOAT32"):
        read_xyz(msg)


def test_truncated_cloud_data_is_an_input_error():
    msg = pack_cloud(
        [("x", 0, 7), ("y", 4, 7), ("z", 8, 7)], 12, 1, 2, 24, False, [[1, 2, 3], [4, 5, 6]]
    )
    msg.data = msg.data[:-4]
    with pytest.raises(InputError, match="row_step\\*height"):
        read_xyz(msg)


@pytest.mark.parametrize(("height", "width"), [(1, 1), (0, 0)])
@pytest.mark.parametrize("point_step", [2**31, 2**32 - 1])
def test_a_point_step_beyond_numpy_records_is_an_input_error(height, width, point_step):
    msg = pack_cloud([("x", 0, 7), ("y", 4, 7), ("z", 8, 7)], 12, 1, 1, 12, False, [[1, 2, 3]])
    msg.height, msg.width, msg.point_step = height, width, point_step
    with pytest.raises(InputError, match=f"point_step {point_step} is not a point size"):
        read_xyz(msg)


def test_xyzrgb_cloud_is_organised_pcl_layout_with_nan_kept():
    xyz = np.array(
        [[[1.0, 2.0, 3.0], [np.nan, np.nan, np.nan]], [[-1.0, 0.5, 4.0], [0.0, 0.0, 0.25]]],
        np.float32,
    )
    rgb = np.array([[[255, 0, 0], [1, 2, 3]], [[0, 255, 0], [16, 32, 64]]], np.uint8)
    msg = create_xyzrgb_cloud(Header(frame_id="cam"), xyz, rgb)
    assert (msg.height, msg.width, msg.point_step, msg.row_step) == (2, 2, 16, 32)
    assert [(f.name, f.offset, f.datatype) for f in msg.fields] == [
        ("x", 0, 7),
        ("y", 4, 7),
        ("z", 8, 7),
        ("rgb", 12, 7),
    ]
    assert msg.is_dense is False and msg.header.frame_id == "cam"
    raw = bytes(msg.data)
    for i in range(4):
        x, y, z, colour = struct.unpack_from("<fffI", raw, 16 * i)
        r, c = divmod(i, 2)
        np.testing.assert_array_equal([x, y, z], xyz[r, c])
        assert colour == (int(rgb[r, c, 0]) << 16) | (int(rgb[r, c, 1]) << 8) | int(rgb[r, c, 2])
    np.testing.assert_array_equal(read_xyz(msg), xyz.reshape(-1, 3)[[0, 2, 3]])


def test_xyzrgb_cloud_rejects_mismatched_colour():
    with pytest.raises(InputError, match="rgb must be"):
        create_xyzrgb_cloud(
            Header(), np.zeros((2, 2, 3), np.float32), np.zeros((2, 3, 3), np.uint8)
        )


def test_fused_depth_cloud_equals_backproject_then_create():
    """150 rows: written in bands of 64, the last one short."""
    camera = CameraModel(6, 150, 5.0, 5.0, 2.5, 75.0, "plumb_bob", (-0.1, 0.01, 0.0, 0.001, 0.0))
    depth = np.random.default_rng(4).uniform(0.5, 2.0, (150, 6)).astype(np.float32)
    depth[1, 2] = depth[140, 3] = np.nan
    rgb = np.random.default_rng(5).integers(0, 256, (150, 6, 3), dtype=np.uint8)
    fused = depth_to_xyzrgb_cloud(Header(), depth, camera, rgb)
    separate = create_xyzrgb_cloud(Header(), depth_to_points(depth, camera), rgb)
    assert bytes(fused.data) == bytes(separate.data)
    assert (fused.height, fused.width, fused.row_step) == (150, 6, 96)


def test_a_held_cloud_is_never_overwritten_and_a_dropped_ones_buffer_is_reused():
    camera = CameraModel(7, 5, 5.0, 5.0, 3.0, 2.0)
    rng = np.random.default_rng(8)

    def inputs():
        depth = rng.uniform(0.5, 2.0, (5, 7)).astype(np.float32)
        depth[rng.random((5, 7)) < 0.2] = np.nan
        return depth, rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)

    depth, rgb = inputs()
    first = depth_to_xyzrgb_cloud(Header(), depth, camera, rgb)
    kept = bytes(first.data)
    second_inputs = inputs()
    second = depth_to_xyzrgb_cloud(Header(), second_inputs[0], camera, second_inputs[1])
    assert bytes(first.data) == kept
    buffer_id = id(second.data)
    del second
    depth, rgb = inputs()
    third = depth_to_xyzrgb_cloud(Header(), depth, camera, rgb)
    assert id(third.data) == buffer_id  # the dropped cloud's buffer, written over
    expected = create_xyzrgb_cloud(Header(), depth_to_points(depth, camera), rgb)
    assert bytes(third.data) == bytes(expected.data)
