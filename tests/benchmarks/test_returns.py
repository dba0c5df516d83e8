"""benchmarks/returns.py: objects back in view after hiding, found in frames and scored."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from tests.benchmarks import load_script
from worldsim.simulator import SimulatorConfig
from worldsim.worldmodel import WorldModel

COLORS = {"red": (230, 20, 20), "blue": (20, 20, 230)}


def _frame(red: int | None, blue: int | None = 50) -> np.ndarray:
    img = np.full((64, 64, 3), 60, np.uint8)
    if red is not None:
        img[20:26, red:red + 6] = COLORS["red"]
    if blue is not None:
        img[40:46, blue:blue + 6] = COLORS["blue"]
    return img


def _episode() -> np.ndarray:
    """Red glides right, hides at frames 3-5 and is back from 6 on; blue first shows at frame 4."""
    reds = [4 * t if t not in (3, 4, 5) else None for t in range(10)]
    return np.stack([_frame(r, 50 if t >= 4 else None) for t, r in enumerate(reds)])


def test_find_returns_takes_the_first_frame_back_of_an_object_seen_before():
    rt = load_script("returns")
    frames = _episode()
    assert rt.find_returns([frames], COLORS, (), ahead=2) == [rt.Return(0, 6, 0)]
    assert rt.find_returns([frames], COLORS, (), ahead=5) == []  # frames 6-10 are not all in the episode


def test_placed_counts_an_object_near_its_true_centroid():
    rt = load_script("returns")
    truth = np.stack([_frame(24), _frame(28)])
    drawn = np.stack([_frame(26), _frame(None)])  # 2 px off, then missing
    assert rt.placed(drawn, truth, 0, COLORS, ()).tolist() == [True, False]


def test_the_last_frame_repeated_never_places_an_object_that_was_hidden(tiny_checkpoint):
    rt = load_script("returns")
    frames = _episode()
    episodes = [SimpleNamespace(frames=frames, actions=np.zeros((len(frames) - 1, 2), np.float32))]
    returns = rt.find_returns([frames], COLORS, (), ahead=2)
    shares = rt.measure(WorldModel.load(tiny_checkpoint), episodes, returns, 2, 1, 0, SimulatorConfig(), COLORS, ())
    assert shares["repeat_last"] == [0.0, 0.0]
    assert set(shares) == {"model", "repeat_last", "autoencoder"}
    assert all(0.0 <= v <= 1.0 for side in shares.values() for v in side)
