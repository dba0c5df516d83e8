"""Captions from scene specs, and a prompt parser that turns templated text back into a spec.

``caption(spec)`` is deterministic and describes what the camera can tell apart: each object's
size class, colour, shape and 3x3 region, the agents' regions, the slab and goal regions, the
objects that start moving (direction in eight steps, "quickly" above :data:`FAST_SPEED`) and the
push task, for example::

    a red box at the top left and a blue ball in the centre; the white agent is at the bottom
    right; the blue ball moves left

``parse_prompt(text, seed)`` reads those captions and looser paraphrases ("there is a cube in the
upper left", "two red spheres", "the agent pushes the box to the left"). Whatever the text leaves
out (positions inside a region, sizes inside a size class, masses, unnamed colours or shapes, or
the objects themselves) is drawn from ``seed``, so a prompt and a seed give exactly one scene, and
``caption(parse_prompt(caption(spec))) == caption(spec)``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from envs.scene import (
    AGENT_COLORS,
    AGENT_RADIUS,
    DIRECTIONS,
    MASS_RANGE,
    MAX_OBJECTS,
    PALETTE,
    SHAPES,
    SIZE_RANGE,
    AgentSpec,
    ArenaSpec,
    Body,
    GoalSpec,
    ObjectSpec,
    SceneSpec,
    SlabSpec,
    TaskSpec,
    direction_of,
    direction_vector,
    place,
    region_bounds,
    region_of,
)

# Caption quantisation. Sizes are object sizes in metres, speeds in m/s.
SMALL_SIZE = 0.09  # below: "small"
LARGE_SIZE = 0.12  # at or above: "large"
STILL_SPEED = 0.2  # below: not moving (no motion clause)
FAST_SPEED = 0.9  # at or above: "moves quickly"
_SIZE_BUCKETS = {
    "small": (SIZE_RANGE[0], SMALL_SIZE),
    "medium": (SMALL_SIZE, LARGE_SIZE),
    "large": (LARGE_SIZE, SIZE_RANGE[1]),
}
_SPEEDS = {False: (0.3, 0.8), True: (1.0, 1.4)}  # parsed speed range by "quickly"

SHAPE_NOUNS = {"sphere": "ball", "box": "box", "cylinder": "cylinder"}
_REGION_PHRASE = {"centre": "in the centre", "left": "on the left", "right": "on the right"}
_DEST_PHRASE = {"left": "to the left", "right": "to the right", "up": "to the top", "down": "to the bottom"}
_ORDINALS = ("first", "second", "third")


class PromptError(ValueError):
    """A prompt uses a colour, shape, count or layout that scenes cannot represent."""


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
            refs.append(f"the {_ORDINALS[keys[:i].count((color, shape))]} {noun}")
    return refs


def caption(spec: SceneSpec) -> str:
    """Describe a scene in one deterministic sentence (clauses joined by "; ").

    Args:
        spec: The scene.

    Returns:
        Objects with size class, colour, shape and region; agents' regions; the slab and goal
        regions; initial motion of moving objects; the push task.
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
    if spec.task is not None:
        t = spec.task
        dest = "into the goal" if t.direction is None else _dest(t.direction)
        clauses.append(f"the {spec.agents[t.agent].color} agent pushes {refs[t.object]} {dest}")
    return "; ".join(clauses)


# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    return set(text.split())


def _to(value: str, text: str) -> dict[str, str]:
    return dict.fromkeys(text.split(), value)


_COLOR_WORDS = (
    {c: c for c in PALETTE} | _to("magenta", "purple violet fuchsia") | _to("cyan", "aqua turquoise")
)
_UNSUPPORTED_COLORS = _words(
    "black grey gray brown pink white silver gold golden teal navy maroon beige lime indigo "
    "olive tan crimson "
    "scarlet amber ivory khaki dark light"
)
_SHAPE_WORDS = (
    _to("sphere", "ball balls sphere spheres orb orbs marble marbles")
    | _to("box", "box boxes cube cubes block blocks crate crates")
    | _to("cylinder", "cylinder cylinders can cans puck pucks disc discs disk disks drum drums")
)
_GENERIC_NOUNS = _words("object objects thing things shape shapes item items toy toys one")
_UNSUPPORTED_SHAPES = _words(
    "pyramid pyramids cone cones capsule capsules torus ring rings star stars triangle "
    "triangles ellipsoid egg "
    "eggs donut prism tetrahedron rod stick plank"
)
_COUNTS = {"a": 1, "an": 1, "one": 1, "single": 1, "the": 1, "another": 1, "two": 2, "both": 2, "three": 3}
_COUNTS |= {"1": 1, "2": 2, "3": 3}
_UNSUPPORTED_COUNTS = _words(
    "four five six seven eight nine ten several many multiple few dozen dozens lots zero no 0 "
    "numerous hundred"
)
_SIZES = (
    _to("small", "small tiny little smaller")
    | _to("large", "big large huge bigger larger")
    | {"medium": "medium"}
)
_AGENT_NOUNS = _words("agent agents robot robots player players")
_SLAB_NOUNS = _words("slab occluder roof bridge canopy cover shelter tunnel platform overhang")
_PUSH_VERBS = _words(
    "push pushes pushing pushed shove shoves shoving nudge nudges nudging kick kicks kicking "
    "drive drives driving"
)
_MOTION_VERBS = _words(
    "move moves moving roll rolls rolling slide slides sliding go goes going travel travels "
    "travelling traveling "
    "head heads heading drift drifts drifting glide glides gliding fly flies flying bring brings bringing"
)
_STILL_WORDS = _words("still stationary static resting rest motionless")
_FAST_WORDS = _words("quickly fast rapidly quick swiftly speeding")
_PREPOSITIONS = _words("at on in near by inside within towards toward to into onto")
_VERTICAL = _to("top", "top up upwards upward north") | _to("bottom", "bottom down downwards downward south")
_HORIZONTAL = _to("left", "left leftwards leftward west") | _to("right", "right rightwards rightward east")
_CENTRE_WORDS = _words("centre central centrally")
_FILLERS = _words(
    "there is are with also plus we have has see i scene arena world room contains containing "
    "that which who of "
    "here too as well just only other more sits sitting lies lying placed located stands "
    "standing corner side "
    "edge part area half now please be should will can round"
)


def _supported(kind: str) -> str:
    if kind == "colour":
        return (
            f"supported colours: {', '.join(PALETTE)} (also purple/violet = magenta, aqua/turquoise = cyan; "
            "agents are white and pink)"
        )
    if kind == "shape":
        return "supported shapes: ball/sphere, box/cube/block, cylinder/can/puck (or object/thing for any)"
    return f"supported counts: a/an/one, two, three (at most {MAX_OBJECTS} objects in a scene)"


def _normalise(text: str) -> str:
    t = text.lower().replace("center", "centre").replace("middle", "centre")
    t = re.sub(r"\bupper\b", "top", t)
    t = re.sub(r"\blower\b", "bottom", t)
    t = re.sub(r"(\w)'s\b", r"\1 is", t)  # there's -> there is
    t = re.sub(r"[-_/]", " ", t)
    t = re.sub(
        r"\b(up|down|upwards|downwards|upward|downward)\s+and\s+(?:to\s+the\s+)?(left|right)\b", r"\1 \2", t
    )
    t = re.sub(r"\b(left|right)\s+and\s+(up|down)\b", r"\2 \1", t)
    return t


def _split(text: str) -> list[list[str]]:
    parts = re.split(r"[;,.!?:]|\b(?:and|while|then|but|under|beneath|below|underneath)\b", text)
    return [p.split() for p in parts if p.split()]


# --------------------------------------------------------------------------------------------
# Prompt -> draft
# --------------------------------------------------------------------------------------------


@dataclass
class _Noun:
    """A noun phrase: "two small red balls", "the second box", "it"."""

    count: int | None = None
    size: str | None = None
    color: str | None = None
    shape: str | None = None
    ordinal: int | None = None
    pronoun: bool = False
    plural: bool = False
    generic: bool = False  # "object", "thing": any shape

    @property
    def found(self) -> bool:
        """Whether anything in the phrase was recognised."""
        return self.generic or any(
            v is not None for v in (self.count, self.size, self.color, self.shape, self.ordinal)
        )


@dataclass
class _ObjDraft:
    color: str | None = None
    shape: str | None = None
    size: str | None = None
    region: str | None = None
    direction: str | None = None  # None: still
    fast: bool = False


@dataclass
class _Draft:
    objects: list[_ObjDraft] = field(default_factory=list)
    agent_regions: list[str | None] = field(default_factory=lambda: [None])
    slab: bool = False
    slab_region: str | None = None
    goal: bool = False
    goal_region: str | None = None
    task: tuple[int, int, str | None, bool] | None = None  # (agent, object, direction, random direction)
    empty: bool = False

    def add_object(self, obj: _ObjDraft) -> int:
        if len(self.objects) >= MAX_OBJECTS:
            raise PromptError(
                f"the prompt describes more than {MAX_OBJECTS} objects; a scene holds at most {MAX_OBJECTS}. "
                + _supported("count")
            )
        self.objects.append(obj)
        return len(self.objects) - 1

    def ensure_agents(self, n: int) -> None:
        if n > len(AGENT_COLORS):
            raise PromptError(f"scenes have one or two agents ({' and '.join(AGENT_COLORS)}), not {n}")
        while len(self.agent_regions) < n:
            self.agent_regions.append(None)


def _read_word(noun: _Noun, w: str, last: bool) -> str | None:
    """Fold one word into a noun phrase; returns the word if it is an unknown candidate head noun."""
    if w == "pair":
        noun.count = 2
    elif w in _COUNTS and noun.count is None and noun.color is None and noun.shape is None:
        noun.count = _COUNTS[w]
    elif w in _UNSUPPORTED_COUNTS or (w.isdigit() and w not in _COUNTS):
        raise PromptError(f"unsupported count {w!r}; {_supported('count')}")
    elif w in _ORDINALS:
        noun.ordinal = _ORDINALS.index(w) + 1
    elif w in _SIZES:
        noun.size = _SIZES[w]
    elif w in _COLOR_WORDS:
        noun.color = _COLOR_WORDS[w]
    elif w in _UNSUPPORTED_COLORS:
        raise PromptError(f"unknown colour {w!r}; {_supported('colour')}")
    elif w in _SHAPE_WORDS or w in _GENERIC_NOUNS:
        noun.shape = _SHAPE_WORDS.get(w, noun.shape)
        noun.plural = noun.plural or w.endswith("s")
        noun.generic = noun.generic or w in _GENERIC_NOUNS
    elif w in _UNSUPPORTED_SHAPES:
        raise PromptError(f"unknown shape {w!r}; {_supported('shape')}")
    elif w in ("it", "its", "itself"):
        noun.pronoun = True
    elif last and w not in _FILLERS:
        return w
    return None


def _read_noun(tokens: list[str]) -> _Noun:
    noun = _Noun()
    heads = [_read_word(noun, w, i == len(tokens) - 1) for i, w in enumerate(tokens)]
    head_unknown = heads[-1] if heads else None
    if head_unknown is not None and noun.shape is None and (noun.count or noun.color or noun.size):
        raise PromptError(f"unknown shape {head_unknown!r}; {_supported('shape')}")
    return noun


def _read_region(tokens: list[str]) -> str | None:
    v = next((_VERTICAL[w] for w in tokens if w in _VERTICAL), None)
    h = next((_HORIZONTAL[w] for w in tokens if w in _HORIZONTAL), None)
    if v and h:
        return f"{v} {h}"
    if v or h:
        return v or h
    return "centre" if any(w in _CENTRE_WORDS for w in tokens) else None


def _read_direction(tokens: list[str]) -> str | None:
    region = _read_region(tokens)
    if region is None or region == "centre":
        return None
    words = region.replace("top", "up").replace("bottom", "down").split()
    return "-".join(words)


def _split_at(tokens: list[str], stop: set[str]) -> tuple[list[str], list[str]]:
    for i, w in enumerate(tokens):
        if w in stop:
            return tokens[:i], tokens[i:]
    return tokens, []


def _resolve(draft: _Draft, noun: _Noun) -> int:
    """Index of the object a definite noun phrase refers to; a new object when none matches."""
    if noun.pronoun or not (noun.color or noun.shape or noun.size or noun.ordinal):
        if not draft.objects:
            raise PromptError("the prompt refers to an object ('it', 'the object') before describing any")
        return len(draft.objects) - 1
    cands = [
        i
        for i, o in enumerate(draft.objects)
        if (noun.color is None or o.color == noun.color)
        and (noun.shape is None or o.shape == noun.shape)
        and (noun.size is None or o.size == noun.size)
    ]
    k = (noun.ordinal or 1) - 1
    if k < len(cands):
        return cands[k]
    return draft.add_object(_ObjDraft(color=noun.color, shape=noun.shape, size=noun.size))


def _agent_index(draft: _Draft, tokens: list[str]) -> int:
    if "pink" in tokens or any(w in tokens for w in ("second", "other", "another")):
        draft.ensure_agents(2)
        return 1
    for w in tokens:
        if w in _COLOR_WORDS or (w in _UNSUPPORTED_COLORS and w != "white"):
            raise PromptError(f"agents are white (first) and pink (second), not {w!r}")
    return 0


def _clause_agent(draft: _Draft, tokens: list[str]) -> None:
    counts = [w for w in tokens if w in _COUNTS or w in _UNSUPPORTED_COUNTS or w.isdigit()]
    n = max((_COUNTS.get(w, 99) for w in counts), default=1)
    if n > len(AGENT_COLORS) or any(w in _UNSUPPORTED_COUNTS for w in counts):
        raise PromptError(
            f"scenes have one or two agents ({' and '.join(AGENT_COLORS)}); got {' '.join(tokens)!r}"
        )
    if n == 2 or any(w in ("agents", "robots", "players") for w in tokens):
        draft.ensure_agents(2)
    subject, rest = _split_at(tokens, _PREPOSITIONS | _MOTION_VERBS)
    region = _read_region(rest if not set(rest) & _MOTION_VERBS else _split_at(rest, _MOTION_VERBS)[0])
    if region is not None:
        draft.agent_regions[_agent_index(draft, subject)] = region
    else:
        _agent_index(draft, subject)


def _clause_object(draft: _Draft, tokens: list[str]) -> None:
    phrase, motion = _split_at(tokens, _MOTION_VERBS)
    phrase, location = _split_at(phrase, _PREPOSITIONS | set(_VERTICAL) | set(_HORIZONTAL) | _CENTRE_WORDS)
    noun = _read_noun(phrase)
    if not noun.found:
        return  # nothing we can use (e.g. "please")
    region = _read_region(location)
    direction, fast = _read_direction(motion), bool(set(tokens) & _FAST_WORDS)
    if phrase and phrase[0] == "the" and noun.count in (None, 1) and not noun.plural:
        i = _resolve(draft, noun)  # "the red box is at the left": update that object
        obj = draft.objects[i]
        obj.region = region or obj.region
        if direction is not None:
            obj.direction, obj.fast = direction, fast
        return
    count = noun.count or (2 if noun.plural else 1)
    for _ in range(count):
        draft.add_object(_ObjDraft(noun.color, noun.shape, noun.size, region, direction, fast))


def _clause_motion(draft: _Draft, tokens: list[str]) -> None:
    subject, motion = _split_at(tokens, _MOTION_VERBS | _STILL_WORDS)
    obj = draft.objects[_resolve(draft, _read_noun(subject))]
    if set(tokens) & _STILL_WORDS or "not" in tokens:
        obj.direction = None
        return
    direction = _read_direction(motion)
    if direction is not None:
        obj.direction, obj.fast = direction, bool(set(tokens) & _FAST_WORDS)


def _clause_task(draft: _Draft, tokens: list[str]) -> None:
    verbs = _PUSH_VERBS | _MOTION_VERBS
    subject, rest = _split_at(tokens, verbs)
    agent = _agent_index(draft, subject)
    target, dest = _split_at(rest[1:], _PREPOSITIONS | set(_VERTICAL) | set(_HORIZONTAL) | {"goal"})
    noun = _read_noun(target)
    obj = _resolve(draft, noun) if noun.found or noun.pronoun else _resolve(draft, _Noun(shape="box"))
    if "goal" in dest:
        draft.goal = True
        draft.task = (agent, obj, None, False)
    else:
        direction = _read_direction(dest)
        draft.task = (agent, obj, direction, direction is None)


def _classify(tokens: list[str]) -> str:
    words = set(tokens)
    has_object_word = bool(words & (set(_SHAPE_WORDS) | set(_COLOR_WORDS) | {"it", "object", "thing"}))
    if words & _PUSH_VERBS or (words & _AGENT_NOUNS and words & _MOTION_VERBS and has_object_word):
        return "task"
    if words & _AGENT_NOUNS:
        return "agent"
    if words & _SLAB_NOUNS:
        return "slab"
    if "goal" in words:
        return "goal"
    if "empty" in words:
        return "empty"
    starts_ref = tokens[0] in ("the", "it", "its") or tokens[0] in _MOTION_VERBS
    if starts_ref and (words & _MOTION_VERBS or words & _STILL_WORDS):
        return "motion"
    return "object"


def _read_prompt(text: str) -> _Draft:
    if not isinstance(text, str) or not text.strip():
        raise PromptError("the prompt is empty; describe a scene, e.g. 'a red box and a blue ball'")
    draft = _Draft()
    deferred = []
    for tokens in _split(_normalise(text)):
        kind = _classify(tokens)
        if kind in ("task", "motion"):
            deferred.append((kind, tokens))
        elif kind == "agent":
            _clause_agent(draft, tokens)
        elif kind == "slab":
            draft.slab, draft.slab_region = True, _read_region(tokens) or draft.slab_region
        elif kind == "goal":
            draft.goal, draft.goal_region = True, _read_region(tokens) or draft.goal_region
        elif kind == "empty":
            draft.empty = True
        else:
            _clause_object(draft, tokens)
    for kind, tokens in deferred:
        (_clause_task if kind == "task" else _clause_motion)(draft, tokens)
    return draft


# --------------------------------------------------------------------------------------------
# Draft -> spec (sampling whatever the prompt left out)
# --------------------------------------------------------------------------------------------


def _fill_objects(draft: _Draft, rng: np.random.Generator) -> list[_ObjDraft]:
    objs = list(draft.objects)
    if not objs and not draft.empty:
        objs = [_ObjDraft() for _ in range(int(rng.integers(1, MAX_OBJECTS + 1)))]
    for o in objs:
        if o.color is None:
            used = {p.color for p in objs}
            free = [c for c in PALETTE if c not in used] or list(PALETTE)
            o.color = str(rng.choice(free))
        if o.shape is None:
            o.shape = str(rng.choice(SHAPES))
    return objs


def _sample_size(rng: np.random.Generator, bucket: str | None) -> float:
    lo, hi = _SIZE_BUCKETS[bucket or "medium"]  # no size word means medium, as in captions
    return float(rng.uniform(lo + 0.002, hi - 0.002))


def _sample_velocity(rng: np.random.Generator, o: _ObjDraft) -> tuple[float, float]:
    if o.direction is None:
        return (0.0, 0.0)
    angle = math.atan2(*direction_vector(o.direction)[::-1]) + rng.uniform(-0.3, 0.3)
    speed = rng.uniform(*_SPEEDS[o.fast])
    return (speed * math.cos(angle), speed * math.sin(angle))


def _push_room_bounds(
    arena: ArenaSpec, direction: np.ndarray, ahead: float = 0.6, behind: float = 0.45
) -> tuple[float, ...]:
    """Bounds for an object's centre that leave room to push it along ``direction`` (metres
    ``ahead`` of it) and room for the agent to stand ``behind`` it."""
    h = arena.half_size
    lo = [-h + ahead * max(0.0, -d) + behind * max(0.0, d) for d in direction]
    hi = [h - ahead * max(0.0, d) - behind * max(0.0, -d) for d in direction]
    return (lo[0], hi[0], lo[1], hi[1])


def _fail(what: str, region: str | None) -> PromptError:
    where = f"the {region}" if region else "the arena"
    return PromptError(f"could not fit {what} into {where}; spread the objects over more regions")


def _place_in(
    rng: np.random.Generator,
    arena: ArenaSpec,
    half: float,
    square: bool,
    placed: list[Body],
    region: str | None,
    slab: SlabSpec | None,
    bounds: tuple[float, ...] | None = None,
) -> np.ndarray | None:
    if region is not None:
        bounds = region_bounds(arena, region)
    xy = place(rng, arena, half, square, placed, bounds=bounds, avoid=slab)
    if xy is None:
        xy = place(rng, arena, half, square, placed, bounds=bounds)
    return xy


def _make_spec(draft: _Draft, rng: np.random.Generator) -> SceneSpec:
    arena = ArenaSpec()
    objs = _fill_objects(draft, rng)
    sizes = [_sample_size(rng, o.size) for o in objs]
    masses = [float(rng.uniform(*MASS_RANGE)) for _ in objs]
    vels = [_sample_velocity(rng, o) for o in objs]
    task = draft.task
    if task is not None and task[3]:
        task = (task[0], task[1], str(rng.choice(DIRECTIONS)), False)
    slab = None
    if draft.slab:
        hs = rng.uniform(0.15, 0.3, size=2)
        lim = arena.half_size - hs
        lo, hi = -lim, lim
        if draft.slab_region is not None:
            b = region_bounds(arena, draft.slab_region)
            lo = np.maximum(lo, [b[0] + 0.02, b[2] + 0.02])
            hi = np.minimum(hi, [b[1] - 0.02, b[3] - 0.02])
        c = rng.uniform(lo, hi)
        slab = SlabSpec(center=(c[0], c[1]), half_size=(hs[0], hs[1]))
    placed: list[Body] = []
    goal = None
    if draft.goal and draft.goal_region is not None:
        g = _place_in(rng, arena, 0.15, True, placed, draft.goal_region, None)
        if g is None:
            raise _fail("the goal", draft.goal_region)
        goal = GoalSpec(center=(g[0], g[1]))
        placed.append(Body(g, goal.half_size, True))
    positions = []
    for i, o in enumerate(objs):
        bounds = None
        if task is not None and task[1] == i:
            # Leave room to push it: ahead of it for a direction, all round for the goal.
            inner = arena.half_size - 0.3
            d = task[2]
            bounds = _push_room_bounds(arena, direction_vector(d)) if d else (-inner, inner, -inner, inner)
        xy = _place_in(rng, arena, sizes[i], o.shape == "box", placed, o.region, slab, bounds)
        if xy is None:
            raise _fail(f"the {o.color} {o.shape}", o.region)
        placed.append(Body(xy, sizes[i], o.shape == "box"))
        positions.append(xy)
    if draft.goal and goal is None:
        goal = _place_goal_away(rng, arena, placed, positions[task[1]] if task is not None else None)
    if goal is not None and draft.goal_region is not None:
        placed.pop(0)  # agents may stand on the goal patch
    objects = [
        ObjectSpec(o.shape, o.color, sizes[i], masses[i], (positions[i][0], positions[i][1]), vels[i])
        for i, o in enumerate(objs)
    ]
    agents = _place_agents(rng, arena, draft, placed, objects, goal, task, slab)
    task_spec = TaskSpec(agent=task[0], object=task[1], direction=task[2]) if task is not None else None
    return SceneSpec(agents=agents, objects=objects, arena=arena, slab=slab, goal=goal, task=task_spec)


def _place_goal_away(
    rng: np.random.Generator, arena: ArenaSpec, placed: list[Body], target_xy: np.ndarray | None
) -> GoalSpec:
    for _ in range(50):
        g = place(rng, arena, 0.15, True, placed)
        if g is not None and (target_xy is None or np.linalg.norm(g - target_xy) >= 0.6):
            return GoalSpec(center=(g[0], g[1]))
    g = place(rng, arena, 0.15, True, placed)
    if g is None:
        raise _fail("the goal", None)
    return GoalSpec(center=(g[0], g[1]))


def _place_agents(
    rng: np.random.Generator,
    arena: ArenaSpec,
    draft: _Draft,
    placed: list[Body],
    objects: list[ObjectSpec],
    goal: GoalSpec | None,
    task: tuple[int, int, str | None, bool] | None,
    slab: SlabSpec | None,
) -> list[AgentSpec]:
    agents = []
    for k, region in enumerate(draft.agent_regions):
        xy = None
        if region is None and task is not None and task[0] == k:
            # Stand behind the object, facing the way it is to be pushed.
            obj = objects[task[1]]
            if task[2] is not None:
                d = direction_vector(task[2])
            else:
                d = np.asarray(goal.center) - np.asarray(obj.pos)
                d = d / max(np.linalg.norm(d), 1e-6)
            behind = np.asarray(obj.pos) - d * (obj.size * 1.42 + AGENT_RADIUS + rng.uniform(0.08, 0.2))
            cand = Body(behind, AGENT_RADIUS, False)
            inside = np.all(np.abs(behind) <= arena.half_size - AGENT_RADIUS - 0.03)
            if inside and not any(cand.overlaps(p) for p in placed):
                xy = behind
        if xy is None:
            xy = _place_in(rng, arena, AGENT_RADIUS, False, placed, region, slab)
        if xy is None:
            raise _fail(f"the {list(AGENT_COLORS)[k]} agent", region)
        placed.append(Body(xy, AGENT_RADIUS, False))
        agents.append(AgentSpec(pos=(xy[0], xy[1]), color=list(AGENT_COLORS)[k]))
    return agents


def parse_prompt(text: str, seed: int | None = None) -> SceneSpec:
    """Turn a templated prompt (or a caption) into a scene spec.

    Args:
        text: E.g. "a red box and a blue ball, the agent pushes the box to the left".
        seed: Seeds whatever the prompt leaves out; the same text and seed give the same spec.

    Returns:
        A valid spec. ``caption(parse_prompt(caption(s), seed)) == caption(s)`` for any spec ``s``.

    Raises:
        PromptError: An unsupported colour, shape or count (the message lists what is supported),
            more than three objects or two agents, or a layout that does not fit.
    """
    draft = _read_prompt(text)
    return _make_spec(draft, np.random.default_rng(seed))


def canonical_prompt(text: str, seed: int | None = None) -> str:
    """The captioner's sentence for the scene a prompt describes: the words the model was trained on.

    A paraphrase ("there is a cube in the upper left") comes back in the captioner's words ("a magenta
    box at the top left; the white agent is on the right"), with what the prompt leaves out drawn from
    ``seed`` exactly as :func:`parse_prompt` draws it for the MuJoCo scene, so the learned simulator and
    the ground truth start from one description. Raises :class:`PromptError` where ``parse_prompt`` does.
    """
    return caption(parse_prompt(text, seed))
