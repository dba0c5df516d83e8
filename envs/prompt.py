"""The prompt parser: templated text (or a caption) back into a scene spec.

``parse_prompt(text, seed)`` reads captions (:func:`worldsim.envs.caption.caption`) and looser paraphrases
("there is a cube in the upper left", "in the top left corner there is a red ball", "two red
spheres", "two objects: a yellow cube on the left, an orange sphere on the right", "the agent pushes
the box to the left", "the agent goes to the goal"). Whatever the text leaves out (positions inside
a region, sizes inside a size class, masses, unnamed colours or shapes, or the objects themselves)
is drawn from ``seed``, so a prompt and a seed give exactly one scene, and
``caption(parse_prompt(caption(spec))) == caption(spec)``.

The parser is strict: it reads every word of a prompt or raises :class:`PromptError`.

* A word it does not know is refused, naming the word and listing the supported ones
  (:func:`supported_words`); only :data:`FILLER_WORDS` are skipped, with a few filler phrases: an
  opening such as "In this scenario," or "Let's say", a purpose such as "for today's demo" or "for a
  collision test", "of the screen", and "too" or "as well" ending a clause.
* Colours and sizes after a noun describe it ("the ball is red", "the ball on the left is big", "a box
  that is big and blue", "a ball. It is red."); a thing said to be a shape ("the green thing is a
  cylinder") is refused, to be said in one phrase. "A blue one" takes the shape of the object named
  before it (and its colour, when it names none: "a small red ball and a large one"), and "another"
  (or "another one") with no colour or size is one more of the same. Colours listed before a shape
  name one object each ("red, green and blue balls", "a red and a blue box"), and the place or motion
  after such a list goes to each ("red and blue balls on the left"), as does a verb in the plural after
  a list of things ("a red ball and a blue box roll right": both roll), a place or a participle right
  after "a red ball and a blue box" ("... on the left", "... moving left": both), and a place shared by
  a plural verb goes to agents, the slab and the goal too ("the agent and the box are on the left", "...
  are all on the left"). A size or a speed before such a list, with no article, goes to each ("small red
  and blue balls", "fast red and blue balls moving left"), and the shape after it to the counted items
  before it ("one big and two small balls"); a thing named by its place in order alone ("the second", "a
  third") has the shape every thing before it has.
  "A big one", "a red one", "with a red colour" said of the thing just named describe it ("the ball on
  the left is a big one", "a box at the top, a blue one"; with its colour already said, "a red ball, a
  blue one" is another ball), and "a little" before a place is "slightly". A
  size and a colour split by a comma describe one thing ("a big, red ball"), as does a colour set off by
  commas after its noun ("a ball, red, and a box, blue"); after a count, as many colours as it counts
  are one each ("three balls, red, green and blue"), also after what is said of the things ("two balls
  at the bottom, red and blue", "three balls are red, green, blue", "balls in red, green and blue"). A
  way said without its verb after a motion is that motion's ("a red ball rolls left and a blue box
  right"). "Both" names the two objects described last, and "all" or "each" every object of the last
  sentence that described one ("a ball and two boxes, all green"), or, in a sentence of its own, every
  object described before ("a ball. a box. All move left"). "The red ball" with no red ball described
  names the one ball described without a colour ("a ball at the top. The red ball rolls
  left"), and is refused when that could be more than one. "The ball on the left" (or "the left ball",
  "the bottom one") names the one described there; a bare "one" after things are described is refused
  (one of them, or a new one?).
* "Corner", "side" and "edge" belong to the region before them ("the top left corner", "the left side");
  alone ("in the corner") they do not say which one, and are refused.
* A bare shape after "and" ("a red ball and box") is refused: whether the first thing's colour or size
  is said of it too would be a guess.
* Clauses are separated by punctuation (``, ; . ! ? :``) or joining words ("and", "plus", "with",
  ...). Inside a clause, a place ("at the top", "on the left") or a motion ("moves left") belongs
  to the noun before it, or to the noun after it when the one before already has one ("in the top
  left corner there is a red ball"). A clause that only places or moves something ("on the right,
  a yellow cylinder"; "a blue ball, moving left") joins its neighbour.
* A motion says which way ("moves left", "rolls towards the top right corner": one with no region of
  its own starts where that way leads to the corner, not in it); "from" a side says
  where it starts and that it moves away from there ("rolls in from the left": on the left, moving
  right; "rolls left to right" likewise; "from the top left corner to the top right corner": right),
  and may stand apart from the motion ("rolls north, starting
  from the bottom"), which must then lead away from it. A side across the way makes a diagonal ("rolls
  up to the right": up-right). After a motion, "in", "at" or "on" a region places the thing ("moves
  left at the top"). A side it starts from and the row or column it glides along make a corner
  ("slides from right to left along the top": top right, moving left).
* A count followed by a colon announces a list ("two objects: a red ball; a blue box"), and so does
  a bare count followed by a comma ("two objects, a red ball and a blue box"), or a count of things
  followed by a comma and "one ..." ("two balls, one red and one blue", or "... and the other blue").
  The count may carry a place that every listed thing shares ("two objects at the top: a red ball and
  a blue box").
  The list, up to the end of its sentence (``.``, ``!``, ``?`` or the end of the prompt; or up to a
  thing of another shape than the counted ones, once they are all listed), must describe
  exactly that many objects, and they take the colour, shape or size the count names ("two red balls:
  one on the left, one on the right"). Items that say something of some of them ("two red balls, one
  big"; "three balls, two red and one blue") leave the rest as the count says, and "all red" or "all
  moving up" goes to each. A count in a sentence of its own ("There are two objects.") is followed by
  sentences describing that many objects ("The first is a red ball.", "Two are red and one is blue.",
  "They are red, blue and yellow.", "Two red balls. A box.", "Two are balls. The other is a box."), and is
  all the objects there are.
* A thing may be placed by another one on the 3x3 grid of regions: "a red ball above the green box"
  puts the ball one region higher ("below", "under", "to the left of", "on" or "on top of", "at the top
  right of" likewise), and the place may come first ("to the left of the box there is a ball", "next to
  it is a blue box", "a red ball. To its left, a blue box.");
  "near", "next to", "beside" and "by" put it in a neighbouring region (to the right of the other,
  else to its left, below or above it). When neither has a region, the one named second goes
  in the centre. Where both share a place that names a row or a column ("a box above a ball, both in
  the left column"), the one named second takes it and the other steps along that line. Beside the slab
  or the goal works the same, and above or below the goal too ("the
  agent right below the goal"). "Between the agent and the goal" (or "between the two boxes", or
  "between them" after two things are named) puts a thing in the region halfway between the two, which
  must be two regions apart; those without a region go either side of it. An object that "rolls towards"
  another thing heads from its region to that thing's (one without a region starts across the arena
  from it, or one step back along the way it was told to move). "To its left" reads as "to
  the left of it", and "it" right after a clause that ends
  on an agent (or the slab, or the goal) names that thing ("the agent in the middle and a green box to
  its left"). Otherwise "it" names the object described last, and is refused when the sentence that
  described it described others too ("a red ball and a blue box. it moves left": which?); a second "to
  the right of it" right after "... to the left of it" names the same thing as the first, while the same
  side twice is a chain ("a red ball to its right. a blue ball to its right": the blue one right of the red).
  "Diagonally" reads with both ways said ("rolls diagonally up-left"); alone it is refused.
  "Agent 1" and "agent 2" are the white and the pink agent; things named by number ("ball one") are
  refused.
* "Rolls under the slab" (or slides, passes, ... under it) starts a thing beside the slab, moving left,
  right, up or down fast enough to glide under it and out of its far side; "from the left" says it moves
  right. "Under it" names the slab when the slab is the last thing named before ("a slab at the top and
  a ball rolling left under it").
* Two or three things "in a row" (or "in a column") take one region each along a row of the grid (the
  two ends for two): the row named ("in a row at the top") or one drawn with the scene. "A row of three
  balls" reads as "three balls in a row"; "side by side" and "next to each other" as "in a row", "one
  above the other" as "in a column"; after a list of single things ("a blue box, a red ball and a blue
  box in a row") the row holds every object of the sentence, in the order named. Two or three things
  "across the top" or "along the left side", none moving, stand in a row or column there.
* "Moves around" (or "rolls about") moves a thing one of the eight ways, drawn with the scene.
* A place, motion, speed, colour or size before a colon goes to every thing listed after it ("on the
  left: a red ball and a blue box", "red: ball, top left"); a motion after the comma that ends a list
  goes to every thing listed ("a red ball and a blue box, moving left"). A line break ends a clause
  between the lines of a list or of fields, and is a space in prose; "agents: 2" and "objects: 2, ..."
  are counts; "1) ... 2) ..." and "1. ... 2. ..." number the items of a list, and "from left to right"
  before a list or after it orders a row. A sentence that only moves something after a sentence that described
  several things is refused.
* In a push, a place right after the pushed thing ("pushes the box on the left up") is where the thing
  is; "to" a side is the way. A pushed thing with no place of its own is in its agent's region, ahead
  of the agent ("the agent at the top right pushes a box down"). "The pink agent is on the left and
  pushes ..." is the pink agent's push, and so is "The pink agent is on the left. It pushes ...".
* A speed said apart from any motion ("both slow", "two fast balls: ...") is said of things whose motions
  are given elsewhere; said of a thing that does not move, it is refused.
* A scene family may head the prompt ("occlusion: a slab on the left, ...", "reach task: the agent at
  the bottom left", "an occlusion scene where ...", "a playground with ...") and asks for what the
  family has: an occlusion scene has a slab (drawn when none is placed), a reach task is the agent going
  to the goal, a push-box task is the agent pushing the one box into the goal unless another push is
  said. A family word anywhere else is not read. A label heading the prompt ("Level 1:", "Test case 3 -",
  "Scenario:") is skipped. A push with a way onto the goal ("pushes the box down
  to the goal") puts the goal one region that way from the pushed object.
* Two things that "roll towards each other" start apart and move at each other along one line: the
  line between the regions they were given, else a row or column drawn with the scene, and they are
  drawn in their regions on one line and aimed at each other, so they meet; two that "move apart" (or
  "in opposite directions") start close and move away from each other.
* "The top left quadrant" is the top left corner; "the right wall" the right side. "To the left of the
  centre" is the left, "above the middle" the top; "right in the middle", "the far left", "slightly ..."
  name the regions they qualify.
* "The other" (or "the other one") right after a clause about one of exactly two objects names the
  second ("a yellow ball and a blue ball, the yellow one moves right, the other one stays"). An order
  to reach the goal starting a sentence ("reach it", "go to the goal") is the agent's, in a scene of
  one agent.
* "It's an orange ball" opening a prompt is "there is an orange ball"; a later sentence that is one
  field ("Colour: blue.") describes "it"; "push the box onto it" pushes it into the goal, the one thing
  a box is pushed onto. Fields a sentence each with no sentence in words before them ("Colour: red.
  Shape: ball.") describe one thing, and a new one where a key comes again; so do fields in one
  sentence, apart by commas, semicolons or spaces ("colour=green shape=cube position=top left",
  "object: red ball; position: top; movement: down"). A header before a thing's fields ("Objects: shape:
  ball, colour: red", a JSON list of objects) names no thing of its own. A family field may end the prompt
  ("...; task: reach").
* Things told apart by their places before any of them was described are described there ("two balls.
  The one on the left is red, the one on the right is blue"; "the ball at the top is red, the ball at
  the bottom is blue"; "the ball on the left moves right and the ball on the right moves left"), and
  what is said of "the one on the left" after "one on the left" is said of that one. Two places that end
  a sentence after two things are one each ("two balls at the top left and bottom right", "the agents
  are on the left and on the right"). A row and a column said apart are one region ("at the top on the
  left", "in the middle of the bottom row"); "the opposite corner" (or side) is across from the one said
  before it.
* What a prompt leaves unsaid of a thing it describes (a colour, a shape, a place) is drawn from the
  seed; a thing it does not describe is not drawn: "the agent on the left" is an empty arena. Things
  said to have "different colours" (or shapes) are drawn so.
* A prompt says how each thing starts; what happens after ("stops", "turns", "falls") is refused
  with the reason, and a thing that rolls "into the goal" heads for it.
* "Two agents: one on the left, one on the right" (or "the first ..., the second ...") names the white
  agent, then the pink one; "the pink one" is the pink agent. Every scene has the white agent, so one
  agent said to be pink ("one pink robot", "only a pink agent") is refused.
* "Between" is refused with the row that says it; "no ..." with the reason (a scene holds only what a
  prompt names), except "no goal", "without a slab" or "goal: none", which say just that.
* Colours, shapes and counts that scenes cannot show (more than :data:`~envs.scene.MAX_OBJECTS`
  objects, say), places relative to the slab or the goal, a place off the arena ("above a box at the
  top"), places by numbers ("in cell 3"), sizes or colours by numbers ("size 0.1", "#ff0000"), depth
  ("behind the box", "in front of"; the camera looks straight down, and "rolls behind the slab" is under
  it), a preposition with nothing after it ("a box with a ball inside"), a second thing pushed, or a
  second place or motion for one object are refused with the reason.

The learned envs and ``worldsim rollout`` condition the model on ``caption(parse_prompt(text))``
(:func:`canonical_prompt`), not on the raw prompt: a long prompt is read in full, and the text
encoder sees a caption, which always fits ``worldsim.text.TextEncoderConfig.max_tokens``.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import math
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import numpy as np

from worldsim.envs.caption import ORDINALS, PARSED_SPEEDS, SHAPE_NOUNS, SIZE_CLASSES, caption
from worldsim.envs.scene import (
    AGENT_COLORS,
    AGENT_RADIUS,
    CLEARANCE,
    DIRECTIONS,
    MASS_RANGE,
    MAX_OBJECTS,
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


class PromptError(ValueError):
    """A prompt uses a word the parser does not read, or a colour, shape, count or layout that scenes
    cannot represent; the message says which and why."""

# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------


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


def _apply_family(draft: _Draft, family: str | None) -> None:
    """Ask for what the named family has (see the module's notes)."""
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


def _tokenise(text: str) -> list[str]:
    """Words and single punctuation marks or symbols, in order. A region of something named before,
    "its left" or "its top right", is read as "the left of it"."""
    tokens = re.findall(r"[^\W_]+|[^\w\s]", _normalise(text))
    out: list[str] = []
    i = 0
    while i < len(tokens):
        j = i + 1
        while tokens[i] == "its" and j < len(tokens) and _kind(tokens[j]) in ("vert", "horiz"):
            j += 1
        if j > i + 1:
            out += ["the", *tokens[i + 1 : j], "of", "it"]
        else:
            out.append(tokens[i])
        i = j
    return _under_the_slab(_row_of(_right_by(out)))


_RIGHT_BY = frozenset({"above", "below", "beneath", "under", "underneath", "over", "next", "beside", "by", "near"})


def _right_by(tokens: list[str]) -> list[str]:
    """"a ball right above the box", "the agent is right below it", "..., and right below it, a box": "right"
    only stresses the place after it. After a motion ("rolls right under the slab") it is the way the thing
    moves, and is kept."""
    return [t for k, t in enumerate(tokens) if not (
        t == "right" and k < len(tokens) - 1 and tokens[k + 1] in _RIGHT_BY
        and (k == 0 or _kind(tokens[k - 1]) in _HEADS or _kind(tokens[k - 1]) in ("filler", "join")
             or tokens[k - 1] in _PUNCTUATION))]


def _under_the_slab(tokens: list[str]) -> list[str]:
    """"Under it" names the slab when the slab is the last thing named before the clause ("a slab at the
    top and a ball rolling left under it"); so does "under" with nothing after it after a motion, when
    the prompt names a slab ("a slab on the right, a ball passes beneath heading right")."""
    out: list[str] = []
    start = 0  # where the current clause starts in ``out``
    slab = any(_kind(t) == "slab" for t in tokens)
    for k, t in enumerate(tokens):
        if t in _PUNCTUATION or _kind(t) == "join":
            start = len(out) + 1
        after = _kind(tokens[k + 1]) if k + 1 < len(tokens) else None
        if slab and _kind(t) == "under" and out and _kind(out[-1]) == "motion" and (
                after is None or tokens[k + 1] in _PUNCTUATION or after in ("join", "motion", "fast", "slow")):
            out += [t, "the", "slab"]
            continue
        if t == "it" and out and _kind(out[-1]) == "under":
            named = next((_kind(w) for w in reversed(out[:start]) if _kind(w) in _HEADS and w != "one"), None)
            if named == "slab":
                out += ["the", "slab"]
                continue
        out.append(t)
    return out


_ROW_OF_KINDS = frozenset({"num", "size", "color", "badcolor", "shape", "generic", "badshape"})


def _row_of(tokens: list[str]) -> list[str]:
    """"a row of three balls" -> "three balls in a row" (and "a column of ...", "a row of red, green and
    blue boxes"): the things come first, then the line they stand in."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if not (tokens[i] in ("a", "one") and tokens[i + 1 : i + 3] in (["row", "of"], ["column", "of"])):
            out.append(tokens[i])
            i += 1
            continue
        j = i + 3
        while j < len(tokens) and (_kind(tokens[j]) in _ROW_OF_KINDS or (
                tokens[j] in (",", "and") and j + 1 < len(tokens) and _kind(tokens[j + 1]) in ("color", "size"))):
            j += 1
        if j == i + 3 or _kind(tokens[j - 1]) not in ("shape", "generic", "badshape"):
            raise PromptError(f"{' '.join(tokens[i : j + 1])!r}: say what the {tokens[i + 1]} is of, e.g. "
                              f"'a {tokens[i + 1]} of three balls'")
        line = ["in", "a", tokens[i + 1]]
        out += [*tokens[i + 3 : j], *([] if tokens[j : j + 3] == line else line)]  # "... along the top": said after
        i = j
    return out


def _check_vocabulary(tokens: list[str]) -> None:
    """Raise a PromptError naming every word the parser does not know."""
    hidden = next((t for t in tokens if t in ("hidden", "hide", "hides", "hiding")), None)
    if hidden is not None:
        raise PromptError(f"{hidden!r}: a thing hidden at rest is never seen, so no frame could show it; a thing "
                          "may pass under the slab instead ('a red ball rolls under the slab')")
    unknown = [t for t in dict.fromkeys(tokens) if t not in _PUNCTUATION and _kind(t) == "unknown"]
    motion = next((t for t in unknown if t in _UNSUPPORTED_MOTIONS), None)
    why = "" if motion is None else (
        f"{motion!r}: a prompt says how each thing starts, gliding one way at a speed or still (agents start at "
        "rest); what happens next is the physics' to decide, so stopping, turning, falling, jumping or spinning "
        "cannot be asked for. Say which way a thing moves, e.g. 'a red ball rolls left quickly'")
    if motion is not None and all(t in _UNSUPPORTED_MOTIONS for t in unknown):
        raise PromptError(why)
    keys = [t for t, after in zip(tokens, tokens[1:]) if t in _RECORD_KEYS and t in unknown and after in (":", "=")]
    if keys:  # "Color: red." alone, or among words that are not fields of one thing
        raise PromptError(f"{keys[0]!r}: fields describe one thing when they give its shape and nothing else is "
                          "in their sentences, e.g. 'shape: ball; colour: red; position: top left' or 'Shape: ball. "
                          "Colour: red.'; or describe it in words: 'a red ball at the top left'")
    if unknown:
        names = ", ".join(repr(w) + _did_you_mean(w) for w in unknown)
        raise PromptError(f"unknown word{'s' if len(unknown) > 1 else ''} {names}.\n{why + chr(10) * bool(why)}"
                          f"{_vocabulary_help()}")


# --------------------------------------------------------------------------------------------
# Prompt -> segments: each clause as nouns, places, motions and markers
# --------------------------------------------------------------------------------------------


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
_ROWS = {"top": -1, "bottom": 1}
_OPPOSITE = {"top": "bottom", "bottom": "top", "left": "right", "right": "left"}
_COLUMNS = {"left": -1, "right": 1}


def _cell(region: str) -> tuple[int, int]:
    """A region's (row, column) on the 3x3 grid, each in -1..1: "top left" -> (-1, -1), "centre" -> (0, 0)."""
    parts = region.split()
    return sum(_ROWS.get(p, 0) for p in parts), sum(_COLUMNS.get(p, 0) for p in parts)


def _way_step(way: str) -> tuple[int, int]:
    """The grid step of one of the eight ways: "up-left" -> (-1, -1)."""
    return _cell(way.replace("up", "top").replace("down", "bottom").replace("-", " "))


def _stepped(region: str, step: tuple[int, int], times: int = 1) -> str | None:
    """The region ``times`` steps on from ``region`` (back, for a negative count); None off the grid."""
    row, column = _cell(region)
    return _region_at(row + times * step[0], column + times * step[1])


def _region_at(row: int, column: int) -> str | None:
    """The region at a grid cell, None off the grid: (-1, 1) -> "top right"."""
    if not (-1 <= row <= 1 and -1 <= column <= 1):
        return None
    names = [name for name, v in _ROWS.items() if v == row] + [name for name, v in _COLUMNS.items() if v == column]
    return " ".join(names) or "centre"


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


def _region(words: list[str]) -> str:
    """The region named by region words ("top", "left", "centre"...): "top left", "left", "centre"."""
    vertical = list(dict.fromkeys(_VERTICAL[w] for w in words if w in _VERTICAL))
    horizontal = list(dict.fromkeys(_HORIZONTAL[w] for w in words if w in _HORIZONTAL))
    if len(vertical) > 1 or len(horizontal) > 1:
        raise PromptError(f"{' '.join(words)!r} names two places at once; name one region, e.g. 'top left'")
    return " ".join(vertical + horizontal) or "centre"


def _direction(words: list[str]) -> str:
    """One of the eight DIRECTIONS from region words: "top left" -> "up-left"."""
    region = _region(words)
    if region == "centre":
        raise PromptError(f"{' '.join(words)!r} is not a direction; use up, down, left, right or e.g. up-left")
    return region.replace("top", "up").replace("bottom", "down").replace(" ", "-")


def _away_from(region: str) -> str:
    """The way away from a region off the centre: "left" -> "right", "top left" -> "down-right"."""
    return _direction([_OPPOSITE[w] for w in region.split()])


def _way_between(here: str, there: str) -> str:
    """The way from one region of the grid to another: ("left", "top right") -> "up-right"."""
    (r1, c1), (r2, c2) = _cell(here), _cell(there)
    return _direction([w for w, d in (("top", r1 - r2), ("bottom", r2 - r1), ("left", c1 - c2), ("right", c2 - c1))
                       if d > 0])


def _count_value(word: str) -> int | None:
    if word in _EVERY:
        return None  # as many as were described before (``_refer_back``)
    if word in _COUNTS:
        return _COUNTS[word]
    return int(word)


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


def _is_said_of_both(clause: _Clause, placed: bool = False) -> bool:
    """A clause that only says "both red" (or "both big", "all red"): said of the things named before it.
    With ``placed``, a place or motion may follow ("all blue, in a row")."""
    rest = clause.segments[1:]
    noun = clause.segments[0] if not rest or (placed and all(_is_modifier(s) for s in rest)) else None
    return isinstance(noun, _Noun) and noun.count_word in _EVERY | {"both"} and noun.head is None \
        and len(noun.words) > 1 and all(_kind(w) in ("color", "badcolor", "size") for w in noun.words[1:])


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


# --------------------------------------------------------------------------------------------
# Segments -> draft
# --------------------------------------------------------------------------------------------


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


def _speed_of(kinds: set[str], words: list[str]) -> str | None:
    """"fast", "slow" or None from the kinds of a phrase's speed words; both at once is refused."""
    if len(kinds) > 1:
        raise PromptError(f"{' '.join(words)!r} asks for two speeds; say 'quickly' or 'slowly', not both")
    return next(iter(kinds), None)


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


def _words_of(segments: list[_Segment]) -> str:
    return " ".join(w for s in segments for w in s.words)


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


def _line_of(region: str | None) -> tuple[str, str | None] | None:
    """("row", "top") for the place "in a row at the top" (``_Segmenter._line``), ("row", None) for "in a
    row"; None for a region of the grid."""
    line, _, fixed = (region or "").partition(" ")
    return (line, fixed or None) if line in _LINE_SLOTS else None


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


def _line_slots(line: str, fixed: str, n: int) -> list[str]:
    """The regions of n things in a row (or column) through the region ``fixed``: "top" -> top left, top, top right."""
    slots = _LINE_SLOTS[line] if n == 3 else _LINE_SLOTS[line][::2]
    if fixed == "centre":
        return list(slots)
    return [fixed if s == "centre" else (f"{fixed} {s}" if line == "row" else f"{s} {fixed}") for s in slots]


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
_PUSH_FORM = "a push reads e.g. 'the pink agent pushes the red box to the left' or '... into the goal'"
_REACH_FORM = "a reach task reads e.g. 'the white agent goes to the goal' or 'the agent reaches the goal'"


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


def _refers_back(noun: _Noun) -> bool:
    """Whether an object noun stands for one named before: "a blue one", "the red ones", "another"."""
    return noun.shape is None and ((noun.words[-1] == "one" and len(noun.words) > 1)
                                   or noun.words[-1] == "ones" or noun.words == ["another"])


def _elliptic(noun: _Noun) -> bool:
    """A new thing said by its colour or size alone, its noun left out ("a red ball and a blue", "another
    big", "a ball and two green"): a thing of the shape named before."""
    return noun.head is None and noun.shape is None and not noun.pronoun and not noun.definite \
        and (noun.article in ("a", "an") or (noun.count is not None and noun.count_word != "both")
             or noun.count_word == "another") \
        and bool(noun.words) and _kind(noun.words[-1]) in ("color", "size")


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


def _speed_markers(segments: list[_Segment]) -> list[_Marker]:
    return [s for s in segments if isinstance(s, _Marker) and s.kind in _SPEED_KINDS]


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


def _join_adjectives(tokens: list[str]) -> list[str]:
    """Drop the commas between a size and a colour said before their noun: "a big, red ball" is one big red
    ball, "large, cyan, cylinder" one large cyan cylinder. Colours alone keep theirs: "red, green and blue
    balls" are three balls."""
    def adjective(word: str) -> str | None:
        kind = _kind(word)
        return "color" if kind in ("color", "badcolor") else "size" if kind == "size" else None

    out: list[str] = []
    for k, word in enumerate(tokens):
        if word == "," and k + 1 < len(tokens):
            i, kinds = len(out), []  # the adjectives just before, commas between them skipped
            while i > 0 and (out[i - 1] == "," or adjective(out[i - 1])):
                i -= 1
                kinds += [adjective(out[i])] if out[i] != "," else []
            nxt = _kind(tokens[k + 1])
            kinds += [adjective(tokens[k + 1])] if adjective(tokens[k + 1]) else []
            opens = i == 0 or out[i - 1] in _PUNCTUATION or _kind(out[i - 1]) in ("art", "join", "num")
            if kinds and opens and len(set(kinds)) == len(kinds) and (
                    adjective(tokens[k + 1]) or nxt in ("shape", "generic")):
                continue
        out.append(word)
    return out


def _looks_after_the_noun(tokens: list[str]) -> list[str]:
    """Move a colour or size set off by commas after its noun to before it: "a ball, red, and a box, blue" is a
    red ball and a blue box, "a box, big and blue." one big blue box. After a count, as many colours as it
    counts are one each: "three balls, red, green and blue" are "three balls, one red, one green and one blue"."""
    def adjective(k: int) -> bool:
        return 0 <= k < len(tokens) and _kind(tokens[k]) in ("color", "badcolor", "size")

    def run_after(k: int) -> int:  # the end of the adjectives (joined by "and") from k
        while adjective(k) or (tokens[k:k + 1] == ["and"] and adjective(k - 1) and adjective(k + 1)):
            k += 1
        return k

    def closes(k: int) -> bool:  # the run ends the noun's description, not the start of another thing's
        return k == len(tokens) or tokens[k] in _PUNCTUATION or (
            tokens[k] == "and" and k + 1 < len(tokens) and _kind(tokens[k + 1]) in ("art", "num"))

    out = list(tokens)
    k = 0
    while k < len(out) - 2:
        head = k if _kind(out[k]) in ("shape", "generic") and out[k + 1] in (",", ":") else None
        start = k
        while start > 0 and _kind(out[start - 1]) in ("color", "badcolor", "size", "num", "art", "other"):
            start -= 1
        phrase = out[start:k]
        counted = next((_count_value(w) for w in phrase if _kind(w) == "num"), None)
        end = run_after(k + 2) if head is not None else k + 2
        if head is None or end == k + 2:
            k += 1
            continue
        tokens = out  # run_after, closes and adjective read the current tokens
        run = out[k + 2:end]
        said = {_kind(w) for w in phrase}
        plural = out[k].endswith("s") and counted is None  # "balls: red, blue" are a ball each
        if (counted or 1) == 1 and not plural and closes(end) and "and" not in run \
                and not said & {_kind(w) for w in run}:
            out[start:end] = [*phrase, *run, out[k]]  # "a ball, red," → "a red ball"
            k = start + len(phrase) + len(run) + 1
            continue
        colours = _each_of(out, k + 2, counted or 0)
        if colours is not None and not said & {"color", "badcolor"}:
            out[k + 2:colours[-1] + 1] = _one_each(out, k + 2, colours)
        k += 1
    return out


#: Word kinds that may stand between counted things and the colours listed for them, one each ("two balls
#: at the bottom, red and blue", "two balls roll towards each other, red and blue", "... are red and blue").
_SAID_OF_THINGS = frozenset({"prep", "art", "vert", "horiz", "centre", "side", "line", "motion", "pair", "fast",
                             "slow", "around", "other", "filler", "still", "from", "under", "over", "beside"})


def _looks_after_what_is_said(tokens: list[str]) -> list[str]:
    """As many colours as a count counts, after what is said of the things counted, are one each: "two balls
    at the bottom, red and blue" is "..., one red and one blue"; so are colours after "are" ("three balls
    are red, green, blue"), and after "in" for things not counted ("balls in red, green and blue")."""
    out = list(tokens)
    for noun, word in enumerate(out):
        if _kind(word) not in ("shape", "generic") or not word.endswith("s"):
            continue
        k = noun - 1
        while k >= 0 and _kind(out[k]) == "size":
            k -= 1
        counted = k >= 0 and _kind(out[k]) == "num" and out[k] not in _EVERY
        if not counted and k >= 0 and _kind(out[k]) in ("art", "num", "color", "other"):
            continue
        end = noun + 1
        while end < len(out) and (_kind(out[end]) in _SAID_OF_THINGS or out[end] == "each"):
            end += 1
        between = out[noun + 1:end]
        if not counted:
            start = end if between == ["in"] else None  # "balls in red, green and blue"
        elif end < len(out) and out[end] == "," and between:
            start = end + 1  # "two balls at the bottom, red and blue"
        else:
            start = end if between and all(_kind(w) == "filler" for w in between) else None  # "... are red, blue"
        counts = (_count_value(out[k]),) if counted else (3, 2)
        colours = next((c for n in counts if start is not None for c in [_each_of(out, start, n)] if c), None)
        if colours is None:
            continue
        if start > end:  # the place or motion said of them stays
            out[start:colours[-1] + 1] = _one_each(out, start, colours)
        else:  # "are" or "in" gives way to a comma
            out[noun + 1:colours[-1] + 1] = [",", *_one_each(out, start, colours)]
        if not counted:
            out.insert(k + 1, str(len(colours)))
        return _looks_after_what_is_said(out)
    return out


def _each_of(tokens: list[str], k: int, count: int) -> list[int] | None:
    """The places of ``count`` single colours listed from ``k`` ("red, green and blue"), or None."""
    places, i = [], k
    while len(places) < count and i < len(tokens) and _kind(tokens[i]) in ("color", "badcolor"):
        places.append(i)
        i += 1
        if len(places) < count and i < len(tokens) and tokens[i] in (",", "and"):
            i += 1 + (tokens[i] == "," and i + 1 < len(tokens) and tokens[i + 1] == "and")
    ends = i == len(tokens) or tokens[i] in _PUNCTUATION
    return places if len(places) == count and count > 1 and ends else None


def _one_each(tokens: list[str], k: int, colours: list[int]) -> list[str]:
    """The tokens from ``k`` to the last colour, with "one" before each colour."""
    out = []
    for i in range(k, colours[-1] + 1):
        out += ["one", tokens[i]] if i in colours else [tokens[i]]
        if i in colours and i + 1 in colours:
            out.append(",")  # "red green and blue"
    return out


def _check_comparatives(tokens: list[str]) -> None:
    """Refuse "a big ball and a bigger box": with three sizes, bigger than big is no size there is."""
    for word in set(tokens) & {"bigger", "larger", "smaller"}:
        same = next((t for t in tokens if t != word and _SIZES.get(t) == _SIZES[word]), None)
        if same is not None:
            raise PromptError(f"'{same}' and '{word}': sizes are small, medium and large, one each; say e.g. 'a "
                              "medium red ball and a large blue ball'")


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


_ONE_WORDS = frozenset({"one", "single", "only", "alone", "sole", "lone", "just"})


def _check_one_pink_agent(tokens: list[str]) -> None:
    """ "One pink robot", "only a pink agent", "a single agent, pink": one agent, and pink. A scene always has
    the white agent and the pink one is its second, so this would draw two agents where the prompt said one."""
    for k, word in enumerate(tokens):  # "two pink agents", "a pink agent and another pink agent"
        if word == "pink" and (tokens[k + 1:k + 2] in (["agents"], ["robots"], ["players"], ["bots"]) or (
                k and tokens[k - 1] == "another")):
            raise PromptError(f"'{' '.join(tokens[max(0, k - 1):k + 2])}': there is one pink agent; two agents are "
                              "the white one and the pink one")
    if {"white", "both", "second", "another", "other", "two", "2"} & set(tokens) or any(
            t.endswith("s") and t[:-1] in _AGENT_NOUNS for t in tokens):
        return
    for k, word in enumerate(tokens):
        if word not in _AGENT_NOUNS:
            continue
        start = max(0, k - 3)
        near = tokens[start:k + 4]
        if "pink" in near and _ONE_WORDS & set(near):
            said = [start + j for j, t in enumerate(near) if t == "pink" or t in _ONE_WORDS] + [k]
            phrase = " ".join(tokens[min(said):max(said) + 1]).replace(" ,", ",")
            raise PromptError(f"{phrase!r}: a scene always has the white agent, and a pink agent is its "
                              "second; for one agent say 'the agent', for two name both, e.g. 'the white agent on "
                              "the left and the pink agent on the right'")


_DIFFERENT = {"colours": "color", "colors": "color", "colour": "color", "color": "color", "shapes": "shape",
              "shape": "shape"}


def _distinct_looks(tokens: list[str]) -> tuple[list[str], frozenset[str]]:
    """Take out "(all) (of) different colours" or "... shapes" ("two balls of different colours", "a box, a
    ball and a cylinder, all different colours"): the things it is said of differ in that, which
    :func:`_fill_objects` keeps when it draws what the prompt left unsaid."""
    out, said = list(tokens), set()
    k = 0
    while k < len(out):
        if out[k] == "different" and out[k + 1:k + 2] and out[k + 1] in _DIFFERENT:
            start = k
            while start > 0 and out[start - 1] in ("all", "each", "of", "in", "with", "are", "is", "and"):
                start -= 1
            tail = next((j for j in range(k + 2, len(out)) if out[j] not in _DIFFERENT and out[j] != "and"), len(out))
            if start > 0 and out[start - 1] == "," and out[tail:tail + 1] in ([], [","], ["."]):
                start -= 1  # ", all different colours" at the end of its list
            end = k + 2
            said.add(_DIFFERENT[out[k + 1]])
            if out[end:end + 1] == ["and"] and out[end + 1:end + 2] and out[end + 1] in _DIFFERENT:
                said.add(_DIFFERENT[out[end + 1]])  # "different shapes and colours"
                end += 2
            out[start:end] = []
            k = start
        else:
            k += 1
    return out, frozenset(said)


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


# --------------------------------------------------------------------------------------------
# Draft -> spec (sampling whatever the prompt left out)
# --------------------------------------------------------------------------------------------


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


def parse_prompt(text: str, seed: int | None = None) -> SceneSpec:
    """Turn a templated prompt (or a caption) into a scene spec.

    Args:
        text: E.g. "a red box and a blue ball, the agent pushes the box to the left".
        seed: Seeds whatever the prompt leaves out; the same text and seed give the same spec.

    Returns:
        A valid spec. ``caption(parse_prompt(caption(s), seed)) == caption(s)`` for any spec ``s``.

    Raises:
        PromptError: An unknown word (the message names it and lists the supported words); an
            unsupported colour, shape or count; more objects or agents than a scene holds; a count
            that disagrees with the list after it; a place relative to another thing; a second place
            or motion for one thing; or a layout that does not fit.
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
