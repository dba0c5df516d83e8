"""Draft -> scene spec: :func:`_make_spec` draws from the seed whatever the prompt left out (colours,
shapes, sizes, places inside regions, speeds, masses, rows drawn with the scene) and places every thing
in the arena."""

from __future__ import annotations

import math

import numpy as np

from worldsim.envs.caption import PARSED_SPEEDS, SIZE_CLASSES
from worldsim.envs.prompt.draft import _Draft, _look, _ObjDraft
from worldsim.envs.prompt.errors import PromptError
from worldsim.envs.prompt.grid import _cell, _line_slots, _region_at, _way_between
from worldsim.envs.prompt.segments import _AXES
from worldsim.envs.prompt.vocabulary import _ANY_WAY, _LINE_SLOTS
from worldsim.envs.scene import (
    AGENT_COLORS,
    AGENT_RADIUS,
    CLEARANCE,
    DIRECTIONS,
    MASS_RANGE,
    OBJECT_DRAG_TIME,
    PALETTE,
    REACH_MIN_START,
    REGIONS,
    SHAPES,
    AgentSpec,
    ArenaSpec,
    Body,
    GoalSpec,
    ObjectSpec,
    SceneSpec,
    SlabSpec,
    TaskSpec,
    direction_vector,
    place,
    region_bounds,
    region_of,
    slab_cover_fraction,
)


def _fill_objects(draft: _Draft, rng: np.random.Generator) -> list[_ObjDraft]:
    """The objects described, with the colour and shape each left unsaid drawn at random. A prompt that
    describes none ("the agent at the top left") has none: a scene holds only what a prompt names."""
    objs = list(draft.objects)
    for kind in sorted(draft.distinct):
        named = [getattr(o, kind) for o in objs if getattr(o, kind) is not None]
        if len(objs) < 2 or len(set(named)) < len(named) or len(objs) > len(PALETTE if kind == "color" else SHAPES):
            things = ", ".join(_look(o) for o in objs) or "no thing"
            raise PromptError(f"'different {kind}s' is said of things that cannot all differ in it ({things}); "
                              f"name two or three things, and no {kind} twice")
    for o in objs:
        if o.shape is None and "shape" in draft.distinct:
            o.shape = str(rng.choice([s for s in SHAPES if s not in {p.shape for p in objs}]))
        if o.color is None:
            used = {p.color for p in objs}
            free = [c for c in PALETTE if c not in used] or list(PALETTE)
            o.color = str(rng.choice(free))
        if o.shape is None:
            o.shape = str(rng.choice(SHAPES))
    return objs


def _sample_size(rng: np.random.Generator, bucket: str | None) -> float:
    lo, hi = SIZE_CLASSES[bucket or "medium"]  # no size word means medium, as in captions
    return float(rng.uniform(lo + 0.002, hi - 0.002))


def _sample_velocity(rng: np.random.Generator, o: _ObjDraft) -> tuple[float, float]:
    if o.direction is None:
        return (0.0, 0.0)
    way = str(rng.choice(DIRECTIONS)) if o.direction == _ANY_WAY else o.direction  # "rolls around"
    angle = math.atan2(*direction_vector(way)[::-1]) + rng.uniform(-0.3, 0.3)
    speed = rng.uniform(*PARSED_SPEEDS[o.fast])
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
    if region is not None:  # the region, and within it the room a push needs where there is any
        rb = region_bounds(arena, region)
        both = rb if bounds is None else (max(rb[0], bounds[0]), min(rb[1], bounds[1]), max(rb[2], bounds[2]),
                                          min(rb[3], bounds[3]))
        bounds = both if both[0] < both[1] and both[2] < both[3] else rb
    xy = place(rng, arena, half, square, placed, bounds=bounds, avoid=slab)
    if xy is None:
        xy = place(rng, arena, half, square, placed, bounds=bounds)
    return xy


def _place_in_line(rng: np.random.Generator, first: tuple, second: tuple, way: np.ndarray,
                   tries: int = 32) -> tuple[np.ndarray, np.ndarray | None]:
    """Places for two things drawn as :func:`_place_in` draws each (``first`` and ``second`` hold its
    arguments after ``rng``): of a few draws, the two that lie most nearly on one line along ``way``."""
    best, best_cos = (None, None), -1.0
    for _ in range(tries):
        a = _place_in(rng, *first)
        if a is None:
            continue
        first[3].append(Body(a, first[1], first[2]))  # the second keeps clear of the first
        b = _place_in(rng, *second)
        first[3].pop()
        if b is None:
            continue
        line = b - a
        cos = abs(float(line @ way)) / max(float(np.linalg.norm(line) * np.linalg.norm(way)), 1e-9)
        if cos > best_cos:
            best, best_cos = (a, b), cos
        if cos > math.cos(0.1):
            break
    if best[0] is None:
        raise _fail("two things that move towards each other or apart", first[4])
    return best


def _sample_slab(rng: np.random.Generator, arena: ArenaSpec, region: str | None, crossed: bool) -> SlabSpec:
    """A slab in ``region`` (anywhere when None); one that things go under leaves room beside it."""
    hs = rng.uniform(0.15, 0.22 if crossed else 0.3, size=2)
    lim = arena.half_size - hs - (0.3 if crossed else 0.0)
    lo, hi = -lim, lim
    if region is not None:
        b = region_bounds(arena, region)
        lo = np.maximum(lo, [b[0] + 0.02, b[2] + 0.02])
        hi = np.minimum(hi, [b[1] - 0.02, b[3] - 0.02])
    c = rng.uniform(lo, np.maximum(lo, hi))
    return SlabSpec(center=(c[0], c[1]), half_size=(hs[0], hs[1]))


def _cross_under_slab(
    rng: np.random.Generator,
    arena: ArenaSpec,
    region: str | None,
    crossing: list[int],
    objs: list[_ObjDraft],
    sizes: list[float],
    placed: list[Body],
) -> tuple[SlabSpec, list[Body], dict[int, tuple[np.ndarray, tuple[float, float]]]]:
    """A slab and, for each object that goes under it, a start and a velocity; redrawn until all fit."""
    for _ in range(100):
        slab, trial, starts = _sample_slab(rng, arena, region, crossed=True), list(placed), {}
        for i in crossing:
            start = _place_under_slab(rng, arena, slab, sizes[i], objs[i], trial)
            if start is None:
                break
            starts[i] = start
        else:
            return slab, trial, starts
    o = objs[crossing[-1]]
    raise _fail(f"the {o.color} {o.shape} going under the slab", o.region)


def _place_under_slab(
    rng: np.random.Generator, arena: ArenaSpec, slab: SlabSpec, half: float, o: _ObjDraft, placed: list[Body]
) -> tuple[np.ndarray, tuple[float, float]] | None:
    """A start beside the slab, in ``o``'s region if it has one, and a velocity whose glide carries the
    object under the slab and out of its far side; its path is added to ``placed``. None if none fits."""
    centre, slab_half = np.array(slab.center), np.array(slab.half_size)
    square = o.shape == "box"
    lim = arena.half_size - half - CLEARANCE
    for _ in range(20):
        way = direction_vector(o.direction or str(rng.choice(_AXES)))
        axis = int(abs(way[1]) > abs(way[0]))  # 0: along x
        gap = rng.uniform(0.05, 0.3)
        start = centre.copy()
        start[axis] -= way[axis] * (slab_half[axis] + half + CLEARANCE + gap)
        lane = max(slab_half[1 - axis] - half - 0.03, 0.0)  # the whole object passes under the slab
        start[1 - axis] += rng.uniform(-lane, lane)
        if np.any(np.abs(start) > lim) or (o.region is not None and region_of(arena, start) != o.region):
            continue
        travel = gap + 2 * (slab_half[axis] + half + CLEARANCE) + rng.uniform(0.1, 0.3)
        path = [Body(start + way * d, half, square) for d in np.arange(0.0, travel, half)]
        if any(b.overlaps(p) for b in path for p in placed):
            continue
        placed.extend(b for b in path if slab_cover_fraction(slab, b.xy, half + CLEARANCE) == 0.0)
        speed = travel / OBJECT_DRAG_TIME * (1.25 if o.fast else 1.0)  # a glide covers speed x drag time
        return start, (float(way[0] * speed), float(way[1] * speed))
    return None


def _draw_lines(draft: _Draft, objs: list[_ObjDraft], rng: np.random.Generator) -> None:
    """Put the things "in a row" whose row was not named along a row drawn at random."""
    for targets, line in draft.lines:
        if any(objs[i].region is not None for i in targets):
            raise PromptError(f"things in a {line} are also placed elsewhere; give each object one place")
        through = str(rng.choice(_LINE_SLOTS["column" if line == "row" else "row"]))
        for i, slot in zip(targets, _line_slots(line, through, len(targets)), strict=True):
            objs[i].region = slot


def _start_short_of_the_edge(objs: list[_ObjDraft], rng: np.random.Generator) -> None:
    """Start a thing that heads for a corner or a named side, and has no region, in a region drawn among
    those from which that way leads there ("rolls towards the top right corner": not from the top right)."""
    for o in objs:
        if o.region is None and o.to_edge and o.goes_to is not None:
            starts = [r for r in REGIONS if r != o.goes_to and _way_between(r, o.goes_to) == o.direction]
            if starts:
                o.region = str(rng.choice(starts))


def _pair_up(objs: list[_ObjDraft], way: str, rng: np.random.Generator) -> tuple[int, int] | None:
    """Give the two things that move towards each other (``way`` "meet") or apart ("apart") their
    places and opposite ways. Two regions given set the line between them; with none the line is a row
    or column drawn here (its two ends to meet, its middle to part); one region given is mirrored across
    the centre to meet, and shared to part. Returns the pair (None when there is none): once they are put,
    they are drawn on one line and aimed along it (:func:`_place_in_line`, :func:`_face_each_other`)."""
    pair = [i for i, o in enumerate(objs) if o.direction == way]
    if not pair:
        return None
    said = "towards each other" if way == "meet" else "apart"
    if len(pair) != 2:
        things = "only one thing moves" if len(pair) == 1 else f"{len(pair)} things move"
        raise PromptError(f"{things} {said}; say it of two things, e.g. 'two balls roll {said}'")
    a, b = objs[pair[0]], objs[pair[1]]
    given = a.region or b.region
    if given is not None and (a.region is None or b.region is None):
        if way == "meet" and given == "centre":
            raise PromptError(f"one of the things that move {said} is in the centre; place it, or the other, "
                              f"elsewhere, e.g. 'a red ball on the left and a blue ball on the right roll {said}'")
        row, col = _cell(given)
        other = given if way == "apart" else _region_at(-row, -col)  # shared, or across the centre
        a.region, b.region = a.region or other, b.region or other
    elif given is None:
        ends = ("left", "right") if rng.random() < 0.5 else ("top", "bottom")
        a.region, b.region = ends if way == "meet" else ("centre", "centre")
    if a.region == b.region:  # along a line drawn here (along the edge they are at), each way set once placed
        row, col = _cell(a.region)
        across = rng.random() < 0.5 if row == col else row != 0  # "both at the top": along the top
        a.direction, b.direction = ("left", "right") if across else ("up", "down")
    else:
        ahead, back = _way_between(a.region, b.region), _way_between(b.region, a.region)  # a towards b, and back
        a.direction, b.direction = (ahead, back) if way == "meet" else (back, ahead)
    return pair[0], pair[1]


def _face_each_other(pairs: dict[str, tuple[int, int] | None], positions: dict[int, np.ndarray],
                     vels: list[tuple[float, float]]) -> None:
    """Aim each pair (:func:`_pair_up`) along the line between where they were put, at each other (way
    "meet") or away from each other, each at its own speed: drawn apart in their regions, ways said from
    the regions alone would pass by."""
    for way, pair in pairs.items():
        if pair is None:
            continue
        i, j = pair
        line = positions[j] - positions[i]
        u = line / max(float(np.linalg.norm(line)), 1e-9)
        sign = 1.0 if way == "meet" else -1.0
        vels[i] = tuple(float(c) for c in sign * math.hypot(*vels[i]) * u)
        vels[j] = tuple(float(c) for c in -sign * math.hypot(*vels[j]) * u)


def _check_pushed(draft: _Draft) -> None:
    """Refuse a pushed thing that is also said to move on its own, or to stay still ("the agent pushes the
    box. the box rolls left": which way does it go?)."""
    target = draft.task[1] if draft.task is not None else None
    if target is None or not draft.objects[target].motion_given:
        return
    what = _look(draft.objects[target]).split(" ", 1)[1]
    said = "move on its own" if draft.objects[target].direction is not None else "stay still"
    raise PromptError(f"the {what} the agent pushes is also said to {said}; say the way in the push, e.g. 'the "
                      "agent pushes the box to the left'")


def _make_spec(draft: _Draft, rng: np.random.Generator) -> SceneSpec:
    arena = ArenaSpec()
    _check_pushed(draft)
    objs = _fill_objects(draft, rng)
    _draw_lines(draft, objs, rng)
    _start_short_of_the_edge(objs, rng)
    pairs = {way: _pair_up(objs, way, rng) for way in ("meet", "apart")}
    partners = {pair[1]: pair[0] for pair in pairs.values() if pair is not None}
    sizes = [_sample_size(rng, o.size) for o in objs]
    masses = [float(rng.uniform(*MASS_RANGE)) for _ in objs]
    vels = [_sample_velocity(rng, o) for o in objs]
    task = draft.task
    if task is not None and task[3]:
        task = (task[0], task[1], str(rng.choice(DIRECTIONS)), False)
    crossing = [i for i, o in enumerate(objs) if o.under_slab]  # their slab is drawn with their paths
    slab = _sample_slab(rng, arena, draft.slab_region, crossed=False) if draft.slab and not crossing else None
    placed: list[Body] = []
    goal = None
    if draft.goal and draft.goal_region is not None:
        g = _place_in(rng, arena, 0.15, True, placed, draft.goal_region, None)
        if g is None:
            raise _fail("the goal", draft.goal_region)
        goal = GoalSpec(center=(g[0], g[1]))
        placed.append(Body(g, goal.half_size, True))
    positions: dict[int, np.ndarray] = {}
    if crossing:  # their paths first, under a slab drawn until they fit
        slab, placed, starts = _cross_under_slab(rng, arena, draft.slab_region, crossing, objs, sizes, placed)
        for i, (xy, vel) in starts.items():
            positions[i], vels[i] = xy, vel
    pushed = objs[task[1]] if task is not None and task[1] is not None else None
    if pushed is not None and pushed.region is None and draft.agent_regions[task[0]] is not None:
        pushed.region = draft.agent_regions[task[0]]  # "the agent at the top right pushes a box down": near it
    _place_objects(rng, arena, objs, sizes, task, (placed, slab), positions, partners)
    _face_each_other(pairs, positions, vels)
    if draft.goal and goal is None:
        pushed = task is not None and task[1] is not None
        goal = _place_goal_away(rng, arena, placed, positions[task[1]] if pushed else None)
    if goal is not None and draft.goal_region is not None:
        placed.pop(0)  # agents may stand on the goal patch
    objects = [
        ObjectSpec(o.shape, o.color, sizes[i], masses[i], (positions[i][0], positions[i][1]), vels[i])
        for i, o in enumerate(objs)
    ]
    agents = _place_agents(rng, arena, draft, placed, objects, goal, task, slab)
    task_spec = TaskSpec(agent=task[0], object=task[1], direction=task[2]) if task is not None else None
    return SceneSpec(agents=agents, objects=objects, arena=arena, slab=slab, goal=goal, task=task_spec)


def _place_objects(rng: np.random.Generator, arena: ArenaSpec, objs: list[_ObjDraft], sizes: list[float],
                   task: tuple | None, room: tuple[list[Body], SlabSpec | None], positions: dict[int, np.ndarray],
                   partners: dict[int, int]) -> None:
    """Put each object not yet placed in its region, clear of ``room`` (the bodies placed, the slab): a
    pushed one with room to push it, the second of a pair (``partners``) on one line with the first."""
    placed, slab = room
    for i, o in enumerate(objs):
        if o.under_slab:
            continue
        bounds = None
        if task is not None and task[1] == i:
            # Leave room to push it: ahead of it for a direction, all round for the goal.
            inner = arena.half_size - 0.3
            d = task[2]
            behind = sizes[i] * 1.42 + 2 * AGENT_RADIUS + 0.23  # where _place_agents stands the agent
            bounds = _push_room_bounds(arena, direction_vector(d), behind=behind) if d else \
                (-inner, inner, -inner, inner)
        first = partners.get(i)
        where = (arena, sizes[i], o.shape == "box", placed, o.region, slab, bounds)
        if first in positions and not objs[first].under_slab:  # the second of a pair: both drawn again, in line
            del placed[next(k for k, b in enumerate(placed) if b.xy is positions[first])]
            first_where = (arena, sizes[first], objs[first].shape == "box", placed, objs[first].region, slab, None)
            positions[first], xy = _place_in_line(rng, first_where, where, direction_vector(objs[first].direction))
            placed.append(Body(positions[first], sizes[first], objs[first].shape == "box"))
        else:
            xy = _place_in(rng, *where)
        if xy is None:
            raise _fail(f"the {o.color} {o.shape}", o.region)
        placed.append(Body(xy, sizes[i], o.shape == "box"))
        positions[i] = xy


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
    task: tuple[int, int | None, str | None, bool] | None,
    slab: SlabSpec | None,
) -> list[AgentSpec]:
    agents = []
    for k, region in enumerate(draft.agent_regions):
        xy = None
        if region is None and task is not None and task[0] == k and task[1] is None:
            # Start away from the goal it is to reach.
            for _ in range(50):
                xy = _place_in(rng, arena, AGENT_RADIUS, False, placed, None, slab)
                if xy is None or np.linalg.norm(xy - np.asarray(goal.center)) >= REACH_MIN_START:
                    break
        elif task is not None and task[0] == k and task[1] is not None:
            # Stand behind the object, facing the way it is to be pushed (in the agent's own region, if said).
            obj = objects[task[1]]
            if task[2] is not None:
                d = direction_vector(task[2])
            else:
                d = np.asarray(goal.center) - np.asarray(obj.pos)
                d = d / max(np.linalg.norm(d), 1e-6)
            behind = np.asarray(obj.pos) - d * (obj.size * 1.42 + AGENT_RADIUS + rng.uniform(0.08, 0.2))
            cand = Body(behind, AGENT_RADIUS, False)
            inside = np.all(np.abs(behind) <= arena.half_size - AGENT_RADIUS - 0.03)
            if inside and not any(cand.overlaps(p) for p in placed) and region in (None, region_of(arena, behind)):
                xy = behind
        if xy is None:
            xy = _place_in(rng, arena, AGENT_RADIUS, False, placed, region, slab)
        if xy is None:
            raise _fail(f"the {list(AGENT_COLORS)[k]} agent", region)
        placed.append(Body(xy, AGENT_RADIUS, False))
        agents.append(AgentSpec(pos=(xy[0], xy[1]), color=list(AGENT_COLORS)[k]))
    return agents
