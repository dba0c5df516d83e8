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

The parser is a package of modules, one for each stage a prompt goes through, in this order
(:func:`parse_prompt`, here, runs them all):

* ``errors``: :class:`PromptError`, the one error the parser raises.
* ``vocabulary``: the words it reads, by kind, and :func:`supported_words`; ``grid``: the 3x3 grid of
  regions and the ways between them. Every stage below uses both.
* ``normalise``: prompt text -> normalised text (paraphrases rewritten into the forms read below, what no
  scene can show refused with the reason; the scene family or label heading the prompt).
* ``tokens``: normalised text -> tokens, rewritten and checked (every word known).
* ``segments``: one clause's words -> segments: nouns, places, motions, relations and markers.
* ``clauses``: tokens -> clauses of segments, merged and shared out (lists, "both", "all", plural verbs).
* ``draft``: the draft (what the prompt says of the scene) and how segments go into it.
* ``reader``: clauses -> draft (``_PromptReader``), and ``_read_prompt``: text -> draft.
* ``spec``: draft -> :class:`~worldsim.envs.scene.SceneSpec`, drawing what the prompt left out from the seed.
"""

from __future__ import annotations

import numpy as np

from worldsim.envs.caption import caption
from worldsim.envs.prompt.errors import PromptError
from worldsim.envs.prompt.reader import _read_prompt
from worldsim.envs.prompt.spec import _make_spec
from worldsim.envs.prompt.vocabulary import FILLER_WORDS, supported_words
from worldsim.envs.scene import SceneSpec

__all__ = ["FILLER_WORDS", "PromptError", "canonical_prompt", "parse_prompt", "supported_words"]


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
