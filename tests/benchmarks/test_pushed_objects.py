"""benchmarks/pushed_objects.py: a pushed object the generation drops is counted lost; the agent is not scored."""

from __future__ import annotations

import numpy as np

from tests.benchmarks import load_script

COLORS = {"red": (230, 20, 20), "blue": (20, 20, 230), "agent": (255, 255, 255)}


def _frame(objects: dict[str, tuple[int, int]]) -> np.ndarray:
    img = np.full((64, 64, 3), 60, np.uint8)
    for name, (col, row) in objects.items():
        img[row:row + 5, col:col + 5] = COLORS[name]
    return img


def test_pushed_object_lost_and_kept_per_step():
    po = load_script("pushed_objects")
    last = _frame({"agent": (4, 10), "red": (10, 10), "blue": (40, 40)})
    truth = np.stack([_frame({"agent": (4 + 3 * k, 10), "red": (10 + 3 * k, 10), "blue": (40, 40)}) for k in (1, 2)])
    kept = np.stack([_frame({"agent": (4 + 3 * k, 10), "red": (10 + 3 * k, 10), "blue": (40, 40)}) for k in (1, 2)])
    dropped = np.stack([_frame({"agent": (7, 10), "red": (13, 10), "blue": (40, 40)}),
                        _frame({"agent": (10, 10), "blue": (40, 40)})])  # red dissolves at step 2
    s = po.score(np.stack([truth, truth]), np.stack([kept, dropped]), np.stack([last, last]), COLORS, (), "agent")
    assert s["lost"] == [[False, False], [False, True]]  # only red is scored: the agent and still blue are not
    assert s["error"][1][0] == 0.0 and s["error"][1][1] == np.hypot(64, 64)
    np.testing.assert_allclose(s["repeat"][1], [6.0, 6.0])
    assert len(s["moves"][1]) == 1 and po._ratio(s["moves"][1]) == 1.0  # the kept red moved all the way
    assert len(s["agent_moves"][1]) == 2 and po._ratio(s["agent_moves"][1]) == 1.0  # the agent, apart
    half = np.stack([_frame({"agent": (7, 10), "red": (col, 10), "blue": (40, 40)}) for col in (11, 13)])  # 3 of 6 px
    lagging = po.score(truth[None], half[None], last[None], COLORS, (), "agent")
    assert po._ratio(lagging["moves"][1]) == 0.5


def test_starts_leave_room_for_the_steps():
    class Episode:
        frames = np.zeros((20, 1))

    pairs = load_script("pushed_objects").starts([Episode(), Episode()], context=4, steps=8, stride=3)
    assert pairs[0] == (0, 3) and all(t + 8 <= 19 for _, t in pairs) and {i for i, _ in pairs} == {0, 1}
