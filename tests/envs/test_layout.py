"""Layout tokens: one feature vector per agent, object, goal and slab of a scene."""

from dataclasses import replace

import numpy as np
import pytest

from worldsim.envs import parse_prompt, render_palette
from worldsim.envs.layout import (
    COLORS,
    KINDS,
    LAYOUT_DIM,
    MAX_ENTITIES,
    first_frame_score,
    layout_agreement,
    layout_batch,
    layout_features,
)
from worldsim.envs.scene import SceneSpec


def test_each_entity_gets_a_row_with_its_kind_colour_and_place():
    spec = parse_prompt("a red ball in the top left corner and a blue box at the bottom right", seed=0)
    f = layout_features(spec)
    assert f.shape == (MAX_ENTITIES, LAYOUT_DIM) and f.dtype == np.float32
    n = len(spec.agents) + len(spec.objects)
    assert (f[:n] != 0).any(axis=1).all() and not f[n:].any()  # padding rows are zeros
    kinds = [KINDS[i] for i in f[:n, :len(KINDS)].argmax(1)]
    assert kinds == ["agent"] * len(spec.agents) + ["object"] * len(spec.objects)
    colors = f[:, len(KINDS):len(KINDS) + len(COLORS)]
    red, blue = (np.flatnonzero(colors[:, COLORS.index(c)]) for c in ("red", "blue"))
    at = len(KINDS) + len(COLORS) + 3 + 2  # the centre (x, y)
    (x_red, y_red), (x_blue, y_blue) = f[red[0], at:at + 2], f[blue[0], at:at + 2]
    assert x_red < 0 < y_red and y_blue < 0 < x_blue  # top left and bottom right, in arena units
    np.testing.assert_array_equal(layout_features(spec.to_dict()), f)  # a recorded spec gives the same tokens


def test_goal_and_slab_are_entities_too_and_a_batch_follows_the_model():
    spec = parse_prompt("the agent pushes a green box into the goal", seed=1)
    assert spec.goal is not None
    f = layout_features(spec)
    assert f[:, KINDS.index("goal")].sum() == 1
    assert layout_batch([spec, spec], 0) is None  # a model without layout tokens
    assert layout_batch([spec, spec], LAYOUT_DIM).shape == (2, MAX_ENTITIES, LAYOUT_DIM)
    with pytest.raises(ValueError, match="layout features"):
        layout_batch([spec], LAYOUT_DIM + 1)
    slab = parse_prompt("a red ball on the left and a slab in the centre", seed=2)
    assert slab.slab is not None and layout_features(slab)[:, KINDS.index("slab")].sum() == 1
    empty = SceneSpec.from_dict({"agents": [{"pos": [0.0, 0.0]}]})
    assert (layout_features(empty)[1:] == 0).all()
    assert not layout_features({}).any()  # an env that records no spec: no entities


def _render(spec: SceneSpec, seed: int = 0) -> np.ndarray:
    from worldsim.collect import make_env

    env = make_env("WorldSim/Playground-v0")
    obs, _ = env.reset(seed=seed, options={"spec": spec})
    env.close()
    return obs


def test_layout_agreement_ranks_the_scene_it_lays_out_above_other_frames():
    spec = parse_prompt("a red ball in the top left corner and a blue box at the bottom right", seed=0)
    moved = parse_prompt("a red ball at the bottom right and a blue box in the top left corner", seed=0)
    other = parse_prompt("a green cylinder in the centre and a yellow box on the left", seed=0)
    truth, swapped, wrong = _render(spec), _render(moved), _render(other)
    floor = np.broadcast_to(np.median(truth.reshape(-1, 3), axis=0).astype(np.uint8), truth.shape)  # nothing drawn
    scores = layout_agreement(np.stack([truth, swapped, wrong, floor]), spec)
    entities = len(spec.agents) + len(spec.objects)
    assert scores[0] > 2 * entities - 1  # every thing found, in its region, no stray colour
    assert scores[0] > scores[1] > scores[3]  # the right colours in the wrong places beat none at all
    assert scores[0] > scores[2]  # other colours
    agent = np.abs(truth.astype(int) - render_palette()["agent"]).max(-1) < 30  # (H, W)
    twice = truth.copy()
    twice[np.roll(agent, 24, axis=1)] = truth[agent]  # the agent drawn again, further right
    assert layout_agreement(twice[None], spec)[0] < scores[0] - 1

    slab = parse_prompt("a red ball on the left and a slab in the centre", seed=2)
    under = replace(slab, objects=[replace(slab.objects[0], pos=slab.slab.center)])  # MuJoCo hides the ball
    assert layout_agreement(_render(under)[None], under)[0] > 2 * len(under.agents) - 0.1  # not docked for it

    candidates = np.stack([np.stack([wrong, truth, floor]), np.stack([truth, floor, wrong])])  # (2, 3, H, W, 3)
    pick = first_frame_score([spec, other])(candidates)
    assert pick.shape == (2, 3) and pick.argmax(1).tolist() == [1, 2]
    with pytest.raises(ValueError, match="2 scenes"):
        first_frame_score([spec, other])(np.stack([truth[None]]))
