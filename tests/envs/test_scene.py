"""Scene specs: serialisation, sampling, MJCF layout, pixel geometry and rendered colours."""

from __future__ import annotations

import json
import math

import mujoco
import numpy as np
import pytest

from worldsim.envs.scene import (
    FAMILIES,
    IMAGE_SIZE,
    MAX_OBJECTS,
    PALETTE,
    REACH_MIN_START,
    REGIONS,
    AgentSpec,
    ArenaSpec,
    Body,
    ObjectSpec,
    SceneSpec,
    SlabSpec,
    direction_of,
    pixel_to_world,
    region_bounds,
    region_of,
    render_palette,
    render_scenery_colors,
    slab_cover_fraction,
    world_to_pixel,
)


def _render(spec: SceneSpec) -> np.ndarray:
    model = mujoco.MjModel.from_xml_string(spec.to_mjcf())
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    with mujoco.Renderer(model, IMAGE_SIZE, IMAGE_SIZE) as renderer:
        renderer.update_scene(data, camera="top")
        return renderer.render()  # (64, 64, 3)


def _mask(frame: np.ndarray, rgb: tuple[int, int, int], tol: int = 40) -> np.ndarray:
    return np.abs(frame.astype(int) - np.array(rgb)).sum(-1) < tol  # (64, 64)


@pytest.mark.parametrize("family", FAMILIES)
def test_sample_is_valid_and_seeded(family: str) -> None:
    for seed in range(20):
        spec = SceneSpec.sample(np.random.default_rng(seed), family)
        assert spec == SceneSpec.sample(np.random.default_rng(seed), family)
        assert (0 if family == "reach" else 1) <= len(spec.objects) <= (2 if family == "reach" else MAX_OBJECTS)
        assert len({o.color for o in spec.objects}) == len(spec.objects)  # distinct colours
        assert len(spec.agents) == (2 if family == "twoagents" else 1)
        bodies = [Body.of(b) for b in [*spec.agents, *spec.objects]]
        for i, a in enumerate(bodies):
            assert np.all(np.abs(a.xy) + a.half <= spec.arena.half_size)
            assert not any(a.overlaps(b, gap=0.0) for b in bodies[i + 1 :])
    assert SceneSpec.sample(np.random.default_rng(0), "pushbox").goal is not None
    assert SceneSpec.sample(np.random.default_rng(0), "occlusion").slab is not None
    for seed in range(20):
        reach = SceneSpec.sample(np.random.default_rng(seed), "reach")
        assert reach.task.reach and all(math.hypot(*o.vel) == 0 for o in reach.objects)
        assert np.linalg.norm(np.subtract(reach.agents[0].pos, reach.goal.center)) >= REACH_MIN_START


@pytest.mark.parametrize("family", FAMILIES)
def test_dict_round_trip_is_json_safe(family: str) -> None:
    spec = SceneSpec.sample(np.random.default_rng(3), family)
    data = json.loads(json.dumps(spec.to_dict()))
    assert SceneSpec.from_dict(data) == spec


def test_invalid_specs_say_what_to_use() -> None:
    with pytest.raises(ValueError, match="red"):
        ObjectSpec("box", "black", 0.1, 1.0, (0.0, 0.0))
    with pytest.raises(ValueError, match="cylinder"):
        ObjectSpec("cone", "red", 0.1, 1.0, (0.0, 0.0))
    with pytest.raises(ValueError, match="allowed"):
        SceneSpec.from_dict({**SceneSpec.sample(np.random.default_rng(0)).to_dict(), "colour": 1})
    with pytest.raises(ValueError, match="at most"):
        SceneSpec([AgentSpec((0, 0))], [ObjectSpec("box", "red", 0.1, 1.0, (0.0, 0.0))] * 4)


def test_padded_mjcf_has_one_layout_per_agent_count() -> None:
    rng = np.random.default_rng(0)
    sizes = set()
    for family in ("playground", "pushbox", "occlusion"):
        for _ in range(5):
            model = mujoco.MjModel.from_xml_string(SceneSpec.sample(rng, family).to_mjcf(slots=MAX_OBJECTS))
            sizes.add((model.nbody, model.ngeom, model.nq, model.nu, model.nbvh))
    assert len(sizes) == 1


def test_world_to_pixel_corners_and_inverse() -> None:
    arena = ArenaSpec()
    v = arena.view_half
    np.testing.assert_allclose(world_to_pixel(arena, (-v, v)), [-0.5, -0.5])
    np.testing.assert_allclose(world_to_pixel(arena, (v, -v)), [IMAGE_SIZE - 0.5, IMAGE_SIZE - 0.5])
    pts = np.random.default_rng(0).uniform(-1, 1, size=(10, 2))
    np.testing.assert_allclose(pixel_to_world(arena, world_to_pixel(arena, pts)), pts)


def test_rendered_objects_sit_at_their_pixel_position_and_size() -> None:
    objects = [
        ObjectSpec("box", "red", 0.07, 1.0, (-0.6, 0.5)),  # smallest
        ObjectSpec("sphere", "blue", 0.14, 1.0, (0.4, -0.3)),  # largest
        ObjectSpec("cylinder", "yellow", 0.1, 1.0, (0.55, 0.6)),
    ]
    spec = SceneSpec([AgentSpec((-0.5, -0.6))], objects)
    frame = _render(spec)
    assert frame.shape == (IMAGE_SIZE, IMAGE_SIZE, 3) and frame.dtype == np.uint8
    for obj in objects:
        rows, cols = np.nonzero(_mask(frame, PALETTE[obj.color]))
        col, row = world_to_pixel(spec, obj.pos)
        assert abs(cols.mean() - col) < 0.5 and abs(rows.mean() - row) < 0.5
        width = cols.max() - cols.min() + 1
        assert 4 <= width <= 8, (obj, width)
    rows, cols = np.nonzero(_mask(frame, render_palette()["agent"], tol=60))
    assert 4 <= cols.max() - cols.min() + 1 <= 8
    assert abs(cols.mean() - world_to_pixel(spec, (-0.5, -0.6))[0]) < 0.5


def test_slab_hides_what_is_under_it() -> None:
    slab = SlabSpec((0.0, 0.0), (0.3, 0.3))
    spec = SceneSpec([AgentSpec((-0.7, -0.7))], [ObjectSpec("box", "green", 0.1, 1.0, (0.0, 0.0))], slab=slab)
    frame = _render(spec)
    assert not _mask(frame, PALETTE["green"]).any()
    assert _mask(frame, render_scenery_colors()["slab"], tol=10).sum() > 250
    assert slab_cover_fraction(slab, (0.0, 0.0), 0.1) == 1.0
    assert slab_cover_fraction(slab, (0.3, 0.0), 0.1) == pytest.approx(0.5)
    assert slab_cover_fraction(None, (0.0, 0.0), 0.1) == 0.0


def test_render_palette_is_measured_and_separable() -> None:
    pal = render_palette()
    assert set(pal) == {*PALETTE, "agent", "agent2"}
    for name, rgb in PALETTE.items():  # flat lighting keeps colours near nominal
        assert np.abs(np.subtract(pal[name], rgb)).max() <= 25, name
    colors = np.array(list(pal.values()) + list(render_scenery_colors().values()), dtype=float)
    dists = np.linalg.norm(colors[:, None] - colors[None], axis=-1) + np.eye(len(colors)) * 1e9
    assert dists.min() > 40


def test_regions_and_directions() -> None:
    arena = ArenaSpec()
    for region in REGIONS:
        x0, x1, y0, y1 = region_bounds(arena, region)
        assert region_of(arena, ((x0 + x1) / 2, (y0 + y1) / 2)) == region
    assert region_of(arena, (-0.9, 0.9)) == "top left"
    assert region_of(arena, (0.0, -0.9)) == "bottom"
    assert direction_of((1.0, 0.05)) == "right"
    assert direction_of((-1.0, 1.0)) == "up-left"
    assert direction_of((0.0, -2.0)) == "down"


def test_a_scene_refuses_positions_outside_its_arena():
    from worldsim.envs import AgentSpec, ObjectSpec, SceneSpec

    far = ObjectSpec(shape="box", color="red", size=0.1, mass=1.0, pos=(1e6, -1e6))
    with pytest.raises(ValueError, match="outside the arena"):
        SceneSpec(agents=(AgentSpec(pos=(0.0, 0.0)),), objects=(far,))
    with pytest.raises(ValueError, match="agent 0 .* outside the arena"):
        SceneSpec(agents=(AgentSpec(pos=(0.0, 1.5)),), objects=())
