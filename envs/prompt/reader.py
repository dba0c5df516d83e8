"""Clauses -> draft: :class:`_PromptReader` reads a prompt's clauses into a draft, in order, counts and
lists and references to things named before included; :func:`_read_prompt` runs the stages from the
text to the draft (normalised text, tokens, clauses, draft) and applies the scene family heading it."""

from __future__ import annotations

from collections.abc import Callable

from worldsim.envs.prompt.clauses import (
    _about_an_object,
    _agent_going_on,
    _agents_listed,
    _Clause,
    _clauses,
    _drop_ordinal,
    _elliptic,
    _is_reach,
    _is_said_of_both,
    _is_task,
    _list_header,
    _list_item_after,
    _look_headings,
    _merge_modifiers,
    _moves_or_places_each,
    _name_agents_by_colour,
    _other_as_second,
    _said_after_the_list,
    _says_some_of,
    _share_shapes,
    _split_after_the_list,
    _starts_new_object,
    _take_look,
)
from worldsim.envs.prompt.draft import (
    _aim,
    _aim_push,
    _apply_markers,
    _apply_nouns,
    _attach,
    _check_object_noun,
    _check_origin,
    _check_speeds,
    _Draft,
    _fits,
    _look,
    _ObjDraft,
    _only_an_agent,
    _place_besides,
    _place_betweens,
    _push_from_where_the_agent_is,
    _read_reach,
    _set_line,
    _set_region,
    _set_task,
    _split_task,
    _task_agent,
    _task_destination,
    _update_object,
)
from worldsim.envs.prompt.errors import _PUSH_FORM, _REACH_FORM, PromptError
from worldsim.envs.prompt.grid import _direction, _line_of, _way_between
from worldsim.envs.prompt.normalise import _absent_fixtures, _scene_family, _without_label
from worldsim.envs.prompt.segments import (
    _TO_CENTRE,
    _TOWARDS_THING,
    _Beside,
    _Between,
    _Marker,
    _Motion,
    _Noun,
    _Place,
    _read_besides,
    _refers_back,
    _said_of_both,
    _say,
    _Segment,
    _speed_markers,
    _speed_of,
    _Towards,
    _words_of,
)
from worldsim.envs.prompt.tokens import (
    _check_comparatives,
    _check_one_pink_agent,
    _check_vocabulary,
    _distinct_looks,
    _join_adjectives,
    _looks_after_the_noun,
    _looks_after_what_is_said,
    _tokenise,
)
from worldsim.envs.prompt.vocabulary import _EVERY, _SENTENCE_ENDS


def _apply_family(draft: _Draft, family: str | None) -> None:
    """Ask for what the named family has (see the notes of :mod:`worldsim.envs.prompt`)."""
    if family == "occlusion":
        draft.slab = True
        return
    if family not in ("reach", "pushbox"):
        return
    if draft.task is None and len(draft.agent_regions) > 1:
        raise PromptError(f"a {family} task names the agent that does it when there are two; "
                          + (_REACH_FORM if family == "reach" else _PUSH_FORM))
    if family == "reach":
        if draft.task is not None and draft.task[1] is not None:
            raise PromptError(f"a reach task has no push; {_REACH_FORM}, or head the prompt 'pushbox:'")
        draft.goal = True
        draft.task = draft.task or (0, None, None, False)
    elif draft.task is None:  # the agent pushes the box into the goal
        if draft.empty:
            raise PromptError("a push-box scene has a box to push, and the prompt says there is nothing else")
        boxes = [i for i, o in enumerate(draft.objects) if o.shape in ("box", None)]
        if not draft.objects:
            boxes = [draft.add_object(_ObjDraft(shape="box"))]
        if len(boxes) != 1 or draft.objects[boxes[0]].motion_given:
            raise PromptError(f"a push-box scene has one box, at rest, for the agent to push; {_PUSH_FORM}")
        draft.objects[boxes[0]].shape = "box"
        draft.goal = True
        draft.task = (0, boxes[0], None, False)
    elif draft.task[1] is None:
        raise PromptError(f"a push-box task pushes a box, not a reach; {_PUSH_FORM}")
    elif draft.task[3]:  # a push with no way in a push-box scene: into its goal
        draft.goal = True
        draft.task = (*draft.task[:2], None, False)


class _PromptReader:
    """Reads a prompt's clauses into a draft. Clauses that refer to objects ("the box moves left", pushes)
    are read after the rest, so they may refer to objects described later."""

    def __init__(self) -> None:
        self.draft = _Draft()
        self.deferred: list[Callable[[], None]] = []
        self.last_thing: _Noun | None = None  # the agent, slab or goal the clause before ended on ("... its left")
        self.last_object: _Noun | None = None  # the last object noun with a shape, for "a blue one"
        self.last_anchor: _Noun | None = None  # the clause before placed a thing by "it": "... left of it"
        self.last_one: _Noun | None = None  # the clause before named one object it had described: "the red one"
        self.clauses_read = 0
        self.last_agent: _Noun | None = None  # the agent a clause before "and pushes ..." was about
        self.only_agent: _Noun | None = None  # the one agent a clause was about, and nothing else
        self.anchor_steps: dict[int, tuple[int, int] | None] = {}  # the step of each "... of it" read
        self.sentence = 1
        self.counted: _Noun | None = None  # "there are two objects." said in a sentence of its own: all there are

    def read(self, clauses: list[_Clause]) -> _Draft:
        clauses = _share_shapes(clauses)
        i = 0
        while i < len(clauses):
            _agents_listed(clauses, i)
            header = _list_header(clauses[i], _list_item_after(clauses, i))
            if header is not None and i + 1 < len(clauses):
                i = self._read_list(header, clauses, i + 1)
            else:
                if _is_said_of_both(clauses[i], placed=True):  # "a ball and a box, both red (, at the top)"
                    clauses[i].segments = [_said_of_both(clauses[i].segments[0]), *clauses[i].segments[1:]]
                self._read_clause(clauses[i])
                i += 1
        for apply in self.deferred:
            apply()
        if self.counted is not None and len(self.draft.objects) != self.counted.count:
            raise PromptError(f"{self.counted.text!r} says how many objects there are, but the prompt describes "
                              f"{len(self.draft.objects)}; make the count and the things described agree")
        _place_besides(self.draft)
        _place_betweens(self.draft)
        _aim(self.draft)
        _aim_push(self.draft)
        _push_from_where_the_agent_is(self.draft)
        _check_speeds(self.draft)
        if self.draft.empty and self.draft.objects:
            raise PromptError("the prompt says the arena is empty but also describes objects")
        return self.draft

    def _read_task(self, segments: list[_Segment], last_agent: _Noun | None, order: int) -> None:
        """A push: its agent (the one the clause before was about when it names none: "the pink agent is on the
        left and pushes the box"), the pushed thing and where to; applied once every object is read."""
        draft = self.draft
        subject, verb, rest = _split_task(segments)
        agent = _task_agent(draft, subject or ([last_agent] if last_agent is not None else []))
        target, dest, goal_region, way = _task_destination(verb, rest)
        draft.goal_region = _set_region(draft.goal_region, goal_region, "the goal")
        self.deferred.append(lambda: _set_task(draft, agent, target, dest, order, way))

    def _read_clause(self, clause: _Clause, defer: bool = True, in_list: bool = False) -> None:
        segments, draft = clause.segments, self.draft
        self.clauses_read += 1
        order = draft.clause = self.clauses_read
        draft.sentences[order] = self.sentence
        self.sentence += clause.end in _SENTENCE_ENDS
        last_thing, self.last_thing = self.last_thing, None
        last_anchor, self.last_anchor = self.last_anchor, None
        last_one, self.last_one = self.last_one, None
        _name_agents_by_colour([s for s in segments if isinstance(s, _Noun)])
        last_agent, self.last_agent = self.last_agent, _agent_going_on(clause)
        only_agent, self.only_agent = self.only_agent, _only_an_agent(segments)
        if _is_task(segments) and only_agent is not None and isinstance(segments[0], _Noun) \
                and segments[0].words == ["it"]:  # "the pink agent is at the top. it pushes the box down."
            segments = [only_agent, *segments[1:]]
        if last_agent is not None and segments and isinstance(segments[0], (_Marker, _Motion)) and _is_reach(
                [last_agent, *segments]):  # "the agent starts at the bottom right and goes to the goal"
            segments = [last_agent, *segments]
        if _is_reach(segments) and not _is_task(segments):
            _read_reach(draft, segments)
            return
        if any(isinstance(s, _Marker) and s.kind == "reach" for s in segments) and not _is_task(segments) and any(
                isinstance(s, _Noun) and s.kind == "object" for s in segments):
            raise PromptError(f"{_words_of(segments)!r}: only an agent reaches the goal; an object may roll "
                              "towards it, e.g. 'the red ball rolls towards the goal'")
        if _is_task(segments):
            self._read_task(segments, last_agent, order)
            return
        segments, besides = _read_besides(segments, relative=bool({"that", "which", "who"} & set(clause.words)))
        _apply_markers(draft, segments)
        nouns = _attach(segments)
        self._link_pronouns(nouns, besides, last_thing, last_anchor, last_one)
        self._link_other(nouns, last_one)
        self._find_looks(nouns, in_list, last_agent)
        if defer and any(n.kind == "object" and n.definite for n in nouns):
            self.deferred.append(lambda: _apply_nouns(draft, nouns, order, besides))
        else:
            _apply_nouns(draft, nouns, order, besides)

    def _find_looks(self, nouns: list[_Noun], in_list: bool, last_agent: _Noun | None) -> None:
        """Settle what each noun of a clause is before it is applied: "the pink one" an agent, "one" after
        "one agent on the left" the other agent, "a blue one" the shape of the object before it."""
        draft = self.draft
        _name_agents_by_colour(nouns)  # nouns of places by other things too ("next to the pink one")
        for noun in nouns:
            if noun.words == ["one"] and noun.head is None and last_agent is not None and (last_agent.count or 1) == 1:
                # "one agent on the left and one on the right": the other agent
                noun.head, noun.count, noun.count_word, noun.ordinal = "agent", None, None, 2
            if noun.kind != "object" or noun.pronoun:
                continue
            if noun.words == ["one"] and self.last_object is not None and self.last_object.count_word == "one" \
                    and not in_list:  # "one box at the top and one at the bottom": one more box
                _take_look(noun, self.last_object)
            elif not in_list and noun.words == ["one"] and (draft.objects or len(nouns) > 1):  # "two balls; one rolls"
                raise PromptError("'one' could name one of the things described before, or a new one; say which, "
                                  "e.g. 'the red ball rolls up' or 'another ball rolls up'")
            if not in_list and _refers_back(noun) and _names_one_before(draft, noun):
                noun.article = "the"  # "a big ball and a small ball, big one still": the big one
            if not in_list and _elliptic(noun) and self.last_object is not None:  # "a red ball and another blue"
                _take_look(noun, self.last_object)
            if not in_list and _refers_back(noun) and not noun.definite:  # "the red one" is found by its colour
                if self.last_object is None:
                    raise PromptError(f"{noun.text!r}: one of what? Name the shape, e.g. 'a blue ball'")
                _take_look(noun, self.last_object)
            if noun.shape is not None:
                self.last_object = noun

    def _link_pronouns(self, nouns: list[_Noun], besides: list[_Beside | _Between | _Towards],
                       last_thing: _Noun | None, last_anchor: _Noun | None, last_one: _Noun | None) -> None:
        """Point a clause's "it" at what the clause before makes it name (the one object it said something
        of: "the ball is big. it rolls right"), and note what this clause leaves for the next one."""
        for noun in nouns:
            if last_thing is None and last_one is not None and noun.pronoun and noun.count is None \
                    and last_one.kind == "object":
                noun.same_as = last_one
            if last_thing is not None and noun.pronoun and noun.count is None:  # "it" after "the agent"
                noun.head, noun.color_word, noun.ordinal = last_thing.head, last_thing.color_word, last_thing.ordinal
                noun.other, noun.count_word = last_thing.other, last_thing.count_word
                said = noun.said.get("color_word")
                if last_thing.head == "agent" and said is not None and said != (last_thing.color_word or "white"):
                    raise PromptError(f"{noun.text!r}: the agent named before is {last_thing.color_word or 'white'}; "
                                      "agents are white (the first) and pink (the second), each named as such")
                noun.color_word = noun.said.pop("color_word", noun.color_word)
                noun.size = noun.said.pop("size", None)
        if nouns and nouns[-1].kind != "object" and not nouns[-1].plural and (nouns[-1].count or 1) == 1:
            self.last_thing = nouns[-1]
        for b in besides:  # "a box with a ball to the left of it and a cube to the right of it": the box twice
            if isinstance(b, _Beside) and b.anchor.pronoun and b.anchor.kind == "object":
                chain = last_anchor is not None and self.anchor_steps.get(id(last_anchor)) == b.step
                b.anchor.same_as = None if chain else last_anchor  # "... to its right. ... to its right": a chain
                self.last_anchor, self.anchor_steps[id(b.anchor)] = b.anchor, b.step

    def _link_other(self, nouns: list[_Noun], last_one: _Noun | None) -> None:
        """Point "the other (one)" at what the clause before named ("the yellow one moves right, the other
        one stays"), and note the one object this clause names, for the next."""
        objects = [n for n in nouns if n.kind == "object"]
        if len(objects) != 1:
            return
        noun = objects[0]
        if noun.other and noun.article == "the" and last_one is not None and not (
                noun.color_word or noun.size or noun.count_word or noun.ordinal or noun.plural):
            noun.other_than = last_one
        elif noun.definite and not noun.other and not noun.plural and (noun.count or 1) == 1 and (
                noun.region is not None or noun.motion is not None or noun.said):
            self.last_one = noun  # it says something of its thing ("the red one and the other one move": both)

    def _read_list(self, header: _Noun, clauses: list[_Clause], i: int) -> int:
        """Read the list after "two objects:" up to the end of its sentence; returns the next clause."""
        _check_object_noun(header)
        start, own_sentence = i, clauses[i - 1].end in _SENTENCE_ENDS
        if own_sentence:
            self.counted = header
        first = len(self.draft.objects)
        i, of_each = self._read_items(header, clauses, i, own_sentence)
        items = [c for c in clauses[start:i] if not (_is_said_of_both(c) or c in of_each)]
        if (items and all(_says_some_of(c) for c in items)) or not (own_sentence or items):
            while len(self.draft.objects) - first < (header.count or 0):  # "two red balls, one big": the other
                self.draft.add_object(_ObjDraft())  # is as the count says; "three objects, all red": each is
        listed = list(range(first, len(self.draft.objects)))
        _check_list(header, [self.draft.objects[k] for k in listed], own_sentence)
        for clause in of_each:
            self._read_clause(clause, defer=False)
        self._apply_header(header, clauses[start - 1].segments, listed)
        return i

    def _read_items(self, header: _Noun, clauses: list[_Clause], i: int,
                    own_sentence: bool) -> tuple[int, list[_Clause]]:
        """Read a list's items from clause ``i``; returns the clause after them, and the items said of each
        thing counted ("all moving up"), left to be read once every listed thing is there."""
        first = len(self.draft.objects)
        of_each: list[_Clause] = []
        own_said = False
        while i < len(clauses):
            if header.shape is not None and len(self.draft.objects) - first == header.count \
                    and _starts_new_object(clauses[i]) and clauses[i].segments[0].shape != header.shape:
                break  # "two large balls, one red and one green, and a small yellow cube": the cube is not one
            if _is_said_of_both(clauses[i]) and (header.count == 2 or clauses[i].segments[0].count_word in _EVERY):
                # "two balls: one left, one right, both red"; "three objects, all red"
                _say(header, clauses[i].segments[0].words[1:])
            elif _moves_or_places_each(clauses[i]):
                of_each.append(clauses[i])
            elif header.count and len(self.draft.objects) - first == header.count - 1 and not own_said and \
                    _said_after_the_list(clauses[i]):  # "two boxes, one red and one blue, on the left": both
                item, each = _split_after_the_list(clauses[i])
                self._read_clause(item, defer=False, in_list=True)
                of_each.append(each)
            else:
                _drop_ordinal(clauses[i])
                own_said |= any(getattr(s, "after_comma", False) for s in clauses[i].segments[1:])  # "a box, top
                # left, still, a ball, bottom right, moving west": each its own
                if header.count == 2 and len(self.draft.objects) - first == 1:
                    _other_as_second(clauses[i])  # "two balls, one red and the other blue"
                self._read_clause(clauses[i], defer=False, in_list=True)
            i += 1
            if clauses[i - 1].end in _SENTENCE_ENDS and not (
                    own_sentence and len(self.draft.objects) - first < (header.count or 0)
                    and i < len(clauses) and _about_an_object(clauses[i])):
                break  # a count said in a sentence of its own lists as many things, a sentence each or more
        return i, of_each

    def _apply_header(self, header: _Noun, segments: list[_Segment], listed: list[int]) -> None:
        """Give each listed object the motion, speed and place said with the count ("two balls heading at each
        other: ...", "two slow balls: ...", "two objects at the top: ...")."""
        motion = next((s for s in segments if isinstance(s, _Motion)), None)
        speeds = _speed_markers(segments)
        if speeds:
            header.speed = _speed_of({s.kind for s in speeds}, _words_of(segments).split())
        if motion is not None or header.speed is not None:
            header.motion = motion
            for k in listed:
                _update_object(self.draft.objects[k], header, place=False)
        place = next((s for s in segments if isinstance(s, _Place)), None)
        if place is not None:
            header.region = place.region
            line = _line_of(place.region)
            if line is not None:
                _set_line(self.draft, header, listed, *line)
            for k in listed:
                self.draft.objects[k].region = _set_region(self.draft.objects[k].region, header.region,
                                                           repr(header.text))


def _names_one_before(draft: _Draft, noun: _Noun) -> bool:
    """Whether a bare "big one" or "red one" (no article or count) names the one thing described before
    with that size or colour: terse for "the big one". Two such things are refused (which one?); with
    none, it is a new one ("a red ball, blue one on the right")."""
    if noun.article is not None or noun.count_word is not None or noun.plural or not (noun.color or noun.size):
        return False
    fits = [o for o in draft.objects if _fits(o, noun)]
    if len(fits) > 1:
        raise PromptError(f"{noun.text!r} could be any of {' and '.join(_look(o) for o in fits)}; say which, e.g. by "
                          "its colour and shape, or 'a ...' for another one")
    return len(fits) == 1


def _check_list(header: _Noun, listed: list[_ObjDraft], own_sentence: bool = False) -> None:
    """The list after a count must give that many objects; they take the header's colour, shape, size."""
    if not listed:
        raise PromptError(f"{header.text!r} is not followed by any object")
    if header.count is not None and len(listed) != header.count:
        hint = (f"; a count in a sentence of its own is followed by each thing it counts, e.g. '{header.text}. "
                "A red ball is on the left. ...'") if own_sentence else ""
        raise PromptError(
            f"{header.text!r} announces {header.count} object{'s' * (header.count > 1)} "
            f"but the list after it describes {len(listed)}{hint}"
        )
    for obj in listed:
        for name in ("color", "shape", "size"):
            want, have = getattr(header, name), getattr(obj, name)
            if want is not None and have not in (None, want):
                raise PromptError(f"{header.text!r} announces {want} objects, but the list names {have}")
            setattr(obj, name, have or want)


def _read_prompt(text: str) -> _Draft:
    if not isinstance(text, str) or not text.strip():
        raise PromptError("the prompt is empty; describe a scene, e.g. 'a red box and a blue ball'")
    family, rest = _scene_family(_without_label(text))
    tokens = _looks_after_what_is_said(_looks_after_the_noun(_join_adjectives(_tokenise(rest))))
    tokens, distinct = _distinct_looks(tokens)
    _check_vocabulary(tokens)
    _check_comparatives(tokens)
    _check_one_pink_agent(tokens)
    clauses = _look_headings(_merge_modifiers(_clauses(tokens)))
    if not clauses:
        if family is None:
            raise PromptError(f"the prompt {text!r} describes nothing; e.g. 'a red box and a blue ball'")
        clauses = []
    draft = _PromptReader().read(clauses) if clauses else _Draft()
    draft.distinct = distinct
    if not draft.objects and {"only", "just", "alone"} & set(tokens):  # "only the agent": no objects at all
        draft.empty = True
    _apply_family(draft, family)
    for fixture in _absent_fixtures(text):
        if getattr(draft, fixture):  # "occlusion: a red ball rolls left, no slab"
            raise PromptError(f"the prompt says there is no {fixture}, yet its scene family ({family}) has one; "
                              f"drop 'no {fixture}' or the family")
    for obj in draft.objects:
        if obj.direction == _TOWARDS_THING:  # "rolls left, rolls towards the box": which way?
            raise PromptError("a motion towards another thing follows another motion, and what moves towards what "
                              "is unclear; give each moving thing one motion, e.g. 'a red ball rolls towards the "
                              "blue box'")
        _head_along_a_side(obj)
        _head_for_the_centre(obj)
        if obj.origin is not None:
            _check_origin(obj)
    return draft


def _head_along_a_side(obj: _ObjDraft) -> None:
    """Give a thing that moves "to" a region along a side from where it is ("at the top left moves to the top
    right") the way there: right, not the way the region lies from the centre (up-right)."""
    if obj.goes_to is None or obj.region in (None, obj.goes_to) or obj.direction != _direction(obj.goes_to.split()):
        return
    way = _way_between(obj.region, obj.goes_to)
    if "-" not in way:
        obj.direction = way


def _head_for_the_centre(obj: _ObjDraft) -> None:
    """Give a thing that moves "towards the centre" the way from its region to the centre."""
    if obj.direction != _TO_CENTRE:
        return
    if obj.region in (None, "centre"):
        where = "is in the centre" if obj.region else "has no place"
        raise PromptError(f"a thing that moves towards the centre {where}; say where it starts, e.g. 'a red ball on "
                          "the left rolls towards the centre'")
    obj.direction = _way_between(obj.region, "centre")
