"""benchmarks/first_step.py: the fits of an object's move, and the frames made without the DiT."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

from tests.benchmarks import load_script
from worldsim.autoencoder import Autoencoder, AutoencoderConfig

COLORS = {"red": (230, 20, 20), "agent": (255, 255, 255)}


def _frame(agent: int, red: int) -> np.ndarray:
    img = np.full((64, 64, 3), 60, np.uint8)
    img[10:15, agent:agent + 5] = COLORS["agent"]
    img[40:45, red:red + 5] = COLORS["red"]
    return img


def test_fits_scale_the_generated_move_on_the_true_one():
    fs = load_script("first_step")
    episodes = [SimpleNamespace(frames=np.stack([_frame(10, 20), _frame(12, 24)]))]  # agent +2, red +4 px
    half = np.stack([_frame(11, 22)])  # both moved half way
    agent, others = fs.fits(episodes, half, 1, COLORS, (), agent=1)
    assert agent["slope"] == 0.5 and others["slope"] == 0.5 and others["moves"] == 1
    agent, others = fs.fits(episodes, np.stack([_frame(10, 20)]), 1, COLORS, (), agent=1)  # nothing moved
    assert agent["slope"] == 0.0 and others["generated_px"] == 0.0


def test_baselines_round_trip_the_truth_and_extrapolate_latents():
    fs = load_script("first_step")
    torch.manual_seed(0)
    ae = Autoencoder(AutoencoderConfig(channels=(8, 8, 8), decoder_channels=(8, 8, 8))).eval()
    model = SimpleNamespace(autoencoder=ae)
    frames = np.stack([_frame(10 + 2 * t, 20 + 4 * t) for t in range(3)])
    episodes = [SimpleNamespace(frames=frames)]
    one = fs.baseline_frames(model, episodes, 1)
    assert set(one) == {"round_trip"}  # one true frame has no change to continue
    two = fs.baseline_frames(model, episodes, 2)
    np.testing.assert_array_equal(two["round_trip"], ae.round_trip(frames[2:3]))
    with torch.no_grad():
        last, before = (ae.encode(torch.from_numpy(frames[i:i + 1])) for i in (1, 0))
        expected = ae.decode(2 * last - before).numpy()
    np.testing.assert_allclose(two["extrapolated"].astype(int), expected.astype(int), atol=1)  # batched float sums
