"""Checkpoints: bit-exact round trip, and clear errors for corrupt or foreign files."""

import json

import pytest
import torch

from worldsim.checkpoint import CheckpointError, checkpoint_hash, file_sha256, load_checkpoint, save_checkpoint
from worldsim.simulator import Simulator
from worldsim.worldmodel import WorldModel

from .helpers import tiny_world_model


def test_world_model_round_trips_bit_exactly(tmp_path):
    wm = tiny_world_model()
    wm.save(tmp_path / "ckpt", meta={"step": 3})
    loaded = WorldModel.load(tmp_path / "ckpt")
    for (name, a), (_, b) in zip(wm.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name
    assert loaded.meta["step"] == 3
    assert loaded.dit.cfg == wm.dit.cfg
    assert loaded.checkpoint_hash == file_sha256(tmp_path / "ckpt" / "weights.safetensors")[:16]


def test_checkpoint_hash_without_a_recorded_hash_hashes_the_weights(tmp_path):
    tiny_world_model().save(tmp_path / "c")
    header = json.loads((tmp_path / "c" / "config.json").read_text())
    recorded = header.pop("weights_sha256")
    (tmp_path / "c" / "config.json").write_text(json.dumps(header))
    assert checkpoint_hash(tmp_path / "c") == recorded[:16]


def test_corrupt_weights_are_refused(tmp_path):
    tiny_world_model().save(tmp_path / "c")
    weights = tmp_path / "c" / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="corrupt"):
        WorldModel.load(tmp_path / "c")


def test_foreign_and_mismatched_checkpoints_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="config.json is missing"):
        WorldModel.load(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(CheckpointError, match="not a worldsim checkpoint"):
        WorldModel.load(tmp_path)
    save_checkpoint(tmp_path / "ae", kind="autoencoder", config={}, tensors={"x": torch.zeros(1)})
    with pytest.raises(CheckpointError, match="expected 'worldmodel'"):
        WorldModel.load(tmp_path / "ae")
    wm = tiny_world_model()
    wm.save(tmp_path / "m")
    header = json.loads((tmp_path / "m" / "config.json").read_text())
    header["config"]["dit"]["flux_capacitor"] = 1
    (tmp_path / "m" / "config.json").write_text(json.dumps(header))
    with pytest.raises(CheckpointError, match="unknown DiTConfig fields"):
        WorldModel.load(tmp_path / "m")
    header["config"]["dit"].pop("flux_capacitor")
    header["config"]["dit"]["width"] = 64
    (tmp_path / "m" / "config.json").write_text(json.dumps(header))
    with pytest.raises(CheckpointError, match="do not fit"):
        WorldModel.load(tmp_path / "m")


def test_a_retired_input_loads_when_off_and_is_refused_when_on(tmp_path):
    wm = tiny_world_model()
    wm.save(tmp_path / "m")
    header = json.loads((tmp_path / "m" / "config.json").read_text())
    header["config"]["dit"]["prev_noise_cond"] = False  # as older checkpoints (the shipped one) record it
    (tmp_path / "m" / "config.json").write_text(json.dumps(header))
    assert WorldModel.load(tmp_path / "m").dit.cfg == wm.dit.cfg
    header["config"]["dit"]["prev_noise_cond"] = True
    (tmp_path / "m" / "config.json").write_text(json.dumps(header))
    with pytest.raises(CheckpointError, match="no longer has. Load it with the version that trained it"):
        WorldModel.load(tmp_path / "m")


def test_loading_reads_no_pickle(tmp_path):
    # a pickle where the weights should be is rejected as not-safetensors, never executed
    save_checkpoint(tmp_path / "p", kind="worldmodel", config={}, tensors={"x": torch.zeros(1)})
    torch.save({"x": torch.zeros(1)}, tmp_path / "p" / "weights.safetensors")
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "p", kind="worldmodel")


def test_saved_files_honour_the_umask_and_leave_no_temporary_files(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        tiny_world_model().save(tmp_path / "model")
    finally:
        os.umask(old)
    files = sorted(p.name for p in (tmp_path / "model").iterdir())
    assert files == ["config.json", "weights.safetensors"]
    assert all((tmp_path / "model" / f).stat().st_mode & 0o777 == 0o644 for f in files)


@pytest.mark.parametrize("storage", ["float16", "bfloat16"])
def test_a_checkpoint_stored_in_16_bits_is_half_the_size_and_loads_as_float32(tmp_path, storage):
    from worldsim.cli import main

    wm = tiny_world_model()
    wm.save(tmp_path / "full")
    main(["convert", "--checkpoint", str(tmp_path / "full"), "--out", str(tmp_path / "half"), "--storage", storage,
          "--latent-hold", "0.2", "--sampling-steps", "2", "--latent-hold-moving", "0.1"])
    size = lambda d: (tmp_path / d / "weights.safetensors").stat().st_size
    assert size("half") < 0.6 * size("full")
    half = WorldModel.load(tmp_path / "half")
    assert half.meta["rollout"] == {"latent_hold": 0.2, "sampling_steps": 2, "latent_hold_moving": 0.1}
    sim = Simulator(half, 1)
    assert sim.sampler.cfg.steps == 2 and sim.cfg.latent_hold_moving == 0.1  # rolled out as recorded
    assert half.meta["storage"] == storage and half.meta["converted_from"] == checkpoint_hash(tmp_path / "full")[:16]
    dtype = getattr(torch, storage)
    for (name, a), b in zip(wm.state_dict().items(), half.state_dict().values(), strict=True):
        assert b.dtype == a.dtype, name
        if a.is_floating_point():
            torch.testing.assert_close(b, a.to(dtype).float(), rtol=0, atol=0)


def test_float16_storage_refuses_weights_it_cannot_hold(tmp_path):
    wm = tiny_world_model()
    with torch.no_grad():
        next(wm.dit.parameters()).view(-1)[0] = 1e6
    with pytest.raises(ValueError, match="bfloat16"):
        wm.save(tmp_path / "c", storage="float16")
    with pytest.raises(ValueError, match="storage must be one of"):
        wm.save(tmp_path / "c", storage="int8")
    assert not (tmp_path / "c").exists()


def test_convert_puts_a_runs_raw_weights_in_place_of_their_average(tmp_path):
    from worldsim.checkpoint import save_tensors
    from worldsim.cli import ConvertConfig, convert, main

    wm = tiny_world_model()
    wm.save(tmp_path / "run" / "model", meta={"step": 7})
    raw = {k: v + 1.0 for k, v in wm.dit.state_dict().items()}  # the trained weights behind the average
    save_tensors(tmp_path / "run" / "state" / "raw.safetensors", raw)
    (tmp_path / "run" / "state" / "state.json").write_text(json.dumps({"step": 7}))
    args = ["convert", "--checkpoint", str(tmp_path / "run" / "model"), "--storage", "float32",
            "--raw-weights", str(tmp_path / "run" / "state" / "raw.safetensors")]
    main([*args, "--out", str(tmp_path / "raw")])
    out = WorldModel.load(tmp_path / "raw")
    assert out.meta["weights"] == "raw" and out.meta["step"] == 7
    for name, t in out.dit.state_dict().items():
        torch.testing.assert_close(t, raw[name], rtol=0, atol=0)
    for name, t in out.autoencoder.state_dict().items():  # the rest is the checkpoint's own
        torch.testing.assert_close(t, wm.autoencoder.state_dict()[name], rtol=0, atol=0)

    cfg = ConvertConfig(str(tmp_path / "run" / "model"), str(tmp_path / "again"), "float32",
                        raw_weights=str(tmp_path / "run" / "state" / "raw.safetensors"))
    (tmp_path / "run" / "state" / "state.json").write_text(json.dumps({"step": 8}))  # saved after the model
    with pytest.raises(ValueError, match="step 8, the checkpoint is at step 7"):
        convert(cfg)
    save_tensors(tmp_path / "run" / "state" / "raw.safetensors", {"w": torch.zeros(2)})  # another network's
    (tmp_path / "run" / "state" / "state.json").write_text(json.dumps({"step": 7}))
    with pytest.raises(CheckpointError, match="DiT weights"):
        convert(cfg)
    assert not (tmp_path / "again").exists()


def test_convert_takes_a_decoder_of_other_widths_from_a_model_on_the_same_latent_space(tmp_path):
    from worldsim.cli import ConvertConfig, convert
    from worldsim.decoder import with_new_decoder

    wm = tiny_world_model()
    wm.save(tmp_path / "model", meta={"step": 3})
    donor = tiny_world_model()
    wider = with_new_decoder(wm.autoencoder, (16, 8, 8))
    donor.autoencoder = wider
    donor.save(tmp_path / "donor")
    convert(ConvertConfig(str(tmp_path / "model"), str(tmp_path / "out"), "float32",
                          decoder_from=str(tmp_path / "donor")))
    out = WorldModel.load(tmp_path / "out")
    assert out.autoencoder.cfg.decoder_channels == (16, 8, 8)
    assert out.meta["decoder_from"] == WorldModel.load(tmp_path / "donor").checkpoint_hash and out.meta["step"] == 3
    for name, t in out.autoencoder.decoder.state_dict().items():  # the donor's decoder
        assert torch.equal(t, wider.decoder.state_dict()[name]), name
    for name, t in out.dit.state_dict().items():  # the rest is the checkpoint's own
        assert torch.equal(t, wm.dit.state_dict()[name]), name

    with torch.no_grad():  # a decoder trained on another encoder's latents
        next(donor.autoencoder.encoder.parameters()).add_(1.0)
    donor.save(tmp_path / "foreign")
    with pytest.raises(ValueError, match="latent normalisation is not this checkpoint's"):
        convert(ConvertConfig(str(tmp_path / "model"), str(tmp_path / "again"), "float32",
                              decoder_from=str(tmp_path / "foreign")))
    assert not (tmp_path / "again").exists()
