"""``worldsim export``: an episode store as a Minari dataset, and back."""

from __future__ import annotations

import os

import numpy as np
import pytest

from worldsim.cli import main
from worldsim.collect import CollectConfig, collect
from worldsim.store import EpisodeStore

minari = pytest.importorskip("minari")


def test_a_store_exported_to_minari_loads_back_with_its_env(tmp_path, monkeypatch):
    store = tmp_path / "store"
    collect(CollectConfig(env_id="WorldSim/PushBox-v0", policy="random", episodes=2, steps=4, out=str(store), seed=5))
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "elsewhere"))
    args = ["export", "--data", str(store), "--dataset-id", "worldsim/pushbox/test-v0",
            "--minari-path", str(tmp_path / "minari")]
    main(args)
    assert os.environ["MINARI_DATASETS_PATH"] == str(tmp_path / "elsewhere")  # the caller's setting is back

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    dataset = minari.load_dataset("worldsim/pushbox/test-v0")
    ours = EpisodeStore(store)
    assert dataset.total_episodes == 2
    for i, theirs in zip(ours.indices(), dataset.iterate_episodes(), strict=True):
        ep = ours.read(i)
        np.testing.assert_array_equal(theirs.observations, ep.frames)  # lossless
        np.testing.assert_allclose(theirs.actions, ep.actions)
        np.testing.assert_allclose(theirs.rewards, ep.rewards, rtol=1e-6)
        np.testing.assert_array_equal(theirs.terminations, ep.terminated)
        np.testing.assert_array_equal(theirs.truncations, ep.truncated)
    env = dataset.recover_environment()
    assert env.spec.id == "WorldSim/PushBox-v0"
    assert env.reset(seed=0)[0].shape == (64, 64, 3)
    env.close()

    with pytest.raises(SystemExit):  # the dataset exists: a clear one-line error, and it is kept
        main(args)
    assert minari.load_dataset("worldsim/pushbox/test-v0").total_episodes == 2
