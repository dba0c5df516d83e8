"""One clause's words -> segments: :class:`_Segmenter` reads them, left to right, into noun phrases
(:class:`_Noun`), places (:class:`_Place`), motions (:class:`_Motion`), places by another thing
(:class:`_Relation`) and markers (:class:`_Marker`: pushes, reaches, speeds, ...); :func:`_read_besides`
turns a place by another thing ("above the red box") into what is placed by what. Also the helpers that
fold words into a noun phrase (``_add_word``, ``_say``)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from worldsim.envs.caption import ORDINALS
from worldsim.envs.prompt.errors import _REACH_FORM, PromptError
from worldsim.envs.prompt.grid import _away_from, _cell, _direction, _region, _way_between
from worldsim.envs.prompt.vocabulary import (
    _ANY_WAY,
    _COLOR_WORDS,
    _CORNER_WORDS,
    _EVERY,
    _HEADS,
    _NAMES_A_PLACE,
    _NEAR_WORDS,
    _NOUN_KINDS,
    _PAIR_WAYS,
    _PLACE_WORDS,
    _REGION_KINDS,
    _SHADES,
    _SHAPE_WORDS,
    _SIZES,
    _SLAB_NOUNS,
    _SPEED_KINDS,
    _count_value,
    _kind,
    _supported,
)


@dataclass
class _Motion:
    """A motion phrase: "moves quickly left", "is still", "does not move"; or a bare verb ("moves the box")."""

    words: list[str]
    direction: str | None = None
    still: bool = False
    fast: bool = False
    under_slab: bool = False  # "rolls under the slab": starts beside it and glides under it
    after_comma: bool = False  # said apart, after a list: "a red ball and a blue box, moving left"
    slab_region: str | None = None  # "rolls under a slab on the left": where the slab is
    goes_to: str | None = None  # "moves to the top right": the region it heads for
    to_edge: bool = False  # it heads for a corner or a named side ("to the right side"): it starts short of it


@dataclass
class _Noun:
    """A noun phrase ("two small red balls", "the second box", "it", "the pink agent", "a slab"), with the
    place and motion the rest of its clause gives it."""

    words: list[str] = field(default_factory=list)
    article: str | None = None
    count: int | None = None
    count_word: str | None = None
    ordinal: int | None = None
    other: bool = False
    size: str | None = None
    color_word: str | None = None
    head: str | None = None  # "object", "agent", "slab" or "goal"; None when no noun is named ("two", "the red")
    shape: str | None = None
    pronoun: bool = False
    plural: bool = False
    region: str | None = None
    motion: _Motion | None = None
    origin: _Place | None = None  # the region is where it starts moving from ("from the bottom")
    anchor: bool = False  # named only as what another thing is placed by ("... to the left of the slab")
    said: dict[str, str] = field(default_factory=dict)  # "the ball is red": {"color": "red"}, given to it
    same_as: _Noun | None = None  # "... to the right of it" after "... to the left of it": that noun's things
    other_than: _Noun | None = None  # "the other one" right after a clause about "the red one": not its thing
    targets: list[int] = field(default_factory=list)  # the objects it was found to name, once applied
    speed: str | None = None  # "fast" or "slow" said of it apart from a motion ("both slow", "two slow balls: ...")

    @property
    def kind(self) -> str:
        """What it names: "object" (also for "two" or "the red"), "agent", "slab" or "goal"."""
        return self.head or "object"

    @property
    def definite(self) -> bool:
        """Whether it refers to something ("the box", "it") rather than adding something ("a box")."""
        return self.pronoun or self.article == "the"

    @property
    def color(self) -> str | None:
        """The palette colour, or None when no colour (or an unsupported one) is named."""
        return _COLOR_WORDS.get(self.color_word)

    @property
    def text(self) -> str:
        """The words of the phrase, for messages."""
        return " ".join(self.words)


@dataclass
class _Place:
    """A region of the 3x3 grid: "in the top left", "on the right", "the centre"."""

    words: list[str]
    region: str
    origin: bool = False  # "starting from the bottom": where a moving thing starts; it moves away from it
    after_comma: bool = False  # said apart, after a list: "two boxes, one red and one blue, on the left"


@dataclass
class _Relation:
    """A place given by another thing: "into the goal" (for a push), "near the box" (refused)."""

    words: list[str]
    noun: _Noun


@dataclass
class _Marker:
    """A word that stands alone: a push verb, "quickly" and the like, or "empty"."""

    words: list[str]
    kind: str  # "push", "fast", "slow" or "empty"


@dataclass
class _Beside:
    """One thing placed by another: "a red ball above the box", "... to the left of the agent", "... near it".

    ``step`` is the move on the 3x3 grid of regions (rows down, columns right) from ``anchor``'s region
    to ``subject``'s; None for a neighbouring region ("near", "next to", "beside", "by")."""

    words: list[str]
    subject: _Noun
    step: tuple[int, int] | None
    anchor: _Noun


@dataclass
class _Between:
    """A thing placed midway between two others: "between the agent and the goal", "between the two boxes",
    or "between them" (``anchors`` None: the last two things named before the clause)."""

    words: list[str]
    anchors: tuple[_Noun, ...] | None
    subject: _Noun | None = None


@dataclass
class _Towards:
    """A moving thing that heads for another: "a ball rolling towards the box", "... towards it"."""

    words: list[str]
    subject: _Noun
    anchor: _Noun


_Segment = _Motion | _Noun | _Place | _Relation | _Marker | _Between


def _relative_place_error(words: list[str]) -> PromptError:
    if any(w in _SLAB_NOUNS for w in words):
        return PromptError(
            f"{' '.join(words)!r}: things are not placed by the slab; one may roll under it ('a red ball rolls "
            "under the slab'), and the slab may be put in a region ('a slab at the top')"
        )
    if len(words) > 1 and words[0] in _TOWARDS and "of" not in words:
        return PromptError(
            f"{' '.join(words)!r}: a motion towards another thing is not supported; say which way it moves and "
            "place the two so that it meets it, e.g. 'a blue ball on the left moving right and a red box on the "
            "right'"
        )
    return PromptError(
        f"{' '.join(words)!r}: this place relative to another thing is not supported; place a thing above, "
        "below, to the left or right of, on top of, near, next to, beside or by an object or an agent (or beside "
        "the slab or the goal), or in a region (top left, top, top right, left, centre, right, bottom left, "
        "bottom, bottom right)"
    )


_TOWARDS = frozenset({"to", "towards", "toward", "into"})
_TOWARDS_THING = "towards"  # a motion's way until the thing it heads for has a region (_aim)
_TO_CENTRE = "to the centre"  # a motion's way until its thing has a region (_head_for_the_centre)
_AXES = ("left", "right", "up", "down")  # the ways a thing may go under the slab


def _relation_step(relation: _Relation, place: _Place | None) -> tuple[int, int] | None | bool:
    """The grid step a relation asks for (None: a neighbour), or False when it places nothing by another
    thing. ``place`` is the place right before it, for "to the left of the box"."""
    kinds = {_kind(w) for w in relation.words}
    if "under" in kinds:
        return (1, 0)
    if "over" in kinds:
        return (-1, 0)
    if set(relation.words) & _NEAR_WORDS:
        return None
    if relation.words[0] in ("on", "onto"):  # "a ball on the box": as "on top of the box"
        return _cell("top")
    if relation.words[0] == "of" and place is not None:
        if place.region == "centre":
            raise PromptError(f"{' '.join(place.words + relation.words)!r}: say which side, e.g. 'to the left "
                              f"{' '.join(relation.words)}'")
        return _cell(place.region)
    return False


def _beside_fixture(relation: _Relation, step: tuple[int, int] | None) -> bool:
    """Whether a place by the slab or the goal is a region of the grid: beside either, and above or below
    the goal ("the agent right below the goal"); "under the slab" hides a thing, and "on the goal" is not a
    neighbour."""
    if relation.words[0] in ("on", "onto", "in", "into"):
        return False
    return relation.noun.kind == "goal" or step is None or relation.words[0] == "of"


def _heads_for(segments: list[_Segment], relation: _Relation) -> bool:
    """Whether "towards the box" says where a motion of its clause heads ("rolling towards the box"): then
    that motion's way is the way to the box."""
    k = segments.index(relation)
    motion = next((s for s in reversed(segments[:k]) if isinstance(s, (_Motion, _Noun))), None)
    if not isinstance(motion, _Motion) or motion.still:
        return False
    if motion.direction is None:
        motion.direction = _TOWARDS_THING  # the way is known once both things have their regions
    motion.words = motion.words + relation.words
    return True


def _placed_thing(before: list[_Segment], after: list[_Segment], words: list[str]) -> _Noun:
    """The noun a place by other things describes: the one before it, else ("to the left of the box there is
    a ball") the one after."""
    subject = next((s for s in reversed(before) if isinstance(s, _Noun)), None)
    subject = subject or next((s for s in after if isinstance(s, _Noun)), None)
    if subject is None:
        raise PromptError(f"{' '.join(words)!r} does not say what it places; e.g. 'a red ball {' '.join(words)}'")
    return subject


def _read_besides(segments: list[_Segment], relative: bool = False
                  ) -> tuple[list[_Segment], list[_Beside | _Between | _Towards]]:
    """Replace each place given by another thing ("above the red box") with that thing's noun, which
    the clause then describes as usual, and return what is placed by what."""
    out: list[_Segment] = []
    besides: list[_Beside | _Between | _Towards] = []
    moved: set[int] = set()  # motions read already, as the placed thing's
    for k, seg in enumerate(segments):
        if k in moved:
            continue
        if isinstance(seg, _Between):
            seg.subject = _placed_thing(out, segments[k + 1 :], seg.words)
            besides.append(seg)
            out += seg.anchors or ()
            continue
        if not isinstance(seg, _Relation) or seg.noun.kind not in ("object", "agent", "slab", "goal"):
            out.append(seg)
            continue
        if seg.words[0] in ("towards", "toward", "to") and _heads_for(segments, seg):
            besides.append(_Towards(seg.words, _placed_thing(out, segments[k + 1 :], seg.words), seg.noun))
            out.append(seg.noun)
            continue
        place = out[-1] if out and isinstance(out[-1], _Place) else None
        if seg.noun.kind in ("slab", "goal") and place is not None and place.words[:2] == ["on", "top"]:
            raise PromptError(f"'on top {' '.join(seg.words)}': the goal is a patch of floor and the slab a roof; "
                              f"nothing stands on either. Put the thing beside it or above it (one region higher)"
                              f", e.g. 'a red box above the {seg.noun.kind}'")
        step = _relation_step(seg, place)
        if seg.noun.kind in ("slab", "goal") and step is not False and not _beside_fixture(seg, step):
            step = False  # "under the slab", "on the goal": not a region of the grid
        if step is False:
            out.append(seg)
            continue
        words = seg.words
        if seg.words[0] == "of" and place is not None and step is not None:
            out.pop()
            words = place.words + seg.words
        subject = _placed_thing(out, segments[k + 1 :], words)
        if subject.kind == "slab" and seg.noun.kind == "object" and (
                seg.words[0] in ("on", "onto", "over") or (place is not None and place.words[:2] == ["on", "top"])):
            raise PromptError(f"'the slab {' '.join(([] if place is None else place.words) + seg.words)}': the slab is "
                              "a roof that hides what is under it, and a thing hidden at rest is never seen; put the "
                              "slab in a region ('a slab at the top') or beside the thing, or roll the thing under it")
        besides.append(_Beside(words, subject, step, seg.noun))
        seg.noun.anchor = True
        after = segments[k + 1] if k + 1 < len(segments) else None
        if isinstance(after, _Motion) and any(s is subject for s in out) and subject.motion is None and not relative:
            out.append(after)  # "a ball below the box rolling left": the ball rolls, not the box
            moved.add(k + 1)
        out.append(seg.noun)
    return out, besides


def _set_once(noun: _Noun, name: str, value: str) -> None:
    """Set a field of a noun phrase; two different values ("a red blue ball") are an error."""
    old = getattr(noun, name)
    shade = {old, value} & _SHADES if name == "color_word" else set()
    if old is not None and old != value and shade:  # "a dark blue box"
        colour = ({old, value} - shade or {"blue"}).pop()
        raise PromptError(f"'{old} {value}': each colour is drawn in one shade; say the colour alone ('{colour}')")
    if old is not None and old != value:
        raise PromptError(f"{noun.text!r} names two {name.replace('_word', '')}s; give one per object")
    setattr(noun, name, value)


def _continues(noun: _Noun, word: str) -> bool:
    """Whether ``word`` belongs to the noun phrase read so far rather than starting a new one."""
    kind = _kind(word)
    if noun.head is not None:
        return False
    if kind == "art":
        return not noun.words
    if word == "one" and noun.words:
        return True  # "a red one": the noun
    no_words_but_article = noun.words in ([], [noun.article])
    if kind in ("num", "vague"):
        return no_words_but_article
    if kind in ("ord", "other"):
        return no_words_but_article or (noun.count_word is not None and noun.ordinal is None and not noun.other)
    return True


def _add_modifier(noun: _Noun, word: str, kind: str) -> None:
    if kind == "art":
        noun.article = word
    elif kind == "num":
        noun.count, noun.count_word = _count_value(word), word
        noun.article = "the" if word in _EVERY | {"both"} else noun.article  # "both balls": the two described
    elif kind == "vague" and word == "no":
        raise PromptError("'no': name only what the scene holds; it holds nothing else (every scene has at least "
                          "the white agent)")
    elif kind == "vague":
        raise PromptError(f"unsupported count {word!r}; {_supported('count')}")
    elif kind == "ord":
        noun.ordinal = ORDINALS.index(word) + 1
    elif kind == "other":
        noun.other = True
    elif kind == "size":
        _set_once(noun, "size", _SIZES[word])
    else:
        _set_once(noun, "color_word", word)


def _add_word(noun: _Noun, word: str) -> None:
    """Fold one word into a noun phrase."""
    kind = _kind(word)
    noun.words.append(word)
    if kind == "badshape":
        raise PromptError(f"unknown shape {word!r}; {_supported('shape')}")
    if word == "one" and len(noun.words) > 1:
        kind = "generic"
    if kind not in _HEADS:
        _add_modifier(noun, word, kind)
        return
    noun.head = _HEADS[kind]
    noun.shape = _SHAPE_WORDS.get(word)
    noun.pronoun = kind == "pronoun"
    noun.plural = kind in ("shape", "generic", "agent") and word.endswith("s")


def _said_of_both(noun: _Noun) -> _Noun:
    """ "both red" standing alone, as "they are both red": the two things described last, said red ("all
    red": every thing described before in the sentence)."""
    word = noun.words[0]
    both = _Noun(words=[word], count=_count_value(word), count_word=word, pronoun=True)
    _say(both, noun.words[1:])
    return both


def _is_bare(noun: _Noun) -> bool:
    """Colour and size words alone, as said of a thing ("is red", "is big"): no article, count or noun."""
    return noun.head is None and noun.article is None and noun.count_word is None and noun.ordinal is None \
        and not noun.other and all(_kind(w) in ("color", "badcolor", "size") for w in noun.words)


def _say(noun: _Noun, words: list[str]) -> None:
    """Fold colour and size words said of ``noun`` into it. Said of a thing named before ("the ball",
    "it"), they describe it rather than pick it out, so they are kept apart (``said``)."""
    noun.words += words
    for word in words:
        if noun.definite and noun.kind == "object":
            name = "size" if _kind(word) == "size" else "color_word"
            value = _SIZES[word] if name == "size" else word
            if noun.said.get(name, value) != value:
                raise PromptError(f"{noun.text!r} names two {name.replace('_word', '')}s; give one per object")
            noun.said[name] = value
        else:
            _add_modifier(noun, word, _kind(word))


def _fold_predicates(segments: list[_Segment]) -> list[_Segment]:
    """A bare colour or size after a noun, places and motions between, is said of that noun: "the ball
    is red", "the ball on the left is red" ("is" is a filler word)."""
    out: list[_Segment] = []
    for seg in segments:
        named = next((s for s in reversed(out) if isinstance(s, _Noun)), None)
        if isinstance(seg, _Noun) and _is_bare(seg) and named is not None and named.head is not None:
            _say(named, seg.words)
            continue
        out.append(seg)
    return out


class _Segmenter:
    """Reads the words of one clause (filler words removed) into segments, left to right."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.i = 0
        self.out: list[_Segment] = []

    def run(self) -> list[_Segment]:
        while self.i < len(self.words):
            self._step()
        return _fold_predicates(self.out)

    def _peek(self, ahead: int = 0) -> str | None:
        j = self.i + ahead
        return _kind(self.words[j]) if j < len(self.words) else None

    def _take_while(self, kinds: Collection[str]) -> list[str]:
        start = self.i
        while self._peek() in kinds:
            self.i += 1
        return self.words[start : self.i]

    def _step(self) -> None:
        kind = self._peek()
        if kind in _REGION_KINDS or kind in _PLACE_WORDS or (kind == "art" and self._peek(1) in _REGION_KINDS):
            self._place_or_relation()
        elif kind in ("motion", "not"):
            self._motion()
        elif kind == "side":
            self._side_alone()
        elif kind == "from":  # "rolls north, starting from the bottom": where it starts
            start = self.i
            origin = self._origin(centre=True)
            if origin is None:
                raise PromptError(f"{' '.join(self.words[start : self.i + 1])!r}: say where it starts from, "
                                  "e.g. 'a ball rolls up from the bottom'")
            self.out.append(_Place(self.words[start : self.i], origin, origin=True))
            if origin != "centre":  # "rolling down, from the top towards the bottom": where it goes
                self._path_after_a_motion(origin)
        elif kind == "pair":  # "two balls converging", "two boxes, diverging"
            word = self.words[self.i]
            self.i += 1
            self.out.append(_Motion([word], _PAIR_WAYS[word]))
        elif kind == "around":
            raise PromptError(f"{self.words[self.i]!r} comes right after a motion verb ('a ball rolls around': one "
                              "of eight ways, drawn with the scene); a push names its way ('pushes the box left')")
        elif kind in ("between", "them"):
            self._between()
        elif kind in _NOUN_KINDS:
            self._noun()
        elif kind == "reach":
            self._reach()
        else:  # "still", "push", "fast", "slow", "empty"
            word = self.words[self.i]
            self.i += 1
            self.out.append(_Motion([word], still=True) if kind == "still" else _Marker([word], kind))

    def _path_after_a_motion(self, origin: str) -> None:
        """Read "to the bottom left" after "zipping down from the top right": the path from one side to the
        other is the way, and the motion's way said before it must be that way or part of it. From one corner
        to the next along a side ("up from the bottom left corner to the top left corner") the way is along it."""
        at = self.i
        away = self._corner_to_corner(origin)
        if away is None:
            away = _away_from(origin)
            self._destination(away)
        motion = next((s for s in reversed(self.out) if isinstance(s, _Motion)), None)
        if self.i == at or motion is None or motion.direction in (None, away):
            return
        if not set(motion.direction.split("-")) <= set(away.split("-")):
            raise PromptError(f"'{' '.join(motion.words)}' and {' '.join(self.words[at : self.i])!r}: the way "
                              f"it moves and where it goes disagree; say one of them, e.g. 'moves {away}'")
        motion.direction = away  # "zipping down ... from the upper right toward the lower left": down-left

    def _reach(self) -> None:
        """Read "reaches the goal" (or "reaches it"): the goal is what is reached, not a place."""
        verb = self.words[self.i]
        self.i += 1
        noun = self._read_noun() if self._peek() in _NOUN_KINDS else None
        if noun is not None and noun.words == ["it"]:  # "a goal at the top; the agent reaches it": only the goal is
            noun = _Segmenter(["the", "goal"])._read_noun()  # reached
        if noun is None or noun.kind != "goal":
            raise PromptError(f"{self.words[self.i - 1]!r}: only the goal is reached; {_REACH_FORM}")
        self.out.append(_Marker([verb], "reach"))
        self.out.append(_Relation(noun.words, noun))

    def _side_alone(self) -> None:
        """Refuse "in the corner" (which one?) and "a wall" (no such thing)."""
        word = self.words[self.i]
        if self.i and self.words[self.i - 1] in ("a", "an") and word in ("wall", "walls", "edge", "edges"):
            raise PromptError(f"'a {word}': the arena's {word}s are its sides, and nothing else stands in it but "
                              "objects, agents, the goal and a slab (a roof things glide under), e.g. 'a slab "
                              "across the middle'")
        raise PromptError(f"{word!r}: say which {word.rstrip('s')}, e.g. 'in the top left corner' or 'on the "
                          "left side'; or name a region (top left, top, top right, left, centre, right, "
                          "bottom left, bottom, bottom right)")

    def _read_noun(self) -> _Noun:
        noun = _Noun()
        while self._peek() in _NOUN_KINDS and _continues(noun, self.words[self.i]):
            _add_word(noun, self.words[self.i])
            self.i += 1
            if noun.count_word == "pair" and self._peek() == "prep" and self.words[self.i] == "of":
                self.i += 1  # "a pair of balls"
        return noun

    def _noun(self) -> None:
        noun = self._read_noun()
        if noun.words != [noun.article]:  # a lone article ("a" in "a scene") says nothing
            self.out.append(noun)

    def _between(self) -> None:
        """Read "between them", "between the two boxes" or "between the agent and the goal"."""
        if self._peek() == "them":
            raise PromptError("'them' is read only in 'between them' (right after two things are named); else "
                              "name the things")
        start = self.i
        self.i += 1
        if self.words[self.i : self.i + 1] == ["them"]:
            self.i += 1
            self.out.append(_Between(self.words[start : self.i], None))
            return
        first = self._read_noun() if self._peek() in _NOUN_KINDS else None
        if first is not None and self.words[self.i : self.i + 1] == ["and"] and self._peek(1) in _NOUN_KINDS:
            self.i += 1
            self.out.append(_Between(self.words[start : self.i], (first, self._read_noun())))
        elif first is not None and first.count == 2:
            self.out.append(_Between(self.words[start : self.i], (first,)))
        else:
            raise PromptError(f"{' '.join(self.words[start : self.i + 1])!r}: say between which two things, e.g. "
                              "'a red ball between the agent and the goal', or 'between them' after naming two")

    def _place_or_relation(self) -> None:
        start = self.i
        preps = self._take_while(_PLACE_WORDS)
        if self._peek(self._peek() == "art") == "line":
            self._line(start)
            return
        self.i += self._peek() == "art" and self._peek(1) in _REGION_KINDS  # the "the" of "at the top"
        region_words = self._take_while(_REGION_KINDS)
        if region_words and self._peek() == "side":
            self._side(region_words)
        noun = self._read_noun() if not region_words and self._peek() in _NOUN_KINDS else None
        words = self.words[start : self.i]
        nothing = noun is None or noun.words == [noun.article]  # a lone article ("a" in "in a corner")
        last = next((s for s in reversed(self.out) if isinstance(s, _Noun)), None)
        over_slab = region_words and last is not None and last.kind == "slab" and {_kind(w) for w in preps} == {"over"}
        if any(_kind(w) in ("under", "over", "beside") for w in preps) and (region_words or nothing) and not over_slab:
            # "below the top", "above" alone: a place by another thing names that thing
            region = "; a thing is placed by another thing, not by a region: name its own region, e.g. 'at the top " \
                "right' or 'on the right'" if region_words else ""
            raise PromptError(f"{' '.join(words)!r}: say what it is {preps[0]}, e.g. '{preps[0]} the red box'{region}")
        if region_words:
            self.out.append(_Place(words, _region(region_words)))
        elif not nothing:
            self.out.append(_Relation(words, noun))
        elif self._peek() in _PLACE_WORDS or (noun is None and self._peek() is None and preps[-1] in _NAMES_A_PLACE):
            # "at the to left" (a slip), "a box with a ball inside": read in part, it would drop a word
            inside = "; objects are not placed inside one another" if preps[-1] in ("inside", "within") else ""
            raise PromptError(f"{' '.join(self.words[start : self.i + 1])!r}: a place names a region or a thing "
                              f"after its preposition, e.g. 'at the top left' or 'near the red box'{inside}")
        # else a preposition with nothing after it ("in the arena", "at rest"): nothing to read

    def _line(self, start: int) -> None:
        """Read "in a row" (or "in a column"), and the row it is in when one follows ("in a row at the top")."""
        self.i += self._peek() == "art"
        line = self.words[self.i]
        self.i += 1
        at = self.i
        self._take_while(_PLACE_WORDS | {"art"})
        region_words = self._take_while(_REGION_KINDS)
        if region_words and self._peek() == "side":
            self._side(region_words)
        if not region_words:
            self.i = at
        words = self.words[start : self.i]
        region = _region(region_words) if region_words else None
        across = {"row": ("left", "right"), "column": ("top", "bottom")}[line]
        if region is not None and any(w in across for w in region.split()):
            raise PromptError(f"{' '.join(words)!r}: a {line} runs {' to '.join(across)}; say which {line}, e.g. "
                              f"'in a {line} at the {'top' if line == 'row' else 'left'}'")
        self.out.append(_Place(words, line if region is None else f"{line} {region}"))

    def _side(self, region_words: list[str]) -> None:
        """Read the "corner" of "the top left corner" (or "side", "edge"): it must name one place."""
        word = self.words[self.i]
        self.i += 1
        region = _region(region_words)
        if word in _CORNER_WORDS and " " not in region:
            raise PromptError(f"{' '.join(region_words + [word])!r}: say which {word.rstrip('s')}, e.g. 'the top "
                              f"left {word.rstrip('s')}'")
        if word not in _CORNER_WORDS and (" " in region or region == "centre"):
            raise PromptError(f"{' '.join(region_words + [word])!r}: say which {word.rstrip('s')}: top, bottom, left "
                              "or right")

    def _motion(self) -> None:
        start = self.i
        negated = self._peek() == "not"
        self.i += negated
        if negated and self._peek() != "motion":
            raise PromptError("'not' must come right before a motion verb, e.g. 'the ball does not move'")
        self.i += 1  # the verb
        speed = {_kind(w) for w in self._take_while(_SPEED_KINDS)}  # "moves quickly", "moves slowly"
        fast = _speed_of(speed, self.words[start : self.i]) == "fast"
        if self._peek() == "pair" and not negated:  # "roll towards each other", "move apart"
            self.i += 1
            self.out.append(_Motion(self.words[start : self.i], _PAIR_WAYS[self.words[self.i - 1]], fast=fast))
            return
        if self._around(start, negated, fast):
            return
        before_direction = self.i
        if self._from(start, negated, fast):
            return
        preps = [w for w in self._take_while({"prep", "art"}) if _kind(w) == "prep"]
        # "moves to(wards) the left" says where it goes; "moves in the top left" where it is (a place)
        region_words = self._take_while(_REGION_KINDS) if set(preps) <= _TOWARDS else []
        to_edge = bool(region_words) and (self._peek() == "side" or " " in _region(region_words))
        if region_words and self._peek() == "side":
            self._side(region_words)  # "rolls towards the bottom right corner"
        if not region_words:
            self.i = before_direction  # "moves the box", "moves into the goal": not a direction
        if region_words and negated:  # "does not go up": which way it does go is not said
            raise PromptError(f"{' '.join(self.words[start : self.i])!r}: say which way it moves, or that it does "
                              "not move")
        if region_words and _region(region_words) == "centre":
            self.out.append(_Motion(self.words[start : self.i], _TO_CENTRE, fast=fast))  # "rolls to the middle"
            return
        direction = _direction(region_words) if region_words and not negated else None
        goes_to = _region(region_words) if direction is not None and set(preps) & _TOWARDS else None
        if direction is not None and before_direction < self.i and self.words[before_direction] not in ("to", "into"):
            direction = self._destination(direction, turn=True)  # "moves down to the bottom": where it goes
        under = self._under_slab()
        if under and negated:
            raise PromptError(f"{' '.join(self.words[start : self.i])!r}: a thing that does not move does not go "
                              "under the slab; say 'rolls under the slab'")
        if under and self._peek() == "from":  # "rolls under the slab from the left (to the right)": moving right
            direction = self._way_from(start, direction)
            self._destination(direction)
        self.out.append(_Motion(self.words[start : self.i], direction, still=negated, fast=fast, under_slab=under,
                                goes_to=goes_to if not under else None, to_edge=to_edge and goes_to is not None))

    def _around(self, start: int, negated: bool, fast: bool) -> bool:
        """Read "rolls around": one of the eight ways, drawn with the scene. False when "around" is not next."""
        if self._peek() != "around":
            return False
        self.i += 1
        if negated:
            raise PromptError(f"{' '.join(self.words[start : self.i])!r}: say 'does not move', or how it moves")
        if self._under_slab():
            raise PromptError(f"{' '.join(self.words[start : self.i])!r}: a thing goes under the slab one way, "
                              f"one of {', '.join(_AXES)} ('rolls left under the slab')")
        self.out.append(_Motion(self.words[start : self.i], _ANY_WAY, fast=fast))
        return True

    def _under_slab(self) -> bool:
        """Read "under the slab" (or "beneath the roof") after a motion verb."""
        at = self.i
        if self._peek() == "under":
            self.i += 1
            self._take_while({"art"})
            if self._peek() == "slab":
                self.i += 1
                return True
        self.i = at
        return False

    def _region_after(self) -> list[str]:
        """Read a preposition, then "the top left (corner)": the region's words, [] when none follows."""
        self.i += 1
        self._take_while({"art"})
        region_words = self._take_while(_REGION_KINDS)
        if region_words and self._peek() == "side":
            self._side(region_words)
        return region_words

    def _origin(self, centre: bool = False) -> str | None:
        """Read "from the left" (the "from" next): the region a thing comes from; None when none, or the
        centre unless ``centre``, is named."""
        region_words = self._region_after()
        region = _region(region_words) if region_words else None
        return None if region == "centre" and not centre else region

    def _way_from(self, motion_start: int, direction: str | None) -> str:
        """The way a thing moves that comes "from the left" (right), read after "rolls under the slab"."""
        origin = self._origin()
        words = " ".join(self.words[motion_start : self.i])
        if origin is None or " " in origin:
            raise PromptError(f"{words!r}: say which side it comes from: the left, the right, the top or the bottom")
        away = _away_from(origin)
        if direction not in (None, away):
            raise PromptError(f"{words!r}: the way it moves and where it comes from disagree; say one of them")
        return away

    def _from(self, motion_start: int, negated: bool, fast: bool) -> bool:
        """Read "from the left" ("rolls in from the left") after a motion verb: the thing starts in that
        region and moves away from it, across the arena. False when no "from" follows."""
        start = self.i
        verb = " ".join(self.words[motion_start:start])
        if self.words[self.i : self.i + 1] == ["in"]:  # "rolls in from the left", "slides in slowly from ..."
            self.i += 1
            fast = _speed_of({_kind(w) for w in self._take_while(_SPEED_KINDS)}, self.words[motion_start : self.i]) \
                == "fast" or fast
        if self._peek() != "from":
            self.i = start
            return self._left_to_right(motion_start, negated, fast)
        origin = self._origin()
        if negated or origin is None:
            raise PromptError(f"{verb + ' ' + ' '.join(self.words[start : self.i])!r}: say which side it comes "
                              "from, e.g. 'rolls in from the left' (it starts there and moves right)")
        self._came_from(motion_start, start, origin, fast)
        return True

    def _left_to_right(self, motion_start: int, negated: bool, fast: bool) -> bool:
        """Read "rolls left to right" (no "from") as "rolls from the left to the right": only when the
        place after "to" lies straight across from the first. False, and nothing read, otherwise."""
        start = self.i
        region_words = self._take_while(_REGION_KINDS)
        at = self.i
        origin = _region(region_words) if region_words else "centre"
        if negated or origin == "centre" or self.words[self.i : self.i + 1] != ["to"]:
            self.i = start
            return False
        self.i += 1
        self._take_while({"art"})
        across = self._take_while(_REGION_KINDS)
        self.i = at
        if not across or _region(across) == "centre" or _direction(across) != _away_from(origin):
            self.i = start
            return False
        self._came_from(motion_start, start, origin, fast)
        return True

    def _came_from(self, motion_start: int, origin_start: int, origin: str, fast: bool) -> None:
        """A thing that comes from ``origin`` starts there and moves away from it, across the arena ("to
        the right" may follow); "under the slab" may follow too, and then the slab's side is where it
        starts."""
        away = _away_from(origin)
        place_words = self.words[origin_start : self.i]
        to = self._corner_to_corner(origin)  # "from the top left corner to the top right corner": right
        away = to if to is not None else self._destination(away)  # "from the left to the right"
        if self._under_slab():  # "rolls from the left under the slab"
            self.out.append(_Motion(self.words[motion_start : self.i], away, fast=fast, under_slab=True))
            return
        self.out.append(_Place(place_words, origin))
        self.out.append(_Motion(self.words[motion_start : self.i], away, fast=fast))

    def _corner_to_corner(self, origin: str) -> str | None:
        """Read "to the top right (corner)" after "from the top left (corner)" as the way from one to the
        other ("right"): two regions along one side, not straight across the arena from each other. None, and
        nothing read, otherwise."""
        at = self.i
        if self.words[self.i : self.i + 1] != ["to"]:
            return None
        region_words = self._region_after()
        there = _region(region_words) if region_words else None
        way = _way_between(origin, there) if there not in (None, origin, "centre") else None
        if way is None or "-" in way or _direction(region_words) == _away_from(origin):
            self.i = at  # "from the left to the top": which way is not one of the grid's lines
            return None
        return way

    def _destination(self, direction: str, turn: bool = False) -> str:
        """Read "to the bottom" after "moves down" as where the motion goes: it must go the same way. With
        ``turn``, a side across the way read makes a diagonal ("moves up to the right": up-right). Returns
        the way it moves."""
        at = self.i
        if self._peek() != "prep" or self.words[self.i] not in ("to", "towards", "toward", "into"):
            return direction
        region_words = self._region_after()
        if not region_words:
            self.i = at  # "moves left to the box": not a place on the grid
            return direction
        if _region(region_words) == "centre":  # "from the left to the centre": on its way across
            return direction
        to = _direction(region_words)
        if turn and "-" not in direction + to and (direction in ("up", "down")) != (to in ("up", "down")):
            return f"{direction}-{to}" if direction in ("up", "down") else f"{to}-{direction}"
        if to != direction:
            raise PromptError(f"{' '.join(self.words[at - 1 : self.i])!r}: the way it moves and where it goes "
                              f"disagree; say one of them, e.g. 'moves {_direction(region_words)}'")
        return direction


def _speed_of(kinds: set[str], words: list[str]) -> str | None:
    """"fast", "slow" or None from the kinds of a phrase's speed words; both at once is refused."""
    if len(kinds) > 1:
        raise PromptError(f"{' '.join(words)!r} asks for two speeds; say 'quickly' or 'slowly', not both")
    return next(iter(kinds), None)


def _words_of(segments: list[_Segment]) -> str:
    return " ".join(w for s in segments for w in s.words)


def _said_of_the_glide(place: _Place, before: _Segment | None) -> bool:
    """Read a place right after a motion under the slab as the glide's: "slides under it to the right" is the
    way it goes, "rolls under a slab on the left" where the slab is. False when it is not."""
    if not (isinstance(before, _Motion) and before.under_slab) or place.origin:
        return False
    if place.words[0] in ("to", "towards", "toward") and before.direction is None and place.region != "centre":
        before.direction = _direction(place.region.split())
        return True
    if place.words[0] in ("on", "in", "at") and _kind(before.words[-1]) == "slab" and before.words[-2:-1] in (
            ["a"], ["an"]):
        before.slab_region = place.region
        return True
    return False


def _refers_back(noun: _Noun) -> bool:
    """Whether an object noun stands for one named before: "a blue one", "the red ones", "another"."""
    return noun.shape is None and ((noun.words[-1] == "one" and len(noun.words) > 1)
                                   or noun.words[-1] == "ones" or noun.words == ["another"])


def _speed_markers(segments: list[_Segment]) -> list[_Marker]:
    return [s for s in segments if isinstance(s, _Marker) and s.kind in _SPEED_KINDS]
