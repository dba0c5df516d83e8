"""Tokens -> clauses: :func:`_clauses` splits the tokens at separators (punctuation, joining words) and
reads each clause into segments; then clauses that only place or move something join their neighbour
(``_merge_modifiers``), what is said before a colon goes to each thing listed after it
(``_look_headings``), and what is said of several things is shared out among them (``_share_shapes``,
``_share_predicates``). Also the tests the reader puts to a clause: a count that announces a list
(``_list_header``), a push or a reach (``_is_task``, ``_is_reach``), ..."""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field

from worldsim.envs.prompt.errors import _PUSH_FORM, PromptError
from worldsim.envs.prompt.grid import _line_of
from worldsim.envs.prompt.normalise import _WAY_WORDS
from worldsim.envs.prompt.segments import (
    _AXES,
    _is_bare,
    _Marker,
    _Motion,
    _Noun,
    _Place,
    _refers_back,
    _Relation,
    _said_of_the_glide,
    _say,
    _Segment,
    _Segmenter,
    _speed_markers,
)
from worldsim.envs.prompt.vocabulary import (
    _EVERY,
    _HEADS,
    _MOTION_VERBS,
    _NOUN_KINDS,
    _PAIR_WAYS,
    _PLACE_WORDS,
    _PUNCTUATION,
    _REGION_KINDS,
    _SENTENCE_ENDS,
    _SPEED_KINDS,
    _STILL_WORDS,
    _kind,
    _words,
)
from worldsim.envs.scene import AGENT_COLORS


def _is_said_of_both(clause: _Clause, placed: bool = False) -> bool:
    """A clause that only says "both red" (or "both big", "all red"): said of the things named before it.
    With ``placed``, a place or motion may follow ("all blue, in a row")."""
    rest = clause.segments[1:]
    noun = clause.segments[0] if not rest or (placed and all(_is_modifier(s) for s in rest)) else None
    return isinstance(noun, _Noun) and noun.count_word in _EVERY | {"both"} and noun.head is None \
        and len(noun.words) > 1 and all(_kind(w) in ("color", "badcolor", "size") for w in noun.words[1:])


@dataclass
class _Clause:
    """The words between two separators (punctuation or a joining word such as "and")."""

    words: list[str]
    end: str  # the separator after it; "" at the end of the prompt
    segments: list[_Segment] = field(default_factory=list)


def _refuse_is_a(words: list[str]) -> None:
    """Refuse a thing said to be another ("the green thing is a cylinder"): one phrase says it plainly."""
    for k, word in enumerate(words[1:-1], start=1):
        if word not in ("is", "are") or _HEADS.get(_kind(words[k - 1])) is None:
            continue
        j = k - 1
        while j > 0 and _kind(words[j - 1]) in _NOUN_KINDS:
            j -= 1
        if j > 0 and _kind(words[j - 1]) in _PLACE_WORDS:
            continue  # "next to it is a blue box": a place, then the thing there
        rest = words[k + 1 :]
        rest = rest[1:] if _kind(rest[0]) == "art" else rest
        while rest and _kind(rest[0]) in ("color", "size"):
            rest = rest[1:]
        if rest and (_kind(rest[0]) in ("shape", "generic") or rest[0] == "one"):
            raise PromptError(f"{' '.join(words)!r}: say what a thing is in one phrase, e.g. 'a big red ball on "
                              "the left'")


def _clauses(tokens: list[str]) -> list[_Clause]:
    """Split tokens at separators and read each clause; clauses with nothing in them are dropped."""
    raw, words = [], []
    between = False  # inside "between the agent and the goal": its "and" joins the two things
    for token in tokens:
        if token == "and" and between:
            words.append(token)
            between = False
        elif token in _PUNCTUATION or _kind(token) == "join":
            raw.append(_Clause(words, token))
            words, between = [], False
        else:
            words.append(token)
            between = between or token == "between"
    raw.append(_Clause(words, ""))
    clauses: list[_Clause] = []
    for clause in raw:
        _refuse_is_a(clause.words)
        clause.segments = _Segmenter([w for w in clause.words if _kind(w) != "filler"]).run()
        if clause.segments:
            clauses.append(clause)
        elif clauses and clause.end in _SENTENCE_ENDS:
            clauses[-1].end = clause.end  # keep the end of a sentence ("... a blue box, .")
    for k, (before, clause) in enumerate(zip(clauses, clauses[1:])):
        _check_one_pushed(before, clause, clauses[k + 2] if k + 2 < len(clauses) else None)
        _gapped_motion(before, clause)
        _check_bare_shape_after(before, clause)
    return clauses


_GAP_WORDS = frozenset(_WAY_WORDS.split("|")) | _words("upward downward leftward rightward upwards downwards "
                                                       "leftwards rightwards to towards toward the")


def _is_way(segment: _Segment | None) -> bool:
    """A place said as a bare way ("left", "to the right"), which reads as a way after a motion or a push."""
    return isinstance(segment, _Place) and set(segment.words) <= _GAP_WORDS


def _check_bare_shape_after(before: _Clause, clause: _Clause) -> None:
    """Refuse a bare shape joined to a thing whose colour or size is said ("a red ball and box"): is the box
    red too? One reading would be a guess."""
    last, first = before.segments[-1], clause.segments[0]
    if not (before.end == "and" and isinstance(last, _Noun) and last.kind == "object" and (last.color_word or last.size)
            and isinstance(first, _Noun) and first.shape is not None and len(first.words) == 1):
        return
    look = " ".join(w for w in last.words if w != last.article)
    said, noun = " ".join(w for w in last.words[:-1] if w not in (last.article, last.count_word)), first.words[0]
    if first.plural:  # "a red ball and boxes": how many, and of what look?
        raise PromptError(f"'{look} and {noun}': are the {noun} {said} too, and how many? Give them a count: "
                          f"'two {said} {noun}', or 'two {noun}' for any look")
    raise PromptError(f"'{look} and {noun}': is the {noun} {said} too? Give it its own article: 'a {said} {noun}', "
                      f"or 'a {noun}' for one of any look")


def _check_one_pushed(before: _Clause, clause: _Clause, after: _Clause | None) -> None:
    """Refuse a second thing pushed with the first one's verb ("the agent pushes the red box and the blue box to
    the left", "... the red box left and the blue box right"): an agent pushes one object."""
    if not (any(isinstance(s, _Marker) and s.kind == "push" for s in before.segments)
            and before.end in ("and", ",", "then", ";")):
        return
    noun, *rest = clause.segments
    lone = not rest and clause.end in (",", "then") and after is not None and len(after.segments) == 1 \
        and _is_way(after.segments[0])  # "... the red box, then the blue box, to the left"
    last = not rest and clause.end in ("", *_SENTENCE_ENDS)  # "the agent pushes the red box and the blue box."
    if isinstance(noun, _Noun) and noun.kind == "object" and ((len(rest) == 1 and _is_way(rest[0])) or lone):
        raise PromptError(f"'{' '.join(clause.words)}' after a push: an agent pushes one object; {_PUSH_FORM}")
    if isinstance(noun, _Noun) and noun.kind == "object" and (noun.definite or before.end == "and") and last:
        raise PromptError(f"'{' '.join(clause.words)}' after a push: an agent pushes one object; {_PUSH_FORM}; "
                          f"another object is its own clause, e.g. 'there is also a red ball'")


def _gapped_motion(before: _Clause, clause: _Clause) -> None:
    """Read a way said without its verb after a motion as that motion's ("a red ball rolls left and a blue box
    right", "the red box slides to the left, the blue box to the right"): the verb is left out, not a place."""
    moves = [s for s in before.segments if isinstance(s, _Motion)]
    if before.end not in ("and", ",", ";") or len(moves) != 1 or moves[0].direction is None or moves[0].still:
        return
    noun, *rest = clause.segments
    places = [s for s in rest if isinstance(s, _Place)]
    if not (isinstance(noun, _Noun) and noun.kind == "object" and len(places) == 1
            and all(isinstance(s, _Place) or (isinstance(s, _Marker) and s.kind in _SPEED_KINDS) for s in rest)
            and _is_way(places[0])):
        return
    words = [w for w in clause.words if _kind(w) != "filler"]
    at = len(noun.words)
    clause.segments = _Segmenter([*words[:at], moves[0].words[0], *words[at:]]).run()


def _is_modifier(segment: _Segment) -> bool:
    return (isinstance(segment, (_Place, _Motion)) or (isinstance(segment, _Marker) and segment.kind in _SPEED_KINDS)
            or (isinstance(segment, _Relation) and segment.words[0] in ("towards", "toward")))


def _can_merge(clause: _Clause, into: _Clause, backward: bool) -> bool:
    """Whether a clause of modifiers only ("on the right") can join ``into``."""
    if backward and _list_header(into) is not None:
        return False  # keep "two objects:" a count for the list after it
    kinds = {type(s) for k, s in enumerate(clause.segments)  # "..., moving towards the agent at the bottom
             if not (k and isinstance(clause.segments[k - 1], _Relation))} & {_Place, _Motion}  # left": the agent's
    has_noun = any(isinstance(s, _Noun) for s in into.segments)
    if backward and _is_task(into.segments):  # "... pushes the box onto the goal, at the top": the goal's place
        last = into.segments[-1]
        return (len(clause.segments) == 1 and isinstance(clause.segments[0], _Place)
                and isinstance(last, _Relation) and last.noun.kind == "goal")
    if has_noun and _way_under_the_slab(clause, into):
        return True
    return has_noun and not _is_task(into.segments) and not kinds & {type(s) for s in into.segments}


def _way_under_the_slab(clause: _Clause, into: _Clause) -> bool:
    """Whether ``clause`` only gives the way of a motion under the slab in ``into`` that had none ("a red
    ball passes under the slab, moving right")."""
    moves = [s for s in into.segments if isinstance(s, _Motion)]
    way = clause.segments[0] if len(clause.segments) == 1 else None
    return len(moves) == 1 and moves[0].under_slab and moves[0].direction is None and isinstance(way, _Motion) \
        and way.direction in _AXES and not way.under_slab


def _goes_under(clause: _Clause, before: _Clause) -> bool:
    """Whether ``clause`` only says that the thing moving one way in ``before`` goes under the slab ("a
    ball rolls left from the right, and goes under the slab", "..., passing under a slab in the middle"); if so
    that motion now goes under it."""
    motion = clause.segments[0] if len(clause.segments) in (1, 2) else None
    place = clause.segments[1] if len(clause.segments) == 2 else None
    if not (isinstance(motion, _Motion) and motion.under_slab and not motion.still) or (
            place is not None and not isinstance(place, _Place)):
        return False
    moves = [s for s in before.segments if isinstance(s, _Motion) and not s.still]
    if len(moves) != 1 or (place is not None and not _said_of_the_glide(place, motion)):
        return False
    moves[0].slab_region = moves[0].slab_region or motion.slab_region
    said = f"'{' '.join(moves[0].words)} and {' '.join(motion.words)}'"
    if moves[0].direction not in _AXES:
        raise PromptError(f"{said}: a thing goes under the slab one of {', '.join(_AXES)}")
    if motion.direction not in (None, moves[0].direction):
        raise PromptError(f"{said}: a motion goes one way; give each moving object one direction")
    moves[0].under_slab = True
    return True


def _check_one_thing_before(before: list[_Clause], clause: _Clause) -> None:
    """Refuse a sentence that only moves something after a sentence that described several things."""
    start = max((k + 1 for k, c in enumerate(before[:-1]) if c.end in _SENTENCE_ENDS), default=0)
    things = [s for c in before[start:] for s in c.segments if isinstance(s, _Noun) and s.kind == "object"]
    if len(things) > 1 or (things and (things[0].plural or (things[0].count or 1) > 1)):
        raise PromptError(f"{' '.join(clause.words)!r} does not say what moves, and the sentence before describes "
                          "more than one thing; say which, e.g. 'the red ball moves left'")


def _head_the_list(heading: _Clause, after: list[_Clause], whole_sentence: bool = False) -> bool:
    """Give a place, motion or speed said before a colon to each thing listed after it, up to the end of the
    sentence ("on the left: a red ball and a blue box", "moving left: ..."); False when no thing follows.
    With ``whole_sentence`` (a place before a comma), only a list that is the rest of its sentence takes it."""
    items = []
    for clause in after:  # a list: things joined by "and" or commas ("left: red ball; centre: ..." is no list)
        first = clause.segments[0] if clause.segments else None
        if not (isinstance(first, _Noun) and first.kind == "object"):
            break
        items.append(clause)
        if clause.end not in (",", "and"):
            break
    if len(items) < 2 or (whole_sentence and not (items[-1].end in _SENTENCE_ENDS or not items[-1].end)):
        return False
    for clause in items:  # an item's own place or motion stays ("on the left: a red ball and a blue box at the top")
        own = {type(s) for s in clause.segments[1:]}
        clause.segments = [*clause.segments, *copy.deepcopy([s for s in heading.segments if type(s) not in own])]
    return True


def _look_headings(clauses: list[_Clause]) -> list[_Clause]:
    """Give a colour or size said before a colon to each thing listed after it, up to the end of the sentence:
    "red: ball, top left" is one red ball, "big: a box and a ball" two big things."""
    out: list[_Clause] = []
    for i, clause in enumerate(clauses):
        heading = clause.segments[0] if len(clause.segments) == 1 and clause.end == ":" else None
        if not (isinstance(heading, _Noun) and heading.words and _is_bare(heading)):
            out.append(clause)
            continue
        items = []
        for item in clauses[i + 1:]:
            first = item.segments[0] if item.segments else None
            if not (isinstance(first, _Noun) and first.kind == "object" and not first.definite):
                break
            items.append(first)
            if item.end not in (",", "and"):
                break
        if not items:
            raise PromptError(f"'{' '.join(heading.words)}:' is said of no thing after it; say what it describes, "
                              "e.g. 'red: a ball on the left'")
        for noun in items:
            _say(noun, heading.words)
    return out


def _merge_modifiers(clauses: list[_Clause]) -> list[_Clause]:
    """Join each clause that only places or moves something to its neighbour: "on the right, a yellow
    cylinder" is one thing, so is "a blue ball, moving left". A place goes forward first, a motion back, and
    anything after a colon back ("red box: top")."""
    out = _join_places_by_things(clauses)
    i = 0
    while i < len(out):
        clause = out[i]
        if not all(_is_modifier(s) for s in clause.segments):
            i += 1
            continue
        opens = i == 0 or out[i - 1].end in _SENTENCE_ENDS  # "on the left, a red ball and a blue ball"
        placed = all(isinstance(s, _Place) for s in clause.segments)
        heads = clause.end == ":" or (clause.end == "," and opens and placed)
        if heads and _head_the_list(clause, out[i + 1:], whole_sentence=clause.end == ","):
            del out[i]  # "on the left: a red ball and a blue box"
            continue
        if i and _goes_under(clause, out[i - 1]):  # "... rolls left, and goes under the slab"
            out[i - 1].words, out[i - 1].end = out[i - 1].words + clause.words, clause.end
            del out[i]
            continue
        last = out[i - 1].segments[-1] if i else None
        bare_place = len(clause.segments) == 1 and all(_kind(w) in _REGION_KINDS for w in clause.segments[0].words)
        if isinstance(last, _Motion) and last.direction and bare_place:
            raise PromptError(f"'{' '.join(last.words)} and {' '.join(clause.segments[0].words)}': a motion goes "
                              "one way; give each moving object one direction")
        # "... rolls under the slab then right": the way, said apart from a motion that had none
        if isinstance(last, _Motion) and last.under_slab and last.direction is None and bare_place:
            raise PromptError(f"'{' '.join(last.words)}, {' '.join(clause.segments[0].words)}': say the way in the "
                              f"motion ('rolls {clause.segments[0].words[-1]} under the slab'), or the place with 'on "
                              "the ...'")
        # a place goes forward ("on the right, a yellow cylinder") unless a colon gave it ("red box: top"), it
        # ends its sentence ("a red ball, top left."), or places alternate with things ("red ball, top left,
        # blue box, bottom right")
        pairs = i + 2 < len(out) and all(isinstance(s, _Place) for s in out[i + 2].segments)
        ends = clause.end in _SENTENCE_ENDS or not clause.end
        forward_first = any(isinstance(s, _Place) for s in clause.segments) and not (
            i and (out[i - 1].end == ":" or ends or pairs))
        order = (i + 1, i - 1) if forward_first else (i - 1, i + 1)
        j = next((j for j in order if 0 <= j < len(out) and _can_merge(clause, out[j], j < i)), None)
        if j is None:
            i += 1
            continue
        into = out[j]
        if j < i and into.end in _SENTENCE_ENDS and any(isinstance(s, _Motion) for s in clause.segments):
            _check_one_thing_before(out[:i], clause)  # "a red ball and a blue box. moving left.": which?
        if j < i:
            for s in clause.segments:  # "a red ball and a blue box, moving left": said of the list
                if isinstance(s, (_Motion, _Place)):
                    s.after_comma = into.end == ","
            into.words, into.segments, into.end = into.words + clause.words, into.segments + clause.segments, clause.end
        else:
            into.words, into.segments = clause.words + into.words, clause.segments + into.segments
        del out[i]
    return out


def _join_places_by_things(clauses: list[_Clause]) -> list[_Clause]:
    """Join a place by another thing, said before a comma, to the new thing after it ("a red ball; next to it,
    a blue box": the box is next to it)."""
    out: list[_Clause] = []
    place = None
    for k, clause in enumerate(clauses):
        if place is not None:
            clause.words, clause.segments = place.words + clause.words, place.segments + clause.segments
            place = None
        elif _places_by_a_thing(clause, out[-1] if out else None, clauses[k + 1] if k + 1 < len(clauses) else None):
            place = clause
            continue
        out.append(clause)
    return out


def _places_by_a_thing(clause: _Clause, before: _Clause | None, after: _Clause | None) -> bool:
    """Whether a clause that opens a sentence or follows a semicolon is only a place by another thing, said
    before a comma and the one new thing it places ("next to it, a blue box", "below the red ball, a box")."""
    relation, *side = reversed(clause.segments)  # "next to it"; "to the left", "of it"
    if side and not (len(side) == 1 and isinstance(side[0], _Place) and relation.words[0] == "of"):
        return False
    if not (isinstance(relation, _Relation) and relation.words[0] not in ("towards", "toward") and clause.end == ","
            and after is not None and after.segments):
        return False
    opens = before is None or before.end in (*_SENTENCE_ENDS, ";") or relation.noun.pronoun  # "..., and to its right,"
    first = after.segments[0]
    return opens and isinstance(first, _Noun) and first.kind in ("object", "goal") and not first.definite \
        and not any(isinstance(s, (_Relation, _Place)) for s in after.segments[1:])


def _is_task(segments: list[_Segment]) -> bool:
    """A push task: a push verb, or an agent that moves an object ("the agent brings the ball to the goal")."""
    if any(isinstance(s, _Marker) and s.kind == "push" for s in segments):
        return True
    nouns = {s.kind for s in segments if isinstance(s, _Noun)}
    moves = any(isinstance(s, _Motion) and not s.still for s in segments)
    return moves and {"agent", "object"} <= nouns


def _is_reach(segments: list[_Segment]) -> bool:
    """A reach task: an agent that reaches, or moves to, the goal ("the white agent goes to the goal")."""
    goal = any(isinstance(s, _Relation) and s.noun.kind == "goal" for s in segments)
    verb = any((isinstance(s, _Marker) and s.kind == "reach") or (isinstance(s, _Motion) and not s.still
                                                                  and s.direction is None) for s in segments)
    nouns = {s.kind for s in segments if isinstance(s, _Noun)}
    return goal and verb and nouns == {"agent"}


def _list_item_after(clauses: list[_Clause], i: int) -> _Clause | None:
    """The clause after clause ``i``, or the one after that when it only says "both red" or "both moving left"
    and the sentence goes on ("two balls, both red, one big")."""
    after = clauses[i + 1] if i + 1 < len(clauses) else None
    if after is not None and (_is_said_of_both(after) or _moves_or_places_each(after)) \
            and after.end not in _SENTENCE_ENDS and i + 2 < len(clauses):
        return clauses[i + 2]
    return after


def _said_after_the_list(clause: _Clause) -> bool:
    """Whether a list's last item ends on places or motions said after a comma ("..., one blue, on the left"):
    they are said of every thing listed."""
    speeds = _speed_markers(clause.segments)  # "..., moving left quickly"
    said = [s for s in clause.segments[1:] if s not in speeds]
    return isinstance(clause.segments[0], _Noun) and bool(said) and all(
        isinstance(s, (_Place, _Motion)) and getattr(s, "after_comma", False) for s in said)


def _split_after_the_list(clause: _Clause) -> tuple[_Clause, _Clause]:
    """The last item ("one blue") and what is said of every thing listed ("all on the left")."""
    every = _Segmenter(["all"])._read_noun()
    rest = clause.segments[1:]
    return (_Clause(clause.words, ",", [clause.segments[0]]),
            _Clause(["all", *(w for s in rest for w in s.words)], clause.end, [every, *rest]))


def _moves_or_places_each(clause: _Clause) -> bool:
    """A list item that only moves or places every thing counted ("all moving up", "both at the top")."""
    first, rest = (clause.segments[0], clause.segments[1:]) if clause.segments else (None, [])
    return isinstance(first, _Noun) and first.words in (["all"], ["both"], ["each"]) and bool(rest) \
        and all(_is_modifier(s) for s in rest)


def _about_an_object(clause: _Clause) -> bool:
    """Whether a clause begins with an object ("a red ball ...", "it ...", "one ...", "the other ..."), not an
    agent, the slab or the goal."""
    first = clause.segments[0] if clause.segments else None
    return isinstance(first, _Noun) and first.kind == "object"


def _says_some_of(clause: _Clause) -> bool:
    """A list item that says something of some of the things counted ("one big", "two red", "one rolling
    left"), not one that adds a thing of its own ("a red ball")."""
    first = clause.segments[0] if clause.segments else None
    return isinstance(first, _Noun) and first.count is not None and first.count_word not in (None, "both") \
        and first.shape is None and first.head is None


def _agent_going_on(clause: _Clause) -> _Noun | None:
    """The agent a clause is about when the next one goes on without a subject ("the pink agent is on the left
    and pushes ..."; "the pink one is ... and ...")."""
    first = clause.segments[0] if clause.segments else None
    if isinstance(first, _Noun):
        _name_agents_by_colour([first])
    return first if isinstance(first, _Noun) and first.kind == "agent" and clause.end in ("and", ",") else None


def _name_agents_by_colour(nouns: list[_Noun]) -> None:
    """ "The pink one" (or "the white one") is an agent: only agents are pink or white."""
    for noun in nouns:
        if _refers_back(noun) and noun.color_word in AGENT_COLORS:
            noun.head = "agent"


def _other_as_second(clause: _Clause) -> None:
    """In a list of two after its first item, "the other" is the second item ("one red, the other blue")."""
    noun = clause.segments[0] if clause.segments else None
    if isinstance(noun, _Noun) and noun.other and noun.kind == "object" and noun.article == "the":
        noun.other, noun.article, noun.count, noun.count_word = False, None, 1, "one"


def _share_predicate(clause: _Clause, others: list[_Clause]) -> None:
    """Give the place and motion after the last noun of a list to the bare nouns listed before it ("red and
    blue balls on the left", "a red ball and a blue box roll right"). A row, a pairing ("towards each
    other") or a place by another thing stays with the clause: those already take in the whole list."""
    own = _own_speeds(clause)  # "... and a fast blue ball moving left": the blue ball's alone
    shared = [s for s in clause.segments[1:] if (isinstance(s, _Place) and _line_of(s.region) is None) or (
        isinstance(s, _Motion) and not _is_pairing(s)) or (s in _speed_markers(clause.segments) and s not in own)]
    paired = [s for s in clause.segments[1:] if _is_pairing(s)]  # "... at the top rolling towards each other"
    if not others or len(shared) + len(paired) + len(own) != len(clause.segments) - 1:
        return
    for other in others:
        placed = any(isinstance(s, _Place) for s in other.segments)  # keeps its place ("a red ball on the left ...")
        moves = other.segments[0].kind == "object"  # an agent, the slab or the goal takes only the place
        motion = next((s for s in shared if isinstance(s, _Motion) and not s.still), None)
        if motion is not None and other.segments[0].kind == "agent":  # "the agent and a blue box move right"
            raise PromptError(f"{other.segments[0].text!r} and {clause.segments[0].text!r} "
                              f"{' '.join(motion.words)}: agents start at rest; give the motion to the objects "
                              "alone, e.g. 'a blue box moves right'")
        other.segments += [copy.deepcopy(s) for s in shared if (not placed if isinstance(s, _Place) else moves)]


def _own_speeds(clause: _Clause) -> list[_Marker]:
    """The speed said of a clause's noun as its adjective ("a fast blue ball", read as "a blue ball fast"),
    right after the noun: the thing's own, not shared with a list before it, unlike an adverb after the
    motion ("... moving left quickly")."""
    noun = clause.segments[0]
    speeds = _speed_markers(clause.segments)
    return [s for s in speeds if s.words[-1] in ("fast", "quick", "slow") and s is clause.segments[1]
            and _right_after(clause, noun, s)]


def _only_own_speed(clause: _Clause) -> bool:
    """A noun and nothing else said of it but its own speed ("a red ball", "a fast red ball")."""
    return len(clause.segments) == 1 or clause.segments[1:] == _own_speeds(clause)


def _is_pairing(segment: _Segment) -> bool:
    """A motion of two things at or away from each other ("rolling towards each other", "moving apart")."""
    return isinstance(segment, _Motion) and segment.direction in _PAIR_WAYS.values()


def _plural_verb(clause: _Clause, after_and: bool = False) -> bool:
    """A singular object noun followed by a verb in the plural ("... a blue box roll right", "... a blue box
    are on the left"): the subject is the list that ends with it. So is a counted noun ``after_and`` ("a
    red ball and two blue boxes roll left")."""
    noun = clause.segments[0] if clause.segments else None
    if not isinstance(noun, _Noun) or noun.kind not in _THINGS or len(clause.segments) < 2 or (
            (noun.plural or (noun.count or 1) > 1) and not after_and):
        return False
    verbs = _MOTION_VERBS | _STILL_WORDS | _BEING_VERBS
    between = list(itertools.takewhile(lambda w: w not in verbs | {"is", "are"}, clause.words[len(noun.words):]))
    if noun.pronoun or not all(_kind(w) in _SPEED_KINDS | _REGION_KINDS | {"prep", "art"} for w in between):
        return False  # "... and it should sit ...": not the list's verb
    after = clause.words[len(noun.words) + len(between)] if len(clause.words) > len(noun.words) + len(between) else ""
    return after == "are" or (after in verbs and (after + "s" in verbs or after + "es" in verbs))


_BEING_VERBS = _words("sit sits stand stands lie lies start starts")  # "a ball and a box sit at the top"


_THINGS = ("object", "agent", "slab", "goal")  # what a list of things may hold


def _share_predicates(clauses: list[_Clause]) -> None:
    """Give what is said of a list of things with a verb in the plural ("a red ball and a blue box roll
    right") or a pairing ("... roll towards each other") to every thing listed, and a place after "a red
    ball and a blue ball" to both."""
    for k, clause in enumerate(clauses):
        noun = clause.segments[0] if clause.segments else None
        if not isinstance(noun, _Noun) or noun.head is None:
            continue  # "medium cube, yellow, bottom right, not moving": what follows "yellow" is the cube's
        after_and = bool(k) and clauses[k - 1].end == "and"
        if _place_after_own_motions(clauses, k):  # "a red ball moving left and a blue ball moving right, at the top"
            continue
        if _plural_verb(clause, after_and) or any(_is_pairing(s) or getattr(s, "after_comma", False)
                                                  for s in clause.segments):
            _share_predicate(clause, _bare_subjects(clauses[:k]))
        elif listed := _mixed_list(clauses, k):  # "a red ball and the agent at the top", "the white agent and
            _share_predicate(clause, listed)  # the pink agent at the top": each
        elif _new_thing(noun) and (_moving_after_and(clause, clauses[k - 1] if k else None) or (
                _placed_only(clause) and k and clauses[k - 1].end == "and")):  # "a red ball and a blue box moving
            _share_predicate(clause, _bare_objects(clauses[:k]))  # left" or "... on the left": both


def _place_after_own_motions(clauses: list[_Clause], k: int) -> bool:
    """Give a place said after the comma that ends a list of things each moving its own way ("a red ball
    moving left and a blue ball moving right, at the top") to every listed thing without a place of its
    own; returns whether it did."""
    clause = clauses[k]
    place = clause.segments[-1]
    own = clause.segments[1:-1]
    if not (isinstance(place, _Place) and place.after_comma and own and all(isinstance(s, _Motion) for s in own)):
        return False
    listed = []
    for before in reversed(clauses[:k]):
        noun = before.segments[0] if before.segments else None
        if before.end not in (",", "and") or not isinstance(noun, _Noun) or noun.kind != "object" or not (
                before.segments[1:] and all(isinstance(s, _Motion) for s in before.segments[1:])):
            break
        listed.append(before)
    if not listed:
        return False
    for before in listed:
        before.segments.append(copy.deepcopy(place))
    return True


def _mixed_list(clauses: list[_Clause], k: int) -> list[_Clause]:
    """The things listed bare before clause ``k`` when it is an agent or the goal, the last of them, with a
    place right after it, and they are objects ("a red ball and the agent at the top") or agents with an
    agent ("the white agent and the pink agent at the top"); else none. Where an object ends the list ("two
    agents and a red ball in the corner"), or agents come before the goal, the place is the last thing's."""
    clause = clauses[k]
    kind = clause.segments[0].kind
    if not (k and kind != "object" and clauses[k - 1].end == "and" and _placed_only(clause, kind)):
        return []
    listed = list(itertools.takewhile(lambda c: len(c.segments) == 1 and not c.segments[0].plural and (
        c.segments[0].kind != "object" or _new_thing(c.segments[0])), reversed(_bare_subjects(clauses[:k]))))
    kinds = {c.segments[0].kind for c in listed}
    return listed if kinds == {"object"} or kinds == {kind} == {"agent"} else []


def _new_thing(noun: _Noun) -> bool:
    """A noun that adds a thing of its own ("a blue box"), not one named before ("the box") or one more like
    it ("another one", "a blue one")."""
    return noun.article != "the" and not noun.pronoun and not _refers_back(noun) and noun.count_word != "another"


def _bare_objects(clauses: list[_Clause]) -> list[_Clause]:
    """The object nouns with nothing said of them right before a clause, back to the first that has."""
    bare = list(itertools.takewhile(lambda c: _only_own_speed(c) and c.segments[0].kind == "object",
                                    reversed(_bare_subjects(clauses))))
    return [c for c in bare if _new_thing(c.segments[0])][::-1]


def _moving_after_and(clause: _Clause, before: _Clause | None) -> bool:
    """An object noun right after "and" with a participle of motion, and a region at most: "... and a blue
    box moving left", "... and a blue box on the left moving up" (the motion and place of the list)."""
    noun, *rest = clause.segments
    moving = [s for s in rest if isinstance(s, _Motion) and s.words[0].endswith("ing")]
    places = [s for s in rest if isinstance(s, _Place) and _line_of(s.region) is None and not s.origin]
    speeds = [s for s in rest if s in _speed_markers(clause.segments)]  # "... moving left quickly"
    said = [w for s in rest for w in s.words]  # right after the noun: not "... a blue box that is moving left"
    return before is not None and before.end == "and" and isinstance(noun, _Noun) and noun.kind == "object" \
        and len(moving) == 1 and len(places) <= 1 and len(rest) == 1 + len(places) + len(speeds) \
        and clause.words[len(noun.words): len(noun.words) + len(said)] == said


def _placed_only(clause: _Clause, kind: str = "object") -> bool:
    """A noun of ``kind`` and a region of the grid, nothing else: "a blue ball on the left"."""
    return len(clause.segments) == 2 and isinstance(clause.segments[0], _Noun) and \
        clause.segments[0].kind == kind and isinstance(clause.segments[1], _Place) and \
        _line_of(clause.segments[1].region) is None and not clause.segments[1].origin and \
        _right_after(clause, clause.segments[0], clause.segments[1])  # not "... which is on the left", "... sits"


def _right_after(clause: _Clause, noun: _Noun, segment: _Place | _Motion) -> bool:
    """Whether a place or motion follows its noun with no word between ("a blue box on the left", not "a blue
    box that sits on the left")."""
    return clause.words[len(noun.words): len(noun.words) + len(segment.words)] == segment.words


def _bare_subjects(clauses: list[_Clause]) -> list[_Clause]:
    """The clauses right before one, in its sentence, joined by "and" or a comma, that hold an object noun
    each, with a place at most ("a red ball on the left", "a green cylinder" before "and a blue box roll
    right")."""
    bare: list[_Clause] = []
    for clause in reversed(clauses):
        noun, *rest = clause.segments
        placed = len(rest) == 1 and isinstance(rest[0], _Place)  # "a red ball on the left and a box roll right"
        if clause.end not in (",", "and") or not isinstance(noun, _Noun) or noun.kind not in _THINGS or noun.pronoun \
                or noun.head is None or _list_header(clause) is not None or not (placed or _only_own_speed(clause)):
            break  # not a thing of its own ("orange", "two balls:", "it")
        bare.insert(0, clause)
    return bare


def _counted_look(noun: _Noun, last: bool = False) -> bool:
    """A number with a look ("two red", "1 blue ball"), in a list that names its shape once at its end (the
    ``last`` item, which names it, may be plural: "one big and two small balls")."""
    return noun.count is not None and noun.count_word not in ("both", "another") and (last or not noun.plural)


def _ends_a_list(run: list[_Noun], noun: _Noun) -> bool:
    """Whether ``noun`` names the shape of the colours or sizes listed before it (``run``)."""
    return noun.kind == "object" and not noun.pronoun and noun.shape is not None and bool(run) and (
        noun.count_word is None or (  # "two red and one blue cylinder", "one big and two small balls"
            _counted_look(noun, last=True)
            and all(_counted_look(listed) or listed.article in ("a", "an") for listed in run))) and (
        noun.article is None or all(listed.article in ("a", "an") or listed.count_word is None for listed in run))
    # not "one red and one green, a box": a box of its own


def _share_the_shape(clauses: list[_Clause], clause: _Clause, run: list[_Noun],
                     speed: tuple[_Clause, list[_Segment]] | None) -> bool:
    """Give the shape of ``clause``'s noun, and what follows it, to the colours listed before it (``run``);
    a ``speed`` said before the list ("fast red and blue balls ...") goes to each too. Returns whether it
    took the speed."""
    noun = clause.segments[0]
    for listed in run:
        listed.head, listed.shape = "object", noun.shape
        if listed.color_word is None and noun.color_word and all(n.color_word is None for n in run):
            listed.color_word = noun.color_word  # "a small and a big red ball": two red balls
    _share_a_leading_size(run, noun)
    took = speed is not None and speed[0].segments[0] is run[0] and noun.plural and not any(
        n.article or n.count_word for n in [*run, noun])
    if took:
        clause.segments[1:1] = speed[1]  # shared with the list's motion
    if noun.plural and noun.count is None and (noun.color_word or noun.size):
        noun.plural = False  # "red and blue balls": one blue ball
    _share_predicate(clause, [c for c in clauses if c.segments[0] in run])  # "... balls on the left"
    return took


def _share_a_leading_size(run: list[_Noun], noun: _Noun) -> None:
    """A size before colours listed with no article or count ("small red and blue balls") is said of each."""
    first = run[0]
    if first.size is None or noun.size is not None or any(n.size for n in run[1:]) or not noun.plural \
            or any(n.article or n.count_word for n in [*run, noun]):
        return
    for listed in run[1:]:
        listed.size = first.size
    noun.size = first.size


def _share_shapes(clauses: list[_Clause]) -> list[_Clause]:
    """Colours listed right before a shape name one object each: "red, green and blue balls" (three balls),
    "a red and blue ball", "a red and a blue box" (two). Bare colours and sizes after a clause that
    names one object describe it: "a box that is big and blue", "a ball, red"."""
    run: list[_Noun] = []
    pending: tuple[_Clause, list[_Segment]] | None = None  # "fast red and blue balls ...": a speed said of each
    for clause in [*clauses, None]:
        if pending is not None and (not run or clause is None):
            pending[0].segments[0:0] = pending[1]  # not the first of a list: the speed stays where it was
            pending = None
        if clause is None:
            break
        lead = list(itertools.takewhile(lambda s, c=clause: s in _speed_markers(c.segments), clause.segments))
        if lead and len(clause.segments) == len(lead) + 1 and clause.end in (",", "and"):
            pending, clause.segments = (clause, lead), clause.segments[len(lead):]
        noun = clause.segments[0] if isinstance(clause.segments[0], _Noun) else None
        if noun is not None and noun.kind == "object" and not noun.pronoun and noun.head is None \
                and len(clause.segments) == 1 and (noun.color_word or noun.size) \
                and (noun.count_word is None or _counted_look(noun)):
            run = [*run, noun] if clause.end in (",", "and") else []  # "red, green and blue balls", not "red; box"
            continue
        if noun is not None and _ends_a_list(run, noun) and _share_the_shape(clauses, clause, run, pending):
            pending = None
        run = []
    _share_predicates(clauses)
    out: list[_Clause] = []
    for clause in clauses:
        noun = clause.segments[0]
        rest = clause.segments[1:]  # "a red cylinder, small, at the bottom right": the place is the cylinder's too
        bare = isinstance(noun, _Noun) and _is_bare(noun) and all(_is_modifier(s) for s in rest)
        before = [s for s in out[-1].segments if isinstance(s, _Noun)] if out else []
        if bare and not rest and out and _is_said_of_both(out[-1]):  # "both big and green", "all big and green"
            out[-1].segments[0].words += noun.words
            out[-1].words, out[-1].end = out[-1].words + clause.words, clause.end
            continue
        both = _is_said_of_both(clause) and len(before) == 1 and before[0].count == 2  # "two balls, both red"
        both = both and noun.count_word == "both"  # "all" names every object of the sentence (_refer_back)
        if (bare or both) and len(before) == 1 and before[0].head is not None and _list_header(out[-1], clause) is None:
            _say(before[0], noun.words[1:] if both else noun.words)
            out[-1].words, out[-1].end = out[-1].words + clause.words, clause.end
            out[-1].segments += rest if bare else []
            continue
        out.append(clause)
    return out


def _elliptic(noun: _Noun) -> bool:
    """A new thing said by its colour or size alone, its noun left out ("a red ball and a blue", "another
    big", "a ball and two green"): a thing of the shape named before."""
    return noun.head is None and noun.shape is None and not noun.pronoun and not noun.definite \
        and (noun.article in ("a", "an") or (noun.count is not None and noun.count_word != "both")
             or noun.count_word == "another") \
        and bool(noun.words) and _kind(noun.words[-1]) in ("color", "size")


def _take_look(noun: _Noun, before: _Noun) -> None:
    """Give ``noun`` ("a blue one") the shape of ``before``, and its colour when it names none ("a small
    red ball and a large one": a large red ball); "another" or "another one" with no colour or size of its
    own is one more of the same, and takes its size too."""
    noun.shape = before.shape
    if noun.color_word is None:
        noun.color_word = before.color_word
        if noun.count_word == "another" and noun.size is None:
            noun.size = before.size


def _agents_listed(clauses: list[_Clause], i: int) -> None:
    """After "two agents:" (or "two agents," or "two agents." then "one ..."), the clauses that begin with
    "one", "the other", "the first" or "the second" up to the end of their sentence name the agents, in
    order."""
    nouns = [s for s in clauses[i].segments if isinstance(s, _Noun)]
    if len(nouns) != 1 or nouns[0].kind != "agent" or nouns[0].count != 2 or clauses[i].end not in (":", ",", ".",
                                                                                                      ";"):
        return
    for k, clause in enumerate(clauses[i + 1 : i + 3]):
        noun = clause.segments[0] if clause.segments else None
        if not (isinstance(noun, _Noun) and noun.shape is None and noun.head in (None, "object")
                and (noun.count_word == "one" or noun.words[-1] in ("one", "other") or noun.ordinal)):
            return
        noun.head, noun.count, noun.count_word = "agent", None, None
        if noun.color_word is None and noun.ordinal is None:
            noun.ordinal = k + 1  # "one ..., one ...": the white agent, then the pink one
        noun.other = False
        if clause.end in _SENTENCE_ENDS:
            return


def _list_header(clause: _Clause, after: _Clause | None = None) -> _Noun | None:
    """The noun of a clause that announces a list, else None.

    A count of objects before a colon ("two objects:", "three red balls:") announces one; so does a
    bare count before a comma ("two objects, a red ball and a blue box"), or a count of things before a
    comma when the clause ``after`` it goes on with "one" ("two balls, one red and one blue").
    """
    nouns = [s for s in clause.segments if isinstance(s, _Noun)]
    motions = [s for s in clause.segments if isinstance(s, _Motion)] if clause.end == ":" else []
    speeds = _speed_markers(clause.segments)  # "two slow balls: ..."
    places = len(clause.segments) - len(nouns) - len(motions) - len(speeds)  # "two objects at the top:"
    lone = (len(nouns) == 1 and places <= 1 and len(motions) <= 1  # "two balls rolling towards each other:"
            and all(isinstance(s, (_Noun, _Place, _Motion)) or s in speeds for s in clause.segments))
    noun = nouns[0] if lone else None
    if not isinstance(noun, _Noun) or noun.kind != "object" or noun.definite:
        return None
    generic = noun.head == "object" and noun.shape is None  # "objects", "things"
    if clause.end == ":" and (noun.count_word or noun.plural or generic):
        return noun
    bare = noun.count_word and generic and not (noun.color_word or noun.size or noun.ordinal)
    first = after.segments[0] if after is not None else None
    goes_on = isinstance(first, _Noun) and first.head in (None, "object") and first.shape is None and (
        first.count_word == "one" or first.words[-1] == "one" or _elliptic(first) or (  # "three balls, two red
            _says_some_of(after) and first.count < (noun.count or 0))
        or (_is_bare(first) and first.color_word is not None  # "red on the left", "big red and small blue"
            and (len(after.segments) > 1 or first.size is not None)))
    if clause.end in _SENTENCE_ENDS:  # "there are two objects. A red ball ... . A blue box ...": its own sentence
        counted = noun.count_word and not (noun.color_word or noun.size or noun.ordinal or motions or places)
        items = _starts_new_object(after, noun.shape, noun.count or 1) or (after is not None and _says_some_of(after))
        return noun if counted and items else None  # "... . One is red, the other blue." "... . Two are red."
    return noun if (clause.end in (",", ";") and bare) or (clause.end in (",", "but") and noun.count_word and goes_on) \
        else None  # "two balls, both red but one big"


def _drop_ordinal(clause: _Clause) -> None:
    """ "The first is a red ball", "the second one is a blue box" in a list after a count: the ordinal only
    says which item this is; the thing it is comes after it."""
    first, second = (clause.segments + [None, None])[:2]
    if isinstance(first, _Noun) and first.ordinal is not None and first.shape is None and first.head in (
            None, "object") and not first.color_word and isinstance(second, _Noun) and _new_thing(second):
        clause.segments = clause.segments[1:]


def _starts_new_object(clause: _Clause | None, shape: str | None = None, most: int = 1) -> bool:
    """Whether a clause begins by adding objects of its own ("a red ball ...", "one blue box ...", up to
    ``most`` of them: "two red balls ..."), of ``shape`` when one is given."""
    if clause is not None:
        _drop_ordinal(clause)
    first = clause.segments[0] if clause is not None and clause.segments else None
    return isinstance(first, _Noun) and first.kind == "object" and first.shape is not None and _new_thing(first) \
        and (first.count or 1) <= most and (first.count is not None or not first.plural) \
        and shape in (None, first.shape)
