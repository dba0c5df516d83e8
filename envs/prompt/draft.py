"""The draft: what a prompt says of a scene before anything is drawn (:class:`_Draft`, one
:class:`_ObjDraft` per object), and how a clause's segments go into it: places and motions attached to
their nouns (``_attach``), nouns resolved to the objects, agents, slab or goal they describe
(``_apply_nouns``), things placed by others, between two others or heading for another
(``_place_besides``, ``_place_betweens``, ``_aim``), and pushes and reaches (``_set_task``)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from worldsim.envs.caption import SHAPE_NOUNS
from worldsim.envs.prompt.errors import _PUSH_FORM, _REACH_FORM, PromptError
from worldsim.envs.prompt.grid import (
    _OPPOSITE,
    _away_from,
    _cell,
    _direction,
    _line_of,
    _line_slots,
    _region,
    _region_at,
    _stepped,
    _way_between,
    _way_step,
)
from worldsim.envs.prompt.segments import (
    _AXES,
    _TO_CENTRE,
    _TOWARDS_THING,
    _Beside,
    _Between,
    _Marker,
    _Motion,
    _Noun,
    _Place,
    _refers_back,
    _Relation,
    _relative_place_error,
    _said_of_the_glide,
    _Segment,
    _speed_markers,
    _speed_of,
    _Towards,
    _words_of,
)
from worldsim.envs.prompt.vocabulary import (
    _ANY_WAY,
    _COLOR_WORDS,
    _EVERY,
    _HORIZONTAL,
    _LINE_SLOTS,
    _PAIR_WAYS,
    _SHAPE_WORDS,
    _SPEED_KINDS,
    _SPEED_VERBS,
    _VERTICAL,
    _kind,
    _supported,
    _words,
)
from worldsim.envs.scene import AGENT_COLORS, DIRECTIONS, MAX_OBJECTS

_Ref = tuple[str, int]  # ("object", index), ("agent", index), ("slab", 0) or ("goal", 0) in a draft


@dataclass
class _ObjDraft:
    color: str | None = None
    shape: str | None = None
    size: str | None = None
    region: str | None = None
    direction: str | None = None  # None: still
    fast: bool = False
    motion_given: bool = False
    under_slab: bool = False  # starts beside the slab and glides under it
    clause: int = 0  # the clause that first described it, in reading order
    origin: tuple[str, str] | None = None  # ("from the bottom", "bottom"): its region is where it starts from
    goes_to: str | None = None  # "moves to the top right": its way, from its region when one is said
    to_edge: bool = False  # "rolls towards the top right corner": without a region it starts short of it
    speed: str | None = None  # "fast" or "slow" said apart from its motion, checked once every motion is read


@dataclass
class _Draft:
    objects: list[_ObjDraft] = field(default_factory=list)
    agent_regions: list[str | None] = field(default_factory=lambda: [None])
    slab: bool = False
    slab_region: str | None = None
    goal: bool = False
    goal_region: str | None = None
    goal_way: str | None = None  # "pushes the box down to the goal": the way from the pushed object to the goal
    task: tuple[int, int | None, str | None, bool] | None = None  # (agent, object or None to reach the
    # goal, direction, random direction)
    empty: bool = False
    distinct: frozenset[str] = frozenset()  # "all different colours": "color" and/or "shape"
    besides: list[tuple[_Ref, tuple[int, int] | None, _Ref, str]] = field(default_factory=list)
    # (thing, grid step or None for a neighbour, the thing it is placed by, the words)
    lines: list[tuple[list[int], str]] = field(default_factory=list)  # ("in a row", row drawn with the scene)
    betweens: list[tuple[_Ref, tuple[_Ref, _Ref], str]] = field(default_factory=list)  # (thing, the two, words)
    named: list[_Ref] = field(default_factory=list)  # the things described so far, in reading order
    towards: list[tuple[_Ref, _Ref, str]] = field(default_factory=list)  # (object, what it heads for, words)
    clause: int = 0  # the clause being applied (clauses that refer to objects are applied last)
    sentences: dict[int, int] = field(default_factory=dict)  # each clause's sentence, both counted from 1
    linked: set[tuple[int | None, str]] = field(default_factory=set)  # (sentence, shape) of a bare noun named again

    def region_of(self, ref: _Ref) -> str | None:
        kind, i = ref
        if kind in ("slab", "goal"):
            return getattr(self, f"{kind}_region")
        return self.objects[i].region if kind == "object" else self.agent_regions[i]

    def place(self, ref: _Ref, region: str | None, what: str, replace: str | None = None) -> None:
        """Put a thing in ``region`` (None: leave it); a second, different region is an error. ``replace``
        puts it there whatever region it had."""
        kind, i = ref
        new = replace if replace is not None else _set_region(self.region_of(ref), region, what)
        if kind in ("slab", "goal"):
            setattr(self, f"{kind}_region", new)
        elif kind == "object":
            self.objects[i].region = new
        else:
            self.agent_regions[i] = new

    def add_object(self, obj: _ObjDraft) -> int:
        if len(self.objects) >= MAX_OBJECTS:
            raise PromptError(
                f"the prompt describes more than {MAX_OBJECTS} objects; a scene holds at most {MAX_OBJECTS}. "
                + _supported("count")
            )
        obj.clause = self.clause
        self.objects.append(obj)
        return len(self.objects) - 1

    def ensure_agents(self, n: int) -> None:
        if n > len(AGENT_COLORS):
            raise PromptError(f"scenes have one or two agents ({' and '.join(AGENT_COLORS)}), not {n}")
        while len(self.agent_regions) < n:
            self.agent_regions.append(None)


def _check_origin(obj: _ObjDraft) -> None:
    """A thing that starts "from the left" moves, and away from the left: not left, nor up-left."""
    words, region = obj.origin
    away = _away_from(region) if region != "centre" else "left"
    if obj.direction is None:
        raise PromptError(f"{words!r}: say how the thing that starts there moves, e.g. 'rolls {away} {words}'")
    back = {_direction([w]) for w in region.split() if w in _OPPOSITE}  # the ways back to where it starts
    if back & set(obj.direction.split("-")):
        raise PromptError(f"moves {obj.direction} {words}: it would start against that side; say one of them, "
                          f"e.g. 'moves {away} {words}'")


def _attach_one(segments: list[_Segment], p: int, name: str, value: object) -> _Noun:
    """Give a place or motion to the noun before it if that one has none yet, else to the noun after;
    returns that noun."""
    before = next((s for s in reversed(segments[:p]) if isinstance(s, _Noun)), None)
    if name == "motion" and before is not None and before.anchor and before.kind != "object":
        # "a ball starts to the left of the slab and rolls right": the slab, the goal and agents do not roll
        before = next((s for s in reversed(segments[:p]) if isinstance(s, _Noun) and not s.anchor), before)
    after = next((s for s in segments[p + 1 :] if isinstance(s, _Noun)), None)
    for noun in (before, after):
        if noun is not None and getattr(noun, name) is None:
            setattr(noun, name, value)
            return noun
    phrase = " ".join(segments[p].words)
    corner = _corner_of_a_glide(before, value, segments) if name == "region" else None
    if corner is not None:  # "slides from right to left along the top": it starts at the top right
        before.region = corner
        return before
    both = _one_region(before.region, value) if name == "region" and before is not None else None
    if both is not None:  # "at the top on the left", "in the middle of the bottom row": one region
        before.region = both
        return before
    if before is None and after is None:
        raise PromptError(f"{phrase!r} does not say what it describes; e.g. 'a red ball {phrase}'")
    raise PromptError(f"{phrase!r}: {(before or after).text!r} already has a {name}; give each object one")


def _one_region(said: object, more: object) -> str | None:
    """The region of the grid two places of one thing name together when one gives its row and the other its
    column ("top" and "left": "top left"; "bottom" and "centre", as "the middle of the bottom": "bottom");
    None when they are not a row and a column (two rows, a corner and another place, a line)."""
    if not (isinstance(said, str) and isinstance(more, str)) or _line_of(said) or _line_of(more):
        return None
    axes = []
    for region in (said, more):
        words = region.split()
        row = next((w for w in words if w in ("top", "bottom")), None)
        column = next((w for w in words if w in ("left", "right")), None)
        if row and column:
            return None  # a corner names both
        axes.append((row, column))
    (row_a, col_a), (row_b, col_b) = axes
    if (row_a and row_b) or (col_a and col_b):
        return None  # two rows, or two columns
    return " ".join(w for w in (row_a or row_b, col_a or col_b) if w) or "centre"


def _corner_of_a_glide(noun: _Noun | None, region: object, segments: list[_Segment]) -> str | None:
    """The corner two places of one gliding thing make when one is the side it starts from, gliding away
    from it, and the other the row (or column) it glides along: "slides from right to left along the top",
    "at the top, rolls left from the right": "top right". None when they are not one side and one line, or
    nothing in the clause glides along the line."""
    if noun is None or noun.region is None or not isinstance(region, str):
        return None
    rows, columns = [r for r in (noun.region, region) if r in ("top", "bottom")], \
        [r for r in (noun.region, region) if r in ("left", "right")]
    if len(rows) != 1 or len(columns) != 1:
        return None
    ways = {m.direction for m in segments if isinstance(m, _Motion) and m.direction is not None}
    start = columns[0] if ways <= {"left", "right"} else rows[0] if ways <= {"up", "down"} else None
    along = len(ways) == 1 and start is not None and _away_from(start) in ways  # away from its side, along a line
    return f"{rows[0]} {columns[0]}" if along else None


def _said_again(said: _Motion, again: _Motion) -> bool:
    """Whether ``again`` says the motion ``said`` once more ("comes in from the top, heading down", "slides
    under the slab heading down", "stays still"); if so ``said`` takes what ``again`` adds to it."""
    if said.still or again.still:
        return said.still and again.still
    ways = {said.direction, again.direction} - {None}
    if len(ways) > 1 or ways & {_ANY_WAY, _TOWARDS_THING, _TO_CENTRE, *_PAIR_WAYS.values()}:
        return False
    if said.under_slab and again.under_slab:
        return False  # under the slab twice: not one motion said again
    said.direction, said.words = next(iter(ways), None), said.words + again.words
    said.fast, said.under_slab = said.fast or again.fast, said.under_slab or again.under_slab
    return True


def _attach(segments: list[_Segment]) -> list[_Noun]:
    """Give the clause's places and motions to its nouns; returns the nouns."""
    for p, seg in enumerate(segments):
        mover = next((s for s in reversed(segments[:p]) if isinstance(s, _Noun) and s.motion is not None
                      and s.region is None), None) if isinstance(seg, _Place) and seg.origin else None
        if isinstance(seg, _Place) and _said_of_the_glide(seg, segments[p - 1] if p else None):
            pass
        elif mover is not None:  # "a ball rolling towards the agent from the left": the ball starts there
            mover.region, mover.origin = seg.region, seg
        elif isinstance(seg, _Place):
            noun = _attach_one(segments, p, "region", seg.region)
            noun.origin = seg if seg.origin else None
        elif isinstance(seg, _Motion):
            if seg.direction is None and not seg.still and not seg.under_slab:
                raise PromptError(f"{' '.join(seg.words)!r}: say which way, e.g. 'moves left' or 'moves quickly up', "
                                  "or 'moves around' for a way drawn with the scene")
            before = next((s for s in reversed(segments[:p]) if isinstance(s, _Noun)), None)
            if not (before is not None and before.motion is not None and _said_again(before.motion, seg)):
                _attach_one(segments, p, "motion", seg)
    speed = _speed_markers(segments)
    motions = [s for s in segments if isinstance(s, _Motion) and not s.still]
    nouns = [s for s in segments if isinstance(s, _Noun)]
    if speed and not motions and len(nouns) == 1 and nouns[0].kind == "object":
        # "both slow", "two slow cylinders: ...": said of things whose motions are said elsewhere
        nouns[0].speed = _speed_of({s.kind for s in speed}, _words_of(segments).split())
        return nouns
    if speed and not motions:
        raise PromptError(f"{speed[0].words[0]!r}: nothing in {_words_of(segments)!r} moves")
    said = {s.kind for s in speed}  # "slowly" or "quickly" beside the motion, not in it
    words = _words_of(segments).split()
    for m in motions:
        speed = _speed_of(said | ({_kind(w) for w in m.words} & _SPEED_KINDS), words)  # one speed per motion
        speed = speed or next((kind for kind, verbs in _SPEED_VERBS.items() if set(m.words) & verbs), None)
        if speed == "slow" and m.under_slab:
            raise PromptError(f"{' '.join(m.words)!r}: a thing that goes under the slab glides quickly, or the "
                              "floor stops it before it comes out; leave out the slow speed")
        m.fast = m.fast or speed == "fast"
    return nouns


def _apply_markers(draft: _Draft, segments: list[_Segment]) -> None:
    """Apply "empty" ("an empty arena"); places relative to other things ("near the box") are refused."""
    for seg in segments:
        if isinstance(seg, _Relation):
            raise _relative_place_error(seg.words)
        if isinstance(seg, _Marker) and seg.kind == "empty":
            draft.empty = True


def _set_region(current: str | None, region: str | None, what: str) -> str | None:
    line = _line_of(region)
    if line is not None:  # objects in a row have taken their regions by now (_set_line)
        raise PromptError(f"{what} in a {line[0]}: a {line[0]} is two or three objects named together, e.g. "
                          f"'three balls in a {line[0]}'; an agent, the slab or the goal takes a region")
    if region is not None and current not in (None, region):
        raise PromptError(f"{what} is placed twice: at the {current} and at the {region}")
    return region or current


def _check_object_noun(noun: _Noun) -> None:
    """Refuse colours, counts and words that objects cannot have."""
    if noun.color_word is not None and noun.color is None:
        raise PromptError(f"unknown colour {noun.color_word!r}; {_supported('colour')}")
    if noun.other and noun.other_than is None:
        raise PromptError(f"{noun.text!r}: 'other' names the second agent, or the second of two objects listed "
                          "after their count ('two balls, one red and the other blue'); else say 'the second ...'")
    if noun.count is not None and noun.count < 1:
        raise PromptError(f"unsupported count {noun.count_word!r}; {_supported('count')}")
    if noun.count is not None and noun.count > MAX_OBJECTS:
        raise PromptError(
            f"{noun.text!r} asks for {noun.count} objects, but a scene holds at most {MAX_OBJECTS}; "
            + _supported("count")
        )


def _update_object(obj: _ObjDraft, noun: _Noun, place: bool = True) -> None:
    """Give an object the place (unless not ``place``) and motion its noun phrase carries."""
    if place:
        obj.region = _set_region(obj.region, noun.region, repr(noun.text))
        if noun.origin is not None:
            obj.origin = (" ".join(noun.origin.words), noun.origin.region)
    if noun.speed is not None:
        if obj.speed not in (None, noun.speed):
            raise PromptError(f"{noun.text!r} is said to be fast and slow; say one speed")
        obj.speed = noun.speed
    m = noun.motion
    if m is None:
        return
    direction = None if m.still else m.direction
    was_still = obj.motion_given and obj.direction is None and not obj.under_slab
    if obj.motion_given and ((m.still and obj.under_slab) or (m.under_slab and was_still)):
        raise PromptError(f"{noun.text!r} is said to be still and to move under the slab; give each object one motion")
    if obj.motion_given and obj.direction != direction:
        # "rolls under the slab ... moving right": the way of a motion under the slab said apart from it
        if obj.under_slab and obj.direction is None and direction in _AXES:
            pass
        elif m.under_slab and direction is None and obj.direction in _AXES:
            direction = obj.direction
        else:
            raise PromptError(f"{noun.text!r} is given two motions; give each object one")
    obj.direction, obj.fast = direction, m.fast or (obj.fast and obj.motion_given)
    obj.goes_to, obj.to_edge = m.goes_to, m.to_edge
    obj.motion_given = True
    if m.under_slab:
        if direction is not None and direction not in _AXES:
            raise PromptError(f"{noun.text!r} goes under the slab one of {', '.join(_AXES)}, not {direction}")
        obj.under_slab = True


def _set_line(draft: _Draft, noun: _Noun, targets: list[int], line: str, fixed: str | None) -> None:
    """Give two or three objects "in a row" one region each along that row (the ends for two): the row
    ``fixed``, or one drawn with the scene (``_make_spec``) when None."""
    if not 2 <= len(targets) <= len(_LINE_SLOTS[line]):
        raise PromptError(f"{noun.text!r} in a {line}: a {line} is two or three things named together, e.g. "
                          f"'three balls in a {line}'")
    noun.region = None
    if any(draft.objects[i].region is not None for i in targets):
        raise PromptError(f"{noun.text!r} is placed twice; give each object one place")
    if fixed is None:
        draft.lines.append((list(targets), line))
        return
    for i, slot in zip(targets, _line_slots(line, fixed, len(targets)), strict=True):
        draft.objects[i].region = slot


def _in_line(draft: _Draft, targets: list[int]) -> list[int]:
    """What "in a row" (or "towards each other") after one thing is said of: every object its sentence
    names, when there are two or three ("a red ball, a blue box and a green ball in a row"); else the
    thing itself."""
    if len(targets) != 1:
        return targets
    sentence = draft.sentences.get(draft.clause)
    named = [i for i, o in enumerate(draft.objects) if draft.sentences.get(o.clause) == sentence]
    return named if 2 <= len(named) <= 3 and targets[0] in named else targets


def _fits(obj: _ObjDraft, noun: _Noun) -> bool:
    """Whether an object has the colour, shape and size a noun phrase names (any, where it names none)."""
    return all(getattr(noun, name) in (None, getattr(obj, name)) for name in ("color", "shape", "size"))


def _may_be(obj: _ObjDraft, noun: _Noun) -> bool:
    """Whether an object described without some of what a noun phrase names could be that thing: its
    colour, shape and size are each unsaid or the noun's."""
    return all(getattr(noun, name) is None or getattr(obj, name) in (None, getattr(noun, name))
               for name in ("color", "shape", "size"))


def _told_more(draft: _Draft, noun: _Noun) -> list[int]:
    """The one object described with less than a definite noun names ("the red ball" after "a ball"), given
    what it names; [] when none could be it; refused when more than one could."""
    told = [i for i, o in enumerate(draft.objects) if _may_be(o, noun)]
    if len(told) > 1:
        fits = " and ".join(_look(draft.objects[i]) for i in told)
        raise PromptError(f"{noun.text!r} could be any of {len(told)} things described ({fits}); say which, "
                          "e.g. 'a red ball' for a new one, or describe each with its colour and shape")
    for i in told:
        for name in ("color", "shape", "size"):
            setattr(draft.objects[i], name, getattr(noun, name) or getattr(draft.objects[i], name))
    return told


def _resolve(draft: _Draft, noun: _Noun) -> list[int]:
    """Indices of the objects a definite noun phrase refers to; new objects when none matches.

    Args:
        draft: The scene read so far.
        noun: "the red box", "the second ball", "the balls", "it".
    """
    if noun.same_as is not None:
        return noun.same_as.targets
    if noun.other_than is not None:  # "the red one rolls left, the other one stays": the one left of two
        rest = [i for i in range(len(draft.objects)) if i not in noun.other_than.targets]
        if len(draft.objects) != 2 or len(rest) != 1 or draft.objects[rest[0]].shape not in (None, noun.shape or
                                                                                              draft.objects[rest[0]].shape):
            raise PromptError(f"{noun.text!r}: 'the other' names the second of exactly two objects when the one "
                              "before names the first; say which, e.g. by its colour and shape")
        draft.objects[rest[0]].shape = draft.objects[rest[0]].shape or noun.shape  # "the other ball"
        return rest
    cands = [i for i, o in enumerate(draft.objects) if _fits(o, noun)]
    here = [i for i in cands if noun.region is not None and draft.objects[i].region == noun.region]
    if len(cands) > 1 and len(here) == 1 and not (noun.pronoun or noun.plural or noun.count or noun.ordinal):
        return here  # "a red ball on the left and a blue one on the right. the ball on the left rolls right"
    if noun.pronoun or not (noun.color or noun.shape or noun.size or noun.ordinal):
        return _refer_back(draft, noun)
    if noun.ordinal is not None:
        cands = cands[noun.ordinal - 1 : noun.ordinal]
    if noun.count is not None and 0 < len(cands) < noun.count:
        raise PromptError(f"{noun.text!r}: the prompt describes only {len(cands)} of them")
    every = noun.count_word in _EVERY  # "each ball", "all the balls": every one described
    if len(cands) > 1 and not noun.plural and noun.count is None and noun.ordinal is None and not every:
        objs = [draft.objects[i] for i in cands]
        fits = " and ".join(_look(o) for o in objs)
        raise PromptError(f"{noun.text!r} could be any of {len(cands)} things described ({fits}); say which, e.g. by "
                          "its colour and shape, or 'the first ...'")
    if cands:  # "the balls": all of them; "the two balls": two; "the ball": the one
        return cands if (noun.plural or every) and noun.count is None else cands[: noun.count or 1]
    told = [] if noun.plural or every or noun.count or noun.ordinal else _told_more(draft, noun)
    if told:  # "a ball. the red ball rolls left": that ball
        return told
    if _refers_back(noun):  # "the red one" with nothing red before it: one of what?
        raise PromptError(f"{noun.text!r}: nothing described before it fits; name the shape, e.g. 'a "
                          f"{noun.color_word or 'blue'} ball'")
    return _add_objects(draft, noun)


def _add_objects(draft: _Draft, noun: _Noun) -> list[int]:
    """Add the new objects a noun describes. One named by its place in order alone ("the first ball is red,
    the second is blue"; "two balls and a third") is one more of the shape every object before it has."""
    n = noun.count or (2 if noun.plural else 1)
    shape = noun.shape
    if shape is None and noun.ordinal is not None:
        shapes = {o.shape for o in draft.objects}
        shape = shapes.pop() if len(shapes) == 1 else None
    return [draft.add_object(_ObjDraft(noun.color, shape, noun.size)) for _ in range(n)]


def _refer_back(draft: _Draft, noun: _Noun) -> list[int]:
    """The objects "it" (or "both") names: the last one (two) described before its clause. When the
    sentence that described them describes more ("a red ball and a blue box. it moves left"), it could
    be any of them, and is refused. "All" and "each" (or "the objects") name every object of the last
    sentence that described one ("a ball and a box, all red"), or, in a sentence of their own, every object
    described before ("a ball. a box. all move left")."""
    n = noun.count or 1
    every = noun.count_word in _EVERY or (noun.plural and noun.count is None)  # "all", "each", "the objects"
    until = draft.clause + every  # "all" takes in a thing of its own clause: "... and a green ball all moving right"
    before = sorted((o.clause, i) for i, o in enumerate(draft.objects) if o.clause < until)
    seen = len(before)
    sentence = lambda k: draft.sentences.get(before[k][0])
    if every and seen:  # in a sentence of its own ("... . All move up."): every object described before, but
        last = sum(sentence(k) == sentence(seen - 1) for k in range(seen))  # "each" after "two boxes ..." is theirs
        own = draft.sentences.get(draft.clause) != sentence(seen - 1) and (noun.count_word != "each" or last == 1)
        n = seen if own else last
    if not seen:
        what = "objects described before it, and none is" if every else \
            f"{'an object' if n == 1 else f'{n} objects'} before any is described"
        raise PromptError(f"{noun.text!r} refers to {what}")
    if seen < n:
        raise PromptError(f"{noun.text!r} refers to {n} objects, but only {seen} "
                          f"{'is' if seen == 1 else 'are'} described before it")
    if seen > n and sentence(seen - n - 1) == sentence(seen - n):
        fits = [_look(draft.objects[i]) for _, i in before if draft.sentences.get(draft.objects[i].clause)
                == sentence(seen - n)]
        which = " or ".join(fits) if n == 1 else f"any {n} of {', '.join(fits[:-1])} and {fits[-1]}"
        example = " and ".join("the " + f.split(" ", 1)[1] for f in fits[-n:])
        raise PromptError(f"{noun.text!r} could mean {which}; say which, e.g. '{example}'")
    return [i for _, i in before[seen - n :]]


def _look(obj: _ObjDraft) -> str:
    """"a red ball", "a box", "a thing": how a message names an object."""
    return " ".join(w for w in ("a", obj.color, SHAPE_NOUNS.get(obj.shape, "thing")) if w)


def _named_before(draft: _Draft, noun: _Noun) -> int | None:
    """The object a bare noun of a later sentence names ("a ball on the left. ball is red": the ball): one
    of that shape described in an earlier sentence and none yet in this one, which the noun only tells
    more of (a place or a motion it had not been given: "box, goal, agent. box centre"); in the same
    sentence, a motion alone ("red ball left, blue box right, ball rolls right"); None otherwise ("a ball
    on the left. ball on the right" is another ball)."""
    bare = noun.article is None and noun.count_word is None and not noun.plural and noun.ordinal is None
    if not (bare and noun.shape is not None and noun.words):
        return None
    looks_first = _SHAPE_WORDS.get(noun.words[0]) != noun.shape  # "red ball rolls up", not "ball red"
    if not (noun.color or noun.size or noun.region is not None or noun.motion is not None):
        return None
    now = draft.sentences.get(draft.clause)
    same = [i for i, o in enumerate(draft.objects) if o.shape == noun.shape]
    moves_only = noun.motion is not None and noun.region is None and noun.origin is None
    if any(draft.sentences.get(draft.objects[i].clause) == now for i in same) and not moves_only:
        return None  # in its own sentence only a motion tells more ("red ball left, ball rolls right")
    if looks_first:  # "a red ball and a blue ball. red ball moves up": the red one
        same = [i for i in same if _fits(draft.objects[i], noun)]
    if len(same) != 1:
        return None
    if (now, noun.shape) in draft.linked:  # "a red ball. ball on the left, ball on the right": which is it?
        name = SHAPE_NOUNS.get(noun.shape, "thing")
        raise PromptError(f"{noun.text!r}: a {name} named again, twice in one sentence; say 'the {name}' for the one "
                          f"described before and 'a {name}' for another")
    obj = draft.objects[same[0]]
    if (noun.region is not None and (obj.region is not None or _line_of(noun.region) is not None)) or (
            noun.motion is not None and obj.motion_given) or (noun.origin is not None and obj.origin is not None):
        return None
    if looks_first and (noun.region is None and noun.motion is None or not _fits(obj, noun)):
        return None  # "red ball on the left" names the red ball before it, and only that one
    draft.linked.add((now, noun.shape))
    for name in ("color", "size"):
        value, old = getattr(noun, name), getattr(obj, name)
        if old not in (None, value) and value is not None:
            raise PromptError(f"{noun.text!r}: the {SHAPE_NOUNS.get(obj.shape, 'thing')} described before is {old}, "
                              f"not {value}; say 'a {value} ...' for another one")
        setattr(obj, name, old if value is None else value)
    return same[0]


def _apply_object(draft: _Draft, noun: _Noun) -> list[int]:
    _check_object_noun(noun)
    before = None if noun.definite else _named_before(draft, noun)
    if before is not None:
        targets = [before]
    elif noun.definite:
        targets = _resolve(draft, noun)
    else:
        targets = _add_objects(draft, noun)
    noun.targets = targets
    line = _line_of(noun.region)
    if line is not None:
        _set_line(draft, noun, _in_line(draft, targets), *line)
    if noun.motion is not None and noun.motion.direction in _PAIR_WAYS.values():
        for i in set(_in_line(draft, targets)) - set(targets):  # "a ball and a box roll towards each other"
            _update_object(draft.objects[i], noun, place=False)
    if noun.motion is not None and noun.motion.slab_region is not None:
        draft.slab_region = _set_region(draft.slab_region, noun.motion.slab_region, "the slab")
    for i in targets:
        _update_object(draft.objects[i], noun)
        for name, value in noun.said.items():
            field_name, value = ("color", _COLOR_WORDS.get(value)) if name == "color_word" else (name, value)
            if value is None:
                raise PromptError(f"unknown colour {noun.said[name]!r}; {_supported('colour')}")
            old = getattr(draft.objects[i], field_name)
            if old not in (None, value):
                raise PromptError(f"{noun.text!r}: the object it names is {old}, not {value}")
            setattr(draft.objects[i], field_name, value)
    draft.slab |= any(draft.objects[i].under_slab for i in targets)  # "a ball rolls under the slab"
    return targets


def _agent_targets(draft: _Draft, noun: _Noun) -> list[int]:
    """Indices of the agents a noun phrase names ("the agent", "the pink agent", "two agents")."""
    count = noun.count or (2 if noun.plural else 1)
    if count > len(AGENT_COLORS) or count < 1:
        raise PromptError(f"scenes have one or two agents ({' and '.join(AGENT_COLORS)}); got {noun.text!r}")
    if noun.color_word is not None and noun.color_word not in AGENT_COLORS:
        raise PromptError(f"agents are white (first) and pink (second), not {noun.color_word!r}")
    if noun.ordinal == 3 or noun.size is not None:
        raise PromptError(f"{noun.text!r}: agents are one size, and there are at most two")
    draft.ensure_agents(count)
    if count == 2:
        return [0, 1]
    second = noun.color_word == "pink" or noun.ordinal == 2 or noun.other or noun.count_word == "another"
    if second:
        draft.ensure_agents(2)
    return [int(second)]


def _apply_agent(draft: _Draft, noun: _Noun) -> list[int]:
    targets = _agent_targets(draft, noun)
    if noun.motion is not None and not noun.motion.still:
        raise PromptError(f"{noun.text!r}: agents start at rest; say where an agent is or what it pushes")
    for k in targets:
        draft.place(("agent", k), noun.region, f"the {list(AGENT_COLORS)[k]} agent")
    return targets


_FIXTURE_LOOKS = {"goal": "a dark slate square on the floor", "slab": "a brown slab raised above the floor"}


def _apply_fixture(draft: _Draft, noun: _Noun) -> None:
    """The slab or the goal: at most one each, with a fixed look, and they do not move."""
    what = noun.kind
    if noun.color_word or noun.size:
        raise PromptError(f"{noun.text!r}: the {what} always looks the same ({_FIXTURE_LOOKS[what]}); say 'a {what}' "
                          "without a colour or size")
    if (noun.count or 1) > 1 or noun.ordinal or noun.other:
        raise PromptError(f"{noun.text!r}: a scene has at most one {what}, and its look is fixed")
    if noun.motion is not None and not noun.motion.still:
        raise PromptError(f"{noun.text!r}: the {what} does not move")
    region = getattr(draft, f"{what}_region")
    setattr(draft, what, True)
    setattr(draft, f"{what}_region", _set_region(region, noun.region, f"the {what}"))


def _apply_nouns(draft: _Draft, nouns: list[_Noun], clause: int,
                 besides: Collection[_Beside | _Between | _Towards] = ()) -> None:
    """Add or update what each noun of the ``clause``-th clause describes, then note what ``besides``
    places by what."""
    draft.clause = clause
    refs: dict[int, list[_Ref]] = {}
    for noun in nouns:
        if noun.kind == "agent":
            refs[id(noun)] = [("agent", k) for k in _apply_agent(draft, noun)]
        elif noun.kind in ("slab", "goal"):
            _apply_fixture(draft, noun)
            refs[id(noun)] = [(noun.kind, 0)]
        else:
            refs[id(noun)] = [("object", i) for i in _apply_object(draft, noun)]
    named, draft.named = draft.named, draft.named + [r for noun in nouns for r in refs[id(noun)]]
    for b in besides:
        phrase = " ".join(b.words)
        if isinstance(b, _Between):
            draft.betweens.append((_one_ref(refs, b.subject, phrase), _anchors(refs, b, named, phrase), phrase))
            continue
        if isinstance(b, _Towards):
            thing = _one_ref(refs, b.subject, phrase)
            if thing[0] != "object":
                raise PromptError(f"{b.subject.text!r} {phrase}: only objects move by themselves")
            draft.towards.append((thing, _one_ref(refs, b.anchor, phrase), phrase))
            continue
        for noun in (b.subject, b.anchor):
            if len(refs[id(noun)]) != 1:
                raise PromptError(f"{noun.text!r} {phrase}: place one thing by one other")
        draft.besides.append((refs[id(b.subject)][0], b.step, refs[id(b.anchor)][0], phrase))


def _one_ref(refs: dict[int, list[_Ref]], noun: _Noun, phrase: str) -> _Ref:
    if len(refs[id(noun)]) != 1:
        raise PromptError(f"{noun.text!r} {phrase}: this names one thing, not several")
    return refs[id(noun)][0]


def _anchors(refs: dict[int, list[_Ref]], b: _Between, named: list[_Ref], phrase: str) -> tuple[_Ref, _Ref]:
    """The two things a thing is placed between: named in the phrase, or ("them") the last two before."""
    if b.anchors is None:
        before = list(dict.fromkeys(named))
        if len(before) < 2:
            raise PromptError(f"{phrase!r}: name two things before 'between them', or say 'between the agent and "
                              "the goal'")
        return before[-2], before[-1]
    two = [r for noun in b.anchors for r in refs[id(noun)]]
    if len(two) != 2:
        raise PromptError(f"{phrase!r}: say between which two things, e.g. 'between the agent and the goal'")
    return two[0], two[1]


def _place_betweens(draft: _Draft) -> None:
    """Give regions to things placed between two others: the middle region of the two, which must lie
    on the grid halfway between them ("between the top left and the top right": the top). Where the two
    have no region yet they go either side of the thing, along its row (else its column)."""
    for thing, (a, b), phrase in draft.betweens:
        ra, rb, here = draft.region_of(a), draft.region_of(b), draft.region_of(thing)
        if ra is None and rb is None:
            row, col = _cell(here or "centre")
            sides = ((_region_at(row, col - 1), _region_at(row, col + 1)),
                     (_region_at(row - 1, col), _region_at(row + 1, col)))
            ra, rb = next(((x, y) for x, y in sides if x and y), (None, None))
            if ra is None:
                raise PromptError(f"{phrase!r}: the thing placed is in a corner, so the two either side would be "
                                  "off the arena; place it further in")
        elif ra is None or rb is None:  # the other goes across the thing (the centre unless it has a region)
            known, mid = _cell(ra or rb), _cell(here or "centre")
            other = _region_at(2 * mid[0] - known[0], 2 * mid[1] - known[1])
            if other is None or mid == known:
                raise PromptError(f"{phrase!r}: nothing fits on the other side; place both things")
            ra, rb = (ra, other) if rb is None else (other, rb)
        (r1, c1), (r2, c2) = _cell(ra), _cell(rb)
        if (r1 + r2) % 2 or (c1 + c2) % 2 or (r1, c1) == (r2, c2):
            raise PromptError(f"{phrase!r}: no region lies halfway between the {ra} and the {rb}; place them two "
                              "regions apart, e.g. on the left and on the right")
        draft.place(a, ra, repr(phrase))
        draft.place(b, rb, repr(phrase))
        draft.place(thing, _region_at((r1 + r2) // 2, (c1 + c2) // 2), repr(phrase))


def _aim(draft: _Draft) -> None:
    """Give each object that heads for another thing the way from its region to that thing's ("a ball on the
    left rolling towards the box on the right": right). One without a region starts across the arena from
    the thing (on the left when the thing is in the centre); a thing without one goes in the centre."""
    for (_, i), anchor, phrase in draft.towards:
        obj, there = draft.objects[i], draft.region_of(anchor)
        if obj.direction is None or anchor == ("object", i):
            raise PromptError(f"{phrase!r} does not say what moves towards what; e.g. 'a red ball rolls towards the "
                              "blue box'")
        if there is None:
            there = "centre" if obj.region != "centre" else None
            if there is None:
                raise PromptError(f"{phrase!r}: the moving thing is in the centre; say where the other one is")
            draft.place(anchor, there, repr(phrase))
        if obj.region is None and obj.direction != _TOWARDS_THING:  # one step back along its way
            obj.region = _stepped(there, _way_step(obj.direction), -1)
            if obj.region is None:
                raise PromptError(f"{phrase!r}: moving {obj.direction}, nothing can head for a thing at the "
                                  f"{there}; say another way")
        if obj.region is None:
            row, col = _cell(there)
            obj.region = _region_at(-row, -col) if (row, col) != (0, 0) else "left"
        if obj.region == there:
            raise PromptError(f"{phrase!r}: both are at the {there}; put them in different regions")
        way = _way_between(obj.region, there)
        if obj.direction not in (_TOWARDS_THING, way):
            raise PromptError(f"{phrase!r}: it moves {obj.direction}, but the way from the {obj.region} to the "
                              f"{there} is {way}; say one of them")
        obj.direction = way


def _push_from_where_the_agent_is(draft: _Draft) -> None:
    """A push with no way said goes into the goal when the prompt names one, else, by an agent placed beside
    the thing ("the agent is on its left. the agent pushes it"), away from the agent."""
    if draft.task is None or not draft.task[3] or draft.task[1] is None:
        return
    if draft.goal:  # "the agent pushes the box; the goal is on the right": into the goal
        draft.task = (draft.task[0], draft.task[1], None, False)
        return
    here, there = draft.agent_regions[draft.task[0]], draft.objects[draft.task[1]].region
    if here is None or there is None or here == there:
        return
    (r1, c1), (r2, c2) = _cell(here), _cell(there)
    beside = max(abs(r1 - r2), abs(c1 - c2)) == 1
    if beside and _stepped(there, (r2 - r1, c2 - c1)) is not None:  # room to push it on, away from the agent
        draft.task = (draft.task[0], draft.task[1], _way_between(here, there), False)


def _check_speeds(draft: _Draft) -> None:
    """Give the speeds said apart from a motion ("both slow") to the things they were said of, which must
    move, and at no other speed."""
    for obj in draft.objects:
        if obj.speed is None:
            continue
        what = f"the {obj.color or ''} {SHAPE_NOUNS.get(obj.shape, 'thing')}".replace("  ", " ")
        if obj.direction is None and not obj.under_slab:
            raise PromptError(f"{obj.speed!r} is said of {what}, which does not move; say which way it moves")
        if obj.speed == "slow" and (obj.fast or obj.under_slab):
            raise PromptError(f"{what} is said to be slow and to move quickly; say one speed")
        obj.fast = obj.fast or obj.speed == "fast"


def _aim_push(draft: _Draft) -> None:
    """Place the pushed object and the goal so that the goal lies the way the push names ("pushes the box up
    onto the goal"): one region apart along it, the object in the centre when neither has a region."""
    if draft.goal_way is None or draft.task is None or draft.task[1] is None:
        return
    obj, way = draft.objects[draft.task[1]], draft.goal_way
    step = _way_step(way)
    what = f"the push {way} onto the goal"
    if obj.region is None:
        if draft.goal_region is None:
            obj.region = "centre"
        else:
            obj.region = _stepped(draft.goal_region, step, -1)
            if obj.region is None:
                raise PromptError(f"{what}: the goal is at the {draft.goal_region}, so the pushed object would be "
                                  "off the arena; say another way or another place for the goal")
    if draft.goal_region is None:
        draft.goal_region = _stepped(obj.region, step)
        if draft.goal_region is None:
            raise PromptError(f"{what}: the pushed object is at the {obj.region}, so the goal would be off the "
                              "arena; say another way or another place for the object")
    if obj.region == draft.goal_region or _way_between(obj.region, draft.goal_region) != way:
        raise PromptError(f"{what}: the pushed object is at the {obj.region} and the goal at the "
                          f"{draft.goal_region}; say one of the way and the places, or make them agree")


def _fit_chains(draft: _Draft) -> None:
    """Give the first thing of a chain of things placed by each other, none of them with a region ("a red
    ball, a blue ball to its right, and a green ball to the right of that"), the region nearest the centre
    from which every step of the chain stays on the grid: the left for that one."""
    steps = {thing: (anchor, step) for thing, step, anchor, _ in draft.besides if step is not None}
    for root in {anchor for anchor, _ in steps.values()} - steps.keys():
        offsets, grew = {root: (0, 0)}, True
        while grew:
            grew = False
            for thing, (anchor, step) in steps.items():
                if anchor in offsets and thing not in offsets:
                    offsets[thing] = (offsets[anchor][0] + step[0], offsets[anchor][1] + step[1])
                    grew = True
        if len(offsets) < 3 or any(draft.region_of(ref) is not None for ref in offsets):
            continue  # a pair, or a chain with a region said: placed as the relations say
        fit = [min(max(0, -min(o[k] for o in offsets.values()) - 1), 1 - max(o[k] for o in offsets.values()))
               for k in (0, 1)]  # the root's row and column nearest 0 that keep every offset on the grid
        region = _region_at(*fit)
        if region is not None and all(_region_at(fit[0] + r, fit[1] + c) for r, c in offsets.values()):
            draft.place(root, region, "the first of a row of things placed by each other")


def _place_besides(draft: _Draft) -> None:
    """Give regions to things placed by other things: "a red ball above the box" puts the ball one row
    above the box's region; when neither has a region, the one it is placed by goes in the centre (or, for
    a chain of three, where the chain fits: :func:`_fit_chains`)."""
    _fit_chains(draft)
    for thing, step, anchor, phrase in draft.besides:
        here, there = draft.region_of(thing), draft.region_of(anchor)
        if step is None:  # a neighbour: the next region to the right, else left, below, above
            if here is not None and there is not None:
                if max(abs(a - b) for a, b in zip(_cell(here), _cell(there))) > 1:
                    raise PromptError(f"{phrase!r}: one is at the {here} and the other at the {there}, not near")
                continue
            if here is None and there is None:
                there = "centre"
                draft.place(anchor, there, repr(phrase))
            known, free = (there, thing) if here is None else (here, anchor)
            row, col = _cell(known)
            near = next(r for r in (_region_at(row, col + 1), _region_at(row, col - 1),
                                    _region_at(row + 1, col), _region_at(row - 1, col)) if r)
            draft.place(free, near, repr(phrase))
            continue
        if there is None:
            there = "centre" if here is None else _stepped(here, step, -1)
            if there is None:
                raise PromptError(f"{phrase!r}: the thing placed is at the {here}, so the other would be off the "
                                  "arena; place it further in")
            draft.place(anchor, there, repr(phrase))
        want = _stepped(there, step)
        if want is None:
            raise PromptError(f"{phrase!r} is off the arena: the thing it names is at the {there}; place that "
                              "one further in")
        if here == there and _along_line(there, step):  # "a box left of a ball, both in the middle row"
            draft.place(thing, None, repr(phrase), replace=want)
        else:
            draft.place(thing, want, repr(phrase))


def _along_line(region: str, step: tuple[int, int]) -> bool:
    """Whether a step from one thing to another stays in the line that a region shared by both names: a
    step sideways in the middle of a row ("top", "centre", "bottom": "both near the top"), a step up or
    down in the middle of a column ("left", "centre", "right": "both in the left column")."""
    row, column = _cell(region)
    return (step[0] == 0 and column == 0) or (step[1] == 0 and row == 0)


def _split_task(segments: list[_Segment]) -> tuple[list[_Segment], _Segment, list[_Segment]]:
    """(subject, verb, rest) of a task clause: "the white agent" | "pushes" | "the red box to the left"."""
    v = next(
        i
        for i, s in enumerate(segments)
        if (isinstance(s, _Marker) and s.kind == "push") or (isinstance(s, _Motion) and not s.still)
    )
    subject, verb, rest = segments[:v], segments[v], segments[v + 1 :]
    passive = isinstance(verb, _Marker) and verb.words[0] in _PASSIVE_PUSH
    if passive and subject and all(isinstance(s, _Noun) and s.kind == "object" for s in subject):
        # "the red box is pushed to the left by the pink agent": the agent pushes the red box to the left
        by = [s for s in rest if isinstance(s, _Relation) and s.words[0] == "by" and s.noun.kind == "agent"]
        return [b.noun for b in by[:1]], verb, [*subject, *(s for s in rest if s not in by[:1])]
    return subject, verb, rest


_PASSIVE_PUSH = _words("pushed shoved nudged kicked")


def _read_reach(draft: _Draft, segments: list[_Segment]) -> None:
    """"the white agent (on the left) goes to the goal": one agent, a verb, the goal, and nothing else."""
    v = next(i for i, s in enumerate(segments) if isinstance(s, (_Marker, _Motion)))
    if isinstance(segments[v], _Motion) and segments[v].under_slab:  # "goes under the slab to the goal"
        raise PromptError(f"{_words_of(segments)!r}: an agent goes to the goal by its own way; only objects glide "
                          f"under the slab. {_REACH_FORM}")
    starts = [s for s in segments[v + 1:] if isinstance(s, _Place) and s.origin]  # "... to the goal from the left"
    nouns, rest = _attach([*segments[:v], *starts]), [s for s in segments[v + 1:] if s not in starts]
    if len(nouns) != 1 or not rest or not isinstance(rest[0], _Relation) or not all(
            isinstance(s, _Place) for s in rest[1:]):
        raise PromptError(f"{_words_of(segments)!r}: {_REACH_FORM}")
    goal = _attach([rest[0].noun, *rest[1:]])[0]  # "the goal at the top right"
    if goal.kind != "goal":
        raise PromptError(f"{_words_of(segments)!r}: {_REACH_FORM}")
    _apply_fixture(draft, goal)
    k = _apply_agent(draft, nouns[0])
    if len(k) > 1:
        raise PromptError(f"{nouns[0].text!r}: one agent goes to the goal; {_REACH_FORM}")
    if draft.task is not None:
        raise PromptError("the prompt gives two tasks; a scene has at most one")
    draft.goal = True
    draft.task = (k[0], None, None, False)


def _only_an_agent(segments: list[_Segment]) -> _Noun | None:
    """The agent a clause is about when it names one agent and no other thing ("the pink agent is at the top")."""
    nouns = [s for s in segments if isinstance(s, (_Noun, _Relation))]
    one = nouns[0] if len(nouns) == 1 else None
    return one if isinstance(one, _Noun) and one.kind == "agent" and (one.count or 1) == 1 else None


def _task_agent(draft: _Draft, subject: list[_Segment]) -> int:
    """The agent that pushes: the subject of the task clause (the first agent when none is named)."""
    if any(isinstance(s, (_Relation, _Marker)) for s in subject):
        raise PromptError(f"{_words_of(subject)!r}: only an agent pushes; {_PUSH_FORM}")
    nouns = _attach(subject)
    if not nouns:
        return 0
    if len(nouns) > 1 or nouns[0].kind != "agent":
        raise PromptError(f"{_words_of(subject)!r}: only an agent pushes; {_PUSH_FORM}")
    targets = _apply_agent(draft, nouns[0])
    if len(targets) > 1:
        raise PromptError(f"{nouns[0].text!r}: one agent does the pushing")
    return targets[0]


_WAY_ONLY = _words("up upwards upward down downwards downward leftwards leftward rightwards rightward")


def _split_locative(place: _Place) -> tuple[_Place, list[_Place]]:
    """Split "on the left up" into where a thing is ("on the left") and the way after it ("up"), if any."""
    words, k = place.words, 1
    said: set[str] = set()
    while k < len(words) and words[k] not in _WAY_ONLY and not (
            (words[k] in _VERTICAL and "v" in said) or (words[k] in _HORIZONTAL and "h" in said)):
        said |= {"v"} if words[k] in _VERTICAL else {"h"} if words[k] in _HORIZONTAL else set()
        k += 1
    here = _Place(words[:k], _region(words[:k]))
    return here, ([_Place(words[k:], _region(words[k:]))] if k < len(words) else [])


def _task_destination(
    verb: _Segment, rest: list[_Segment]
) -> tuple[_Noun | None, str | None, str | None, str | None]:
    """The pushed object (None: not named), where to (a direction, "goal", or None: not said), the
    goal's region when the push names it ("into the goal at the top right"), and the way to the goal when
    the push names one too ("down to the goal")."""
    target = rest[0] if rest and isinstance(rest[0], _Noun) else None
    dests = rest[1:] if target is not None else rest
    if target is not None and dests and isinstance(dests[0], _Place) and dests[0].words[0] in ("on", "in", "at") \
            and not dests[0].origin:  # "pushes the box on the left up": the box is on the left
        here, way = _split_locative(dests[0])
        target.region = here.region
        dests = [*way, *dests[1:]]
    where = [verb.direction] if isinstance(verb, _Motion) and verb.direction else []
    goal_region = None
    for k, seg in enumerate(dests):
        before = dests[k - 1] if k else None
        if isinstance(seg, _Place) and isinstance(before, _Relation) and before.noun.kind == "goal":
            goal_region = seg.region
        elif isinstance(seg, _Place):  # "to the left"; "from below" is where the agent pushes from
            where.append(_away_from(seg.region) if seg.origin and seg.region != "centre" else _direction(
                seg.region.split()))
        elif isinstance(seg, _Relation) and seg.noun.kind == "goal":
            if set(seg.words) & {"next", "near", "beside", "by", "alongside", "close"}:
                raise PromptError(f"{' '.join(seg.words)!r}: a push takes the box into the goal or one way; "
                                  f"{_PUSH_FORM}")
            where.append("goal")
        else:
            raise PromptError(f"{' '.join(seg.words)!r} does not fit a push; {_PUSH_FORM}")
    way = next((w for w in where if w != "goal"), None) if "goal" in where and len(where) == 2 else None
    if way in DIRECTIONS:  # "pushes the box up onto the goal": the goal lies that way
        where.remove(way)
    else:
        way = None
    if len(where) > 1 or _ANY_WAY in where or set(where) & set(_PAIR_WAYS.values()):
        raise PromptError(f"{_words_of(rest)!r}: a push goes one way; say which, e.g. 'to the left'")
    if target is not None and target.kind in ("goal", "slab", "agent"):
        what = {"goal": "the goal is a patch of floor", "slab": "the slab is fixed", "agent": "agents are not "
                "pushed"}[target.kind]
        raise PromptError(f"{target.text!r}: {what}; an agent pushes an object, e.g. 'the agent pushes the red box "
                          "into the goal'")
    if target is not None and (target.kind != "object" or target.plural or (target.count or 1) > 1
                               or target.count_word in _EVERY):
        raise PromptError(f"{target.text!r}: an agent pushes one object")
    return target, (where[0] if where else None), goal_region, way


def _set_task(
    draft: _Draft, agent: int, target: _Noun | None, dest: str | None, clause: int, way: str | None = None
) -> None:
    if draft.task is not None:
        raise PromptError("the prompt gives two tasks; a scene has at most one")
    noun = target or _Noun(["the", "box"], article="the", head="object", shape="box")
    _check_object_noun(noun)
    draft.clause = clause
    obj = _resolve(draft, noun)[0]
    draft.objects[obj].region = _set_region(draft.objects[obj].region, noun.region, repr(noun.text))
    if dest == "goal":
        draft.goal = True
        draft.task = (agent, obj, None, False)
        draft.goal_way = way
    else:
        draft.task = (agent, obj, dest, dest is None)
