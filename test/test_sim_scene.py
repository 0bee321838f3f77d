"""Tests of the synthetic tabletop scenes and their ray-cast rendering."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from promptdepth_ros.errors import ConfigError, InputError
from promptdepth_ros.sim.render import camera_rays, render
from promptdepth_ros.sim.scene import (
    Primitive,
    PrimitiveKind,
    TabletopScene,
    default_camera,
    generate_tabletop_scene,
    look_at,
    plane_scene,
)

SEEDS = range(6)


def _rotation(yaw: float, pitch: float) -> np.ndarray:
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    rz = np.array([[cy, -sy, 0.0], [sy, cy, 0.0], [0.0, 0.0, 1.0]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]])
    return rz @ rx


def _pose(yaw: float, pitch: float, t: tuple[float, float, float]) -> np.ndarray:
    pose = np.eye(4)
    pose[:3, :3] = _rotation(yaw, pitch)
    pose[:3, 3] = t
    return pose


SHAPES = [
    Primitive(
        PrimitiveKind.BOX, (0.04, 0.06, 0.1), _pose(0.4, 0.3, (0.1, -0.2, 0.3)), 0, (200, 0, 0)
    ),
    Primitive(
        PrimitiveKind.CYLINDER, (0.03, 0.12), _pose(-1.0, 1.2, (0.0, 0.1, 0.2)), 1, (0, 0, 200)
    ),
    Primitive(PrimitiveKind.SPHERE, (0.035,), _pose(0.0, 0.0, (0.2, 0.2, 0.035)), 2, (0, 200, 0)),
]


@pytest.mark.parametrize("prim", SHAPES, ids=lambda p: p.kind.value)
def test_surface_samples_have_zero_signed_distance_and_offsets_have_the_right_sign(prim):
    rng = np.random.default_rng(0)
    points, normals = prim.sample_surface(3000, rng)
    eps = 1e-3
    np.testing.assert_allclose(prim.signed_distance(points), 0.0, atol=1e-12)
    np.testing.assert_allclose(prim.signed_distance(points + eps * normals), eps, atol=1e-12)
    inside = prim.signed_distance(points - eps * normals)
    assert np.all(inside < 0.0) and np.all(inside >= -eps - 1e-12)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-12)


@pytest.mark.parametrize("prim", SHAPES, ids=lambda p: p.kind.value)
def test_sampled_normals_equal_the_signed_distance_gradient_and_surface_normals(prim):
    points, normals = prim.sample_surface(500, np.random.default_rng(1))
    outside = points + 2e-3 * normals
    h = 1e-6
    grad = np.stack(
        [
            (prim.signed_distance(outside + h * e) - prim.signed_distance(outside - h * e))
            / (2 * h)
            for e in np.eye(3)
        ],
        axis=1,
    )
    np.testing.assert_allclose(grad, normals, atol=1e-5)
    np.testing.assert_allclose(prim.surface_normals(points), normals, atol=1e-9)


@pytest.mark.parametrize("prim", SHAPES, ids=lambda p: p.kind.value)
def test_mesh_vertices_lie_on_the_analytic_surface(prim):
    vertices = np.asarray(prim.to_mesh().vertices)
    np.testing.assert_allclose(prim.signed_distance(vertices), 0.0, atol=1e-9)


def test_primitive_rejects_wrong_number_of_dims():
    with pytest.raises(InputError, match="cylinder needs 2"):
        Primitive(PrimitiveKind.CYLINDER, (0.1,), np.eye(4), 0, (0, 0, 0))


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_objects_rest_on_the_table_with_graspable_sizes(seed):
    scene = generate_tabletop_scene(np.random.default_rng(seed), default_camera())
    assert 3 <= len(scene.objects) <= 6
    half_table = np.asarray(scene.table_extent_m) / 2
    for obj in scene.objects:
        vertices = np.asarray(obj.to_mesh().vertices)
        assert vertices[:, 2].min() == pytest.approx(0.0, abs=1e-9)
        assert 0.03 - 1e-9 <= vertices[:, 2].max() <= 0.15 + 1e-9
        assert np.all(np.abs(vertices[:, :2]) < half_table)
        if obj.kind is PrimitiveKind.BOX:
            assert 0.02 <= min(obj.dims_m[:2]) <= max(obj.dims_m[:2]) <= 0.08
        else:
            assert 0.03 <= 2 * obj.dims_m[0] <= 0.08


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_objects_do_not_interpenetrate(seed):
    scene = generate_tabletop_scene(np.random.default_rng(seed), default_camera())
    rng = np.random.default_rng(100 + seed)
    samples = [obj.sample_surface(5000, rng)[0] for obj in scene.objects]
    for i, j in itertools.permutations(range(len(scene.objects)), 2):
        assert scene.objects[i].signed_distance(samples[j]).min() > -1e-3


def test_touching_fraction_one_makes_objects_touch():
    touching_pairs = 0
    for seed in range(3):
        scene = generate_tabletop_scene(
            np.random.default_rng(seed), default_camera(), touching_fraction=1.0
        )
        rng = np.random.default_rng(seed)
        samples = [obj.sample_surface(5000, rng)[0] for obj in scene.objects]
        for i, j in itertools.combinations(range(len(scene.objects)), 2):
            touching_pairs += scene.objects[i].signed_distance(samples[j]).min() < 3e-3
    assert touching_pairs >= 3


@pytest.mark.parametrize("seed", SEEDS)
def test_camera_looks_down_at_the_workspace_from_half_to_09_metres(seed):
    scene = generate_tabletop_scene(np.random.default_rng(seed), default_camera())
    origin, axis = scene.T_world_camera[:3, 3], scene.T_world_camera[:3, 2]
    elevation = np.degrees(np.arcsin(-axis[2]))
    assert 30.0 <= elevation <= 70.0
    hit = origin + axis * (-origin[2] / axis[2])
    assert 0.5 - 1e-9 <= np.linalg.norm(hit - origin) <= 0.9 + 1e-9
    assert np.all(np.abs(hit[:2]) <= 0.05 + 1e-9)
    np.testing.assert_allclose(
        scene.T_world_camera[:3, :3].T @ scene.T_world_camera[:3, :3], np.eye(3), atol=1e-12
    )
    assert np.linalg.det(scene.T_world_camera[:3, :3]) == pytest.approx(1.0)


def test_generate_rejects_bad_arguments():
    with pytest.raises(ConfigError, match="n_objects"):
        generate_tabletop_scene(np.random.default_rng(0), default_camera(), n_objects=(4, 2))
    with pytest.raises(ConfigError, match="touching_fraction"):
        generate_tabletop_scene(np.random.default_rng(0), default_camera(), touching_fraction=2.0)


def test_default_camera_has_60_degree_horizontal_fov():
    camera = default_camera(640, 480)
    hfov = 2 * np.degrees(np.arctan(camera.width / 2 / camera.fx))
    assert hfov == pytest.approx(60.0)
    assert camera.frame_id == "camera_color_optical_frame"
    assert (camera.cx, camera.cy) == (319.5, 239.5)


def test_plane_scene_renders_the_exact_distance_everywhere():
    frame = render(plane_scene(0.7, default_camera(320, 240)))
    assert np.all(np.isfinite(frame.depth_m))
    np.testing.assert_allclose(frame.depth_m, 0.7, atol=2e-6)
    assert np.all(frame.object_id == -1)
    np.testing.assert_allclose(
        frame.normals_cam, np.broadcast_to([0, 0, -1], (240, 320, 3)), atol=1e-6
    )


def test_rendered_sphere_depth_matches_analytic_ray_sphere_intersection():
    camera = default_camera(320, 240)
    centre, radius = np.array([0.0, 0.0, 0.05]), 0.05
    sphere = Primitive(
        PrimitiveKind.SPHERE, (radius,), _pose(0, 0, tuple(centre)), 0, (90, 90, 200)
    )
    pose = look_at(np.array([0.25, -0.15, 0.3]), centre)
    frame = render(TabletopScene((sphere,), camera, pose, (1.2, 0.8)))
    rays_cam = camera_rays(camera).astype(np.float64)
    rays = rays_cam @ pose[:3, :3].T
    oc = pose[:3, 3] - centre
    b = rays @ oc
    disc = b**2 - (oc @ oc - radius**2)
    t = -b - np.sqrt(np.maximum(disc, 0.0))
    analytic = np.where(disc > 0, t * rays_cam[..., 2], np.nan)
    on_sphere = frame.object_id == 0
    assert on_sphere.sum() > 2000
    mismatch = on_sphere != np.isfinite(analytic)
    assert mismatch.sum() < 0.02 * on_sphere.sum()
    both = on_sphere & np.isfinite(analytic)
    err = np.abs(frame.depth_m[both] - analytic[both])
    assert np.median(err) < 1e-4 and np.percentile(err, 99) < 1e-3


def test_render_is_deterministic_and_consistent():
    scene = generate_tabletop_scene(np.random.default_rng(3), default_camera(320, 240))
    first, second = render(scene), render(scene)
    np.testing.assert_array_equal(first.rgb, second.rgb)
    assert first.rgb.dtype == np.uint8 and first.rgb.shape == (240, 320, 3)
    assert first.depth_m.dtype == np.float32 and first.object_id.dtype == np.int32
    assert set(np.unique(first.object_id)) >= {-1, 0}
    np.testing.assert_array_equal(np.isnan(first.depth_m), first.object_id == -2)
    hit = first.object_id != -2
    facing = np.sum(first.normals_cam[hit] * camera_rays(scene.camera)[hit], axis=1)
    assert np.all(facing < 0.0)
    assert np.all(first.rgb[~hit] == 128)


def test_render_handles_full_resolution_images():
    camera = default_camera(1920, 1440)
    frame = render(generate_tabletop_scene(np.random.default_rng(0), camera))
    assert frame.depth_m.shape == (1440, 1920)
    assert np.isfinite(frame.depth_m).mean() > 0.5
