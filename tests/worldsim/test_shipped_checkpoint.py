"""A floor on the shipped checkpoint's quality, so a retrained model cannot silently regress.

PSNR is no judge of these mostly static scenes (repeating the last frame scores above the
autoencoder's own ceiling), so the floor is on the centroid error of moving objects.
"""

from pathlib import Path

import numpy as np
import pytest

from envs.learned import DEFAULT_CHECKPOINT
from worldsim.checkpoint import load_checkpoint

pytestmark = pytest.mark.skipif(not (DEFAULT_CHECKPOINT / "config.json").exists(),
                                reason="no shipped checkpoint in this checkout")


def test_shipped_checkpoint_is_small_and_loads_without_pickle():
    size = sum(p.stat().st_size for p in Path(DEFAULT_CHECKPOINT).iterdir())
    assert size < 50 * 2**20
    config, tensors, meta = load_checkpoint(DEFAULT_CHECKPOINT, kind="worldmodel")
    assert config["dit"]["action_dim"] == 4 and meta["step"] > 0


@pytest.mark.slow
def test_shipped_model_beats_repeat_last_frame_on_moving_objects(tmp_path):
    """The floor the shipped model holds: open loop, it tracks moving objects better than repeating the
    last frame over the first 4 steps, and keeps most objects in view for 16 steps.

    It does not yet beat the baseline at horizon 16 (its moving agent fades after about 5 steps; see
    benchmarks/check_pushbox.json), so the floor sits where the model truly is.
    """
    from worldsim.cli import CheckConfig, check

    report = check(CheckConfig(env="WorldSim/PushBox-v0", episodes=8, horizon=16, seed=2_000_000,
                               out=str(tmp_path), videos=1))
    model = np.array(report["model"]["centroid_error_px"]["mean"], float)
    baseline = np.array(report["baseline"]["centroid_error_px"]["mean"], float)
    assert np.nanmean(model[:4]) < 0.8 * np.nanmean(baseline[:4])
    assert report["model"]["permanence"]["mean"][15] > 0.6
