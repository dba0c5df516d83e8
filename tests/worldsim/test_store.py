"""Episode store: atomic writes, bit-exact round trips, corruption detection, manifest, clips and splits."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

from worldsim import store as store_mod
from worldsim.store import (
    ConfigMismatchError,
    CorruptEpisodeError,
    Episode,
    EpisodeStore,
    StoreError,
    read_episode,
    select_split,
    split_of,
    write_episode,
)

REPO = Path(__file__).resolve().parents[2]


def make_episode(steps: int = 5, seed: int = 0, size: int = 8, action_dim: int = 2, end: str = "") -> Episode:
    """A random episode; `end` is "", "terminated" or "truncated" (flag on the last step)."""
    rng = np.random.default_rng(seed)
    terminated = np.zeros(steps, bool)
    truncated = np.zeros(steps, bool)
    if end:
        {"terminated": terminated, "truncated": truncated}[end][-1] = True
    return Episode(
        frames=rng.integers(0, 256, (steps + 1, size, size, 3), dtype=np.uint8),
        actions=rng.standard_normal((steps, action_dim)).astype(np.float32),
        rewards=rng.standard_normal(steps).astype(np.float32),
        terminated=terminated,
        truncated=truncated,
        caption=f"a red box and a blue ball, episode {seed} – naïve ünïcode",
        spec={"objects": [{"color": "red", "size": 0.05, "pos": [0.1, -0.2]}], "slab": None, "n": seed},
        states=rng.standard_normal((steps + 1, 3, 4)).astype(np.float32),
        env_id="Test-v0",
        seed=seed,
        meta={"collect": {"policy": "random"}},
    )


def assert_same_episode(a: Episode, b: Episode) -> None:
    for name in ("frames", "actions", "rewards", "terminated", "truncated", "states"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape, name
        assert x.tobytes() == y.tobytes(), name  # bit-exact, NaN payloads included
    assert (a.caption, a.spec, a.env_id, a.seed, a.meta) == (b.caption, b.spec, b.env_id, b.seed, b.meta)


# ---- Episode ----------------------------------------------------------------------------------------


def test_episode_len_and_default_states():
    ep = make_episode(steps=4)
    assert len(ep) == 4 and ep.action_dim == 2
    ep = dataclasses.replace(ep, states=None)
    assert ep.states.shape == (5, 0, 0) and ep.states.dtype == np.float32


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"frames": np.zeros((6, 8, 8, 3), np.float32)}, r"frames must be a uint8 array"),
        ({"frames": np.zeros((6, 8, 8, 4), np.uint8)}, r"\[T\+1, H, W, 3\]"),
        ({"actions": np.zeros((4, 2), np.float32)}, r"actions has shape \(4, 2\).*T \+ 1 frames"),
        ({"actions": np.zeros((5, 2), np.float64)}, r"actions must be a float32 array.*np.asarray"),
        ({"rewards": np.zeros((5, 1), np.float32)}, r"rewards must be a float32 array of shape \[T\]"),
        ({"terminated": np.array([1, 0, 0, 0, 0], bool)}, r"flag at step 0 of 5; only the last step"),
        ({"states": np.zeros((5, 1, 4), np.float32)}, r"states has shape"),
        ({"spec": {"a": np.float32(1.0)}}, r"spec must be JSON-safe"),
        ({"caption": None}, r"caption must be a str"),
        ({"seed": 1.5}, r"seed must be an int"),
    ],
)
def test_episode_validation_errors(change, match):
    fields = {f.name: getattr(make_episode(), f.name) for f in dataclasses.fields(Episode)}
    with pytest.raises(ValueError, match=match):
        Episode(**{**fields, **change})


# ---- files ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("end", ["", "terminated", "truncated"])
def test_round_trip_bit_exact(tmp_path, end):
    ep = make_episode(steps=7, seed=3, end=end)
    ep.rewards[2] = np.float32(-0.0)  # the sign of zero survives too
    store = EpisodeStore(tmp_path)
    entry = store.write(42, ep)
    assert (tmp_path / "episode_000042.npz").is_file() and entry["file"] == "episode_000042.npz"
    assert_same_episode(store.read(42), ep)
    assert_same_episode(EpisodeStore(tmp_path).read(42), ep)  # a fresh reader, from the manifest
    # A plain numpy reader needs no pickle, and the JSON fields are a unicode array.
    with np.load(tmp_path / "episode_000042.npz", allow_pickle=False) as z:
        assert z["meta"].dtype.kind == "U"
        assert json.loads(str(z["meta"][()]))["spec"] == ep.spec


def test_equal_episodes_give_equal_files(tmp_path):
    a = write_episode(tmp_path / "a", 0, make_episode(seed=1))
    b = write_episode(tmp_path / "b", 0, make_episode(seed=1))
    assert a["sha256"] == b["sha256"]
    assert (tmp_path / "a" / a["file"]).read_bytes() == (tmp_path / "b" / b["file"]).read_bytes()


def test_manifest_lists_episodes(tmp_path):
    store = EpisodeStore(tmp_path)
    for i in (2, 0, 1):
        store.write(i, make_episode(steps=3 + i, seed=i, end="terminated" if i == 1 else ""))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["format"] == "worldsim.episodes"
    assert [e["index"] for e in manifest["episodes"]] == [0, 1, 2]
    assert [e["length"] for e in manifest["episodes"]] == [3, 4, 5]
    assert manifest["num_frames"] == 3 + 4 + 5 + 3
    e1 = manifest["episodes"][1]
    assert e1["seed"] == 1 and e1["terminated"] and e1["env_id"] == "Test-v0"
    assert e1["caption"] == make_episode(seed=1).caption
    assert e1["bytes"] == (tmp_path / e1["file"]).stat().st_size


def test_crash_mid_write_leaves_no_episode(tmp_path):
    """A process killed during a write leaves a temp file that is ignored, then cleaned."""
    code = textwrap.dedent(
        f"""
        import os, signal
        import numpy as np
        import worldsim.store as s
        frames = np.random.default_rng(0).integers(0, 256, (31, 64, 64, 3), dtype=np.uint8)
        ep = s.Episode(frames, np.zeros((30, 2), np.float32), np.zeros(30, np.float32),
                       np.zeros(30, bool), np.zeros(30, bool))
        s.os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)  # die after the data, before the rename
        s.write_episode({str(tmp_path)!r}, 3, ep)
        """
    )
    store = EpisodeStore(tmp_path)
    store.write(1, make_episode(seed=1))
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == -9
    leftovers = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".episode_000003.npz.")
    assert leftovers[0].stat().st_size > 0
    assert not (tmp_path / "episode_000003.npz").exists()
    reopened = EpisodeStore(tmp_path)
    assert reopened.indices() == [1] and not reopened.problems
    assert reopened.remove_temp_files() == leftovers
    assert sorted(p.name for p in tmp_path.iterdir()) == ["episode_000001.npz", "manifest.json"]


def test_failed_overwrite_keeps_old_episode(tmp_path, monkeypatch):
    store = EpisodeStore(tmp_path)
    old = make_episode(seed=1)
    store.write(0, old)

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(store_mod.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        store.write(0, make_episode(seed=2))
    monkeypatch.undo()
    assert_same_episode(EpisodeStore(tmp_path).read(0), old)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_truncated_file_is_detected(tmp_path):
    store = EpisodeStore(tmp_path)
    for i in range(3):
        store.write(i, make_episode(seed=i))
    path = tmp_path / "episode_000001.npz"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    reopened = EpisodeStore(tmp_path)
    assert reopened.indices() == [0, 2]
    assert "episode_000001.npz" in reopened.problems
    with pytest.raises(CorruptEpisodeError, match=r"episode_000001\.npz.*Delete it.*--resume"):
        reopened.read(1)
    with pytest.raises(CorruptEpisodeError, match=r"(?s)1 bad episode file.*episode_000001\.npz"):
        reopened.validate()
    with pytest.raises(CorruptEpisodeError, match=r"episode_000001\.npz"):
        read_episode(path)


def test_same_size_corruption_caught_by_validate(tmp_path):
    store = EpisodeStore(tmp_path)
    store.write(0, make_episode(steps=20, seed=0, size=32))
    path = tmp_path / "episode_000000.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # flip bits inside the compressed frames; the size is unchanged
    path.write_bytes(bytes(data))
    reopened = EpisodeStore(tmp_path)
    assert reopened.indices() == [0]  # the manifest vouches for the size ...
    with pytest.raises(CorruptEpisodeError, match=r"episode_000000\.npz"):
        reopened.validate()  # ... but the full check reads it


def test_validate_reports_totals(tmp_path):
    store = EpisodeStore(tmp_path)
    store.write(0, make_episode(steps=3))
    store.write(1, make_episode(steps=4))
    report = store.validate()
    assert report["episodes"] == 2 and report["steps"] == 7 and report["frames"] == 9
    assert report["frame_shape"] == [8, 8, 3] and report["action_dim"] == 2


def test_validate_flags_nonuniform_episodes(tmp_path):
    store = EpisodeStore(tmp_path)
    store.write(0, make_episode(size=8))
    store.write(1, make_episode(size=8))
    store.write(2, make_episode(size=16))
    with pytest.raises(CorruptEpisodeError, match=r"(?s)episode_000002\.npz: frame shape"):
        store.validate()


def test_foreign_files_give_clear_errors(tmp_path):
    (tmp_path / "episode_000000.npz").write_text("not an archive")
    np.savez(tmp_path / "episode_000001.npz", frames=np.zeros((2, 4, 4, 3), np.uint8))
    store = EpisodeStore(tmp_path)
    assert store.indices() == []
    with pytest.raises(CorruptEpisodeError, match=r"episode_000000\.npz is not a readable worldsim episode"):
        store.read(0)
    with pytest.raises(CorruptEpisodeError, match=r"episode_000001\.npz.*lacks the arrays"):
        store.read(1)
    with pytest.raises(KeyError, match="no episode 5"):
        store.read(5)
    other = tmp_path / "other"
    other.mkdir()
    (other / "manifest.json").write_text('{"name": "someone else"}')
    with pytest.raises(StoreError, match="not a worldsim episode manifest"):
        EpisodeStore(other).indices()


def test_npz_with_pickled_member_is_refused(tmp_path):
    ep = make_episode()
    arrays = {k: getattr(ep, k) for k in store_mod.ARRAY_KEYS}
    np.savez(tmp_path / "episode_000000.npz", **arrays, meta=np.array([{"format": "x"}], dtype=object))
    with pytest.raises(CorruptEpisodeError, match="pickle"):
        EpisodeStore(tmp_path).read(0)


def test_manifest_rebuilt_when_missing_or_stale(tmp_path):
    store = EpisodeStore(tmp_path)
    store.ensure_config({"env_id": "Test-v0"})
    for i in range(3):
        store.write(i, make_episode(seed=i))
    write_episode(tmp_path, 3, make_episode(seed=3))  # written, never registered: a crash before the save
    (tmp_path / "episode_000000.npz").unlink()
    stale = EpisodeStore(tmp_path)
    assert stale.indices() == [1, 2, 3]
    assert [e["index"] for e in json.loads((tmp_path / "manifest.json").read_text())["episodes"]] == [1, 2, 3]

    (tmp_path / "manifest.json").unlink()
    rebuilt = EpisodeStore(tmp_path)
    assert rebuilt.indices() == [1, 2, 3]
    assert rebuilt.config == {"policy": "random"}  # recovered from the episodes' own meta["collect"]
    assert rebuilt.manifest["episodes"] == stale.manifest["episodes"]
    assert (tmp_path / "manifest.json").is_file()

    (tmp_path / "manifest.json").write_text('{"format": "worldsim.episodes", "episo')  # unparseable
    with pytest.warns(UserWarning, match="rebuilding"):
        assert EpisodeStore(tmp_path).indices() == [1, 2, 3]

    (tmp_path / "manifest.json").write_text('{"format": "worldsim.episodes", "version": null}')  # no valid version
    with pytest.warns(UserWarning, match="no valid version"):
        assert EpisodeStore(tmp_path).indices() == [1, 2, 3]


def test_ensure_config(tmp_path):
    config = {"env_id": "A-v0", "policy": "random", "size": 64, "env_kwargs": {"w": (1, 2)}}
    store = EpisodeStore(tmp_path)
    store.ensure_config(config)
    store.write(0, make_episode())
    EpisodeStore(tmp_path).ensure_config(config)  # same config (tuples compared as JSON lists): fine
    with pytest.raises(ConfigMismatchError, match=r"policy: stored 'random', requested 'scripted'"):
        EpisodeStore(tmp_path).ensure_config({**config, "policy": "scripted"})
    bare = EpisodeStore(tmp_path / "bare")
    bare.write(0, make_episode())
    with pytest.raises(ConfigMismatchError, match="no dataset config"):
        bare.ensure_config(config)


def test_store_root_must_be_a_directory(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="is a file"):
        EpisodeStore(tmp_path / "file")
    assert len(EpisodeStore(tmp_path / "missing")) == 0


# ---- clips and splits -------------------------------------------------------------------------------


def test_splits_disjoint_deterministic_and_stable():
    indices = list(range(200))
    train = select_split(indices, "train", 0.1)
    val = select_split(indices, "val", 0.1)
    assert not set(train) & set(val) and sorted(train + val) == indices
    assert 14 <= len(val) <= 26
    assert val == select_split(indices, "val", 0.1)
    assert select_split(range(50), "val", 0.1) == [i for i in val if i < 50]  # growing keeps old splits
    assert split_of(0, 0.1) == "val" and split_of(0, 0.0) == "train"
    with pytest.raises(ValueError, match="split must be"):
        select_split(indices, "test", 0.1)
    with pytest.raises(ValueError, match="val_fraction"):
        split_of(3, 1.0)


def test_loading_an_empty_store_says_what_to_do(tmp_path):
    from worldsim.data import load_episodes

    with pytest.raises(FileNotFoundError, match="worldsim collect"):
        load_episodes((str(tmp_path),), 0.1)


def test_zip_members_are_plain_npy(tmp_path):
    write_episode(tmp_path, 0, make_episode())
    with zipfile.ZipFile(tmp_path / "episode_000000.npz") as zf:
        names = sorted(zf.namelist())
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in zf.infolist())
    assert names == sorted(f"{k}.npy" for k in (*store_mod.ARRAY_KEYS, "meta"))


def test_non_finite_actions_or_rewards_are_refused_on_write_and_on_read(tmp_path):
    import io

    from worldsim.store import CorruptEpisodeError, Episode, read_episode

    frames = np.zeros((3, 8, 8, 3), np.uint8)
    good = dict(frames=frames, actions=np.zeros((2, 2), np.float32), rewards=np.zeros(2, np.float32),
                terminated=np.zeros(2, bool), truncated=np.zeros(2, bool))
    for name, bad in (("actions", np.array([[0, np.nan], [0, 0]], np.float32)),
                      ("rewards", np.array([np.inf, 0], np.float32))):
        with pytest.raises(ValueError, match=f"Episode.{name} holds NaN or inf"):
            Episode(**{**good, name: bad})
    # a file written by other means with a NaN reward reads as corrupt, naming the file
    path = tmp_path / "episode_000000.npz"
    buffer = io.BytesIO()
    np.savez(buffer, **{**good, "rewards": np.array([np.nan, 0], np.float32), "states": np.zeros((3, 0, 0), np.float32),
                        "meta": np.frombuffer(b'{"format": "worldsim-episode"}', np.uint8)})
    path.write_bytes(buffer.getvalue())
    with pytest.raises(CorruptEpisodeError):
        read_episode(path)


def test_one_bad_entry_is_skipped_and_reported_not_fatal(tmp_path):
    store = EpisodeStore(tmp_path)
    for i in range(3):
        store.write(i, make_episode(seed=i))
    os.symlink(tmp_path / "episode_000004.npz", tmp_path / "episode_000004.npz")  # a link to itself: a loop
    # a copy of episode 1 whose frames header claims far more than the member holds (10 PiB)
    header = np.lib.format.header_data_from_array_1_0(np.zeros((1, 8, 8, 3), np.uint8))
    header["shape"] = (2**40, 64, 64, 3)
    claim = io.BytesIO()
    np.lib.format.write_array_header_1_0(claim, header)
    with zipfile.ZipFile(tmp_path / "episode_000001.npz") as z, \
            zipfile.ZipFile(tmp_path / "episode_000005.npz", "w") as out:
        for info in z.infolist():
            out.writestr(info, claim.getvalue() + b"\0" * 64 if info.filename == "frames.npy" else z.read(info))
    reopened = EpisodeStore(tmp_path)
    assert reopened.indices() == [0, 1, 2]
    assert "cannot be opened" in reopened.problems["episode_000004.npz"]
    assert "claims" in reopened.problems["episode_000005.npz"]
    (tmp_path / "manifest.json").write_text(json.dumps({**json.loads((tmp_path / "manifest.json").read_text()),
                                                         "episodes": 5}))
    with pytest.warns(UserWarning, match="rebuilding"):
        assert EpisodeStore(tmp_path).indices() == [0, 1, 2]


def test_validate_counts_the_files_not_the_manifest(tmp_path):
    store = EpisodeStore(tmp_path)
    store.write(0, make_episode(steps=3))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["episodes"][0]["length"] = 300
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorruptEpisodeError, match="3 steps, but manifest.json says 300"):
        EpisodeStore(tmp_path).validate()


def test_the_trainer_skips_and_reports_unreadable_episodes_and_refuses_mixed_stores(tmp_path):
    from worldsim.data import load_episodes

    store = EpisodeStore(tmp_path / "a")
    for i in range(3):
        store.write(i, make_episode(steps=20, seed=i, size=32))
    path = tmp_path / "a" / "episode_000001.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size: the manifest still lists it
    path.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match=r"(?s)skipped 1 unreadable.*episode_000001\.npz"):
        assert len(load_episodes((str(tmp_path / "a"),), 0.1).frames) == 2
    mixed = EpisodeStore(tmp_path / "b")
    mixed.write(0, make_episode(action_dim=2))
    mixed.write(1, make_episode(action_dim=3))
    with pytest.raises(CorruptEpisodeError, match=r"mixes \[2, 3\]-wide actions"):
        load_episodes((str(tmp_path / "b"),), 0.1)
    sizes = EpisodeStore(tmp_path / "c")
    sizes.write(0, make_episode(size=8))
    sizes.write(1, make_episode(size=16))
    with pytest.raises(CorruptEpisodeError, match="frames of sizes"):
        load_episodes((str(tmp_path / "c"),), 0.1)
