"""Captions and prompt parsing: exact templates, round trips, paraphrases, seeding and errors."""

from __future__ import annotations

import numpy as np
import pytest

from envs.caption import PromptError, caption, parse_prompt
from envs.scene import (
    FAMILIES,
    PALETTE,
    AgentSpec,
    GoalSpec,
    ObjectSpec,
    SceneSpec,
    SlabSpec,
    TaskSpec,
    region_of,
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
    assert 1 <= len(parse_prompt("the agent is on the left", seed=1).objects) <= 3  # objects sampled


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
