"""Checkpoints under crashes and hostile files: a save is one unit, and every bad load is a CheckpointError.

Also the bounded caption cache of the text encoder (tested with a stand-in encoder, no model loaded).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save

import worldsim.checkpoint as ckpt
from worldsim.checkpoint import CheckpointError, recover_checkpoint, save_checkpoint
from worldsim.worldmodel import WorldModel

from .helpers import json_paths, tiny_world_model

# --------------------------------------------------------------------------------------------
#                                          Helpers
# --------------------------------------------------------------------------------------------


def _model(step: int) -> WorldModel:
    """The tiny world model with weights that differ per ``step``, so two saves can be told apart."""
    wm = tiny_world_model()
    with torch.no_grad():
        wm.dit.final.linear.bias.fill_(float(step))
    return wm


def _assert_is(model: WorldModel, step: int) -> None:
    assert model.meta["step"] == step
    assert torch.equal(model.dit.final.linear.bias, torch.full_like(model.dit.final.linear.bias, float(step)))


def _header(path: Path) -> dict:
    return json.loads((path / "config.json").read_text())


def _write_header(path: Path, header: dict) -> None:
    (path / "config.json").write_text(json.dumps(header))


def _write_weights(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    """Replace the weights and record their hash, as a consistent (if hostile) save would."""
    data = save(tensors)
    (path / "weights.safetensors").write_bytes(data)
    header = _header(path)
    header["weights_sha256"] = hashlib.sha256(data).hexdigest()
    _write_header(path, header)


def _edit_dit(path: Path, **values) -> None:
    header = _header(path)
    header["config"]["dit"].update(values)
    _write_header(path, header)


@pytest.fixture
def saved(tmp_path) -> Path:
    path = tmp_path / "c"
    _model(1).save(path, meta={"step": 1})
    return path


# --------------------------------------------------------------------------------------------
#                                  A checkpoint is one unit
# --------------------------------------------------------------------------------------------


class _Crash(Exception):
    pass


class _Kill(BaseException):
    pass


# every step of a save that touches the disk, in the order it runs
_STEPS = ("write_synced", "fsync_directory", "_exchange", "_remove_tree")


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "rename-aside"])
@pytest.mark.parametrize("mode", ["error", "kill"])
def test_a_save_cut_off_at_any_step_leaves_a_complete_checkpoint(saved, monkeypatch, mode, exchange):
    """An exception at step k (cleanup runs), or a kill at step k (nothing after it runs): the path
    then loads the previous checkpoint or the new one, whole; and the next save cleans up after it."""
    real = {name: getattr(ckpt, name) for name in _STEPS}
    if not exchange:
        real["_exchange"] = lambda a, b: False
    real_replace = os.replace
    steps_seen = recoveries = 0
    for k in range(1, 40):
        calls = {"n": 0, "dead": False}

        def step(fn, calls=calls, k=k):
            def wrapped(*args, **kwargs):
                if calls["dead"]:
                    return False  # the process is gone: nothing runs any more
                calls["n"] += 1
                if calls["n"] == k:
                    if mode == "kill":
                        calls["dead"] = True
                        raise _Kill
                    raise _Crash
                return fn(*args, **kwargs)
            return wrapped

        with monkeypatch.context() as m:
            for name in _STEPS:
                m.setattr(ckpt, name, step(real[name]))
            m.setattr(os, "replace", step(real_replace))
            try:
                _model(2).save(saved, meta={"step": 2})
                crashed = False
            except (_Crash, _Kill):
                crashed = True
        if not crashed:
            break
        steps_seen = k
        needs_recovery = not (saved / "config.json").exists()
        recoveries += needs_recovery
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loaded = WorldModel.load(saved)
        assert any("interrupted" in str(w.message) for w in caught) == needs_recovery, f"crash at step {k}"
        assert loaded.meta["step"] in (1, 2), f"crash at step {k}"
        _assert_is(loaded, loaded.meta["step"])
        # the next save succeeds and leaves nothing else behind
        _model(1).save(saved, meta={"step": 1})
        _assert_is(WorldModel.load(saved), 1)
        assert sorted(p.name for p in saved.parent.iterdir()) == ["c"], f"crash at step {k}"
    assert steps_seen >= 5  # weights, config, fsync, the swap, the cleanup
    assert (recoveries > 0) == (mode == "kill" and not exchange)  # only a kill between two renames needs one
    _assert_is(WorldModel.load(saved), 2)


def test_an_interrupted_swap_is_recovered_on_load(saved):
    """The fallback swap's one gap: the old checkpoint renamed aside, the new one not yet in."""
    os.replace(saved, saved.parent / ".c.old")
    assert not saved.exists()
    with pytest.warns(UserWarning, match="previous checkpoint was restored"):
        _assert_is(WorldModel.load(saved), 1)
    assert (saved / "config.json").is_file()
    assert not (saved.parent / ".c.old").exists()
    # recover_checkpoint is what load called; a complete checkpoint needs no recovery
    assert recover_checkpoint(saved) is False


def test_save_replaces_the_directory_whole_and_leaves_nothing_beside_it(saved):
    _model(2).save(saved, meta={"step": 2})
    _assert_is(WorldModel.load(saved), 2)
    assert sorted(p.name for p in saved.parent.iterdir()) == ["c"]
    assert sorted(p.name for p in saved.iterdir()) == ["config.json", "weights.safetensors"]


def test_save_removes_what_dead_processes_left_but_not_the_checkpoint(saved):
    stale = saved.parent / ".c.4194400.0badcafe.new"  # above Linux's largest pid: no such process
    stale.mkdir()
    (stale / "weights.safetensors").write_bytes(b"half")
    (saved.parent / ".c.old").mkdir()  # a removal that was cut off
    other = saved.parent / "d"
    other.mkdir()
    _model(2).save(saved, meta={"step": 2})
    assert sorted(p.name for p in saved.parent.iterdir()) == ["c", "d"]


def test_save_refuses_a_directory_with_other_files_and_writes_nothing(tmp_path):
    path = tmp_path / "run"
    path.mkdir()
    (path / "notes.txt").write_text("mine")
    with pytest.raises(CheckpointError, match="notes.txt.*would be lost"):
        _model(1).save(path, meta={"step": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert sorted(p.name for p in path.iterdir()) == ["notes.txt"]


def test_save_replaces_a_half_written_checkpoint_of_the_old_in_place_writer(tmp_path):
    path = tmp_path / "c"
    path.mkdir()
    (path / "weights.safetensors").write_bytes(b"cut short")  # killed before config.json was written
    (path / ".weights.safetensors.123.abcd.tmp").write_bytes(b"")
    _model(1).save(path, meta={"step": 1})
    _assert_is(WorldModel.load(path), 1)


def test_non_finite_weights_are_not_saved_and_the_previous_checkpoint_stays(saved):
    wm = _model(2)
    with torch.no_grad():
        wm.dit.blocks[0].attn.qkv.weight[0, 0] = float("nan")
    with pytest.raises(CheckpointError, match=r"refusing to save.*dit\.blocks\.0\.attn\.qkv\.weight.*NaN or inf"):
        wm.save(saved, meta={"step": 2})
    _assert_is(WorldModel.load(saved), 1)


# --------------------------------------------------------------------------------------------
#                                     Hostile checkpoints
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("values, match", [
    ({"depth": 100000}, r"depth = 100000 is outside \[1, 256\]"),
    ({"width": 600000}, r"width = 600000 is outside"),
    ({"heads": 0}, r"heads = 0 is outside"),
    ({"patch": [1, 0, 2]}, r"patch\[1\] = 0 is outside"),
    ({"patch": [1, 2]}, r"patch has 2 entries"),
    ({"latent_size": -16}, r"latent_size = -16 is outside"),
    ({"window": 10**400}, r"window = .* is outside"),
    ({"width": True}, r"width must be an integer, got True"),
    ({"depth": 2.0}, r"depth must be an integer"),
    ({"mlp_ratio": "4"}, r"mlp_ratio must be a number"),
    ({"rope_base": float("nan")}, r"rope_base must be a finite number"),
    ({"residual_scale": 1e400}, r"residual_scale must be a finite number"),
    ({"sink": 1}, r"sink must be true or false"),
    ({"patch": {"a": 1}}, r"patch must be a list"),
    ({"patch": [1, [2], 2]}, r"patch\[1\] must be an integer"),
    ({"heads": 5}, r"inconsistent: width 32 must be divisible by heads 5"),
    ({"latent_size": 16}, r"autoencoder makes 4x8\^2 latents but the DiT expects 4x16\^2"),
    ({"width": 16384, "depth": 256, "heads": 8}, r"more than the 1073741824 this loader accepts"),
])
def test_out_of_bounds_or_mistyped_configs_are_refused_before_anything_is_built(saved, values, match):
    _edit_dit(saved, **values)
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match=match):
        WorldModel.load(saved)
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("edit, match", [
    (lambda h: h.update(config=[]), r'"config" must be a JSON object'),
    (lambda h: h.update(meta="x"), r'"meta" must be a JSON object'),
    (lambda h: h.update(version="1"), r"checkpoint version '1'"),
    (lambda h: h.update(version=True), r"checkpoint version True"),
    (lambda h: h.update(weights_sha256=5), r"weights_sha256.*64 lowercase hex digits"),
    (lambda h: h["config"].pop("dit"), r"the sections \['autoencoder', 'dit'\]"),
    (lambda h: h["config"].update(extra={}), r"the sections"),
    (lambda h: h["config"].update(dit=[1, 2]), r"DiTConfig section must be a JSON object"),
    (lambda h: h["config"]["autoencoder"].update(channels=[8, 8]), r"3 decoder widths"),
    (lambda h: h["config"]["autoencoder"].update(image_size=34), r"not divisible by the autoencoder's downsampling"),
    (lambda h: h["config"]["autoencoder"].update(channels=[8] * 11, decoder_channels=[8] * 11), r"has 11 entries"),
])
def test_malformed_headers_are_refused(saved, edit, match):
    header = _header(saved)
    edit(header)
    _write_header(saved, header)
    with pytest.raises(CheckpointError, match=match):
        WorldModel.load(saved)


def test_unparseable_config_files_are_refused(saved):
    for text in ("[" * 100_000, '{"format": "worldsim", ', "\xff\xfe", "NaN"):
        (saved / "config.json").write_bytes(text.encode("latin-1"))
        with pytest.raises(CheckpointError, match="not valid JSON|not a worldsim checkpoint"):
            WorldModel.load(saved)
    with open(saved / "config.json", "wb") as f:
        f.truncate(ckpt.MAX_CONFIG_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(CheckpointError, match="more than the .* a checkpoint's config may hold"):
        WorldModel.load(saved)


def test_an_oversized_weights_file_is_refused_unread(saved):
    header = _header(saved)
    with open(saved / "weights.safetensors", "r+b") as f:
        f.truncate(8 * 2**30)  # sparse: costs no disk, but reading or hashing it would take long
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match="8589934592 bytes, more than the .* can hold"):
        WorldModel.load(saved)
    assert time.perf_counter() - start < 5
    header.pop("weights_sha256")  # without a recorded hash too
    _write_header(saved, header)
    with pytest.raises(CheckpointError, match="8589934592 bytes"):
        WorldModel.load(saved)


def test_a_weights_path_that_is_not_a_regular_file_is_refused(saved):
    (saved / "weights.safetensors").unlink()
    (saved / "weights.safetensors").mkdir()
    with pytest.raises(CheckpointError, match="not a regular file"):
        WorldModel.load(saved)
    (saved / "weights.safetensors").rmdir()
    os.mkfifo(saved / "weights.safetensors")  # a read would block forever
    with pytest.raises(CheckpointError, match="not a regular file"):
        WorldModel.load(saved)


def test_non_finite_weights_are_refused_naming_the_tensor(saved):
    tensors = WorldModel.load(saved).state_dict()
    for bad in (float("nan"), float("inf"), -float("inf")):
        poisoned = dict(tensors)
        poisoned["dit.heads.1.bias"] = torch.tensor([0.0, bad])
        _write_weights(saved, poisoned)
        with pytest.raises(CheckpointError, match=r"\['dit\.heads\.1\.bias'\] hold NaN or inf"):
            WorldModel.load(saved)
    # the generic loader refuses them too
    with pytest.raises(CheckpointError, match="NaN or inf"):
        ckpt.load_checkpoint(saved, kind="worldmodel")


def test_the_generic_loader_takes_a_size_bound_and_checks_the_header(tmp_path):
    save_checkpoint(tmp_path / "ae", kind="autoencoder", config={"a": 1}, tensors={"x": torch.ones(1000)})
    config, tensors, meta = ckpt.load_checkpoint(tmp_path / "ae", kind="autoencoder", max_weights_bytes=5000)
    assert config == {"a": 1} and torch.equal(tensors["x"], torch.ones(1000)) and meta == {}
    with pytest.raises(CheckpointError, match="more than the 3000"):
        ckpt.load_checkpoint(tmp_path / "ae", kind="autoencoder", max_weights_bytes=3000)


def test_weights_of_another_dtype_or_with_extra_tensors_are_refused(saved):
    tensors = WorldModel.load(saved).state_dict()
    _write_weights(saved, {**tensors, "dit.heads.1.bias": tensors["dit.heads.1.bias"].double()})
    with pytest.raises(CheckpointError, match=r"dit\.heads\.1\.bias is torch\.float64 \(2,\), the model expects "
                                              r"torch\.float32"):
        WorldModel.load(saved)
    _write_weights(saved, {**tensors, "evil": torch.zeros(3)})
    with pytest.raises(CheckpointError, match=r"unexpected \['evil'\]"):
        WorldModel.load(saved)


# --------------------------------------------------------------------------------------------
#                                            Fuzz
# --------------------------------------------------------------------------------------------

_GARBAGE = [None, True, False, 0, 1, 2, 3, 7, -1, 10**6, 10**12, -(10**9), 10**400, 0.0, -0.5, 0.5, 1e308,
            float("nan"), float("inf"), "", "x" * 500, "worldsim", [], [0], [1, 2, 2], [1, 1, 1], [8, 8, 8],
            [[1]], [None], {}, {"a": 1}, {"dit": {}}]


def _deep(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def _mutate(header: dict, rng: np.random.Generator) -> bytes:
    """One hostile variant of ``config.json``."""
    header = copy.deepcopy(header)
    paths = [p for p in json_paths(header) if p]
    for _ in range(int(rng.integers(1, 4))):
        path = paths[int(rng.integers(len(paths)))]
        try:
            parent = header
            for key in path[:-1]:
                parent = parent[key]
            op = rng.integers(4)
            if op == 0 and isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif op == 1 and isinstance(parent, dict):
                parent[f"unknown_{int(rng.integers(3))}"] = _GARBAGE[int(rng.integers(len(_GARBAGE)))]
            elif op == 2:
                parent[path[-1]] = _deep(int(rng.integers(1, 40)))
            else:
                parent[path[-1]] = copy.deepcopy(_GARBAGE[int(rng.integers(len(_GARBAGE)))])
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation removed or replaced the path
    text = json.dumps(header).encode()
    cut = rng.random()
    if cut < 0.1:
        return text[: int(rng.integers(len(text)))]
    if cut < 0.13:
        return rng.bytes(int(rng.integers(1, 200)))
    return text


def test_fuzzed_configs_load_or_raise_checkpoint_error(saved):
    rng = np.random.default_rng(1234)
    base = _header(saved)
    outcomes = {"loaded": 0, "refused": 0}
    start = time.perf_counter()
    for i in range(500):
        (saved / "config.json").write_bytes(_mutate(base, rng))
        try:
            WorldModel.load(saved)
            outcomes["loaded"] += 1
        except CheckpointError:
            outcomes["refused"] += 1
        except Exception as e:  # anything but a CheckpointError is the bug this test looks for
            config = (saved / "config.json").read_bytes()[:2000]
            raise AssertionError(f"iteration {i}: {type(e).__name__}: {e}\n{config!r}") from e
    assert outcomes["loaded"] > 0 and outcomes["refused"] > 100, outcomes
    assert time.perf_counter() - start < 20


def test_fuzzed_weights_load_or_raise_checkpoint_error(saved):
    rng = np.random.default_rng(99)
    header = _header(saved)
    header.pop("weights_sha256")  # so damage reaches the safetensors parser instead of the hash check
    _write_header(saved, header)
    original = (saved / "weights.safetensors").read_bytes()
    header_len = 8 + int.from_bytes(original[:8], "little")
    for i in range(60):
        data = bytearray(original)
        op = i % 4
        if op == 0:  # damage the safetensors header
            for pos in rng.integers(0, header_len, size=int(rng.integers(1, 6))):
                data[int(pos)] = int(rng.integers(256))
        elif op == 1:
            data = data[: int(rng.integers(len(data)))]
        elif op == 2:  # damage tensor bytes: may make NaN or inf
            for pos in rng.integers(header_len, len(data), size=50):
                data[int(pos)] = 0xFF
        else:
            data[:8] = int(rng.integers(0, 2**63)).to_bytes(8, "little")
        (saved / "weights.safetensors").write_bytes(bytes(data))
        try:
            WorldModel.load(saved)
        except CheckpointError:
            pass
        except Exception as e:  # anything but a CheckpointError is the bug this test looks for
            raise AssertionError(f"iteration {i} (op {op}): {type(e).__name__}: {e}") from e


# --------------------------------------------------------------------------------------------
#                                  Bounded caption cache
# --------------------------------------------------------------------------------------------


def _stub_encoder(cache_size: int):
    """A TextEncoder whose ``encode`` is a deterministic stand-in, so no model is loaded."""
    from worldsim import text

    enc = text.TextEncoder.__new__(text.TextEncoder)
    enc.config = text.TextEncoderConfig(max_tokens=4, cache_size=cache_size)
    enc._cache = text._CaptionCache(cache_size)
    enc.encoded = []

    def encode(texts):
        enc.encoded.append(list(texts))
        seeds = torch.tensor([float(sum(map(ord, t))) for t in texts])
        tokens = seeds[:, None, None].expand(len(texts), 4, text.TEXT_DIM).clone()
        return text.TextEmbedding(tokens, torch.ones(len(texts), 4, dtype=torch.bool),
                                  seeds[:, None].expand(len(texts), text.TEXT_DIM).clone())

    enc.encode = encode
    return enc


def test_caption_cache_keeps_the_most_recently_used_and_round_trips(tmp_path):
    enc = _stub_encoder(cache_size=2)
    enc.encode_cached(["a", "b"])
    enc.encode_cached(["a"])  # a is now the most recent
    enc.encode_cached(["c"])  # drops b
    assert enc.cached_captions == ("a", "c")
    assert enc.encoded == [["a", "b"], ["c"]]
    # more distinct captions than the cache holds: every row is still returned, in order
    emb = enc.encode_cached(["d", "e", "f", "d"])
    assert emb.pooled[:, 0].tolist() == [100.0, 101.0, 102.0, 100.0]
    assert enc.cached_captions == ("e", "f")

    path = enc.save_cache(tmp_path / "captions.safetensors")
    other = _stub_encoder(cache_size=1)
    assert other.load_cache(path) == 2  # reads both, keeps the most recent
    assert other.cached_captions == ("f",)
    assert torch.equal(other.encode_cached(["f"]).tokens, enc.encode_cached(["f"]).tokens)
    assert other.encoded == []


def test_caption_cache_can_be_turned_off_and_refuses_a_negative_size(tmp_path):
    from worldsim.text import TextEncoderConfig

    enc = _stub_encoder(cache_size=0)
    enc.encode_cached(["a"])
    enc.encode_cached(["a"])
    assert enc.encoded == [["a"], ["a"]] and enc.cached_captions == ()
    assert enc.load_cache(enc.save_cache(tmp_path / "empty.safetensors")) == 0
    with pytest.raises(ValueError, match="cache_size=-1"):
        TextEncoderConfig(cache_size=-1)
