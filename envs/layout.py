"""A scene's layout as tokens: one feature vector per agent, object, goal and slab.

A model with ``DiTConfig.layout_dim`` draws a first frame that attends to these tokens as well as to
the caption (layout grounding, as GLIGEN gives an image model boxes and phrases): what each thing
is, its colour, shape and size, and where it is. The features come from a :class:`SceneSpec`, so a
parsed prompt (:func:`worldsim.envs.parse_prompt`) and a recorded episode (its ``spec``) give the same
tokens for the same scene::

    features = layout_features(parse_prompt("a red ball in the top left corner", seed=0))  # (K, LAYOUT_DIM)

Rows past the scene's entities are zeros; a real entity's row never is (its kind is one-hot).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from worldsim.envs.scene import (
    AGENT_COLORS,
    AGENT_PALETTE_NAMES,
    AGENT_RADIUS,
    IMAGE_SIZE,
    MAX_OBJECTS,
    PALETTE,
    SHAPES,
    SceneSpec,
    footprint_half,
    pixel_to_world,
    pixels_per_metre,
    region_of,
    render_palette,
    render_scenery_colors,
    slab_cover_fraction,
    world_to_pixel,
)

KINDS = ("agent", "object", "goal", "slab")
COLORS = (*PALETTE, *AGENT_COLORS)
MAX_AGENTS = len(AGENT_COLORS)
MAX_ENTITIES = MAX_AGENTS + MAX_OBJECTS + 2  # agents, objects, a goal and a slab
FREQUENCIES = (1.0, 2.0, 4.0, 8.0)  # of the sin/cos position features, in cycles across the arena
#: How many times its disc an agent's colour may cover before it counts as drawn more than once.
AGENT_SPREAD = 1.6
LAYOUT_DIM = len(KINDS) + len(COLORS) + len(SHAPES) + 2 + 2 + 4 * len(FREQUENCIES)
#: A row's columns of its centre (x, y): its half extent comes just before, its sines then cosines after.
CENTRE = len(KINDS) + len(COLORS) + len(SHAPES) + 2


def layout_features(spec: SceneSpec | dict[str, Any]) -> np.ndarray:
    """The layout tokens of a scene, float32 ``(MAX_ENTITIES, LAYOUT_DIM)``.

    Each row holds: the kind (one-hot), the colour (one-hot; none for a goal or slab), the shape
    (one-hot; objects only), the half extent along x and y and the centre (x, y), both in units of
    the arena's half size, and sin/cos of the centre at :data:`FREQUENCIES`. An empty spec (an episode
    of an env that records none) has no entities: all rows are zeros.
    """
    out = np.zeros((MAX_ENTITIES, LAYOUT_DIM), np.float32)
    if isinstance(spec, dict) and not spec:
        return out
    spec = SceneSpec.from_dict(spec)
    if len(spec.agents) > MAX_AGENTS or len(spec.objects) > MAX_OBJECTS:
        raise ValueError(f"a layout holds at most {MAX_AGENTS} agents and {MAX_OBJECTS} objects, got "
                         f"{len(spec.agents)} and {len(spec.objects)}")
    half = spec.arena.half_size
    rows = [("agent", a.color, None, (AGENT_RADIUS, AGENT_RADIUS), a.pos) for a in spec.agents]
    rows += [("object", o.color, o.shape, (o.size, o.size), o.pos) for o in spec.objects]
    if spec.goal is not None:
        rows.append(("goal", None, None, (spec.goal.half_size, spec.goal.half_size), spec.goal.center))
    if spec.slab is not None:
        rows.append(("slab", None, None, spec.slab.half_size, spec.slab.center))
    for i, (kind, color, shape, extent, pos) in enumerate(rows):
        f = out[i]
        f[KINDS.index(kind)] = 1.0
        at = len(KINDS)
        if color is not None:
            f[at + COLORS.index(color)] = 1.0
        at += len(COLORS)
        if shape is not None:
            f[at + SHAPES.index(shape)] = 1.0
        xy = np.asarray(pos, np.float64) / half
        f[CENTRE - 2:CENTRE] = np.asarray(extent, np.float64) / half
        f[CENTRE:CENTRE + 2] = xy
        angles = np.pi * np.outer(FREQUENCIES, xy).ravel()  # (2 * len(FREQUENCIES),)
        f[CENTRE + 2:] = np.concatenate([np.sin(angles), np.cos(angles)])
    return out


def mirror_layout(features: np.ndarray) -> np.ndarray:
    """Layout tokens ``(..., LAYOUT_DIM)`` of the same scene turned half a turn about the arena's centre:
    every centre (x, y) becomes (-x, -y), and so the sines of its position features change sign. What
    each entity is and its size are kept."""
    out = np.array(features, dtype=np.float32, copy=True)
    out[..., CENTRE:CENTRE + 2 + 2 * len(FREQUENCIES)] *= -1  # the centre and the sines
    return out


def layout_batch(specs: list[SceneSpec | dict[str, Any]], width: int) -> np.ndarray | None:
    """Layout tokens ``(N, K, LAYOUT_DIM)`` of the scenes a batch of first frames should show, or None for
    a model that reads no layout (``width``, its ``DiTConfig.layout_dim``, is 0)."""
    if not width:
        return None
    if width != LAYOUT_DIM:
        raise ValueError(f"the model reads {width} layout features; this worldsim writes {LAYOUT_DIM}")
    return np.stack([layout_features(s) for s in specs])


def layout_agreement(frames: np.ndarray, spec: SceneSpec | dict[str, Any]) -> np.ndarray:
    """How well each frame shows the scene ``spec`` lays out, float ``(n,)`` for uint8 ``(n, H, W, 3)``.

    The frame's objects are found by colour, as ``worldsim check`` finds them. Each agent and object
    of the scene scores 1 when its colour is in the frame and 1 more when it lies in the scene's
    3x3 region for it; each object colour the scene does not have costs 1, and so does an agent
    whose colour covers more than :data:`AGENT_SPREAD` times its disc (drawn more than once). An
    object mostly under the slab counts for nothing either way, as MuJoCo hides it. Between
    frames that tie, the one whose objects lie nearer their laid-out places scores higher (by less than 1).
    """
    from worldsim import metrics

    spec = SceneSpec.from_dict(spec)
    wanted = {AGENT_PALETTE_NAMES[a.color]: a.pos for a in spec.agents}
    wanted.update({o.color: o.pos for o in spec.objects})
    # an object mostly under the slab may be shown or hidden: it neither scores nor costs
    hidden = {o.color for o in spec.objects if slab_cover_fraction(spec.slab, o.pos, footprint_half(o)) > 0.5}
    agent_disc = np.pi * (AGENT_RADIUS * pixels_per_metre(spec)) ** 2
    found = metrics.detect_objects(np.asarray(frames), render_palette(),
                                   background=tuple(render_scenery_colors().values()))
    score = np.zeros(len(frames))
    miss = np.zeros(len(frames))  # summed distance to the laid-out places, in image widths
    for k, name in enumerate(found.names):
        centroids, present = found.centroids[:, k], found.visible[:, k]  # (n, 2), (n,)
        if name in hidden:
            continue
        if name not in wanted:
            score -= present
            continue
        target = np.asarray(wanted[name], float)
        placed = np.array([ok and region_of(spec, pixel_to_world(spec, c - 0.5)) == region_of(spec, target)
                           for ok, c in zip(present, centroids)], dtype=bool)
        if name in AGENT_PALETTE_NAMES.values():
            spread = found.pixels[:, k] > AGENT_SPREAD * agent_disc
            placed &= ~spread
            score -= spread
        score += present.astype(float) + placed  # (bool + bool would be "or")
        gap = np.hypot(*(centroids - 0.5 - world_to_pixel(spec, target)).T) / IMAGE_SIZE
        miss += np.where(present, np.minimum(gap, 1.0), 1.0)
    return score - 0.5 * miss / max(len(wanted), 1)


def first_frame_score(specs: Sequence[SceneSpec | dict[str, Any]]) -> Callable[[np.ndarray], np.ndarray]:
    """A ``first_frame_score`` for :meth:`worldsim.simulator.Simulator.reset`: candidates
    ``(N, c, H, W, 3)`` scored ``(N, c)`` by :func:`layout_agreement` with the N scenes ``specs``
    (for prompts, the parsed ones), so the first frame kept is the one that best shows the scene."""
    specs = [SceneSpec.from_dict(s) for s in specs]

    def score(candidates: np.ndarray) -> np.ndarray:
        if len(candidates) != len(specs):
            raise ValueError(f"got first-frame candidates for {len(candidates)} rollouts, and {len(specs)} scenes")
        return np.stack([layout_agreement(c, spec) for c, spec in zip(candidates, specs)])

    return score
