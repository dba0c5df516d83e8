"""benchmarks/text_faithfulness.py: prompts read from a file are parsed whole, and refusals are kept."""

from __future__ import annotations

import pytest

from tests.benchmarks import BENCHMARKS, load_script


def test_prompts_file_parses_each_line_and_lists_refusals(tmp_path):
    tf = load_script("text_faithfulness")
    path = tmp_path / "prompts.txt"
    path.write_text("# a comment\n\nin the top left corner there is a red ball\n"
                    "a green ball under the slab\n  two balls, both on the left  \n")
    items, refused = tf.prompts_from_file(str(path), seed=0)
    assert [text for text, _, _ in items] == ["in the top left corner there is a red ball",
                                             "two balls, both on the left"]
    assert [(o.color, o.shape) for o in items[0][1].objects] == [("red", "sphere")]
    assert len(items[1][1].objects) == 2
    assert [r["prompt"] for r in refused] == ["a green ball under the slab"]
    assert "not placed by the slab" in refused[0]["error"]
    assert tf.prompts_from_file(str(path), seed=0)[0][1][1] == items[1][1]  # same seed, same scenes


def test_prompts_file_with_nothing_that_parses_says_so(tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_text("a green ball under the slab\n")
    with pytest.raises(SystemExit, match="no prompt parses"):
        load_script("text_faithfulness").prompts_from_file(str(path), seed=0)


def test_shipped_written_prompts_mostly_parse():
    written = BENCHMARKS / "prompts_written.txt"
    items, refused = load_script("text_faithfulness").prompts_from_file(str(written), seed=0)
    assert len(items) >= 30 and len(refused) <= len(items) // 4


def test_detector_reads_mujoco_frames_as_their_scene():
    """MuJoCo's own frame of a parsed scene shows its objects and no other colour: the pink agent is
    not taken for a magenta object."""
    from worldsim.envs.prompt import parse_prompt

    tf = load_script("text_faithfulness")
    detect = tf.Detector()
    spec = parse_prompt("a green box at the top; the white agent is at the bottom right and the pink agent is "
                        "on the right", seed=0)
    frame = tf._gt_frame(spec, 0)
    assert {c for c, centroid in detect(frame).items() if centroid is not None} == {"green"}
    assert all(centroid is not None for centroid, _ in detect.agents(frame).values())
    row = tf.score_frame(frame, spec, detect(frame), spec, detect, detect.agents(frame))
    assert row["all_present"] and not row["extra_colors"] and row["agents_as_named"]
