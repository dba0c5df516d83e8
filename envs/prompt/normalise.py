"""Prompt text -> normalised text, before it is split into tokens.

:func:`_normalise` rewrites the many ways a prompt may say a thing into the few forms the later stages
read ("the BR corner" -> "the bottom right corner", "two balls (red and blue)", fields such as "colour:
red", numbered lists, "from left to right", "respectively", ...), and refuses, with the reason, what no
scene can show ("behind the box", "a dark blue box", a noun said twice). Here too: the scene family or
label heading a prompt (``_scene_family``, ``_without_label``) and a goal or slab said to be absent
(``_absent_fixtures``)."""

from __future__ import annotations

import re

from worldsim.envs.caption import ORDINALS
from worldsim.envs.prompt.errors import PromptError
from worldsim.envs.prompt.grid import _stepped
from worldsim.envs.prompt.vocabulary import (
    _AGENT_NOUNS,
    _COLOR_WORDS,
    _GENERIC_NOUNS,
    _HORIZONTAL,
    _MOTION_ALTERNATION,
    _MOTION_VERBS,
    _PLURAL_SHAPES,
    _PUSH_ALTERNATION,
    _PUSH_VERBS,
    _SHAPE_ALTERNATION,
    _SHAPE_WORDS,
    _SIZES,
    _SLAB_ALTERNATION,
    _STILL_WORDS,
    _UNSUPPORTED_COLORS,
    _VERTICAL,
    _kind,
    _supported,
)

_THING_NOUNS = "|".join(sorted(_SHAPE_WORDS.keys() | _GENERIC_NOUNS | _AGENT_NOUNS | {"one"}))
_DESCRIBING = "|".join(sorted(_SIZES.keys() | _COLOR_WORDS.keys()))  # the words before a thing's noun


#: Words that name a way to move (and only that), for "a blue ball fast left".
_WAY_WORDS = "up|down|left|right|north|south|east|west|upwards?|downwards?|leftwards?|rightwards?"
def _out_the_far_side(t: str) -> str:
    """"rolls under the slab and comes out the other side": coming out on the far side is where going
    under leads, and says nothing more. Read only right after an "under" in the same sentence, and only
    with a verb of coming out or "out" ("a red ball on the other side" places a thing, and is kept)."""
    def after_under(m: re.Match) -> str:
        sentence = re.split(r"[.;!?]", t[:m.start()])[-1]
        under = list(re.finditer(r"\b(?:under|beneath|underneath)\b", sentence))
        if not under or re.search(rf"\b(?:{_THING_NOUNS})\b", sentence[under[-1].end():]):
            return m.group(0)  # "... and a blue ball comes out the other side": another thing
        return " "
    t = re.sub(r"\b((?:under|beneath|underneath) (?:the slab|it))\s+(?:out\s+)?(?:to|onto|on)\s+the (?:other|far) side"
               r"\b", r"\1", t)  # "rolls under the slab to the other side"
    verb = r"(?:comes?|coming|emerges?|emerging|exits?|exiting|reappears?|reappearing|pops?|popping|goes|going)"
    return re.sub(rf"(?:,?\s*\b(?:and|then)\s+)*\b(?:{verb}\s+(?:back\s+)?(?:out\s+)?(?:on\s+|at\s+|from\s+)?"
                  rf"|(?:back\s+)?out\s+(?:on\s+|at\s+|from\s+|of\s+)?)the (?:other|far) side\b"
                  rf"(?:\s+of (?:it|the slab))?", after_under, t)


def _speed_and_way(t: str) -> str:
    """"blue ball fast left": a thing followed by a speed and a way, in a clause with no verb of motion,
    moves that way ("blue ball moving fast left")."""
    def verbless(m: re.Match) -> str:
        clause = re.split(r"[.,;:!?]", t[:m.start()])[-1] + m.group(0) + re.split(r"[.,;:!?]", t[m.end():])[0]
        words = re.findall(r"[a-z]+", clause)
        if set(words) & (_MOTION_VERBS | _STILL_WORDS | {"roll", "slide", "glide", "drift", "move"}) or len(
                re.findall(rf"\b(?:{_THING_NOUNS})\b", clause)) != len(re.findall(pattern, clause)):
            return m.group(0)  # "cylinder and box slowly up": does the cylinder move?
        return f"{m.group(1)} moving {m.group(2)} "
    place = (r"next|beside|by|above|below|under|beneath|underneath|over|at|in|on|of|side|half|corner|edge|wall|part"
             r"|region|column|row|alone|top|bottom|centre|center|middle")
    speed = r"(?:very\s+|really\s+)?(?:fast|quickly|slowly|slow)"
    pattern = rf"\b({_THING_NOUNS})\s+({speed})\s+(?=(?:{_WAY_WORDS})\b(?!\s+(?:{place})\b))"
    return re.sub(pattern, verbless, t)


_PLACE_OF = {"left": "on the left", "right": "on the right", "top": "at the top", "bottom": "at the bottom",
             "upper": "at the top", "lower": "at the bottom", "middle": "in the centre", "central": "in the centre"}


def _line_along(side: str) -> str:
    """The line two things that meet or part "along" a side share: "top" -> "in a row at the top"."""
    if side in ("left", "right"):
        return f"in a column on the {side}"
    return f"in a row {_PLACE_OF.get(side, 'in the centre')}"


_AGENT_NOUN = r"(?:agent|player|robot|bot|guy|character|avatar)"


def _two_agents(t: str) -> bool:
    """Whether a prompt may name two agents ("the pink agent", "both players", "another robot")."""
    return bool(re.search(rf"\b(?:pink|second|both|two|2)\b|\b(?:other|another)\s+{_AGENT_NOUN}|\b{_AGENT_NOUN}s\b", t))


def _reach_order(t: str) -> str:
    """An order to reach the goal, "reach the goal" or "go to it" starting a sentence (or a clause), is the
    agent's reach ("the agent reaches the goal") in a scene of one agent; "it" must follow the goal, the
    last thing named before it, and one after a comma or semicolon must follow the goal or an agent."""
    def order(m: re.Match) -> str:
        if _two_agents(t):
            return m.group(0)  # two agents: which one goes?
        things = re.findall(rf"\b(goal|{_THING_NOUNS}|{_SLAB_ALTERNATION})\b", t[:m.start()])
        if m.group(3) == "it" and (not things or things[-1] != "goal"):
            return m.group(0)
        if set(m.group(1)) & set(",;") and not (things and re.fullmatch(rf"goal|{_AGENT_NOUN}", things[-1])):
            return m.group(0)  # "blue cube: top left; move to the goal": the order may be the cube's
        return f"{m.group(1)}the agent reaches the goal"
    return re.sub(r"(^\s*|[.!?;,]\s*)(?:(?:then|now|and|please)\s+)*(reach|(?:go|get|drive|move|head|walk) to)\s+"
                  r"(the goal|it)\b", order, t)


#: Scene families a prompt may be headed by, as users name them, and the family each names.
_FAMILY_NAMES = {"occlusion": "occlusion", "reach": "reach", "reaching": "reach", "playground": "playground",
                 "pushbox": "pushbox", "push box": "pushbox", "box pushing": "pushbox", "pushing": "pushbox",
                 "push": "pushbox", "box push": "pushbox"}
_FAMILY_WORDS = ("scene|task|test|setup|level|env|environment|world|example|demo|game|challenge|experiment"
                 "|scenario|case|episode")
_FAMILY = (rf"(?P<family>{'|'.join(sorted(_FAMILY_NAMES, key=len, reverse=True))})"
           rf"(?P<kind>\s+(?:{_FAMILY_WORDS}))?")


#: Words that name a prompt rather than say what is in it, as a label heading it: "Level 1:", "Test case 3 -".
_LABEL_WORDS = _FAMILY_WORDS + "|prompt|stage|round|puzzle|sample|trial|caption|description|request|input|query"
_LABEL = re.compile(rf"\W*(?:{_LABEL_WORDS})(?:\s+(?:{_LABEL_WORDS}))?\s*(?:(?:no\.?\s*|#\s*)?\d+[a-z]?)?"
                    r"\s*(?::|-\s|\u2013|\u2014)\s*", re.IGNORECASE)


def _without_label(text: str) -> str:
    """``text`` without a label heading it ("Level 1: a red ball" -> "a red ball"); a label with no text
    after it is left (and refused as words that describe nothing)."""
    label = _LABEL.match(text)
    return text[label.end():] if label and text[label.end():].strip() else text


def _scene_family(text: str) -> tuple[str | None, str]:
    """The scene family heading a prompt and the prompt without it: "occlusion: a slab on the left, ...",
    "reach task, the agent ...", "task: reach. ...", "an occlusion scene where ...", "a playground with ..."
    (read as "a scene with ..."). A family word anywhere else is left in place (and refused as an unknown word)."""
    low = text.lower()
    t = re.sub(r"(?<=\w)-(?=\w)", " ", low)  # "push-box"; the same length, so its places are the text's
    t = re.sub(r"[\"{}\[\]]", " ", t)  # '..., "task": "reach"}': a JSON field, of the same length
    header = re.match(rf"\W*(?:(?:{_FAMILY_WORDS})\s*[:=]\s*)?(?:an?\s+|the\s+)?{_FAMILY}\s*(?:[:,.;!]|-\s|$)", t)
    if header:
        return _FAMILY_NAMES[header.group("family")], low[header.end():]
    field = re.search(rf"[;.,\n]\s*(?:{_FAMILY_WORDS})\s*[:=]\s*{_FAMILY}\s*[.;!]?\s*$", t)  # "...; task: reach"
    if field:
        return _FAMILY_NAMES[field.group("family")], low[:field.start()]
    # "... an occlusion scene where ...", "a playground with ...": the family names the scene
    scene = re.search(rf"(?:^\W*|\ban?\s+){_FAMILY}\s+(?=(?:with|where|in which|that has)\b)", t)
    if scene and (scene.group("kind") or scene.group("family") in ("occlusion", "playground", "pushbox", "push box")):
        return _FAMILY_NAMES[scene.group("family")], low[:scene.start()] + " a scene " + low[scene.end():]
    return None, text


def _line_breaks(text: str) -> str:
    """A line break ends a clause between lines of a list or of fields ("- a red ball⏎- a blue box",
    "ball: red⏎box: blue"); within prose it is a space ("a red ball on the⏎left")."""
    raw = re.split(r"\s*\n\s*", text.strip())
    listed = [bool(re.match(r"[-*•]|\d+[.)]\s", line)) for line in raw]  # "- red ball", "1. a red ball"
    lines = [re.sub(r"^(?:[-*•]+|\d+[.)])\s*", "", line) for line in raw]
    out = lines[0] if lines else ""
    for k, line in enumerate(lines[1:], start=1):
        fields = ":" in lines[k - 1] or ":" in line  # "ball: red", "position: left"
        ends = listed[k] or fields or not out or out[-1] in ";,.:!?"
        out += ("; " if ends and out and out[-1] not in ";,.:!?" else " ") + line
    return out


_ACROSS = {"top": "bottom", "bottom": "top", "left": "right", "right": "left"}


def _opposite_places(t: str) -> str:
    """ "In the opposite corner" (or "on the opposite side") names the corner (side) across from the one said
    last before it; refused when none was."""
    def across(m: re.Match) -> str:
        said = re.findall(r"\b(?:(top|bottom) (left|right)|(left|right|top|bottom))\b(?! (?:of|wall|edge)\b)",
                          t[:m.start()])
        wanted = [w for w in said if bool(w[0]) == (m.group(1) == "corner")]
        if m.group(2) or not wanted:
            raise PromptError(f"{m.group(0).strip()!r}: say which {m.group(1)}, e.g. 'the agent at the top left and "
                              "the goal at the bottom right'")
        row, column, side = wanted[-1]
        return f"at the {_ACROSS[row]} {_ACROSS[column]}" if row else f"on the {_ACROSS[side]}"

    return re.sub(r"\b(?:in|at|on) the opposite (corner|side)\b(\s+(?:from|to)\b)?", across, t)


def _refuse_stutters(t: str) -> None:
    """Refuse a noun said twice in a row ("a red ball ball") and a place cut off ("a red ball on the"): either
    would be read as something the prompt did not mean."""
    twice = re.search(rf"\b({_ONE_THING}|{_PLURAL_SHAPES})\s+\1\b", t)
    if twice:
        raise PromptError(f"{twice.group(0)!r}: a word is said twice; say it once")
    cut = re.search(r"\b(?:on|at|in|to|towards?|into|near|by)\s+the\s*(?:[,.;!?]|$)", t)
    if cut:
        raise PromptError(f"{cut.group(0).strip(' ,.;!?')!r}: the place is cut off; name it, e.g. 'on the left'")


def _refuse_relations_not_read(t: str) -> None:
    """Refuse, with the reason, places the top-down camera cannot show ("behind", "in front of"), a thing
    placed "opposite" another, a number for a size, and a thing going under another that is not the slab."""
    depth = re.search(r"\b(?:behind|in front of|in back of)\b", t)
    if depth:
        raise PromptError(f"{depth.group(0)!r}: the camera looks straight down, so depth names no place; say 'above', "
                          "'below', 'to the left of' or 'to the right of' another thing, or name a region")
    around = re.search(r"\baround (?:it|them|the (?!arena|scene|world|floor|room)\w+)", t)
    if around and set(re.split(r"[,.;!?]", t[:around.start()])[-1].split()) & _MOTION_VERBS:
        raise PromptError(f"{around.group(0)!r}: a thing going round another is not read; a prompt says how each thing "
                          "starts, gliding one way ('rolls left') or 'around' on a way drawn with the scene")
    if around:
        raise PromptError(f"{around.group(0)!r}: a place around a thing is not read; name each thing's region, "
                          "e.g. 'the agent in the centre, a red ball on the left and a blue box on the right'")
    opposite = re.search(r"\bopposite(?: to)?\s+(?:the|a|an)\s+\w+", t)
    if opposite:
        raise PromptError(f"{opposite.group(0)!r} is not read; name each thing's region, e.g. 'a red ball on the left "
                          "and a blue box on the right'")
    size = re.search(r"\b(?:size|radius|diameter|width)\s*(?:of|is|[:=])?\s*-?\d[\d.]*", t)
    if size:
        raise PromptError(f"{size.group(0)!r}: sizes are said in words, not numbers: small, medium or large, e.g. "
                          "'a small red ball'")
    under = re.search(rf"\b(?:under|underneath|beneath)\s+(?:the|a|an)\s+(?:\w+\s+){{0,2}}?({_ONE_THING}|agent)\b", t)
    if under and re.search(rf"\b(?:{_MOTION_ALTERNATION})\b", t[:under.start()].split(".")[-1]):
        raise PromptError(f"{under.group(0)!r}: only the slab is passed under; e.g. 'a red ball rolls left under the "
                          "slab', or place it 'below the box'")


def _refuse_unreadable(t: str) -> None:
    """Refuse, with the reason, phrases that no reading of the grid, the things and their motions holds:
    things named by number, "diagonally" alone, places counted in cells, "of that", "far from"."""
    label = re.search(r"(?:^|[,.;:!?]|\band\b|\bthe\b)\s*(?:ball|box|cube|sphere|cylinder|object|thing) (?:#\s*)?"
                      r"(?:[123]|one|two|three)\b(?!\s+(?:ball|box|cube|sphere|cylinder|object|thing)s?\b)", t)
    if label:  # "ball one moves left", "box 2 at the top"
        raise PromptError(f"{label.group(0).strip(' ,.;:!?')!r}: things are not named by number; describe each by "
                          "its colour and shape, e.g. 'the red ball moves left'")
    for m in re.finditer(r"\bdiagonal(?:ly)?\b", t):  # said with both ways it reads as they do, else refused
        near = set(re.split(r"[,;.!?:]|\band\b|\bwith\b", t[m.end():])[0].split())  # the words of its clause
        near |= set(re.split(r"[,;.!?:]|\band\b|\bwith\b", t[: m.start()])[-1].split())
        if not (near & _VERTICAL.keys() and near & _HORIZONTAL.keys()):
            raise PromptError("'diagonally' says no way on its own; name both, e.g. 'rolls diagonally up-left' or "
                              "'rolls towards the top right', or place each thing in a region")
    cells = re.search(r"\b(?:two|three|four|several|[2-9]) (?:cells|squares|steps|regions|spaces|tiles)\b", t)
    if cells:  # "the goal is two cells to the right": not a count of things
        raise PromptError(f"{cells.group(0)!r}: places are the regions of a 3x3 grid, one step apart at most; name "
                          "the region, e.g. 'the goal on the right'")
    does = re.search(r"\b(?:that|which|who|but|and|while)\s+(?:(?:the|a|an)\s+(?:\w+\s+)?\w+\s+)?(?:does|do|is|are)"
                     r"\s*(?=$|[,.;!?])", t)
    if does:  # "a box that doesn't move and a ball that does, to the left": the verb is left out
        raise PromptError(f"{does.group(0).strip()!r}: the verb is left out; say it in full, e.g. 'a red ball that "
                          "rolls left'")
    number = re.search(r"\(?\s*-?\d*\.\d+(?:\s*,\s*-?\d*\.?\d+)?\s*\)?|\(\s*-?\d+\s*,\s*-?\d+\s*\)", t)
    cell = re.search(r"\b(?:cell|square|tile|slot|position|region|spot|zone|quadrant)\s*(?:number\s*|no\.?\s*)?#?\s*"
                     r"\d", t)
    if number or cell:  # "at position (0.2, 0.8)", "in cell 3"
        raise PromptError(f"{(number or cell).group(0).strip()!r}: places are not given by numbers; name a region "
                          "of the 3x3 grid: top left, top, top right, left, centre, right, bottom left, bottom, "
                          "bottom right")
    far = re.search(r"\b(?:far|away) from\b", t)
    if far:
        raise PromptError(f"{far.group(0)!r} is not read; put each thing in a region instead, e.g. 'a blue box at "
                          "the top left and the agent at the bottom right', or say which way a thing moves")


def _refuse_where_the_goal_is(t: str) -> None:
    """Refuse "..., where the goal is" ("pushes the box to the left, where the goal is"): where that is, is
    not read."""
    where = re.search(r"\bwhere (?:the|a) goal (?:is|lies|sits|waits)\b", t)
    if where:
        raise PromptError(f"{where.group(0)!r}: say where the goal is as a place, e.g. 'the goal is on the left', or "
                          "push into it: 'the agent pushes the box into the goal'")


def _refuse_all_but(t: str) -> None:
    """Refuse an exception to "all" ("all but the box move left", "all red but one", "all move left, except the
    blue one"): which things it leaves out is not read."""
    but = re.search(r"\b(?:all|each|every\w*)\s+(?:(?:the|of the|objects|things|balls|boxes|cylinders)\s+)*"
                    r"(?:but|except|apart from|other than|only)\b", t)
    but = but or re.search(r"\b(?:all|each|every\w*)\b[^.;!?]*?\b(?:but|except|apart from|other than)\s+(?:for\s+)?"
                           rf"(?:one\b|two\b|the\b(?!\s+(?:white\s+|pink\s+)?(?:{_AGENT_NOUN}|goal)))", t)
    but = but or re.search(r"\b(?:both|two|three|they|and)\b[^.;!?]*?\b(?:except|apart from|other than)\b"
                           r"(?!\s+(?:for\s+)?(?:an?|one)\b)", t)  # "two balls roll right except the blue one"
    if but:  # "all but the box move left", "all red but one", "all move left, except the blue one"
        raise PromptError(f"{but.group(0)!r}: which things an exception leaves out ('but', 'except', 'apart from') "
                          "is not read; name the things it means, e.g. 'the red ball and the green cylinder move left'")


def _colour_phrases(t: str, colours: str) -> str:
    """Rewrite a colour said in a phrase of its own ("a ball whose colour is red", "a ball of colour red",
    "red in colour") as "that is red"; refuse a colour given as a code ("#ff0000", "rgb(...)")."""
    code = re.search(r"#[0-9a-f]{3,8}\b|\b(?=[a-f]*\d)[0-9a-f]{6}\b|\brgba?\b", t)
    if code:
        raise PromptError(f"{code.group(0)!r}: colours are named, not given as codes, e.g. 'a red ball'; "
                          f"{_supported('colour')}")
    t = re.sub(rf"\b(?:whose|which|with|of)\s+(?:the\s+)?colou?r\s+(?:is\s+)?(?=(?:{colours})\b)", " that is ",
               t)
    return re.sub(rf"\b({colours})\s+in\s+colou?r\b", r"\1", t)


def _said_of_the_thing_before(t: str, colours: str, sizes: str, shapes: str) -> str:
    """Rewrite the phrases that say a colour or size of the thing just named, so that they do not read
    as one more thing: "a box with a red colour" (a red box), "the ball on the left is a big one", "a box
    at the top, a blue one" (a colour it was not given), and "a little" before a place ("a little to the
    right of the centre": slightly)."""
    t = re.sub(rf"\bwith an? ((?:(?:{colours}|{sizes})\s+)+)(?:colou?r|size)\b", r" \1", t)
    t = re.sub(rf"\b(is|are|the (?:{shapes})) an? ((?:(?:{colours}|{sizes})\s+)+)ones?\b", r"\1 \2", t)
    t = re.sub(r"\ba little(?: bit)?\s+(?=(?:to|above|below|left|right|up|down|off|from|beneath|under|over|north"
               r"|south|east|west|towards?)\b)", "slightly ", t)

    def appositive(m: re.Match[str]) -> str:
        before, adjectives = m["before"], m["adjectives"].split()
        if re.search(r"\b(?:two|three|both|all|[23]|objects|things|items|agents?)\b", before):
            return m[0]  # "two balls, a big one, ...": an item of a list
        for word in adjectives:
            kind = colours if re.fullmatch(colours, word) else sizes
            if re.search(rf"\b(?:{kind})\b", before):
                return m[0]  # "a red ball at the top, a blue one": another ball
        return f"{before}, {' '.join(adjectives)}"

    return re.sub(rf"(?P<before>(?:^|(?<=[.;!?:]))[^,.;:!?]*\b(?:{shapes})\b[^,.;:!?]*?)\s*,\s*an? "
                  rf"(?P<adjectives>(?:(?:{colours}|{sizes})\s+)+)one\b(?=\s*(?:[,.;!?]|$))", appositive, t)


_ABSENT = rf"(?:\bno|\bwithout (?:an?|the|any))\s+(?P<a>goal|{_SLAB_ALTERNATION})s?\b" \
          rf"|\b(?P<b>goal|{_SLAB_ALTERNATION})\s*:\s*(?:none|no)\b"  # "no goal", "without a slab", "goal: none"


def _absent_fixtures(text: str) -> set[str]:
    """The fixtures a prompt says its scene has not: {"goal"}, {"slab"}, both or neither."""
    return {"goal" if (m.group("a") or m.group("b")) == "goal" else "slab" for m in re.finditer(_ABSENT, text.lower())}


_A_REGION = r"(?:(?:top|bottom|upper|lower)\s+(?:left|right)|left|right|top|bottom|centre|center|middle)(?:\s+corner)?"
"""A region of the grid said in words, for patterns: "top left", "centre", "bottom right corner"."""


def _respectively(t: str) -> str:
    """ "X and Y at the top and bottom respectively", "... roll left and right respectively": the first of
    two places or ways goes to the first thing, the second to the second."""
    thing = r"(?:an?|the|one)\s+[^,.;!?]*?"
    t = re.sub(rf",\s*({_A_REGION}) and ({_A_REGION}),?\s+respectively\b", r" at the \1 and \2 respectively",
               t)  # "a red ball and a blue ball, left and right respectively"
    t = re.sub(rf"\b({thing})\s+and\s+({thing})\s*,?\s+(?:are\s+|sit\s+|start\s+)?(?:at|in|on) the ({_A_REGION})\s+and"
               rf"\s+(?:(?:at|in|on)\s+)?(?:the\s+)?({_A_REGION}),?\s+respectively\b",
               r"\1 at the \3 and \2 at the \4", t)
    verbs = "|".join(sorted(v for v in _MOTION_VERBS if not v.endswith(("s", "ing", "ed"))))
    t = re.sub(rf"\b({thing})\s+and\s+({thing})\s*,?\s+({verbs})\s+({_WAY_WORDS})\s+and\s+({_WAY_WORDS}),?\s+"
               r"respectively\b", r"\1 \3ing \4 and \2 \3ing \5", t)
    if re.search(r"\brespectively\b", t):
        raise PromptError("'respectively' is read after two things and two places ('a red ball and a blue box at "
                          "the top and bottom respectively') or two ways ('... roll left and right respectively'); "
                          "else give each thing its own, e.g. 'a red ball at the top and a blue box at the bottom'")
    return t


def _said_absent(t: str) -> str:
    """ "No goal", "without a slab", "goal: none": a scene holds only what its prompt names, so these say
    nothing more and are taken out, unless the prompt names that thing too (refused)."""
    for m in re.finditer(_ABSENT, t):
        thing = m.group("a") or m.group("b")
        rest = t[:m.start()] + t[m.end():]
        named = rf"\b(?:{_SLAB_ALTERNATION})\b" if thing != "goal" else r"\bgoal\b"
        if re.search(named, rest):
            raise PromptError(f"{m.group(0).strip()!r}, yet the prompt names a {thing} too; say one")
    return re.sub(rf"(?:^|,|\band\b|\bwith\b)?\s*(?:{_ABSENT})\s*(?=[,.;!?]|\band\b|$)", " ", t)


def _region_by_region(m: re.Match) -> str:
    """ "Below the centre": the region one step that way from the centre. (A side or corner is not stepped
    from: "just below the top right corner" may still be in it.)"""
    step = {"above": (-1, 0), "below": (1, 0), "under": (1, 0), "beneath": (1, 0)}.get(
        m.group(1), (0, -1) if "left" in m.group(1) else (0, 1))
    return f"at the {_stepped('centre', step)}"


def _a_place_each(t: str) -> str:
    """Two places after two things, ending the sentence, are one each: "two balls at the top left and bottom
    right" is "two balls: one at the top left, one at the bottom right"; so is "the agents are on the left
    and on the right"."""

    def each(m: re.Match) -> str:
        things = re.sub(r"^(?:both|the two|the)\s+", "", m.group(1))
        things = things if things.startswith("two ") else f"two {things}"
        return f"{things}: one at the {m.group(2)}, one at the {m.group(3)}"

    corners = {"top": ("top left", "top right"), "bottom": ("bottom left", "bottom right"),
               "left": ("top left", "bottom left"), "right": ("top right", "bottom right")}
    t = re.sub(r"\b(?:just |right |directly |a little |a bit |slightly )?(above|below|under|beneath|"
               r"(?:to the )?left of|(?:to the )?right of) the (centre|center|middle)(?: of the (?:arena|scene|floor))?"
               r"\b(?! of\b)",
               _region_by_region, t)  # "just left of the centre": on the left
    t = re.sub(r"\bone (?:in|at) (?:each|either) (top|bottom|left|right) corner\b",
               lambda m: "one at the {} and one at the {}".format(*corners[m.group(1)]),
               t)  # "one in each bottom corner"
    t = re.sub(r"\b(top|bottom) corner on the (left|right)\b", r"\1 \2 corner", t)  # "the top corner on the left"
    t = re.sub(r"\bcorner (top|bottom) (left|right)\b", r"\1 \2 corner", t)  # "in the corner top right"
    region = r"(?:(?:top|bottom)\s+)?(?:left|right)|top|bottom|centre|center|middle"
    t = re.sub(rf"\b((?:two|2) (?:\w+ )?\w+s),\s*({region}) and ({region})\b(?=\s*(?:[.;!?,]|$))",
               r"\1 at the \2 and \3", t)  # "two balls, left and right"
    thing = rf"an? (?:(?:{_DESCRIBING})\s+)*(?:{_ONE_THING})"
    t = re.sub(rf"\b({thing})\s+and\s+({thing})\s+(?:on|at|in) the ({region}) and (?:(?:on|at|in) )?(?:the )?({region})"
               r"\b(?!\s*,?\s*respectively)(?=\s*(?:[.;!?,]|$))", r"\1 at the \3 and \2 at the \4",
               t)  # "a red ball and a blue ball on the left and the right": one each, in order
    t = re.sub(r"\b(?:in|at) the (top|bottom) corners\b", r"at the \1 left and \1 right", t)  # "in the top corners"
    t = re.sub(r"\b(?:in|at) the (left|right) corners\b", r"at the top \1 and bottom \1", t)
    t = re.sub(r",?\s*\bone (?:on each|on either) side\b", " on the left and on the right", t)  # "one on each side"
    bare = rf"(^|[,;:.!?]\s*|\band\s+)((?:(?:{_DESCRIBING})\s+)?(?:{_PLURAL_SHAPES}))\s+(?=(?:are\s+)?(?:at|in|on) the "
    if re.search(rf"{bare}[a-z ]+? and )", t):  # "balls on the left and right": two, one each
        t = re.sub(rf"{bare})", r"\1two \2 ", t)
    return re.sub(rf"\b(two (?:[a-z]+ )?[a-z]+s|both (?:[a-z]+ )?[a-z]+s|the two (?:[a-z]+ )?[a-z]+s|the agents)"
                  rf"\s+(?:are\s+|sit\s+|stand\s+|start\s+)?(?:at|in|on) the ({_A_REGION})\s+and\s+(?:(?:at|in|on)\s+)?"
                  rf"(?:the\s+)?({_A_REGION})\s*(?=[.;!?,]|$)", each, t)


_ONE_THING = "|".join(sorted(w for w in _SHAPE_WORDS.keys() | _GENERIC_NOUNS if not w.endswith("s")))
"""The nouns of one object, for patterns: "ball|block|box|..."."""


def _it_the_agent(t: str) -> str:
    """ "The agent is on the left. It reaches the goal.": "it" going to the goal after a prompt that has named
    agents and no object is the agent named last."""
    m = re.search(r"\bit\s+(?=(?:reaches|goes|heads|moves|walks|drives|gets|navigates|travels|runs)\b[^.;!?]*\bgoal\b)",
                  t)
    if m is None:
        return t
    before = t[:m.start()]
    agents = list(re.finditer(rf"\b(?:(white|pink)\s+)?{_AGENT_NOUN}s?\b", before))
    objects = "|".join(sorted(_SHAPE_WORDS.keys() | _GENERIC_NOUNS))
    if not agents or re.search(rf"\b(?:{objects})\b", before):
        return t
    colour = agents[-1].group(1)
    return f"{before}the {colour + ' ' if colour else ''}agent {t[m.end():]}"


def _launches(t: str) -> str:
    """A thing's start said as a launch ("initially", "launched to the left", "a left-moving ball", "with a
    leftward velocity") reads as moving that way: a prompt says how each thing starts."""
    way = r"(left|right|up|down)"
    t = re.sub(r"\binitially\b|\bat (?:the )?(?:start|beginning)\b", " ", t)
    t = re.sub(r"\b(?:launched|thrown|kicked|flicked|shot|sent)\b(?=\s+(?:(?:quickly|fast|slowly)\s+)?"
               r"(?:to(?:wards?)? the\s+)?(?:(?:top|bottom)\s+)?(?:left|right|up|down|north|south|east|west)"
               r"(?:wards?)?\b)", " moving ", t)
    t = re.sub(rf"\b{way}(?:ward)?[- ]moving\s+((?:(?:{_DESCRIBING})\s+)*(?:{_ONE_THING}))\b", r"\2 moving \1", t)
    t = re.sub(rf"\bwith an? (?:high|large|big) (?={way}wards? (?:velocity|speed|motion)\b)", " fast with a ",
               t)  # "a red ball with a high leftward velocity"
    return re.sub(rf"\bwith an? {way}wards? (?:velocity|speed|motion)\b|\bwith (?:an? )?(?:velocity|motion)"
                  rf" (?:to(?:wards)? the )?{way}\b", lambda m: f" moving {m.group(1) or m.group(2)} ", t)


def _that_thing(before: str, m: re.Match) -> str:
    """ "Below that" names the thing described last before it ("a red ball at the top, below it a blue ball,
    and below that a green ball": below the blue ball); left as it is when none was described."""
    clause = [c.end() for c in re.finditer(r"[,.;!?]|\band\b|\bthen\b", before)]  # not the thing it places
    before = before[:clause[-1]] if clause else ""
    said = list(re.finditer(rf"\b(?:an?|one)\s+((?:(?:{_DESCRIBING})\s+)*(?:{_ONE_THING}))\b", before))
    return f"{m.group(1)} the {said[-1].group(1)}" if said else m.group(0)


def _order_words(t: str) -> str:
    """Ordinals that say only the order things are said in ("a red ball first and a blue box second", "the
    blue box is second", "a red ball, second a blue box", "1st: a red ball; 2nd: ...", "first place a red
    ball, second place ...") are dropped, not read as one more thing; "the first and the third" are two
    things ("the first one and the third one")."""
    t = re.sub(r"(^\s*|[;.,]\s*)(?:first|second|third)\s*[:)-]\s*", r"\1", t)
    t = re.sub(r"(^|[;.,]\s*|\band\s+)(?:first|second|third|then|next),?\s+(?:place|put|add|draw|make|spawn)\s+"
               r"(?=(?:a|an|one)\b)", r"\1", t)
    t = re.sub(r"(?<!\bthe )(?<!\ban )(?<!\ba )\b(?:(?:is|comes|goes) )?(?:first|second|third|last)\b"
               r"(?!\s+(?:one|of)\b)(?=\s*(?:[,.;!?]|and\b|then\b|$))", " ", t)
    t = re.sub(rf"\bthe (first|second|third) and (?:the )?(first|second|third)(?: (?:ones|{_SHAPE_ALTERNATION}))?"
               r"\b(?! one\b)", r"the \1 one and the \2 one", t)
    return re.sub(r"([,;]\s*(?:and\s+)?)(?:second|third|secondly|thirdly|next|lastly|finally),?\s+(?=(?:a|an|one)\b)",
                  r"\1", t)


def _asides(t: str) -> str:
    """A place said between commas after a thing is that thing's, not the next one's: "a red ball, which is
    on the left, and a blue box" (the ball on the left); "a red ball at the top, on the left, and a blue
    ball" (the ball at the top left)."""
    place = rf"(?:at|in|on|near) the {_A_REGION}(?: side)?"
    t = re.sub(rf",\s*(?:which|that|who)\s+(?:is|sits|stands|lies|rests|starts|waits)\s+({place})\s*(?=[,;.!?]\s*\S)",
               r" \1", t)
    return re.sub(rf"\b({place})\s*,\s*({place})\s*(?=,)", r"\1 \2", t)


def _placed_ones_described(t: str) -> str:
    """ "Two balls, one on the left and one on the right; the one on the left is red" (or "the left one is
    red"): what is said of "the one" at a place is said of the one placed there before ("one red on the
    left"), rather than read as one more thing."""
    side = r"(?:(?:top|bottom|upper|lower) )?(?:left|right|top|bottom|centre|center|middle)"
    t = re.sub(rf"\bthe ({side}) one (?=(?:is|was|should be|{_MOTION_ALTERNATION})\b)",
               lambda m: f"the one {'at' if m.group(1) in ('top', 'bottom') else 'on'} the {m.group(1)} ", t)
    looks = rf"(?:{_DESCRIBING})(?:\s+(?:and\s+)?(?:{_DESCRIBING}))?"
    moves = rf"(?:{_MOTION_ALTERNATION})\b[^,.;!?]*?"
    said = rf"\s*[,;.]?\s*(?:and\s+)?\bthe one ((?:on|at|in) the {side}(?: corner| side)?) (?:(?:is|was|should be) " \
           rf"({looks})(?:\s+and\s+({moves}))?|({moves}))(?=\s*(?:[,.;!?]|and\b|$))"
    for _ in range(3):  # at most three things
        for m in re.finditer(said, t):
            earlier = list(re.finditer(rf"\bone ((?:(?:{_DESCRIBING})\s+)*){re.escape(m.group(1))}\b", t[:m.start()]))
            if earlier:  # "... one on the left ...; the one on the left is red and moves up": "one red on the left
                e = earlier[-1]  # that moves up"
                looks_said = re.sub(r"\s+and\s+", " ", m.group(2) or "")
                motion = m.group(3) or m.group(4)
                that = f" that {motion.strip()}" if motion else ""
                t = f"{t[:e.start()]}one {looks_said} {e.group(1)}{m.group(1)}{that}{t[e.end():m.start()]}{t[m.end():]}"
                break
        else:
            break
    return t


def _told_apart_by_place(t: str) -> str:
    """ "Two balls. The one on the left is red, the one on the right is blue", "the ball at the top is red, the
    ball at the bottom is blue": things told apart by their places before any of them was described are
    described there ("one red on the left", "a red ball at the top"). Where a thing was described before,
    "the ball at the top is red" says something of it, and is left as it is."""
    region = r"(?:on|at|in) the (?:(?:top|bottom|upper|lower) )?(?:left|right|top|bottom|centre|center|middle)" \
             r"(?: corner| side)?"
    looks = rf"(?:{_DESCRIBING})(?:\s+(?:and\s+)?(?:{_DESCRIBING}))?"
    found = list(re.finditer(rf"\bthe (one|{_ONE_THING}) ({region}) (?:(?:is|was|should be) ({looks})|"
                             rf"((?:{_MOTION_ALTERNATION})\b[^,.;!?]*?))(?=\s*(?:[,.;!?]|and\b|$))", t))
    out, end = [], 0
    for m in found:
        if re.search(rf"\b(?:an?|the|one)\s+(?:(?:{_DESCRIBING})\s+)*(?:{_ONE_THING}|one)\b", t[end:m.start()]):
            break  # "... the one on the left is red. the ball is big, ..."
        if m.group(4):  # "the ball on the left moves right and the ball on the right moves left"
            thing = "one" if m.group(1) == "one" else f"a {m.group(1)}"
            out += [t[end:m.start()], f"{thing} {m.group(2)} {m.group(4)}"]
        else:
            said = re.sub(r"\s+and\s+", " ", m.group(3))
            out += [t[end:m.start()], f"one {said} {m.group(2)}" if m.group(1) == "one" else
                    f"a {said} {m.group(1)} {m.group(2)}"]
        end = m.end()
    return "".join(out) + t[end:]


_CURLY_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
                               "\u2018": "'", "\u2019": "'"})


_LOOKS = "|".join(sorted(_COLOR_WORDS.keys() | _SIZES.keys() | _UNSUPPORTED_COLORS))
_OWNED = re.compile(rf"\b(?!(?:it|that|there|here|what|who|one|this|which)'s\b)(\w+)'s\s+(?:(?:{_LOOKS})\s+)*"
                    rf"(?:{_THING_NOUNS})\b")  # "the agent's (big red) ball"


def _refuse_owned(t: str) -> None:
    """Refuse a thing named by whose it is ("the agent's ball"), before "'s" is read as "is"; it says nothing
    of where the thing is or how it looks."""
    owned = _OWNED.search(t)
    if owned:
        raise PromptError(f"{owned.group(0)!r}: a thing is not said by whose it is; name it with its own look and "
                          "place, e.g. 'a red ball next to the agent'")


def _normalise(text: str) -> str:
    t = _line_breaks(text.lower().translate(_CURLY_QUOTES))
    t = re.sub(r"\b(t|b)(l|r)\b", lambda m: {"t": " top ", "b": " bottom "}[m.group(1)]
               + {"l": "left ", "r": "right "}[m.group(2)], t)  # "a ball at TL", "the BR corner"
    t = re.sub(r"\b(on|at|to|the)\s+(l|r)\b(?!')", lambda m: f"{m.group(1)} {'left' if m.group(2) == 'l' else 'right'}",
               t)  # "a ball on the L"
    t = re.sub(r"\b(1|2|3)(?:st|nd|rd)\b", lambda m: f" {ORDINALS[int(m.group(1)) - 1]} ", t)  # "1st ball red"
    t = re.sub(r"\bthe only (?:object|thing)(?: in the (?:scene|arena))? (?:is|will be)\b", " there is ",
               t)  # "the only object is a red ball"
    t = re.sub(r"[(,]\s*(?:it is |it's |this is )?the only (?:object|thing|one)(?: in the (?:scene|arena))?\s*\)?",
               " ", t)  # "a red ball (the only object)"
    t = re.sub(r"^\W*quick (?:one|question|request|test)\s*[:,.!-]", " ", t)  # "quick one: a yellow ..." (chat)
    t = re.sub(r"\b(one (?:fast|quick|slow))\s+(?=(?:and )?(?:one|the other) (?:fast|quick|slow)\b)", r"\1, ",
               t)  # "two cylinders, one fast one slow"
    t = re.sub(r"\b(objects|things|items|agents)\s*\(\s*([1-9]|one|two|three)\s*\)\s*:", r"\1: \2;",
               t)  # "Objects (2): red ball, blue box"
    t = re.sub(r"\b((?:two|three|2|3)\s+(?:[a-z]+\s+)?[a-z]+s)\s*\(([^()]*)\)", r"\1, \2,",
               t)  # "two cylinders (one orange, one cyan) in the bottom left": what is said of the counted things
    t = re.sub(r"(^|\s)\(?[1-9]\)\s*", lambda m: "; " if m.start() else "", t)  # "1) a red ball 2) a blue box"
    if re.match(r"\s*1\.\s", text) and re.search(r"\s2\.\s", t):  # "1. red ball top left 2. blue box ..."
        t = re.sub(r"(^|\s)[1-9]\.\s+", lambda m: "; " if m.start() else "", t)
    t = re.sub(rf"\b({_SLAB_ALTERNATION}) (?:over|above|across) "  # "a bridge over the centre": in the centre
               r"(?=the (?:centre|center|middle|left|right|top|bottom)\b)", r"\1 in ", t)
    t = re.sub(r"n't\b", " not", t)  # doesn't -> does not
    _refuse_owned(t)
    t = re.sub(r"(\w)'s\b", r"\1 is", t)  # there's -> there is
    t = re.sub(r"\s[-\u2013\u2014]+\s", " : ", t)  # "three cubes - red, green and blue": a spaced dash introduces
    t = re.sub(r"\bw/\s*", " with ", t)  # "a scene w/ 3 cylinders"
    t = re.sub(r"(\w+\s+)?\b(objects|things|items|agents|balls|boxes|cubes|spheres|cylinders)\s*[:=]\s*"
               r"(one|two|three|[1-9])\b(?=\s*(?:[,;.]|$))",  # "agents: 2", "objects: 2, a red ball and ..."
               lambda m: m.group(0) if _kind((m.group(1) or "").strip()) == "num" else
               f"{m.group(1) or ''} {m.group(3)} {m.group(2)} ", t)
    t = re.sub(r"\b(?:1|one) (agent|player|robot)s\b", r"one \1", t)  # "agents: 1"
    t = re.sub(r"\b(left|right|top|bottom|middle|upper|lower|centre|center) (?:third|half)\b", r"\1",
               t)  # "in the right third"
    t = re.sub(r"\b(speed(?:s|ing)?) up\b", r"\1", t)  # "speeds up to the left": faster, not upwards
    t = re.sub(r"\bspeeding\b(?=\s+(?:to|towards|toward|left|right|up|down|north|south|east|west|across|away|in|from"
               r"|along)\b)", " moving quickly ", t)  # "a red ball speeding to the left"
    t = re.sub(r"[-_/\"'`()\[\]{}]", " ", t)
    t = re.sub(r"\b(north|south)(east|west)(?:ward|wards)?\b", r"\1 \2", t)  # northeast -> north east
    t = t.replace("&", " and ").replace("+", " plus ").replace("@", " at ")
    # requests: "can you draw ...", "i want ...", "show me ...", "let us see ...", greetings and thanks
    t = re.sub(r"\bpl(?:s|z|ease)\b", " please ", t)
    t = re.sub(r"^\W*(?:can|could|would|will) (?=(?:the|a|an|one|two|three) )", " ", t)  # "could the ball roll ..."
    t = re.sub(r"^\W*(?:can|could|may|might) there be\b", " there is ", t)  # "can there be a box ...": not a can
    t = re.sub(r"\b((two|three|2|3) (?:objects|things|items))\s+(?:around|round|surrounding|about) (?:it|them|the \w+)"
               r"\s*:(?=([^.;!?]*))", lambda m: f"{m.group(1)}:" if len(re.findall(
                   r"\b(?:on|at|in) the\b", m.group(3))) >= (2 if m.group(2) in ("two", "2") else 3) else m.group(0),
               t)  # "three objects around it: a ball on the left, ...": each listed with its own place
    t = re.sub(rf"(^|[.;!?]\s*)(?:objects|items|things|list|entities)\s*:\s*(?=(?:the\s+|an?\s+)?(?:(?:white|pink)\s+)?"
               rf"(?:{_AGENT_NOUN}|goal)\b)", r"\1", t)  # "items: agent (left), goal (right)": no count to check
    t = re.sub(r"\b(?:can|could|would|will) (?:you|u|ya)\b"
               r"|\bi(?: would| d)? (?:want|like|need)(?: to (?:see|have|get))?\b|\blet(?: is| us)(?: do\b)?\b"
               r"|\b(?:can|could|may) (?:i|we) (?:get|have|see)\b|\b(?:give|get) me\b"
               r"|^\W*(?:hi|hello|hey)\b|\bthanks?(?: you)?(?: very much)?\b|\bset up\b|\bdo(?= an? (?:scene|arena)\b)",
               " ", t)
    t = re.sub(r"\b(?:goal|target) (?:patch|square|pad|zone|tile|spot|mat|marker|target|thing|area|region)\b", "goal",
               t)  # "the target zone"
    t = re.sub(r"^\W*(?:(?:in|for) this (?:scenario|scene|setup|exercise|test|example|simulation|episode|task)"
               r"|(?:let(?: is| us)? )?say(?: that)?|suppose(?: that)?|picture(?: this)?|alright|all right"
               r"|let me (?:see|think)|consider|build(?: me)?)\b\W*", " ", t)  # "In this scenario, ...", "alright, ..."
    t = re.sub(r"(^|[.;!?,:]\s*|\s)for\s+(?:(?:a|an|the|my|our|this|today(?:'s| s|s| is)?)\s+)?"
               r"(?:(?:quick|simple|small|rl|class|collision|occlusion|onboarding|baseline|physics|push|reach)\s+){0,2}"
               r"(?:demo|demos|demonstration|"
               r"experiment|test|lesson|class|episode|baseline|scene|run|example)\b\s*,?", r"\1 ",
               t)  # "For today's demo, ...", "two balls for a collision demonstration: ..."
    t = re.sub(r"\b(?:simple|basic|quick|little|small|nice) (scene|setup|world|arena|layout)\b", r"\1",
               t)  # "a simple scene with ..."
    t = re.sub(r"(\b(?:scene|arena|world)\b[^.;!?]*?) in it\b", r"\1", t)  # "a scene with a ball in it"
    t = re.sub(r"\bas well as\b", " and ", t)  # "a red ball as well as a blue box" (or "as well as 4 boxes")
    t = re.sub(r"(^|[.;!?:,]\s*|\bwith\s+)both\s+(?=(?:an?|the|one)\b[^.;!?]*\band\b)", r"\1",
               t)  # "both a red ball and a blue box at the bottom"
    t = re.sub(r"(^|[.;!?:]\s*)all\s+(?=(?:two|three|2|3)\b)", r"\1", t)  # "all three balls are red"
    t = re.sub(r",\s*one of (?:which|them|these) (?:is|being)\s+", ", one ", t)  # "two balls, one of which is red"
    t = re.sub(r"\b(?:in|on) the (first|second|third) (row|column)\b", lambda m: "in the {} {}".format(
        {"row": ("top", "middle", "bottom"), "column": ("left", "middle", "right")}[m.group(2)][
            ("first", "second", "third").index(m.group(1))], m.group(2)), t)  # "in the first row"
    t = re.sub(r"(^|[.;!?]\s*)(?:the\s+)?((?:top|middle|centre|center|bottom) row|(?:left|middle|centre|center|right) "
               r"column)\s*[:\u2013\u2014-]\s*", r"\1in the \2 there is ", t)  # "bottom row: a red ball"
    # a top or bottom row, or a side column, said first holds all that follows, as "at the top" does
    t = re.sub(r"(^|[.;!?]\s*)(?:in|along|across|on|at) the (top|bottom) row\b", r"\1at the \2", t)
    t = re.sub(r"(^|[.;!?]\s*)(?:in|down|along|on|at) the (left|right) column\b", r"\1on the \2", t)
    t = re.sub(r"(\b(two|three)\b[^.;!?]*?,\s*)all\s+\2\b", r"\1all", t)  # "three balls, all three red"
    t = re.sub(r"\b(?:of|on|in) the (?:screen|image|frame|picture|view|window|video)\b", " ",
               t)  # "... side of the screen"
    t = re.sub(r"\b(?:small|little)ish\b", " small ", t)
    t = re.sub(r"\b(?:big|large)ish\b", " large ", t)
    t = re.sub(r"\b(?:normal|average|regular|medium|standard|mid)[ -]?sized?\b|\bof (?:normal|average|regular|medium|"
               r"standard) size\b", " medium ", t)  # "a normal-sized red ball", "a ball of average size"
    t = re.sub(r"\bsuper[ -]?(?=(?:fast|quick|quickly|slow|slowly)\b)", " very ", t)  # "super fast"
    t = re.sub(r"\b(?:pop|plop|stick)\s+(?=(?:an?|the|one|two|three|some)\b)", " put ", t)  # "pop a ball in the centre"
    t = re.sub(r"\b(?:smack|bang|slap)(?: dab)?\s+(?=(?:in|at|on) the\b)", " ", t)  # "smack in the middle"
    t = re.sub(r"\s*\b(?:too|as well)\s*(?=[,.;!?]|$)", " ", t)  # "... and a blue box too": said already
    t = _respectively(t)  # "a red ball and a blue ball at the top and bottom respectively"
    t = re.sub(r"\b(all|both|each|one|two|three) of (?:them|these|those)\b", r"\1",
               t)  # "three balls, two of them red"
    t = re.sub(rf"\b(?:make|let|have)?\s*\b(roll|move|slide|glide|drift|send)\s+(?:them|both|all)"
               rf"(?:\s+(?:both|all))?\s+(?=(?:{_WAY_WORDS})\b)",
               lambda m: f" all {'move' if m.group(1) == 'send' else m.group(1)} ", t)  # "roll them left"
    t = re.sub(r"\b(?:of|in|on) the 3 ?x ?3 grid\b", " ", t)  # "the top left cell of the 3x3 grid"
    t = re.sub(r"\b(?:gets?|getting) to\b", " reaches ", t)  # "the agent has to get to the goal"
    t = re.sub(r"\buntil (?=the goal\b)", "onto ", t)  # "push the box until the goal"
    t = re.sub(r"\bthey\b(?:\s+(?:are|re)\s+(?=(?:all|both)\b))?", " all ", t)  # "two balls, and they roll down"
    t = re.sub(r"\ball\s+(?=(?:all|both)\b)", " ", t)  # "they are both red": both are red
    t = re.sub(r"\blets(?: (?:get|have|see|make|do))?\b", " ", t)  # "lets get a ball ..." (let's, no apostrophe)
    t = re.sub(r"\b(?:the |a )?target(?! (?:box|ball|cylinder|cube|sphere|object))\b", " the goal ", t)
    if re.search(rf"\b{_AGENT_NOUN}\b", t) and not _two_agents(t):  # "the agent ..., and he starts at the left"
        t = re.sub(r"\b(?:he|she|him|her)\b", " the agent ", t)
    t = re.sub(r"\b(?:he|she)\b", " it ", t)
    t = _it_the_agent(t)  # "the agent is on the left. it reaches the goal."
    t = re.sub(rf"\bthe (left|right|top|bottom|upper|lower|middle|central)(?:most)? ({_THING_NOUNS}|one|ones)\b",
               lambda m: f"the {m.group(2)} {_PLACE_OF[m.group(1)]}", t)  # "the left ball": the ball on the left
    t = re.sub(r"\bthe (first|second|third) (?=(?:is|was)\b)", r"the \1 one ", t)  # "...; the second is blue"
    t = re.sub(r"\b(one is an? [^.;!?]*?,\s*(?:and\s+)?the other(?: one)?) (?=an?\s)", r"\1 is ",
               t)  # "one is a ball on the left, the other a box on the right"
    t = re.sub(r"(^|[.;!?]\s*)((?:on|at|in|near) the (?:(?:top|bottom|upper|lower)\s+)?(?:left|right|top|bottom|centre|"
               r"center|middle)(?:\s+(?:corner|side|edge))?)\s*,?\s+there\s+(?:is|are)\s+(?=[^.;!?]*\band\b)",
               r"\1\2, ", t)  # "on the left there are a red ball and a blue box": the place heads the list
    t = re.sub(r"\b(?:that|which|who)\s+(?=(?:(?:both|all)\s+)?(?:move|roll|slide|glide|drift|go|head|travel)\b)", " ",
               t)  # "a red ball and a blue box that move left": the plural verb is the list's
    t = re.sub(r"([^.;!?]*\b(?:agent|goal)\b[^.;!?]*?),\s*(?:both|all)\s+(?=(?:on|at|in|near|by)\b)", r"\1, ",
               t)  # "a ball and the agent, both on the right": "both" counts objects, and the agent is not one
    t = re.sub(r"\bwith (an? [^,.;!?]*?) on top\b(?!\s+of\b)", r"with \1 on top of it", t)  # "a box with a ball on top"
    t = re.sub(rf"\b((?:{_PUSH_ALTERNATION})\s+(?:the|an?)\s+(?:\w+\s+){{0,2}}?(?:{_ONE_THING}))\s+from\s+"
               r"(the\s+(?:(?:top|bottom)\s+)?(?:left|right|top|bottom|centre|center|middle))\s+(?=to\b)", r"\1 on \2 ",
               t)  # "pushes the box from the left to the right": the box starts on the left
    colours = "|".join(sorted(_COLOR_WORDS))
    two = re.search(rf"\ban?\s+(?:(?:{'|'.join(_SIZES)})\s+)?(?:{colours})\s*-?\s*and\s*-?\s*(?:{colours})\s+"
                    rf"(?:{_ONE_THING})\b", t)
    if two:
        raise PromptError(f"{two.group(0)!r}: a thing has one colour; for two things say e.g. 'a red ball and a green "
                          "ball'")
    t = _colour_phrases(t, colours)  # "a ball whose colour is red"
    item = r"(?:(?<=[,:])|(?<=[,:] )|(?<=\band ))"  # where an item of a list starts
    t = re.sub(rf"{item}({_DESCRIBING})\s+(first|second|third)\b(?=\s*(?:[,.;!?]|and\b|$))", r"\2 \1",
               t)  # "two balls, red first and blue second"
    shape = "|".join(sorted(w for w in _SHAPE_WORDS if not w.endswith("s")))
    t = re.sub(r"\b(?:two|three) (?:\w+ )?\w+s\s*[,:][^.;!?]*", lambda m: re.sub(
        rf"{item}the ((?:(?:{_DESCRIBING})\s+)+)one\b(?: is an? ((?:(?:{_DESCRIBING})\s+)*(?:{shape}))\b)?",
        lambda n: (f"a {n.group(1)}{n.group(2)}" + ("," if re.match(r"\s+and\b", n.string[n.end():]) else "")
                   if n.group(2) else f"one {n.group(1)}"), m.group(0)),
        t)  # "two balls, the red one on the left and the blue one on the right"; "two objects: the red one is a ball"
    t = re.sub(rf"(?<!\bthe )\b(first|second|third)\s+(?=(?:{_DESCRIBING})\b)", r"the \1 ",
               t)  # "two balls, first red, second blue"
    t = re.sub(rf"\b(the (?:first|second) (?:{_DESCRIBING}))\s+(?=the (?:second|third)\b)", r"\1, ",
               t)  # "first red second blue"
    t = re.sub(r"\bnavigat(e|es|ing)\s+(?=to\b)", lambda m: {"e": "go ", "es": "goes ", "ing": "going "}[m.group(1)],
               t)  # "navigate to the goal"
    t = re.sub(rf"\b((?:{_PUSH_ALTERNATION})\s+[^,.;!?]*?\b(?:left|right|up|down))\s*,\s*(?:to|into|onto|"
               r"towards?) the goal\b", r"\1 into the goal", t)  # "pushes the box right, to the goal"
    t = _order_words(t)  # "a red ball first and a blue box second", "the first and the third move up"
    t = re.sub(rf"((?:^|[.;!?])[^.;!?]*?\ban?\s+(?:\w+\s+){{0,2}}?(?:{_ONE_THING})\b[^.;!?]*?\band\s+)one\s+"
               r"(?=(?:on|at|in)\s+the\b)", lambda m: m.group(0) if re.search(r"\b(?:two|three|one)\b", m.group(1))
               else f"{m.group(1)}another ", t)  # "a box on the left and one on the right"
    t = re.sub(rf"\b({_MOTION_ALTERNATION}),\s+(?=(?:to(?:wards)? the )?(?:left|right|up|down)\s*(?:[.;!?]|$))", r"\1 ",
               t)  # "only the red one moves, to the left"
    new = rf"an?\s+(?:(?:{_DESCRIBING})\s+)*(?:{_ONE_THING})\b[^,.;!?]*?"
    t = re.sub(rf"\b(an?\s+(?:(?:{_DESCRIBING})\s+)*(?:{_ONE_THING}))\s+between\s+({new})\s+and\s+({new})"
               r"(?=\s*(?:[,.;!?]|$))", lambda m: f"{m.group(2)} and {m.group(3)}. {m.group(1)} between them"
               if re.search(r"\b(?:on|at|in) the\b", m.group(2) + m.group(3)) else m.group(0),
               t)  # "a red ball between a blue box on the left and a green box on the right"
    t = re.sub(r"\b(above|below|under|beneath|(?:to the )?(?:left|right) of|next to|beside|near|by) that\b",
               lambda m: _that_thing(t[:m.start()], m), t)  # "..., and below that a green ball"
    t = _asides(t)  # "a red ball, which is on the left, and a blue box"
    t = re.sub(r",\s*(which|that)\s+(?=(?:is|was|moves|rolls|slides|glides|drifts|goes|heads|travels|sits|stands|lies|"
               r"starts)\b)", r" \1 ", t)  # "a red ball and a blue box, which moves up": the box, as without the comma
    row, column = r"(?:at|in|on) the (top|bottom)(?: row| side| edge)?", r"(?:at|in|on|to) the (left|right)" \
        r"(?: side| column| edge)?"
    t = re.sub(rf"\b{row},?\s+(?:and\s+)?{column}\b", r"at the \1 \2", t)  # "at the top on the left"
    t = re.sub(rf"\b{column},?\s+(?:and\s+)?{row}\b", r"at the \2 \1", t)
    t = re.sub(r"\b(?:along|together) with\s+(?=(?:an?|the|one|two)\b)", " and ", t)  # "a red ball along with a box"
    t = re.sub(rf"\b(under|beneath|underneath|below) the ({_SLAB_ALTERNATION})\s+(?=(?:on|at|in) the\b)", r"\1 a \2 ",
               t)  # "rolls under the slab on the right": the slab's place
    t = _placed_ones_described(t)  # "two balls, one on the left and one on the right; the one on the left is red"
    t = _told_apart_by_place(t)  # "two balls. the one on the left is red, the one on the right is blue"
    t = _a_place_each(t)  # "two balls at the top left and bottom right"
    t = re.sub(r"\bprimary\b", " first ", t)
    t = re.sub(r"\bsecondary\b", " second ", t)
    t = re.sub(r"\bfar away\b(?! from)", " far ", t)  # "far away in the top left": in the top left
    t = re.sub(r"\b(fast|quick|slow)[ -]moving\b", r" \1 ", t)  # "a fast-moving cube heading north"
    t = re.sub(rf"\b(fast|quick|slow)\s+((?:(?:{_DESCRIBING})\s+)*(?:{_THING_NOUNS}))\b", r"\2 \1", t)  # "a fast cube"
    t = _speed_and_way(t)  # "blue ball fast left"
    t = _reach_order(t)  # "... goal at the top left. reach it."
    t = re.sub(r"->|=>|=|>", " : ", t)  # "objects = a red ball, ...", "scene -> a red ball"
    t = re.sub(r"\b(n|s)(e|w)\b", lambda m: {"n": " north ", "s": " south "}[m.group(1)]
               + {"e": "east ", "w": "west "}[m.group(2)], t)  # "NE corner", "drifting SW"
    t = re.sub(r"\b(left|right) hand\b", r"\1", t)  # "the right-hand side"
    t = re.sub(r"\bup top\b", " at the top ", t)
    t = re.sub(r"\bcomes? (roll|slid|glid|mov|driv|drift|zoom|zipp|rac)ing\b",
               lambda m: f" {_COMING[m.group(1)]} ", t)  # "the ball comes rolling in from the left"
    t = re.sub(r"\bdriv(e|es|ing)\b(?=\s+(?:to|towards?|into|onto|in|left|right|up|down|straight|diagonally)\b)",
               r"mov\1", t)  # "the agent drives to the goal", "drives left": no box is pushed
    t = re.sub(r"\b(roll|rolls|rolling|slide|slides|sliding|glide|glides|gliding|drift|drifts|drifting) (?:in|on)"
               r"(?:to| to)( the goal)\b", r"\1 towards\2", t)  # "a ball rolls into the goal": it heads for it
    t = re.sub(r"\b(?:bumping|crashing|smashing|running) into\b|\bcolliding with\b", " rolling towards ", t)
    t = re.sub(r"\b(?:bumps|crashes|smashes|runs) into\b|\bcollides with\b", " rolls towards ", t)
    t = re.sub(r"\b(?:exact|very|dead|precise)\s+(centre|center|middle)\b", r"\1", t)  # "the exact centre"
    t = re.sub(r"\blined up\b", " in a row ", t)
    t = re.sub(r"\bacross\s+(?=(?:from|to)\b)", " ", t)  # "rolls across from left to right"
    t = _record(t)  # "shape: cylinder; colour: cyan; size: large; position: left"
    t = re.sub(r"\bin which\b", " ", t)  # "a scene in which the agent pushes the box"
    t = re.sub(rf"\b1\s+(?=(?:{_DESCRIBING})\b)", "one ", t)  # "2 balls 1 red 1 blue"
    thing = rf"(?:(?:{_DESCRIBING})\s+)*(?:{_ONE_THING})"
    t = re.sub(rf"\b(an?\s+(?:(?:{_DESCRIBING})\s+)*)one\s+(?:that|which)\s+is\s+({_DESCRIBING})\b(?!\s+and\b)",
               r"\1\2 one", t)  # "a large ball that is red and a small one that is blue": a small blue one
    known = rf"the\s+(?:(?:{_DESCRIBING}|first|second|third)\s+)*(?:{_ONE_THING}|one)"
    t = re.sub(rf"(?<![a-z] )\b({known})\s+and\s+({known})\s+are\s+((?:{_DESCRIBING})(?:\s+and\s+(?:{_DESCRIBING}))?)"
               r"\b(?!\s+(?:ball|box|cube|sphere|cylinder|block|one)s?\b|\s*,?\s+and\b)", r"\1 is \3 and \2 is \3",
               t)  # after "a red box, a blue box and a green box": "the red one and the green one are large"
    t = re.sub(rf"\b((?:an?|the)\s+{thing}\s+and\s+(?:(?:an?|the)\s+)?{thing})\s+are\s+(?=(?:{_DESCRIBING})\b)",
               r"\1 are both ", t)  # "the ball and the box are red": both are
    t = re.sub(rf"\b((?:{_THING_NOUNS})\s+and\s+(?:\w+\s+){{0,3}}(?:{_THING_NOUNS}))\s+(?:are\s+)?both\b(?!\s+of\b)",
               lambda m: m.group(0) if set(m.group(1).split()) & _AGENT_NOUNS else f"{m.group(1)}, both",
               t)  # "a red ball and a blue ball both roll right": said of the two objects
    colours = "|".join(sorted(_COLOR_WORDS))
    t = re.sub(rf"\b({_THING_NOUNS})\s+in\s+({colours})\b(?!\s*(?:,|and)?\s*(?:{colours}|{_THING_NOUNS})\b)",
               r"\2 \1", t)  # "a box in red": a red box ("balls in red and blue": one each, later)
    t = re.sub(r"\bin between\b(?=\s+(?:the|them|two|an?)\b)", " between ", t)  # "in between them"
    t = re.sub(r"^(\W*(?:ok(?:ay)?\b\W*)?)so\b", r"\1", t)  # "so basically I want ...", "ok so ..."
    t = re.sub(r"\b(?:of|in|on) the (?:arena|floor|scene|world|ground|simulation)\b", " ", t)  # "the top of the arena"
    t = re.sub(r"\b(head|heads|heading|headed|go|goes|going|make|makes|making) for\b", r"\1 to", t)  # "heads for"
    t = re.sub(r"\bnothing (?:moves|is moving|moving)\s*(?=:)", " still ", t)  # "nothing moves: a red ball, ..."
    circle = re.search(rf"(?<!\bin )(?<!\bround )\b(?:an?|the|one|two|three|{_DESCRIBING}) (circles?|squares?|"
                       r"rectangles?)\b(?!\s+(?:above|below|up|down|left|right|to|away|from|over|further)\b)",
                       t)  # not "one square above it": a step
    if circle:  # "a circle at the bottom": a shape seen from above
        raise PromptError(f"{circle.group(1)!r}: the shapes are ball, box and cylinder (from above, a ball or a "
                          "cylinder looks round and a box square); say one of them, e.g. 'a red ball'")
    if re.fullmatch(r"\W*(?:nothing|everything) (?:moves|is moving|is still)\W*", t):
        raise PromptError(f"{t.strip(' .!')!r} describes no thing; name what stands still, e.g. 'nothing moves: a "
                          "red ball and a blue box'")
    t = re.sub(r"(?<=[.;!?])\s*(?:nothing|none of them|no object|no thing) (?:moves|is moving|will move)\s*(?=[.;!?]|$)"
               r"|(?<=[.;!?])\s*everything (?:is|stays|keeps) (?:still|static|stationary|motionless)\s*(?=[.;!?]|$)",
               " all are still", t)  # "a red ball on the left. Nothing moves."
    t = re.sub(rf"\b(one (?:{_DESCRIBING}))\s+(?=(?:and )?(?:one|the other) (?:{_DESCRIBING})\b)", r"\1, ",
               t)  # "two cubes, one red one blue"
    t = re.sub(rf"\b((?:two|three|2|3) (?:(?:{_DESCRIBING}) )*\w+s) (?=one (?:{_DESCRIBING})\s*(?:[,.;!?]|$))",
               r"\1, ", t)  # "two balls one red, one blue", "two balls one red"
    looks = rf"(?:{_DESCRIBING})(?:\s*,\s*(?:{_DESCRIBING}))*(?:\s*,?\s*and\s+(?:{_DESCRIBING}))?\s*(?:[.;!?,]|$)"
    t = re.sub(rf"\b((?:two|three|2|3) (?:\w+ )?\w+s)\s*[.;!?]+\s*(?:(?:all|these)\s+(?:are|re)\s+)?(?={looks})",
               r"\1, ", t)  # "three balls. They are red, blue and yellow.": one each ("they" is "all" by now)
    t = re.sub(r"^(\W*)it is (?=(?:an?|one|two|three|some)\b)", r"\1there is ", t)  # "It's an orange ball. It's ..."
    # a later sentence that is one field, "... Colour: blue.", describes "it": the thing described before
    colours = "|".join(sorted(_COLOR_WORDS))
    sizes = "small|medium|large|big|little|tiny|huge"
    t = re.sub(rf"([.;!?]\s*)(?:colou?r\s*:\s*(?=(?:{colours})\s*(?:[.;!?]|$))|size\s*:\s*(?=(?:{sizes})\s*(?:[.;!?]"
               rf"|$)))", r"\1it is ", t)
    t = re.sub(rf"([.;!?]\s*)shape\s*:\s*(?=(?:{_SHAPE_ALTERNATION})\s*(?:[.;!?]|$))", r"\1it is a ", t)
    t = re.sub(rf"(?<!^)(?<![.;!?]\s)\bcolou?r(?:ed)?\s*(?:[:=]\s*)?(?=(?:{colours})\b)", " ",
               t)  # "a ball, colour green"
    if re.search(r"\bgoal\b", t):  # "push the box onto it": only the goal is pushed onto
        t = re.sub(rf"\b((?:{_PUSH_ALTERNATION})\s+(?:the|a|an|it|one)\b(?:(?!\band\b)[^.;!?,])*?"
                   rf"\b(?:onto|into|on to|in to|to)) it\b", r"\1 the goal", t)
    shapes = _SHAPE_ALTERNATION
    t = _said_of_the_thing_before(t, colours, sizes, shapes)
    t = re.sub(rf"\bthe (first|second|third|other)(?: one)? ((?:(?:{colours}|{sizes})\s+)*(?:{colours}|{sizes}))"
               r"(?=\s*(?:[,.;!?]|and\b|$))", r"the \1 one is \2", t)  # "the first is red, the second green"
    t = re.sub(r"\b(of|from|beside|near|by|to|below|above|under|beneath|over) (?:that|this)\s*"
               r"(?=$|[,.;!?]|and\b|an?\b)", r"\1 it ", t)  # "... below it, a blue box. below that, a cylinder"
    # "the agent, the goal and a ball are all at the top", "... and the agent, all on the left": each of them
    places = r"(?=(?:at|on|in|inside|within|near|by|along|across)\b)"
    t = re.sub(rf"\b(are|were) (?:all|both)\s+{places}", r"\1 ", t)
    t = re.sub(rf"\b(?:are|were) (all|both)\s+(?=(?:{colours}|{sizes})\b)", r", \1 ", t)  # "two balls are both red"
    t = re.sub(rf"(\b(?:agent|goal)\b[^.;!?:]*),\s*all\s+{places}", r"\1 are ", t)
    t = re.sub(rf"(^\s*|[.;!?,]\s*)({shapes}) (is|are)\b", r"\1the \2 \3", t)  # "ball is red": the ball
    t = re.sub(rf"(^\s*|[.;!?,:]\s*|\band\s+)(one|two|three|the other(?: one)?) (?:is|are) (?:an? )?"
               rf"((?:(?:{colours}|{sizes})\s+)*)({shapes})\b",
               lambda m: f"{m[1]}{'one' if 'other' in m[2] else m[2]} {m[3]}{m[4]}",
               t)  # "three objects. two are balls, one is a red box", "... the other is a box": one box
    verbs = "|".join(sorted(_MOTION_VERBS | _STILL_WORDS))
    t = re.sub(rf"([.;!?]\s*)({shapes}) ({verbs})\b", r"\1the \2 \3", t)  # "a ball. ball rolls right": that ball
    t = re.sub(r"\b(?:kind|sort) of\b|\blet there be\b|\blay out\b|^\W*nothing\b(?!\s+(?:but|else|except)\b)", " ", t)
    t = re.sub(r"\bno (?:movement|motion)\b", " still ", t)
    t = re.sub(r"\b(left|right|top|bottom) (?:wall|border)\b", r"\1", t)  # "starting from the right wall"
    t = re.sub(r"\bdark (?:square|patch|tile|pad)\b", " goal ", t)  # the goal, by its look
    t = re.sub(rf"\b({_SHAPE_ALTERNATION}) of (?=(?:{'|'.join(sorted(_COLOR_WORDS))})\b)", r"\1 ",
               t)  # "a cylinder of cyan"
    t = re.sub(r"\b(small|medium|large|big|little|tiny|huge) of size\b", r" \1 ", t)  # "small of size"
    t = re.sub(r"\bthe (?:scene|arena|world|simulation|setup|layout) (?:contains|has|holds|includes|shows)\b", " ", t)
    # numbered items: "two objects. object 1: a red ball, top left. object 2: ..." is a count and its list
    t = re.sub(r"\b(objects|things|items)\s*[.:]?\s*\b(?:object|item|thing)\s*(?:#|no\s*)?1\s*:", r"\1:", t)
    t = re.sub(r"[.;,]?\s*\b(?:object|item|thing)\s*(?:#|no\s*)?[2-9]\s*:", ",", t)
    t = re.sub(r"(^|[.;,])\s*(?:object|item|thing)\s*(?:#|no\s*)?1\s*:", r"\1 ", t)  # "object 1: a red ball. ..."
    t = re.sub(r"(^|[.;,])\s*(ball|box|cube|sphere|cylinder)\s*(?:#|no\s*)?[1-3]\s*:", r"\1 a \2,", t)  # "ball 1: red"
    # "the one on the left is a red ball" (before anything is named): the red ball is on the left
    one = (r"\bthe one ((?:on|at|in) the (?:top |bottom )?(?:left|right|top|bottom|centre|center|middle))(?: is)? "
           r"(an? [a-z ]+?)(?=\s*(?:[,;.]|\band\b|$))")
    if re.match(r"(?:\W*|.*\b(?:two|three|2|3)\s+\w+\s*:\s*)" + one, t):  # first, or first after a count
        t = re.sub(one, r"\2 \1", t)
    # a list in order: "red, green and blue, left to right" (a row), "... top to bottom down the left column"
    t = re.sub(r"\bspread(?:\s+out)?\s+(?=(?:across|along|in)\b)", " ", t)  # "spread across the top"
    t = _in_order(t)
    t = re.sub(rf"\b(one|two|three|[123]) (stationary|motionless|static|still|resting|parked) ((?:\w+ ){{0,3}}?"
               rf"(?:{_THING_NOUNS})s?)\b", r"\1 \3 \2", t)  # "two motionless balls": two balls, motionless
    t = re.sub(r"\b(?:one|1|a) (?:cell|square|step|region|space|tile)\s+(?=(?:to|above|below|left|right|north|south"
               r"|east|west|up|down|over|under)\b)", " ", t)  # "one cell to its north": the next region
    # "rolls under the slab, which is at the top": the slab is there
    t = re.sub(rf"\b({_SLAB_ALTERNATION})\s*,?\s*(?:which|that) (?:is|sits|lies|stands|hangs)\b",
               " slab . the slab is ", t)
    t = re.sub(r"\b(cross|crosses|crossing|across) the (?:arena|floor|scene|screen|room|world)\b", r"\1", t)
    t = re.sub(r"\b((?:along|across) the (?:top|bottom|left|right)(?: row| column| side| edge)?)\s+"
               r"((?:to(?:wards?)? the )?(?:left|right|top|bottom|up|down)(?:wards?)?)\b(?!\s+(?:of|corner)\b)",
               r"\2 \1", t)  # "rolls along the bottom to the right": the way, then the line
    t = re.sub(r"\b(?:along|across) the (top|bottom|left|right|middle|centre|center)((?: row| column| side| edge)?)\s+"
               r"(from (?:the )?(?:top|bottom|left|right)(?: side| edge)? to (?:the )?(?:top|bottom|left|right)\b)",
               lambda m: m.group(3) if m.group(1) in ("middle", "centre", "center") else
               f"{m.group(3)} along the {m.group(1)}{m.group(2)}", t)  # "rolls along the bottom from left to right"
    pair = r"(?:towards?|at) (?:each other|one another)|apart|away from each other|in opposite directions"
    t = re.sub(rf"\b({pair}|converg\w*|diverg\w*|meet)\s+along the (top|bottom|middle|centre|center|left|right)"
               r"(?: row| column| side| edge)?\b", lambda m: f"{m.group(1)} {_line_along(m.group(2))}", t)
    t = re.sub(rf"\b({pair}|converg\w*|diverg\w*|meet)\s+in the (?:(top|bottom|middle|centre|center) row|"
               r"(left|right|middle|centre|center) column)\b",  # "... towards each other in the middle row"
               lambda m: f"{m.group(1)} in a row {_ROW_PLACE.get(m.group(2), 'in the centre')}" if m.group(2) else
               f"{m.group(1)} in a column {_column_place(m.group(3))}", t)
    t = re.sub(r"\b(?:across|along) the (top|bottom|left|right)(?: row| column| side| edge)?\b",
               lambda m: _across(t[: m.start()], m), t)  # "three balls across the top": one region each
    t = re.sub(r"\balong\b", " at ", t)  # "along the top": in the top row of regions
    t = re.sub(r"\bat speed\b", " quickly ", t)
    t = _said_absent(t)  # "no goal", "without a slab", "goal: none"
    slab = _SLAB_ALTERNATION
    t = re.sub(rf"\b(?:raised|flat|elevated|overhead|floating)\s+(?=(?:{slab})\b)", "", t)  # the slab's look is fixed
    t = re.sub(rf"\b({slab})\s+(?:{slab})\b", r"\1", t)  # "a slab roof", "a roof slab": one slab
    t = re.sub(r"\bclose (?:to|by)\b", " near ", t)
    t = re.sub(r"\b(?:at|with) (?:a )?(?:high|great|full|maximum|top|fast|quick|brisk) (?:speed|velocity|pace)\b",
               " quickly ", t)
    t = re.sub(r"\b(?:at|with) (?:a )?(?:low|gentle|slow|leisurely|steady) (?:speed|velocity|pace)\b", " slowly ", t)
    t = re.sub(r"\b(?:at|with) (?:a |the )?(?:normal|regular|moderate|medium|average|usual|ordinary|steady|constant) "
               r"(?:speed|velocity|pace)\b", " steadily ", t)  # the ordinary speed, as "slowly" is
    t = re.sub(r"\bwith zero velocity\b", " still ", t)
    # an order that starts with the motion, "roll a red ball left": "a red ball rolls left"
    objects = "|".join(sorted(_SHAPE_WORDS.keys() | _GENERIC_NOUNS))
    t = re.sub(rf"(^\s*|[.;!?]\s*)(?:(?:then|now|and)\s+)?(?:please\s+)?(roll|slide|glide|drift)\s+"
               rf"(it|them|(?:an?|the|one)\s+(?:\w+\s+){{0,3}}?(?:{objects}))\b",
               lambda m: f"{m.group(1)}{m.group(3)} {_THIRD_PERSON[m.group(2)]}", t)
    # "move a red ball left" asks for a moving ball; "move the box" is an agent's push, and is not read so
    t = re.sub(rf"(^\s*|[.;!?]\s*)(?:please\s+)?move\s+((?:an?|one)\s+(?:\w+\s+){{0,3}}?(?:{objects}))\b",
               r"\1\2 moves", t)
    colours = "|".join(sorted(_COLOR_WORDS))
    t = re.sub(rf"\b(?:of\s+|in\s+)?({colours})(?:\s*-\s*|\s+)colou?r(?:ed)?\b", r" \1 ", t)  # "a ball of red colour"
    t = re.sub(r"\b(small|medium|large|big|little|tiny|huge)(?:\s*-\s*|\s+)size[d]?\b", r" \1 ", t)  # "big size"
    t = re.sub(r"\b(?:to|in|towards?)\s+(?:the\s+)?(up|down|left|right|upward|downward)\s+direction\b", r" \1 ", t)
    t = re.sub(r"\bits (centre|center|middle)\b", r"the \1", t)  # "the arena has a ball in its centre"
    _refuse_all_but(t)
    _refuse_where_the_goal_is(t)
    t = re.sub(r"\bnothing (?:but|except(?: for)?)\b|(?:,?\s*\band\s+)?\bnothing else\b"
               r"|\bno (?:other )?(?:objects|things|items|shapes)\b"
               r"|\b(?:objects|things|items)\s*:\s*(?:(?:none|0|zero)\b|(?=\s*(?:[.;,]|$)))"
               r"|\bexcept(?: for)?\b", " only ", t)  # no other objects
    t = re.sub(r"\bin between\b(?!\s+(?:the|a|an|two|both)\b)", " between them ", t)  # "a box in between"
    t = re.sub(
        r"\b(up|down|upwards|downwards|upward|downward)\s+and\s+(?:to\s+the\s+)?(left|right)\b", r"\1 \2", t
    )
    t = re.sub(r"\b(left|right)\s+and\s+(up|down)\b", r"\2 \1", t)
    # a region said by the centre: "to the left of the centre" is the left, "above the middle" the top
    centre = rf"(?:the\s+)?(?:centre|center|middle)\b(?!\s+(?:{_THING_NOUNS}))"
    t = re.sub(rf"\b(?:to\s+)?(?:the\s+)?(left|right)\s+of\s+{centre}", r"on the \1", t)
    t = re.sub(rf"\b(?:above|over)\s+{centre}", "at the top", t)
    t = re.sub(rf"\b(?:below|under|beneath)\s+{centre}", "at the bottom", t)
    t = re.sub(rf"\bright\s+((?:in|at)\s+{centre})", r"\1", t)  # "right in the middle"
    # "a ball right at the top": "right" stresses the place; after a verb ("rolls right at the top") it is the way
    acts = re.compile(rf"\b(?:{'|'.join(sorted(_MOTION_VERBS | _PUSH_VERBS))})\b")
    t = re.sub(rf"(\b(?:{_THING_NOUNS})s?\b)\s+right\s+"
               r"(?=(?:at|in|on)\s+the\s+(?:top|bottom|left|right|centre|center|middle)\b)",
               lambda m: m[0] if acts.search(re.split(r"[,.;:!?]|\band\b", t[: m.start()])[-1]) else f"{m[1]} ", t)
    if re.search(r"\b(?:agents|players)\b", t):  # "two agents: white on the left, pink on the right"
        t = re.sub(rf"(^|[,:;.!?]|\band\b|\bwith\b|\bthe\b)(\s*)(white|pink)\b"
                   rf"(?!\s+(?:and|or|agents?|ones?|{_THING_NOUNS})\b)",
                   r"\1\2\3 agent", t)
    t = re.sub(r"\bfrom above\b(?!\s+(?:the|a|an|it|them|one|two|three)\b)", " from the top ", t)
    t = re.sub(r"\bfrom below\b(?!\s+(?:the|a|an|it|them|one|two|three)\b)", " from the bottom ", t)
    # "rolls up through the middle": it crosses the arena by the centre, so it comes from the bottom
    t = re.sub(r"\b(up|down|left|right)(?:wards?)?\s+(?:through|across)\s+(?:the\s+)?(?:centre|center|middle)\b",
               lambda m: f"{m.group(1)} from the {_CROSSING_FROM[m.group(1)]}", t)
    t = re.sub(r"\b(?:towards?|at) (?:each other|one another)\b", " converging ", t)
    t = re.sub(r"\b(?:in opposite (?:directions|ways)|away from (?:each other|one another))\b", " diverging ", t)
    t = _out_the_far_side(t)  # "... under the slab and comes out the other side"
    t = re.sub(r"\bacross the (?:arena|scene|floor|world)\b", " ", t)  # "rolls across the arena from the left"
    t = re.sub(r"\bside by side\b|\b(?:next to|beside|alongside) (?:each other|one another)\b", " in a row ", t)
    t = re.sub(r"\bone (?:above|over|below|under|beneath) the other\b", " in a column ", t)
    t = re.sub(r"\bin a (row|column)\b(?=[^.;]*\bin a \1\b)", " ", t)  # said twice: the fuller one
    agents = list(re.finditer(rf"\ban? (?={_AGENT_NOUN}\b)", t))
    if len(agents) == 2 and not _two_agents(t):  # "an agent on the left and an agent on the right": two agents
        t = f"{t[:agents[1].start()]}another {t[agents[1].end():]}"
    t = re.sub(rf"\b(?:an?|the) (white|pink) and (?:an?|the) (white|pink) ({_AGENT_NOUN})\b",
               r"the \1 \3 and the \2 \3", t)  # "a white and a pink agent at the top"
    t = re.sub(rf"\b({_AGENT_NOUN}) in (pink|white)\b", r"\2 \1", t)  # "the agent in pink": the pink agent
    t = re.sub(rf"\b({_AGENT_NOUN}) (?:#\s*)?(1|one|2|two)\b(?!\s+(?:{_THING_NOUNS})s?\b)",
               lambda m: f" the {'first' if m.group(2) in ('1', 'one') else 'second'} {m.group(1)} ", t)  # "agent 1"
    if re.search(r"\bgoal\b", t):  # "the goal is at the bottom right. the agent pushes the box there"
        t = re.sub(r"\b(push(?:es|ing)?|shoves?|shoving) ((?:the|a|an|it)\b(?: (?!and\b)\w+){0,3}?) there\b"
                   r"(?!\s+(?:is|are|was|were|be)\b)",
                   r"\1 \2 into the goal", t)
    moving = rf"\b(?:{_MOTION_ALTERNATION})\b[^.;!?]*?"
    t = re.sub(rf"({moving})\b(?:behind|in back of)\s+(?=(?:the|a|an)\s+(?:{_SLAB_ALTERNATION})\b)", r"\1under ",
               t)  # "the ball rolls behind the slab": out of sight under it, seen from above
    t = _opposite_places(t)  # "the agent at the top left and the goal in the opposite corner"
    _refuse_stutters(t)
    _refuse_relations_not_read(t)
    _refuse_unreadable(t)
    t = re.sub(r"\bdiagonal(?:ly)?\b", " ", t)
    t = re.sub(r"(^|[.;!?]\s*)first,?\s+(?=there\b)", r"\1", t)  # "First there's a blue cube at the bottom."
    t = _launches(t)  # "a ball launched to the left", "a left-moving ball"
    in_turn = re.search(r"(?:^|[.;!?]\s*)first,?\s+(?=(?:a|an|one)\b)", t)
    t = re.sub(r"(^|[.;!?]\s*)first,?\s+(?=(?:a|an|one|two|three|[123])\b)", r"\1 ", t)  # "first a red ball rolls"
    if in_turn:  # "first a red ball ..., second a blue box ..., third ..."
        t = re.sub(r"([,;.!?]\s*|\band\s+)(?:second|third|secondly|thirdly|lastly|finally),?\s+(?=(?:a|an|one)\b)",
                   r"\1 ", t)
    return t


_COMING = {"roll": "rolls", "slid": "slides", "glid": "glides", "mov": "moves", "driv": "moves", "drift": "drifts",
           "zoom": "zooms", "zipp": "zips", "rac": "races"}


_ROW_PLACE = {"top": "at the top", "bottom": "at the bottom"}  # where a row of the grid stands; else the centre


def _column_place(column: str) -> str:
    """Where a column of the grid stands: "on the left", "on the right", "in the centre"."""
    return f"on the {column}" if column in ("left", "right") else "in the centre"


_DOWN = r"(?:from\s+)?top\s+to\s+(?:the\s+)?bottom"
_ORDERS = r"left\s+to\s+(?:the\s+)?right|top\s+to\s+(?:the\s+)?bottom"
_COUNTED = re.compile(r"\b(?:two|three|2|3|both|all)\b")
_LISTED = re.compile(rf"(?:\b(?:{_SHAPE_ALTERNATION})\b.*){{2}}"
                     rf"|(?:\b(?:{'|'.join(sorted(_COLOR_WORDS))})\b.*){{2}}")


def _across(before: str, m: re.Match) -> str:
    """ "Across the top" after two or three things, none moving: in a row there, a region each; else the
    words as they are ("rolls left along the bottom": at the bottom)."""
    sentence = re.split(r"[.;!?]", before)[-1]
    moving = any(w in _MOTION_VERBS for w in re.findall(r"[a-z]+", sentence))
    return f" {_line_along(m.group(1))} " if _is_list(before) and not moving else m.group(0)


def _is_list(before: str) -> bool:
    """Whether the sentence so far names two or three things: a count, or two shapes or colours with no
    motion among them ("a ball rolls right, and a box": the box is not in a list)."""
    sentence = re.split(r"[.;!?]", before)[-1]
    if _COUNTED.search(sentence):
        return True
    return bool(_LISTED.search(sentence)) and not any(w in _MOTION_VERBS for w in re.findall(r"[a-z]+", sentence))


_RECORD_KEYS = {"shape": "shape", "type": "shape", "kind": "shape", "colour": "colour", "color": "colour",
                "size": "size", "position": "place", "pos": "place", "location": "place", "region": "place",
                "place": "place", "motion": "motion", "movement": "motion", "velocity": "motion", "speed": "speed",
                "direction": "motion", "heading": "motion", "object": "thing", "item": "thing"}  # "object: red ball"


def _record(t: str) -> str:
    """A thing said as key-value fields ("shape: cylinder; colour: cyan; size: large; position: left; motion:
    still") is read as one noun phrase ("a large cyan cylinder at the left still"). A sentence that is not
    wholly such fields is left as it is, so its keys stay unknown words."""
    keys = "|".join(_RECORD_KEYS)
    out = []
    for sentence in _one_field_runs(re.split(r"(?<=[.!?])\s+", _field_headers(t))):
        if re.match(rf"\s*(?:{keys})\s*:", sentence):  # "colour: green shape: cube": fields apart by spaces
            sentence = re.sub(rf"(?<=\w)\s+(?=(?:{keys})\s*:)", "; ", sentence)
        parts = [p for p in re.split(r"[;,]", sentence.rstrip(" .!?")) if p.strip()]
        fields = {p: re.fullmatch(rf"\s*({keys})\s*:\s*([^:]+?)\s*", p) for p in parts}
        rest = [p for p in parts if re.fullmatch(r"\s*(?:agent|goal|task)\s*:[^:]+", p)]  # '{"objects": [{"shape":
        parts = [p for p in parts if p not in rest]  # "ball", ...}], "agent": "bottom right"}': said on their own
        things = _by_thing(parts) if all(fields[p] for p in parts) else []  # "shape: ball, colour: red, shape: ..."
        if len(parts) < 2 or not things or not all(len(g) > 1 and {"shape", "thing"} & {*map(_field_key, g)}
                                                    for g in things):
            out.append(sentence)
            continue
        records = [_record_phrase([fields[p] for p in g]) for g in things]
        out.append(sentence if None in records else " ".join(records) + "".join(f" {p.strip()}." for p in rest))
    return " ".join(out)


def _field_headers(t: str) -> str:
    """A header that introduces a thing's fields ("Objects: shape: ball, colour: red", "object 2 - shape: box",
    "Object: shape ball, colour red") names no thing of its own: it is dropped, and keys said without their
    colon after it get one."""
    keys = "|".join(k for k, v in _RECORD_KEYS.items() if v != "thing")

    def fields(m: re.Match) -> str:
        body = m.group("body")
        if ":" not in body:  # "shape ball, colour red"
            body = re.sub(rf"(?:^|(?<=[;,]))\s*({keys})\s+(?=\w)", r" \1: ", body)
        return f"{m.group('lead')}{body}"

    return re.sub(rf"(?P<lead>(?:^|[.;!?,])\s*)(?:objects?|items?|things?)(?:\s+\d+)?\s*:\s*"
                  rf"(?P<body>(?:{keys})\b[^.;!?]*)", fields, t)


def _record_phrase(fields: list[re.Match]) -> str | None:
    """One thing's fields as a noun phrase ("a large cyan cylinder at the left still."); None when a field
    holds more than one thing."""
    value = {_RECORD_KEYS[f.group(1)]: f.group(2) for f in fields}
    if any(re.search(r"\b(?:and|or|plus|with|one|two|three|\d+)\b", v) for v in value.values()) or (
            len(value.get("shape", "x").split()) > 1 or len(value.get("colour", "x").split()) > 1) or (
            "thing" in value and "shape" in value):
        return None  # a field that holds more than one thing is not a field of one thing
    place = value.get("place", "")
    if place and not re.match(r"(?:at|in|on|near|by)\b", place):
        place = f"at the {place}"
    motion = value.get("motion", "")
    if motion and not re.match(rf"(?:{'|'.join(sorted(_MOTION_VERBS | _STILL_WORDS))})\b", motion):
        motion = f"moving {motion}"  # "motion: left"
    words = [value.get("size", ""), value.get("colour", ""), value.get("shape", value.get("thing")), place, motion,
             value.get("speed", "")]
    return "a " + " ".join(w for w in words if w) + "."


def _one_field_runs(sentences: list[str]) -> list[str]:
    """Sentences of one field each that together say a shape ("Colour: red. Shape: ball. Position: left.") are
    one record of fields, unless a sentence in words came before: then each field describes the thing
    described before ("a ball. Colour: blue."), and a shape said that way is refused."""
    field = rf"\s*(?:{'|'.join(_RECORD_KEYS)})\s*[:=][^:=;,]+?[.!?]?\s*"
    fields = rf"(?:{field}[;,])+{field}"  # "shape: ball; colour: red."
    out: list[str] = []
    run: list[str] = []
    for sentence in [*sentences, None]:
        if sentence is not None and re.fullmatch(field, sentence):
            run.append(sentence)
            continue
        after_prose = any(not re.fullmatch(rf"(?:{field}|{fields})", o) for o in out)  # "a ball. Colour: blue."
        for group in _by_thing(run):
            if len(group) > 1 and any(_field_key(f) in ("shape", "thing") for f in group) and not after_prose:
                out.append("; ".join(f.strip().rstrip(".!?") for f in group) + ".")
            else:
                out += group
        run = []
        if sentence is not None:
            out.append(sentence)
    return out


def _field_key(field: str) -> str:
    return _RECORD_KEYS[re.match(r"\s*(\w+)", field).group(1)]


def _by_thing(fields: list[str]) -> list[list[str]]:
    """Fields in a row, split where a key comes again: each part is one thing's ("Colour: red. Shape: ball.
    Colour: blue. Shape: box.")."""
    groups: list[list[str]] = []
    for f in fields:
        if not groups or _field_key(f) in {_field_key(g) for g in groups[-1]}:
            groups.append([])
        groups[-1].append(f)
    return groups


def _unplaced_list(before: str) -> bool:
    """Whether the sentence so far (``.``, ``!`` or ``?`` ends one) names two or three things none of which
    is placed, moved or placed by another: the things a row or column of the grid said after them takes in
    ("three balls in the top row", "a red box, a blue ball and a green box in the left column")."""
    sentence = re.split(r"[.!?]", before)[-1]  # a line takes in the things of its whole sentence
    placed = re.search(r"\b(?:left|right|top|bottom|centre|center|middle|column|row|north|south|east|west|corner"
                       r"|near|beside|by|next|above|below|under|over|between|goal|slab|it|them)\b", sentence)
    moving = set(re.findall(r"[a-z]+", sentence)) & (_MOTION_VERBS | _STILL_WORDS | _PUSH_VERBS)
    return _is_list(sentence) and not placed and not moving


def _in_order(t: str) -> str:
    """A list said in order fills a row or column in that order: "red, green and blue, left to right" (a row),
    "..., top to bottom down the left column", "one above the other in the middle column". Read only after
    two or more things (or a count), and not right before a verb. Two or three things "in the top row" (or
    "in the left column") none of which is placed yet stand in a row there."""
    def ordered(m: re.Match) -> str:
        if not _is_list(t[: m.start()]):
            return m.group(0)
        line = "row" if m.group("left") else "column"
        sides = "top|bottom" if line == "row" else "left|right"
        said = rf"\bin a {line}\b|\b(?:along|across) the (?:{sides})\b"  # the line, said before
        if re.search(said, re.split(r"[.;!?]", t[: m.start()])[-1]) and not (m.group("col") or m.group("side")):
            return f"{m.group('lead')} "  # "three boxes along the top: red, green and blue from left to right"
        where = m.group("col") or m.group("side")
        place = f" {_column_place(where)}" if where else ""
        return f"{m.group('lead')} in a {line}{place} "

    for m in re.finditer(r"(?:^|[,:;]|\band\b)\s*(?:from\s+)?(right\s+to\s+(?:the\s+)?left|bottom\s+to\s+"
                         r"(?:the\s+)?top)(?=\s*(?:[,.;:!?]|$|at\b|in\b|on\b|along\b))", t):
        sentence = re.split(r"[.;!?]", t[: m.start()])[-1]
        if _is_list(t[: m.start()]) and not set(re.findall(r"[a-z]+", sentence)) & _MOTION_VERBS:
            raise PromptError(f"{m.group(1)!r}: a row is listed from left to right and a column from top to bottom; "
                              "list the things in that order, e.g. 'blue, green and red balls, left to right'")

    def after_the_list(m: re.Match) -> str:  # "three balls at the top, from left to right: red, green, blue"
        head = re.sub(r"\b(?:at|in|on) the (top|bottom|left|right)$", r"along the \1", m.group("head"))
        return f"{head}: {m.group('list')} from {m.group('order')}"

    t = re.sub(rf"(?P<head>\b(?:two|three|2|3)\s+[^.;!?:,]*?)\s*,?\s*(?:from\s+)?(?P<order>{_ORDERS})\s*:\s*"
               rf"(?P<list>[^.;!?]*)", after_the_list, t)
    # said before the list ("from left to right: a red ball, a blue box"), or after its last noun with no comma
    t = re.sub(rf"(^|[.;!?]\s*)(?:from\s+)?({_ORDERS})\s*[:,]\s*([^.;!?]*)", r"\1\3, \2", t)
    things = f"{_THING_NOUNS}|{'|'.join(sorted(_COLOR_WORDS))}"  # "... red, green and blue from left to right"
    t = re.sub(rf"\b({things})\s+(?=(?:from\s+)?(?:{_ORDERS})\b(?=\s*(?:[.;!?]|$|at\b|in\b|on\b|along\b)))",
               lambda m: f"{m.group(1)}, " if _is_list(t[: m.end(1)]) else m.group(0), t)
    t = re.sub(r"\bleft to right,?\s+(?:in|along|across) the (top|middle|centre|center|bottom) row\b",
               lambda m: f"left to right {_ROW_PLACE.get(m.group(1), 'in the centre')}", t)
    column = r"(?:,?\s*(?:down|in|along)\s+the\s+(?P<col>left|right|middle|centre|center)\s+(?:column|edge|side))"
    order = (rf"(?:(?:from\s+)?(?P<left>left)\s+to\s+(?:the\s+)?right|{_DOWN}{column}?"
             rf"|(?P<side>left|right)\s+column,?\s+{_DOWN})")
    t = re.sub(rf"(?P<lead>^|[,:;]|\band\b|\brest\b)\s*{order}(?=\s*(?:[,.;:!?]|across|in|on|at|along)|\s*$)",
               ordered, t)
    column_said = re.search(r"\bin a column\b|\bone (?:above|over|below|under|beneath) the other\b", t)
    def column(m: re.Match) -> str:  # of two or three things named before it, none placed yet: a column
        listed = column_said or _unplaced_list(t[: m.start()])
        return f" in a column {_column_place(m.group(1))} " if listed else m.group(0)

    t = re.sub(r"\bin the (left|right|middle|centre|center) column\b", column, t)
    def row(m: re.Match) -> str:  # "three balls in the top row": a row, as a column is
        if not _unplaced_list(t[: m.start()]):
            return m.group(0)
        return f" in a row {_ROW_PLACE.get(m.group(1), 'in the centre')} "

    t = re.sub(r"\b(?:in|along|across) the (top|middle|centre|center|bottom) row\b", row, t)
    return re.sub(r"(\b(?:two|three|2|3)\s+\w+),\s*(in a (?:row|column))\s*:", r"\1 \2:", t)  # "three balls, in a row:"
_CROSSING_FROM = {"up": "bottom", "down": "top", "left": "right", "right": "left"}
_THIRD_PERSON = {"roll": "rolls", "slide": "slides", "glide": "glides", "drift": "drifts"}
