"""The words the parser reads: word lists by kind (colours, shapes, sizes, counts, places, motions, agents,
the slab, the goal, joining and filler words), the kind of each word (``_kind``), and
:func:`supported_words`, with the hints a refusal of an unknown word gives (``_vocabulary_help``,
``_did_you_mean``)."""

from __future__ import annotations

import difflib
from collections.abc import Collection

from worldsim.envs.caption import ORDINALS
from worldsim.envs.scene import AGENT_COLORS, MAX_OBJECTS, PALETTE


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


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
_SHADES = _words("dark light")  # "a dark blue box": refused, with the reason
_SHAPE_WORDS = (
    _to("sphere", "ball balls sphere spheres orb orbs marble marbles")
    | _to("box", "box boxes cube cubes block blocks crate crates")
    | _to("cylinder", "cylinder cylinders can cans puck pucks disc discs disk disks drum drums")
)
_GENERIC_NOUNS = _words("object objects thing things shape shapes item items toy toys ones")
_UNSUPPORTED_SHAPES = _words(
    "pyramid pyramids cone cones capsule capsules torus ring rings star stars triangle "
    "triangles ellipsoid egg "
    "eggs donut prism tetrahedron rod stick plank"
)
_ARTICLES = _words("a an the")
_COUNTS = {"one": 1, "single": 1, "another": 1, "two": 2, "pair": 2, "both": 2, "three": 3}
_COUNTS |= {"four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}  # refused
# "all" and "each" count every object described before them in their sentence ("three balls, all red").
_EVERY = _words("all each")
_UNSUPPORTED_MOTIONS = _words(
    "stop stops stopping stopped halt halts halting fall falls falling fell drop drops dropping jump jumps jumping "
    "hop hops hopping spin spins spinning rotate rotates rotating turn turns "
    "turning accelerate accelerates accelerating decelerate decelerates decelerating brake brakes braking "
    "swerve swerves swerving orbit orbits orbiting circle circles circling"
)
_UNSUPPORTED_COUNTS = _words("several many multiple few dozen dozens lots zero no numerous hundred")
_SIZES = (
    _to("small", "small tiny little smaller lil mini")
    | _to("large", "big large huge bigger larger giant fat massive enormous")
    | {"medium": "medium"}
)
_AGENT_NOUNS = _words(
    "agent agents robot robots player players character characters avatar avatars bot bots guy guys"
)
_SLAB_NOUNS = _words("slab occluder roof bridge canopy cover shelter tunnel platform overhang")
_SLAB_ALTERNATION = "|".join(sorted(_SLAB_NOUNS))  # for patterns: "slab|occluder|..."
_PUSH_VERBS = _words(
    "push pushes pushing pushed shove shoves shoving nudge nudges nudging kick kicks kicking "
    "drive drives driving"
)
_PUSH_ALTERNATION = "|".join(sorted(_PUSH_VERBS))  # for patterns: "drive|drives|driving|..."
_MOTION_VERBS = _words(
    "move moves moving roll rolls rolling slide slides sliding go goes going travel travels "
    "travelling traveling "
    "head heads heading drift drifts drifting glide glides gliding fly flies flying bring brings bringing "
    "come comes coming enter enters entering pass passes passing cross crosses crossing "
    "bounce bounces bouncing zip zips zipping zoom zooms zooming crawl crawls crawling trundle trundles trundling "
    "translate translates translating race races racing shoot shoots shooting rush rushes rushing "
    "speeds headed walk walks walking navigate navigates navigating creep creeps creeping"
)
_MOTION_ALTERNATION = "|".join(sorted(_MOTION_VERBS))  # for patterns: "bounce|bounces|..."
_SHAPE_ALTERNATION = "|".join(sorted(_SHAPE_WORDS))  # for patterns: "ball|balls|block|..."
_PLURAL_SHAPES = "|".join(sorted(w for w in _SHAPE_WORDS if w.endswith("s")))  # "balls|blocks|..."
#: Two things that move "towards each other" (converging) or "apart" (diverging), along one line
_PAIR_WAYS = _to("meet", "converging converge converges") | _to("apart", "diverging diverge diverges apart")
#: "moves around": a motion whose way is drawn with the scene (one of the eight directions)
_AROUND = _words("around about")
_ANY_WAY = "around"
_REACH_VERBS = _words("reach reaches reaching")
#: Motion verbs that say a speed, unless a speed word says another: "a red ball zooms left" moves quickly,
#: "crawls" at the ordinary speed ("trundling quickly" is quick).
_SPEED_VERBS = {"fast": _words("zip zips zipping zoom zooms zooming race races racing shoot shoots shooting rush "
                               "rushes rushing speeds"),
                "slow": _words("crawl crawls crawling trundle trundles trundling creep creeps creeping")}
_STILL_WORDS = _words("still stationary static resting rest rests motionless stay stays staying parked waits waiting "
                      "immobile unmoving")
_FAST_WORDS = _words("quickly fast rapidly quick swiftly speeding speedy speedily briskly")
#: "slowly" asks for the ordinary speed: a caption says "quickly" or nothing, so "not quickly" is all a
#: model trained on captions can be told.
_SLOW_WORDS = _words("slowly slow gently gradually leisurely steadily sluggish sluggishly lazily")
_PREPOSITIONS = _words("at on in near by inside within towards toward to into onto of across")
#: Prepositions that cannot end a clause ("a box with a ball inside"): "in" and "on" can ("on the floor").
_NAMES_A_PLACE = _words("inside within towards toward to into onto near by")
_UNDER = _words("under beneath below underneath")  # "below the box": a row lower in the frame
_OVER = _words("above over")  # "above the box": a row higher
_BESIDE = _words("beside next alongside")  # "next to the box": a neighbouring region, as "near" and "by"
_NEAR_WORDS = _words("near by") | _BESIDE
_VERTICAL = _to("top", "top upper up upwards upward north")
_VERTICAL |= _to("bottom", "bottom lower down downwards downward south")
_HORIZONTAL = _to("left", "left leftwards leftward west") | _to("right", "right rightwards rightward east")
_CENTRE_WORDS = _words("centre center middle central centrally")
_SIDE_WORDS = _words("corner corners quadrant quadrants side sides edge edges wall walls")  # "the top left corner"
_CORNER_WORDS = _words("corner corners quadrant quadrants")  # name a corner region ("the top left quadrant")
# "in a row": two or three things side by side, one region each along a row of the grid ("column": down)
_LINE_WORDS = _words("row column")
_LINE_SLOTS = {"row": ("left", "centre", "right"), "column": ("top", "centre", "bottom")}
_JOINING_WORDS = _words("and plus with while then but")
_PUNCTUATION = frozenset(";,.!?:")  # clause separators
_SENTENCE_ENDS = frozenset(".!?")  # end the list after a count ("two objects: ...")

#: The only words a prompt may use that say nothing about the scene: they are skipped wherever they
#: stand ("there is a red ball in the corner of the arena" reads as "a red ball in the ..."). Every
#: other word must be one the parser reads, or :func:`parse_prompt` raises :class:`PromptError`.
FILLER_WORDS = _words(
    "there here is are has have does also that which scene arena world part area half floor ground "
    "sits sitting lies lying placed located stands standing covers covering contains containing please "
    "me see be shows showing where simulation region regions"  # "show me", "the top left region"
    " being gets put place add show draw create make generate render spawn spawns"  # "put a red ball ...": a request
    " starts start starting begins must should will"  # "the agent starts at the top"
    " far very slightly exactly"  # "on the far left", "slightly to the left": the region is the same
    " only just alone"  # a scene holds the objects a prompt names and no others ("only a red ball")
    " really directly somewhere sat sit position positions"  # "really fast", "at the top-right position"
    " now finally ok okay"  # "now add a ball", "ok? and a box"
    " need needs include includes including occupies occupy occupying positioned cell cells"
    " task setup layout configuration initialize initialise configure"  # "task: push the box onto the goal"
    " basically hmm um maybe imagine we my our"  # "basically I want ...", "imagine a red ball ..."
)

# Word kinds, first match wins: "can" is a shape, "one" a count (or "a red one": a noun).
_KIND_GROUPS: tuple[tuple[str, Collection[str]], ...] = (
    ("join", _JOINING_WORDS),
    ("art", _ARTICLES),
    ("num", _COUNTS.keys() | _EVERY),
    ("vague", _UNSUPPORTED_COUNTS),
    ("ord", ORDINALS),
    ("other", {"other"}),
    ("size", _SIZES),
    ("color", _COLOR_WORDS),
    ("badcolor", _UNSUPPORTED_COLORS),
    ("shape", _SHAPE_WORDS),
    ("generic", _GENERIC_NOUNS),
    ("badshape", _UNSUPPORTED_SHAPES),
    ("pronoun", _words("it its itself")),
    ("agent", _AGENT_NOUNS),
    ("slab", _SLAB_NOUNS),
    ("goal", {"goal"}),
    ("from", {"from"}),
    ("line", _LINE_WORDS),
    ("empty", {"empty"}),
    ("push", _PUSH_VERBS),
    ("reach", _REACH_VERBS),
    ("motion", _MOTION_VERBS),
    ("around", _AROUND),
    ("pair", _PAIR_WAYS),
    ("between", {"between"}),
    ("them", {"them"}),
    ("still", _STILL_WORDS),
    ("not", {"not"}),
    ("fast", _FAST_WORDS),
    ("slow", _SLOW_WORDS),
    ("prep", _PREPOSITIONS),
    ("under", _UNDER),
    ("over", _OVER),
    ("beside", _BESIDE),
    ("vert", _VERTICAL),
    ("horiz", _HORIZONTAL),
    ("centre", _CENTRE_WORDS),
    ("side", _SIDE_WORDS),
    ("filler", FILLER_WORDS),
)


def _build_kinds() -> dict[str, str]:
    kinds: dict[str, str] = {}
    for kind, group in _KIND_GROUPS:
        kinds |= {w: kind for w in group if w not in kinds}
    return kinds


_KINDS = _build_kinds()
_REGION_KINDS = frozenset({"vert", "horiz", "centre"})
_SPEED_KINDS = frozenset({"fast", "slow"})
_PLACE_WORDS = frozenset({"prep", "under", "over", "beside"})
_NOUN_KINDS = frozenset(
    {"art", "num", "vague", "ord", "other", "size", "color", "badcolor", "shape", "generic", "badshape"}
    | {"pronoun", "agent", "slab", "goal"}
)
_HEADS = {"shape": "object", "generic": "object", "pronoun": "object", "agent": "agent", "slab": "slab", "goal": "goal"}
# Groups of :func:`supported_words`: (title, word kinds). Unsupported words are left out.
_HELP_GROUPS = (
    ("colours", ("color",)),
    ("shapes", ("shape", "generic", "pronoun")),
    ("sizes", ("size",)),
    ("counts and order", ("art", "num", "ord", "other")),
    ("places and directions", ("prep", "vert", "horiz", "centre", "side", "under", "over", "beside", "from", "line",
                               "between", "them")),
    ("motion", ("motion", "around", "pair", "still", "not", "fast", "slow")),
    ("agents", ("agent",)),
    ("slab", ("slab",)),
    ("goal and tasks", ("goal", "push", "reach")),
    ("empty scene", ("empty",)),
    ("joining words", ("join",)),
    ("filler words (skipped)", ("filler",)),
)


def _kind(word: str) -> str:
    """The kind of a (normalised) word: "color", "shape", "prep", ... or "unknown"."""
    if word.isascii() and word.isdigit():
        return "num"
    return _KINDS.get(word, "unknown")


def supported_words() -> dict[str, tuple[str, ...]]:
    """Every word :func:`parse_prompt` reads, by group ("colours", "shapes", ...), filler words included.

    Counts above :data:`~envs.scene.MAX_OBJECTS` and unsupported colours or shapes are understood only to
    be refused, so they are not listed; "white" and "pink" name the agents.
    """
    groups = {}
    for title, kinds in _HELP_GROUPS:
        words = [w for w, k in _KINDS.items() if k in kinds and _COUNTS.get(w, 0) <= MAX_OBJECTS]
        if title == "agents":
            words += list(AGENT_COLORS)
        groups[title] = tuple(sorted(words))
    return groups


def _vocabulary_help() -> str:
    groups = "".join(f"\n  {title}: {', '.join(words)}" for title, words in supported_words().items())
    return (
        f"Supported words:{groups}\nCounts may also be digits (1-{MAX_OBJECTS}); "
        f"clauses are separated by {' '.join(sorted(_PUNCTUATION))} or a joining word."
    )


def _did_you_mean(word: str) -> str:
    """' (did you mean 'x'?)' for a supported word spelt close to this one, else ''."""
    known = [w for words in supported_words().values() for w in words if w not in FILLER_WORDS]
    close = difflib.get_close_matches(word, known, n=2, cutoff=0.65)
    return f" (did you mean {' or '.join(repr(w) for w in close)}?)" if close else ""


def _supported(kind: str) -> str:
    if kind == "colour":
        return (
            f"supported colours: {', '.join(PALETTE)} (also purple/violet = magenta, aqua/turquoise = cyan; "
            "agents are white and pink)"
        )
    if kind == "shape":
        return "supported shapes: ball/sphere, box/cube/block, cylinder/can/puck (or object/thing for any)"
    return f"supported counts: a/an/one, two, three (at most {MAX_OBJECTS} objects in a scene)"


def _count_value(word: str) -> int | None:
    if word in _EVERY:
        return None  # as many as were described before (``_refer_back``)
    if word in _COUNTS:
        return _COUNTS[word]
    return int(word)
