"""Captions: one deterministic sentence that describes a scene spec.

``caption(spec)`` describes what the camera can tell apart: each object's size class, colour, shape
and 3x3 region, the agents' regions, the slab and goal regions, the objects that start moving
(direction in eight steps, "quickly" above :data:`FAST_SPEED`) and the push or reach task, for
example::

    a red box at the top left and a blue ball in the centre; the white agent is at the bottom
    right; the blue ball moves left

Captions are what the world model's text encoder is trained on. :mod:`worldsim.envs.prompt` reads them (and
looser paraphrases) back into specs: ``caption(parse_prompt(caption(spec))) == caption(spec)``.
"""

from __future__ import annotations

import math

from worldsim.envs.scene import SIZE_RANGE, SceneSpec, direction_of, region_of

# Caption quantisation. Sizes are object sizes in metres, speeds in m/s.
SMALL_SIZE = 0.09  # below: "small"
LARGE_SIZE = 0.12  # at or above: "large"
STILL_SPEED = 0.2  # below: not moving (no motion clause)
FAST_SPEED = 0.9  # at or above: "moves quickly"
SIZE_CLASSES = {  # size class -> size range in metres
    "small": (SIZE_RANGE[0], SMALL_SIZE),
    "medium": (SMALL_SIZE, LARGE_SIZE),
    "large": (LARGE_SIZE, SIZE_RANGE[1]),
}
PARSED_SPEEDS = {False: (0.3, 0.8), True: (1.0, 1.4)}  # parsed speed range by "quickly"

SHAPE_NOUNS = {"sphere": "ball", "box": "box", "cylinder": "cylinder"}
_REGION_PHRASE = {"centre": "in the centre", "left": "on the left", "right": "on the right"}
_DEST_PHRASE = {"left": "to the left", "right": "to the right", "up": "to the top", "down": "to the bottom"}
ORDINALS = ("first", "second", "third")




# --------------------------------------------------------------------------------------------
# spec -> caption
# --------------------------------------------------------------------------------------------


def _size_word(size: float) -> str:
    return "small" if size < SMALL_SIZE else ("large" if size >= LARGE_SIZE else "")


def _at(region: str) -> str:
    return _REGION_PHRASE.get(region, f"at the {region}")


def _dest(direction: str) -> str:
    if direction in _DEST_PHRASE:
        return _DEST_PHRASE[direction]
    v, h = direction.split("-")
    return f"to the {'top' if v == 'up' else 'bottom'} {h}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def object_refs(spec: SceneSpec) -> list[str]:
    """Definite references to the objects: "the red box", or "the second red box" for repeats."""
    keys = [(o.color, o.shape) for o in spec.objects]
    refs = []
    for i, (color, shape) in enumerate(keys):
        noun = f"{color} {SHAPE_NOUNS[shape]}"
        if keys.count((color, shape)) == 1:
            refs.append(f"the {noun}")
        else:
            refs.append(f"the {ORDINALS[keys[:i].count((color, shape))]} {noun}")
    return refs


def caption(spec: SceneSpec) -> str:
    """Describe a scene in one deterministic sentence (clauses joined by "; ").

    Args:
        spec: The scene.

    Returns:
        Objects with size class, colour, shape and region; agents' regions; the slab and goal
        regions; initial motion of moving objects; the push or reach task.
    """
    phrases = []
    for obj in spec.objects:
        words = " ".join(w for w in (_size_word(obj.size), obj.color, SHAPE_NOUNS[obj.shape]) if w)
        article = "an" if words[0] in "aeiou" else "a"
        phrases.append(f"{article} {words} {_at(region_of(spec, obj.pos))}")
    clauses = [_join(phrases) if phrases else "an empty arena"]
    clauses.append(_join([f"the {a.color} agent is {_at(region_of(spec, a.pos))}" for a in spec.agents]))
    if spec.slab is not None:
        clauses.append(f"a slab covers the {region_of(spec, spec.slab.center)}")
    if spec.goal is not None:
        clauses.append(f"the goal is {_at(region_of(spec, spec.goal.center))}")
    refs = object_refs(spec)
    for ref, obj in zip(refs, spec.objects):
        speed = math.hypot(*obj.vel)
        if speed >= STILL_SPEED:
            clauses.append(f"{ref} moves {'quickly ' if speed >= FAST_SPEED else ''}{direction_of(obj.vel)}")
    t = spec.task
    if t is not None and t.reach:
        clauses.append(f"the {spec.agents[t.agent].color} agent goes to the goal")
    elif t is not None:
        dest = "into the goal" if t.direction is None else _dest(t.direction)
        clauses.append(f"the {spec.agents[t.agent].color} agent pushes {refs[t.object]} {dest}")
    return "; ".join(clauses)
