"""Collector: frames/actions alignment, resize, one-hot actions, resume after a kill, config checks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from worldsim import store as store_mod
from worldsim.collect import CollectConfig, action_vector, collect, resize_frame
from worldsim.store import ConfigMismatchError, EpisodeStore, StoreError

REPO = Path(__file__).resolve().parents[2]
DOT_ID = "worldsim_test/Dot-v0"
SCRIPTED_DOT_ID = "worldsim_test/ScriptedDot-v0"


class DotEnv(gym.Env):
    """A dot on a line; actions 0/1/2 move it left/stay/right. Renders 48x80 frames coloured (pos, t, 200)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, render_mode: str | None = None):
        self.render_mode = render_mode
        self.action_space = spaces.Discrete(3)
        self.observation_space = spaces.Box(-100, 100, (1,), np.float32)
        self.received: list[int] = []

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos, self.t = int(self.np_random.integers(3, 8)), 0
        info = {"caption": f"a dot at {self.pos}", "spec": {"start": self.pos, "nested": {"a": [1, 2]}}}
        return np.array([self.pos], np.float32), info

    def step(self, action):
        self.received.append(int(action))
        self.pos += int(action) - 1
        self.t += 1
        return np.array([self.pos], np.float32), float(10 * self.pos), self.pos <= 0, False, {}

    def render(self):
        frame = np.empty((48, 80, 3), np.uint8)
        frame[...] = (self.pos, self.t, 200)
        return frame

    def object_states(self):
        return np.array([[self.pos, 0.0, 0.0, 0.0]], np.float32)


class ScriptedDotEnv(DotEnv):
    def scripted_action(self, rng: np.random.Generator) -> int:
        return 0 if rng.random() < 0.8 else 2  # mostly left


for env_id, cls in ((DOT_ID, DotEnv), (SCRIPTED_DOT_ID, ScriptedDotEnv)):
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=cls, max_episode_steps=100)


def cfg(out, **kw) -> CollectConfig:
    defaults = {"env_id": DOT_ID, "episodes": 4, "steps": 6, "policy": "random", "progress": False}
    return CollectConfig(**{**defaults, "out": str(out), **kw})


def test_frames_actions_rewards_aligned(tmp_path):
    summary = collect(cfg(tmp_path, episodes=5, steps=12))
    assert summary["collected"] == 5 and summary["skipped"] == 0
    store = EpisodeStore(tmp_path)
    assert store.indices() == [0, 1, 2, 3, 4]
    for i in store.indices():
        ep = store.read(i)
        assert ep.frames.shape[1:] == (64, 64, 3)  # resized from 48x80
        pos = ep.frames[:, 0, 0, 0].astype(int)  # [T+1]
        np.testing.assert_array_equal(ep.frames[:, 0, 0, 1], np.arange(len(ep) + 1))  # frame t: after t steps
        # frame t+1 is what action t produced (one-hot: left, stay, right), reward t is its position * 10
        np.testing.assert_array_equal(pos[1:] - pos[:-1], ep.actions.argmax(1) - 1)
        np.testing.assert_array_equal(ep.rewards, 10 * pos[1:])
        np.testing.assert_array_equal(ep.states[:, 0, 0], pos)
        assert ep.caption == f"a dot at {pos[0]}"
        assert ep.spec == {"start": int(pos[0]), "nested": {"a": [1, 2]}}
        assert ep.seed == i and ep.env_id == DOT_ID
        ends = ep.terminated | ep.truncated
        assert ends[-1] and not ends[:-1].any()
        assert ep.terminated[-1] == (pos[-1] <= 0)
        assert ep.truncated[-1] == (len(ep) == 12 and pos[-1] > 0)  # cut by `steps`


def test_discrete_actions_stored_one_hot(tmp_path):
    collect(cfg(tmp_path, episodes=2, steps=20))
    for ep in EpisodeStore(tmp_path):
        assert ep.actions.dtype == np.float32 and ep.actions.shape[1] == 3
        assert set(np.unique(ep.actions)) <= {0.0, 1.0}
        np.testing.assert_array_equal(ep.actions.sum(1), 1.0)
    np.testing.assert_array_equal(action_vector(spaces.Discrete(3, start=-1), 1), [0, 0, 1])
    np.testing.assert_array_equal(action_vector(spaces.MultiDiscrete([2, 3]), [1, 0]), [0, 1, 1, 0, 0])
    np.testing.assert_array_equal(action_vector(spaces.Box(-1, 1, (2, 2)), np.eye(2)), [1, 0, 0, 1])


def test_resize_is_area_average():
    rng = np.random.default_rng(0)
    big = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    small = resize_frame(big, 64)
    expected = big.reshape(64, 2, 64, 2, 3).astype(np.float64).mean(axis=(1, 3))  # exact 2x2 means
    assert small.shape == (64, 64, 3) and small.dtype == np.uint8
    assert np.abs(small - expected).max() <= 0.5 + 1e-4
    # 96 -> 64 covers 1.5 input pixels per output pixel: compare with 2x nearest upsampling, then 3x3 means
    mid = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
    expected = mid.repeat(2, 0).repeat(2, 1).reshape(64, 3, 64, 3, 3).astype(np.float64).mean(axis=(1, 3))
    assert np.abs(resize_frame(mid, 64) - expected).max() <= 0.5 + 1e-4
    frame = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    assert resize_frame(frame, 64).tobytes() == frame.tobytes()  # already the right size: untouched
    wide = np.zeros((30, 90, 3), np.uint8)
    wide[:, 45:] = 255  # left half black, right half white; upscaled rows, downscaled columns
    out = resize_frame(wide, 64)
    assert out.shape == (64, 64, 3) and (out[:, :31] == 0).all() and (out[:, 33:] == 255).all()


def test_resume_skips_existing_and_matches_a_clean_run(tmp_path):
    collect(cfg(tmp_path / "a", episodes=3))
    summary = collect(cfg(tmp_path / "a", episodes=6))
    assert (summary["collected"], summary["skipped"], summary["store_episodes"]) == (3, 3, 6)
    collect(cfg(tmp_path / "b", episodes=6))
    a, b = EpisodeStore(tmp_path / "a").manifest, EpisodeStore(tmp_path / "b").manifest
    assert [e["sha256"] for e in a["episodes"]] == [e["sha256"] for e in b["episodes"]]


def test_corrupt_and_leftover_files_are_recollected(tmp_path):
    collect(cfg(tmp_path / "clean"))
    collect(cfg(tmp_path / "hurt"))
    hurt = tmp_path / "hurt"
    data = (hurt / "episode_000002.npz").read_bytes()
    (hurt / "episode_000002.npz").write_bytes(data[:100])
    (hurt / ".episode_000003.npz.123.abcd.tmp").write_bytes(b"half an episode")
    with pytest.warns(UserWarning, match=r"re-collecting unreadable episode files.*episode_000002\.npz"):
        summary = collect(cfg(hurt))
    assert summary["collected"] == 1
    assert not list(hurt.glob(".*.tmp"))
    clean = EpisodeStore(tmp_path / "clean").manifest["episodes"]
    assert EpisodeStore(hurt).manifest["episodes"] == clean
    EpisodeStore(hurt).validate()


def test_interrupt_keeps_finished_episodes(tmp_path, monkeypatch):
    """Ctrl-C during the third write: two complete episodes remain, listed; resuming completes the set."""
    real_write = store_mod.atomic_write_bytes

    def interrupted(path, data):
        if path.name == "episode_000002.npz":
            (path.parent / f".{path.name}.999.dead.tmp").write_bytes(data[: len(data) // 2])
            raise KeyboardInterrupt
        real_write(path, data)

    monkeypatch.setattr(store_mod, "atomic_write_bytes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        collect(cfg(tmp_path, episodes=5))
    monkeypatch.undo()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [e["index"] for e in manifest["episodes"]] == [0, 1]
    assert _episode_files(tmp_path) == ["episode_000000.npz", "episode_000001.npz"]
    summary = collect(cfg(tmp_path, episodes=5))
    assert (summary["collected"], summary["store_episodes"]) == (3, 5)
    assert not list(tmp_path.glob(".*.tmp"))


def test_config_mismatch_and_no_resume_errors(tmp_path):
    collect(cfg(tmp_path, episodes=2))
    with pytest.raises(ConfigMismatchError, match=r"size: stored 64, requested 32"):
        collect(cfg(tmp_path, episodes=3, size=32))
    with pytest.raises(ConfigMismatchError, match=r"env_id: stored 'worldsim_test/Dot-v0'"):
        collect(cfg(tmp_path, episodes=3, env_id=SCRIPTED_DOT_ID))
    with pytest.raises(StoreError, match=r"already holds 2 episodes; resume"):
        collect(cfg(tmp_path, episodes=3, resume=False))
    assert EpisodeStore(tmp_path).indices() == [0, 1]


def test_scripted_policy(tmp_path):
    with pytest.raises(ValueError, match=r"Dot-v0 has no scripted policy.*use policy='random'"):
        collect(cfg(tmp_path / "a", policy="scripted"))
    collect(cfg(tmp_path / "b", env_id=SCRIPTED_DOT_ID, policy="scripted", steps=30))
    collect(cfg(tmp_path / "c", env_id=SCRIPTED_DOT_ID, policy="scripted", steps=30))
    eps_b, eps_c = list(EpisodeStore(tmp_path / "b")), list(EpisodeStore(tmp_path / "c"))
    left = np.concatenate([ep.actions[:, 0] for ep in eps_b])
    assert 0.6 < left.mean() < 0.95  # the scripted policy (80 % left), not uniform random
    for x, y in zip(eps_b, eps_c):
        assert x.actions.tobytes() == y.actions.tobytes() and x.frames.tobytes() == y.frames.tobytes()


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"episodes": 0}, "episodes must be an int >= 1"),
        ({"policy": "greedy"}, "unknown policy 'greedy'"),
        ({"env_kwargs": {"render_mode": "human"}}, "without 'render_mode'"),
        ({"env_kwargs": {"x": object()}}, "JSON-safe"),
        ({"seed": -1}, "seed must be an int >= 0"),
    ],
)
def test_config_validation(tmp_path, change, match):
    with pytest.raises(ValueError, match=match):
        cfg(tmp_path, **change)


def _episode_files(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob("episode_*.npz")) if root.is_dir() else []


@pytest.mark.slow
def test_killed_parallel_collection_resumes_cleanly(tmp_path):
    """SIGKILL a 2-worker MuJoCo collection mid-way; resuming gives exactly the clean run's episodes."""
    n, killed, clean = 40, tmp_path / "killed", tmp_path / "clean"
    settings = dict(env_id="InvertedPendulum-v5", episodes=n, steps=15, policy="random", progress=False)
    settings["env_kwargs"] = {"width": 96, "height": 96}  # renders 96x96, stored 64x64
    code = textwrap.dedent(
        f"""
        from worldsim.collect import CollectConfig, collect
        collect(CollectConfig(**{settings!r}, out={str(killed)!r}, workers=2))
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO, env=env, start_new_session=True, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 90
        while len(_episode_files(killed)) < 4:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the collection made no progress"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the parent and both workers, mid-episode
        proc.wait()
        proc.stderr.close()
    done_when_killed = _episode_files(killed)
    assert 4 <= len(done_when_killed) < n, "the kill came too late to test anything"
    for name in done_when_killed:
        assert EpisodeStore(killed).read(int(name[8:14])).frames.shape[1:] == (64, 64, 3)

    summary = collect(CollectConfig(**settings, out=str(killed)))
    assert summary["skipped"] >= len(done_when_killed) and summary["store_episodes"] == n
    collect(CollectConfig(**settings, out=str(clean)))

    resumed_store, clean_store = EpisodeStore(killed), EpisodeStore(clean)
    assert resumed_store.indices() == list(range(n)) == clean_store.indices()
    assert not list(killed.glob(".*.tmp")), "temp files of the killed writers were not cleaned"
    manifest = json.loads((killed / "manifest.json").read_text())
    assert [e["index"] for e in manifest["episodes"]] == list(range(n))  # no duplicate, none missing
    assert manifest["config"] == json.loads((clean / "manifest.json").read_text())["config"]
    resumed_store.validate()
    for i in range(n):
        a, b = resumed_store.read(i), clean_store.read(i)
        assert a.frames.tobytes() == b.frames.tobytes() and a.actions.tobytes() == b.actions.tobytes()
        assert a.rewards.tobytes() == b.rewards.tobytes() and a.seed == b.seed == i
    clean_hashes = [e["sha256"] for e in clean_store.manifest["episodes"]]
    assert [e["sha256"] for e in manifest["episodes"]] == clean_hashes  # byte-identical files


def test_pushbox_scene(tmp_path):
    from worldsim import envs  # noqa: F401  (registers the WorldSim scenes)

    assert "WorldSim/PushBox-v0" in gym.registry
    for policy in ("random", "scripted"):
        out = tmp_path / policy
        config = CollectConfig("WorldSim/PushBox-v0", 2, 10, policy, str(out), workers=1, progress=False)
        summary = collect(config)
        assert summary["collected"] == 2
        store = EpisodeStore(out)
        assert store.config["action_dim"] == 2 and store.config["frame_shape"] == [64, 64, 3]
        for ep in store:
            assert ep.frames.shape[1:] == (64, 64, 3) and ep.actions.shape[1] == 2
            assert ep.caption and ep.spec
            assert ep.states.shape[0] == len(ep) + 1 and ep.states.shape[1] >= 2 and ep.states.shape[2] == 4
            assert ep.frames.std() > 0


def _policy_file(path: Path, seed: int) -> str:
    import torch
    from stable_baselines3.common.policies import ActorCriticCnnPolicy

    from worldsim.agents.policy_file import save_policy_file

    torch.manual_seed(seed)
    policy = ActorCriticCnnPolicy(spaces.Box(0, 255, (3, 64, 64), np.uint8), spaces.Box(-1.0, 1.0, (2,), np.float32),
                                  lambda _: 3e-4, net_arch=[8], log_std_init=0.5)
    return str(save_policy_file(policy, path))


def test_a_policy_file_collects_seeded_episodes_of_its_own_actions(tmp_path):
    policy = _policy_file(tmp_path / "policy.safetensors", seed=0)
    make = lambda out, **kw: CollectConfig(**{"env_id": "WorldSim/Reach-v0", "episodes": 2, "steps": 6,  # noqa: E731
                                              "policy": policy, "out": str(tmp_path / out), "progress": False, **kw})
    collect(make("a"))
    collect(make("b"))
    a, b = list(EpisodeStore(tmp_path / "a")), list(EpisodeStore(tmp_path / "b"))
    for x, y in zip(a, b, strict=True):  # the policy's noise is drawn from the episode's seed, not torch's stream
        assert x.actions.tobytes() == y.actions.tobytes() and x.frames.tobytes() == y.frames.tobytes()
    actions = np.concatenate([ep.actions for ep in a])
    assert np.all(np.abs(actions) <= 1.0) and np.unique(actions.round(4), axis=0).shape[0] == len(actions)
    assert EpisodeStore(tmp_path / "a").manifest["config"]["policy_sha256"]

    _policy_file(tmp_path / "policy.safetensors", seed=1)  # retrained in place: not the same policy
    with pytest.raises(ConfigMismatchError, match="policy_sha256"):
        collect(make("a", episodes=3))
    with pytest.raises(ValueError, match="does not exist"):
        make("c", policy=str(tmp_path / "missing.safetensors"))
    with pytest.raises(ValueError, match="acts in"):
        collect(make("d", env_id="WorldSim/TwoAgents-v0"))
