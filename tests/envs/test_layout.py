"""Layout tokens: one feature vector per agent, object, goal and slab of a scene."""

import numpy as np
import pytest

from worldsim.envs import parse_prompt
from worldsim.envs.layout import COLORS, KINDS, LAYOUT_DIM, MAX_ENTITIES, layout_batch, layout_features
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
