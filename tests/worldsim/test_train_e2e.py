"""End to end at tiny scale: collect -> train (autoencoder + DiT) -> resume -> load -> simulate; and DDP."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from worldsim.collect import CollectConfig, collect
from worldsim.diffusion import FlowConfig
from worldsim.model import TextCond
from worldsim.simulator import Simulator
from worldsim.train import AutoencoderTrainConfig, DiTTrainConfig, TrainConfig, train
from worldsim.worldmodel import WorldModel

TINY = ["--ae.steps", "3", "--ae.batch-size", "4", "--ae.channels", "8", "8", "8",
        "--dit.preset", "XS", "--dit.steps", "4", "--dit.batch-size", "4", "--dit.warmup", "2"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from worldsim import envs  # noqa: F401

    out = tmp_path_factory.mktemp("data") / "pushbox"
    collect(CollectConfig(env_id="WorldSim/PushBox-v0", episodes=4, steps=8, policy="scripted", out=str(out),
                          progress=False))
    return str(out)


def _cfg(data: str, out: str, steps: int, resume: bool = False) -> TrainConfig:
    return TrainConfig(
        data=(data,), out=out, resume=resume, save_every=2, log_every=1, val_fraction=0.25,
        ae=AutoencoderTrainConfig(steps=3, batch_size=4, channels=(8, 8, 8)),
        dit=DiTTrainConfig(preset="XS", steps=steps, batch_size=4, warmup=2),
    )


def test_collect_train_resume_load_simulate(data, tmp_path):
    out = str(tmp_path / "run")
    path = train(_cfg(data, out, steps=2))
    first = WorldModel.load(path)
    assert first.meta["step"] == 2
    state = json.loads((tmp_path / "run" / "state" / "state.json").read_text())
    assert state["step"] == 2 and state["log"]
    changed_gelu = _cfg(data, out, steps=4, resume=True)
    changed_gelu.dit.exact_gelu = not changed_gelu.dit.exact_gelu
    with pytest.raises(ValueError, match="exact_gelu: saved"):  # another network: refused, nothing trained
        train(changed_gelu)
    assert json.loads((tmp_path / "run" / "state" / "state.json").read_text())["step"] == 2
    path = train(_cfg(data, out, steps=4, resume=True))  # continues from step 2, reuses the autoencoder
    model = WorldModel.load(path)
    assert model.meta["step"] == 4
    assert model.dit.cfg.action_dim == 2
    changed = [n for n, p in model.dit.state_dict().items() if not (p == first.dit.state_dict()[n]).all()]
    assert changed, "resumed training did not update the DiT"
    sim = Simulator(model, 2, device="cpu")
    frames = np.zeros((2, 1, 64, 64, 3), np.uint8)
    sim.reset(context_frames=frames, prompt="a red box on the left", seed=0)
    out = sim.step(np.zeros((2, 2), np.float32))
    assert out.frames.shape == (2, 64, 64, 3) and out.frames.dtype == np.uint8


def test_cli_train_runs(data, tmp_path):
    from worldsim.cli import main

    main(["train", "--data", data, "--out", str(tmp_path / "cli"), *TINY])
    assert (tmp_path / "cli" / "model" / "weights.safetensors").exists()


def test_train_can_take_the_autoencoder_of_a_trained_model(data, tmp_path):
    source = WorldModel.load(train(_cfg(data, str(tmp_path / "source"), steps=2)))
    cfg = _cfg(data, str(tmp_path / "taken"), steps=2)
    cfg.autoencoder, cfg.ae.steps = str(tmp_path / "source" / "model"), 10**6  # stage 1 would never end
    cfg.dit.spatial_rope = True
    model = WorldModel.load(train(cfg))
    for name, t in source.autoencoder.state_dict().items():
        assert torch.equal(model.autoencoder.state_dict()[name], t), name
    assert model.dit.cfg.spatial_rope and not source.dit.cfg.spatial_rope


def test_train_with_layout_tokens_teaches_first_frames_to_read_them(data, tmp_path):
    from worldsim.envs.layout import LAYOUT_DIM

    cfg = _cfg(data, str(tmp_path / "layout"), steps=4)
    cfg.dit.layout, cfg.dit.start_prob = True, 1.0  # every clip starts at a first frame
    dit = WorldModel.load(train(cfg)).dit
    assert dit.cfg.layout_dim == LAYOUT_DIM
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 1, dit.cfg.latent_channels, dit.cfg.latent_size, dit.cfg.latent_size, generator=g)
    text = TextCond(torch.zeros(1, 2, dit.cfg.text_dim), torch.ones(1, 2, dtype=torch.bool),
                    torch.zeros(1, dit.cfg.text_dim), torch.rand(1, 3, LAYOUT_DIM, generator=g))
    moved = replace(text, layout=torch.rand(1, 3, LAYOUT_DIM, generator=g))  # another scene
    args = (x, torch.zeros_like(x), torch.full((1, 1), 0.5), torch.zeros(1, 1, dit.cfg.action_dim),
            torch.ones(1, 1, dtype=torch.bool))
    with torch.no_grad():
        assert not torch.allclose(dit(*args, text).velocity, dit(*args, moved).velocity)


@pytest.mark.slow
def test_ddp_two_processes_on_cpu(data, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_PORT": "29531"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29531",
           "-m", "worldsim", "train", "--data", data, "--out", str(tmp_path / "ddp"), *TINY]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    model = WorldModel.load(tmp_path / "ddp" / "model")
    assert model.meta["step"] == 4


def test_finetune_with_rollout_and_first_frame_losses(data, tiny_checkpoint, tmp_path):
    import json
    from pathlib import Path

    from worldsim.finetune import FinetuneConfig, finetune

    cfg = FinetuneConfig(data=(data,), out=str(tmp_path / "ft"), steps=2, batch_size=2, save_every=1,
                         rollout_steps=2, sampling_steps=1, first_frames=(data,), first_frame_batch=2)
    model = WorldModel.load(finetune(cfg, Path(tiny_checkpoint)))
    assert model.meta["finetune_step"] == 2
    log = json.loads((tmp_path / "ft" / "state" / "state.json").read_text())["log"]
    assert all(row["first_frame"] > 0 and row["rollout"] > 0 for row in log)
    start = WorldModel.load(tiny_checkpoint)
    assert any(not (p == start.dit.state_dict()[n]).all() for n, p in model.dit.state_dict().items())


def test_finetune_with_the_physics_teacher(data, tiny_checkpoint, tmp_path):
    """The unrolled steps learn MuJoCo's next frames from the model's own ones: each step's target is the
    teacher's frame for the clip's episode, and the rollout loss trains the model."""
    import json
    from pathlib import Path

    from worldsim.data import load_episodes
    from worldsim.envs.physics_teacher import PhysicsTeacher
    from worldsim.finetune import FinetuneConfig, PhysicsTargets, finetune

    cfg = FinetuneConfig(data=(data,), out=str(tmp_path / "ft"), steps=2, batch_size=2, save_every=1,
                         context_steps=2, rollout_steps=2, rollout_burn_in=1, sampling_steps=1, physics_teacher=True)
    model = WorldModel.load(finetune(cfg, Path(tiny_checkpoint)))
    log = json.loads((tmp_path / "ft" / "state" / "state.json").read_text())["log"]
    assert model.meta["finetune_step"] == 2 and all(row["rollout"] > 0 for row in log)

    episodes = load_episodes((data,), 0.0)
    clips = torch.tensor([[0, 3], [1, 0]])
    into = lambda e, s: np.stack([episodes.actions[e][t - 1] if t else 0 * episodes.actions[e][0]
                                  for t in range(s, s + 4)])  # the action into each step of a clip
    actions = torch.from_numpy(np.stack([into(0, 3), into(1, 0)]))
    with torch.no_grad():
        nxt, now = (model.autoencoder.encode(torch.from_numpy(np.stack([episodes.frames[0][5 - k],
                                                                        episodes.frames[1][2 - k]]))) for k in (0, 1))
    prev = torch.zeros(2, 1, *nxt.shape[1:])
    for recorded in (False, True):
        targets = PhysicsTargets(PhysicsTeacher(), model.autoencoder, episodes, clips, 2, actions, recorded)
        z, keep = targets(2, prev)
        assert keep.all() and z.shape[:2] == (2, 1)
        # from the true context, the true next frame (not a copy of the last one)
        assert ((z[:, 0] - nxt).abs().flatten(1).mean(1) < (z[:, 0] - now).abs().flatten(1).mean(1)).all()
    with pytest.raises(ValueError, match="give --physics-teacher"):
        finetune(FinetuneConfig(data=(data,), out=str(tmp_path / "no"), steps=1, rollout_steps=1,
                                teacher_recorded_motion=True), Path(tiny_checkpoint))
    with pytest.raises(ValueError, match="give --rollout-steps"):
        finetune(FinetuneConfig(data=(data,), out=str(tmp_path / "no"), steps=1, physics_teacher=True),
                 Path(tiny_checkpoint))


def test_finetune_draws_clips_from_the_episode_start(data, tiny_checkpoint, tmp_path):
    """``start_prob`` reaches the clip sampler: every clip starts at frame 0 when it is 1."""
    import json
    from pathlib import Path

    from worldsim.finetune import FinetuneConfig, finetune

    cfg = FinetuneConfig(data=(data,), out=str(tmp_path / "ft"), steps=2, batch_size=3, save_every=2,
                         start_prob=1.0)
    finetune(cfg, Path(tiny_checkpoint))
    log = json.loads((tmp_path / "ft" / "state" / "state.json").read_text())["log"]
    assert [row["episode_starts"] for row in log] == [3, 3]
    # a fine-tune of that model on the same episodes reads the latents its run encoded, linked, not
    # copied, so that a fine-tune of the fine-tune finds them as well
    first = tmp_path / "ft" / "latents.safetensors"
    for parent, run in (("ft", "ft2"), ("ft2", "ft3")):
        finetune(FinetuneConfig(data=(data,), out=str(tmp_path / run), steps=1, batch_size=2),
                 tmp_path / parent / "model")
        assert (tmp_path / run / "latents.safetensors").samefile(first)


def test_clip_sampler_start_rate():
    import torch

    from worldsim.data import ClipSampler, EpisodeData

    T = 20
    data = EpisodeData([np.zeros((T + 1, 8, 8, 3), np.uint8)] * 2, [np.zeros((T, 2), np.float32)] * 2,
                       [np.zeros(T, np.float32)] * 2, [np.zeros(T, bool)] * 2, ["", ""], np.zeros(2, bool), 2)
    latents = [torch.zeros(T + 1, 4, 2, 2)] * 2
    text = {"tokens": torch.zeros(2, 3, 8), "mask": torch.ones(2, 3, dtype=torch.bool), "pooled": torch.zeros(2, 8)}
    share = {}
    for p in (0.0, 0.5):
        sampler = ClipSampler(latents, data, text, np.arange(2), 4, p, torch.Generator().manual_seed(0))
        share[p] = sampler.sample(400, torch.device("cpu")).first[:, 0].float().mean().item()
    # Uniform offsets alone start at frame 0 in 1 of 18 clips; p adds its share on top.
    assert share[0.0] < 0.12 and 0.45 < share[0.5] < 0.62
    with pytest.raises(ValueError, match="from 0 to 1"):
        ClipSampler(latents, data, text, np.arange(2), 4, 1.5, torch.Generator())


def test_clip_sampler_start_chance_per_episode():
    """One chance per episode: episode 0 always starts at its first frame, episode 1 only by its offset."""
    import torch

    from worldsim.data import ClipSampler, EpisodeData

    T = 20
    data = EpisodeData([np.zeros((T + 1, 8, 8, 3), np.uint8)] * 2, [np.zeros((T, 2), np.float32)] * 2,
                       [np.zeros(T, np.float32)] * 2, [np.zeros(T, bool)] * 2, ["", ""], np.zeros(2, bool), 2)
    latents = [torch.zeros(T + 1, 4, 2, 2)] * 2
    text = {"tokens": torch.zeros(2, 3, 8), "mask": torch.ones(2, 3, dtype=torch.bool),
            "pooled": torch.arange(2.0)[:, None].expand(2, 8)}  # pooled text names the episode
    batch = ClipSampler(latents, data, text, np.arange(2), 4, np.array([1.0, 0.0]),
                        torch.Generator().manual_seed(0)).sample(400, torch.device("cpu"))
    episode = batch.text.pooled[:, 0].long()
    starts = batch.first[:, 0]
    assert starts[episode == 0].all()
    assert starts[episode == 1].float().mean() < 0.12


def test_clip_sampler_gathers_each_clip_from_its_own_episode():
    """Episodes of different lengths, some too short for a clip: every row of a batch is its episode's
    frames, previous frames, changes, actions, rewards and ends at the clip's start, as ``clips`` says."""
    import torch

    from worldsim.data import ClipSampler, EpisodeData

    lengths, n = [6, 2, 9, 4], 4  # the 2-step episode holds no 4-frame clip
    rng = np.random.default_rng(0)
    acts = [rng.normal(size=(T, 2)).astype(np.float32) for T in lengths]
    rews = [rng.normal(size=T).astype(np.float32) for T in lengths]
    ends = [np.arange(T) == T - 1 for T in lengths]
    data = EpisodeData([np.zeros((T + 1, 8, 8, 3), np.uint8) for T in lengths], acts, rews, ends,
                       [""] * 4, np.zeros(4, bool), 2)
    latents = [torch.randn(T + 1, 3, 2, 2) for T in lengths]
    text = {"tokens": torch.zeros(4, 3, 8), "mask": torch.ones(4, 3, dtype=torch.bool),
            "pooled": torch.arange(4.0)[:, None].expand(4, 8)}
    batch = ClipSampler(latents, data, text, np.arange(4), n, 0.3, torch.Generator().manual_seed(1)).sample(
        200, torch.device("cpu"))
    assert set(batch.clips[:, 0].tolist()) == {0, 2, 3}
    for row, (e, s) in enumerate(batch.clips.tolist()):
        z, idx = latents[e], torch.arange(s, s + n)
        assert batch.text.pooled[row, 0] == e and 0 <= s <= lengths[e] + 1 - n
        torch.testing.assert_close(batch.latents[row], z[idx], rtol=0, atol=0)
        torch.testing.assert_close(batch.sink[row], z[:1], rtol=0, atol=0)
        for k, i in enumerate(idx.tolist()):
            prev = z[i - 1] if i > 0 else torch.zeros_like(z[0])
            change = z[i - 1] - z[i - 2] if i > 1 else torch.zeros_like(z[0])
            torch.testing.assert_close(batch.prev[row, k], prev, rtol=0, atol=0)
            torch.testing.assert_close(batch.prev_change[row, k], change, rtol=0, atol=0)
            made_by = torch.from_numpy(acts[e][i - 1]) if i > 0 else torch.zeros(2)
            torch.testing.assert_close(batch.action[row, k], made_by, rtol=0, atol=0)
            assert batch.reward[row, k] == (rews[e][i - 1] if i > 0 else 0.0)
            assert batch.done[row, k] == (float(ends[e][i - 1]) if i > 0 else 0.0)
            assert batch.first[row, k] == (i == 0)


def test_finetune_start_chances_must_match_the_stores(data, tiny_checkpoint, tmp_path):
    from pathlib import Path

    from worldsim.finetune import FinetuneConfig, finetune

    cfg = FinetuneConfig(data=(data, data), out=str(tmp_path / "ft"), steps=1, start_prob=(0.3, 0.0, 0.3))
    with pytest.raises(ValueError, match="3 start chances for 2 stores"):
        finetune(cfg, Path(tiny_checkpoint))


def test_rollout_loss_backpropagates_from_self_made_context():
    import torch

    from worldsim.diffusion import Batch
    from worldsim.finetune import FinetuneConfig, rollout_loss

    from .helpers import random_text, tiny_dit

    dit = tiny_dit().train()
    B, n = 2, 4
    lat = torch.randn(B, n, 4, 8, 8)
    batch = Batch(lat, torch.roll(lat, 1, 1), torch.randn(B, n, 2), torch.zeros(B, n, dtype=torch.bool),
                  torch.zeros(B, n), torch.zeros(B, n), random_text(B))
    loss = rollout_loss(dit, batch, FinetuneConfig(context_steps=2, rollout_steps=2), torch.Generator().manual_seed(0))
    loss.backward()
    assert torch.isfinite(loss) and dit.final.linear.weight.grad is not None

    calls = []  # a burn-in step is sampled and noted, not trained: only the last step asks for a target

    def targets(j, prev, teach):
        calls.append((j, teach))
        return (lat[:, j:j + 1], torch.ones(B, dtype=torch.bool)) if teach else None

    cfg = FinetuneConfig(context_steps=2, rollout_steps=1, rollout_burn_in=1)
    assert torch.isfinite(rollout_loss(dit, batch, cfg, torch.Generator().manual_seed(0), targets))
    assert calls == [(2, False), (3, True)]


def test_latent_cache_is_rebuilt_when_the_autoencoder_or_the_data_change(tmp_path):
    """Other episodes of the same lengths count as a change too (fixed-length stores have them)."""
    import torch

    from worldsim.autoencoder import Autoencoder, AutoencoderConfig
    from worldsim.checkpoint import load_tensors
    from worldsim.data import EpisodeData, encode_all

    torch.manual_seed(0)
    cfg = AutoencoderConfig(image_size=32, latent_channels=4, channels=(8, 8), decoder_channels=(8, 8))
    ae = Autoencoder(cfg).eval()
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8) for n in (3, 5)]
    data = EpisodeData(frames, [], [], [], ["", ""], np.zeros(2, bool), 2)
    cache = tmp_path / "latents.safetensors"
    first = encode_all(ae, data, cache, torch.device("cpu"))
    assert [z.shape[0] for z in first] == [3, 5]
    again = encode_all(ae, data, cache, torch.device("cpu"))
    assert all(torch.equal(a, b) for a, b in zip(first, again))

    with torch.no_grad():  # a retrained autoencoder must not reuse the old latents
        next(ae.parameters()).add_(1.0)
    changed = encode_all(ae, data, cache, torch.device("cpu"))
    assert not torch.equal(changed[0], first[0])
    assert torch.equal(changed[0], ae.encode(torch.from_numpy(frames[0])))

    data.frames = [frames[0], frames[1][:4]]  # same count of episodes, different lengths
    assert [z.shape[0] for z in encode_all(ae, data, cache, torch.device("cpu"))] == [3, 4]
    data.frames = [frames[0], 255 - frames[1][:4]]  # other episodes of the same lengths
    assert torch.equal(encode_all(ae, data, cache, torch.device("cpu"))[1], ae.encode(torch.from_numpy(data.frames[1])))

    # another run's cache of the same episodes and autoencoder is read in place of encoding them again ...
    (tmp_path / "next").mkdir()
    fresh = tmp_path / "next" / "latents.safetensors"
    seeded = encode_all(ae, data, fresh, torch.device("cpu"), seeds=[tmp_path / "missing.safetensors", cache])
    assert fresh.samefile(cache) and torch.equal(seeded[1], ae.encode(torch.from_numpy(data.frames[1])))
    # ... and never for other episodes; the new cache replaces the link, and the seed is untouched
    data.frames = frames
    assert [z.shape[0] for z in encode_all(ae, data, fresh, torch.device("cpu"), seeds=[cache])] == [3, 5]
    assert not fresh.samefile(cache) and [z.shape[0] for z in load_tensors(cache).values()] == [3, 4]


def test_ema_moves_a_fraction_towards_the_weights_and_copies_counters():
    import torch

    from worldsim.trainer import EMA

    net = torch.nn.BatchNorm1d(2)  # float weights and an integer counter
    ema = EMA(net, decay=0.9)
    with torch.no_grad():
        net.weight.fill_(11.0)  # from 1
    net.num_batches_tracked.fill_(5)
    ema.update(net)
    assert torch.allclose(ema.average.weight, torch.full((2,), 2.0))
    assert int(ema.average.num_batches_tracked) == 5
    assert not ema.average.weight.requires_grad
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        EMA(net, decay=1.0)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_bfloat16_training_runs_the_forward_pass_in_bfloat16_and_keeps_float32_weights(precision, tmp_path):
    import torch

    from worldsim.trainer import FitConfig, Trainer

    torch.manual_seed(0)
    net = torch.nn.Linear(4, 1)
    x, y = torch.randn(64, 4), torch.randn(64, 1)
    seen, losses = [], []

    def objective(step: int):
        out = net(x)
        seen.append(out.dtype)
        loss = (out - y).square().mean()
        losses.append(loss.item())
        return loss, {}

    fit = FitConfig(steps=30, lr=0.05, warmup=1, precision=precision)
    Trainer("t", net, torch.optim.AdamW(net.parameters()), fit, tmp_path, torch.Generator()).fit(objective)
    assert set(seen) == {torch.bfloat16 if precision == "bfloat16" else torch.float32}
    assert net.weight.dtype == torch.float32 and losses[-1] < losses[0]
    with pytest.raises(ValueError, match="precision"):
        FitConfig(steps=1, lr=1.0, precision="float16")


def test_finetune_ema_saves_the_average_and_resumes_exactly(data, tiny_checkpoint, tmp_path):
    """Under EMA ``model/`` holds the average, ``state/`` the raw weights; a resumed run lands where a
    straight one does, and resuming without the setting the run started with is refused."""
    from pathlib import Path

    import torch

    from worldsim.checkpoint import load_tensors
    from worldsim.finetune import FinetuneConfig, finetune
    from worldsim.trainer import RAW_WEIGHTS

    def run(out: str, steps: int, resume: bool = False, ema: float = 0.5) -> dict:
        cfg = FinetuneConfig(data=(data,), out=str(tmp_path / out), steps=steps, batch_size=2, save_every=1,
                             ema=ema, resume=resume)
        return WorldModel.load(finetune(cfg, Path(tiny_checkpoint))).dit.state_dict()

    straight = run("straight", 2)
    raw = load_tensors(tmp_path / "straight" / RAW_WEIGHTS)
    start = WorldModel.load(tiny_checkpoint).dit.state_dict()
    moved = [n for n, p in raw.items() if p.is_floating_point() and not torch.equal(p, start[n])]
    assert moved
    # The average sits strictly between the checkpoint and the raw weights.
    assert all(not torch.equal(straight[n], raw[n]) for n in moved)
    run("split", 1)
    resumed = run("split", 2, resume=True)
    assert all(torch.allclose(resumed[n], straight[n], atol=1e-6) for n in straight)
    with pytest.raises(ValueError, match="started with an EMA"):
        run("split", 3, resume=True, ema=0.0)


def test_decoder_finetune_keeps_the_latent_space_and_resumes_exactly(data, tiny_checkpoint, tmp_path):
    """Only the decoder learns (encoder, normalisation and DiT stay bit for bit), the held-out PSNR is
    reported before and after, a resumed run lands where a straight one does, and resuming a run
    against another model's encoder is refused."""
    from pathlib import Path

    import torch

    from worldsim.decoder import DecoderConfig, finetune_decoder

    def run(out: str, steps: int, checkpoint: str = tiny_checkpoint, resume: bool = False) -> dict:
        cfg = DecoderConfig(data=(data,), out=str(tmp_path / out), steps=steps, batch_size=4, lr=1e-2,
                            json=str(tmp_path / f"{out}.json"),
                            val_fraction=0.25, save_every=1, resume=resume)
        return finetune_decoder(cfg, Path(checkpoint))

    report = run("straight", 6)
    start = WorldModel.load(tiny_checkpoint).state_dict()
    straight = WorldModel.load(tmp_path / "straight" / "model").state_dict()
    learned = [k for k in start if k.startswith("autoencoder.decoder.")]
    assert all(torch.equal(start[k], straight[k]) for k in start if k not in learned)
    assert any(not torch.equal(start[k], straight[k]) for k in learned)
    assert report["val_psnr_after"] > report["val_psnr_before"]
    assert report["checkpoint_after"] != report["checkpoint_before"]
    assert json.loads((tmp_path / "straight.json").read_text())["val_psnr_after"] == report["val_psnr_after"]
    run("split", 3)
    run("split", 6, resume=True)
    resumed = WorldModel.load(tmp_path / "split" / "model").state_dict()
    assert all(torch.allclose(resumed[k], straight[k], atol=1e-6) for k in learned)
    other = WorldModel.load(tiny_checkpoint)
    with torch.no_grad():
        next(other.autoencoder.encoder.parameters()).add_(1.0)
    other.save(tmp_path / "other")
    with pytest.raises(ValueError, match="another model"):
        run("split", 7, checkpoint=str(tmp_path / "other"), resume=True)


def test_a_new_decoder_of_other_widths_trains_on_the_same_latent_space_and_resumes_only_at_them(
        data, tiny_checkpoint, tmp_path):
    """--decoder-channels starts a fresh decoder of those widths: encoder, normalisation and DiT are
    the checkpoint's bit for bit, the saved model loads with the new widths and decodes frames, a
    resume asked at other widths is refused, and widths the group norms cannot split are refused.
    --latent-noise trains on noised latents (the same draws of frames give another decoder), and a
    negative one is refused."""
    from pathlib import Path

    import torch

    from worldsim.decoder import DecoderConfig, finetune_decoder

    def run(steps: int, channels: tuple[int, ...], resume: bool = False) -> dict:
        cfg = DecoderConfig(data=(data,), out=str(tmp_path / "narrow"), steps=steps, batch_size=4, lr=1e-2,
                            val_fraction=0.25, save_every=1, resume=resume, decoder_channels=channels)
        return finetune_decoder(cfg, Path(tiny_checkpoint))

    start = WorldModel.load(tiny_checkpoint)
    narrow = (16,) + start.autoencoder.cfg.decoder_channels[1:]  # the tiny model's are the narrowest allowed
    report = run(2, narrow)
    model = WorldModel.load(tmp_path / "narrow" / "model")
    assert model.autoencoder.cfg.decoder_channels == narrow
    assert list(report["config"]["decoder_channels"]) == list(narrow)
    a, b = start.state_dict(), model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a if not k.startswith("autoencoder.decoder."))
    assert sum(p.numel() for p in model.autoencoder.decoder.parameters()) != \
        sum(p.numel() for p in start.autoencoder.decoder.parameters())
    frames = model.autoencoder.decode(torch.zeros(1, model.autoencoder.cfg.latent_channels,
                                                  model.autoencoder.cfg.latent_size, model.autoencoder.cfg.latent_size))
    assert frames.shape == (1, 64, 64, 3) and frames.dtype == torch.uint8
    with pytest.raises(ValueError, match="decoder of widths"):
        run(3, start.autoencoder.cfg.decoder_channels, resume=True)
    with pytest.raises(ValueError, match="multiples of 8"):
        run(1, (4, 4, 4))

    def trained(noise: float) -> dict:
        cfg = DecoderConfig(data=(data,), out=str(tmp_path / f"noise{noise}"), steps=2, batch_size=4, lr=1e-2,
                            val_fraction=0.25, save_every=2, latent_noise=noise)
        finetune_decoder(cfg, Path(tiny_checkpoint))
        return WorldModel.load(tmp_path / f"noise{noise}" / "model").autoencoder.decoder.state_dict()

    plain, noisy = trained(0.0), trained(1.0)  # the same draws of frames, with and without noised latents
    assert any(not torch.equal(plain[k], noisy[k]) for k in plain)
    with pytest.raises(ValueError, match="latent-noise"):
        trained(-0.1)


def test_finetune_adds_a_frame_sink_and_the_simulator_rolls_it_out(data, tiny_checkpoint, tmp_path):
    from pathlib import Path

    from worldsim.finetune import FinetuneConfig, finetune

    cfg = FinetuneConfig(data=(data,), out=str(tmp_path / "sink"), steps=2, batch_size=2, save_every=1, sink=True,
                         rollout_steps=1, sampling_steps=1)
    model = WorldModel.load(finetune(cfg, Path(tiny_checkpoint)))
    assert model.dit.cfg.sink
    assert any(n.startswith("blocks.0.sink.") for n in model.dit.state_dict())
    sim = Simulator(model, 1, device="cpu")
    sim.reset(context_frames=np.zeros((1, 1, 64, 64, 3), np.uint8), seed=0)
    zero = np.zeros((1, sim.action_dim), np.float32)
    sizes = [sim.step(zero) and sim.cache_nbytes() for _ in range(3 * model.dit.cfg.window)]
    assert sizes[-1] == sizes[model.dit.cfg.window] and sim.cache.sink_kv is not None


def test_finetune_with_action_dropout_gives_a_model_that_rolls_out_with_action_guidance(data, tiny_checkpoint,
                                                                                         tmp_path):
    from pathlib import Path

    from worldsim.diffusion import FlowConfig
    from worldsim.finetune import FinetuneConfig, finetune
    from worldsim.simulator import SimulatorConfig

    run = lambda name, **kw: finetune(FinetuneConfig(data=(data,), out=str(tmp_path / name), steps=2, batch_size=2,
                                                     save_every=1, flow=FlowConfig(action_dropout=0.5), **kw),
                                      Path(tiny_checkpoint))
    with pytest.raises(ValueError, match="--null-action"):
        run("plain")
    model = WorldModel.load(run("guided", null_action=True))
    assert model.dit.cfg.null_action and model.dit.action_embed[0].in_features == model.dit.cfg.action_dim + 2
    sim = Simulator(model, 1, SimulatorConfig(action_guidance=2.0), device="cpu")
    sim.reset(context_frames=np.zeros((1, 1, 64, 64, 3), np.uint8), seed=0)
    assert np.isfinite(sim.step(np.zeros((1, sim.action_dim), np.float32)).latents.numpy()).all()


def test_a_distilled_checkpoint_rolls_out_in_its_own_number_of_moves(data, tiny_checkpoint, tmp_path):
    from pathlib import Path

    from worldsim.diffusion import SamplerConfig
    from worldsim.finetune import FinetuneConfig, finetune
    from worldsim.simulator import SimulatorConfig

    run = lambda name, **kw: finetune(FinetuneConfig(data=(data,), out=str(tmp_path / name), steps=2, batch_size=2,
                                                     save_every=1, **kw), Path(tiny_checkpoint))
    model = WorldModel.load(run("distilled", distill_from=tiny_checkpoint, distill_steps=1))
    assert model.meta["rollout"]["sampling_steps"] == 1
    assert model.meta["distilled_from"] == WorldModel.load(tiny_checkpoint).checkpoint_hash
    assert Simulator(model, 1, device="cpu").sampler.cfg.steps == 1
    chosen = SimulatorConfig(sampler=SamplerConfig(steps=4))
    assert Simulator(model, 1, chosen, device="cpu").sampler.cfg.steps == 4
    assert Simulator(WorldModel.load(tiny_checkpoint), 1, device="cpu").sampler.cfg.steps == 4
    with pytest.raises(ValueError, match="drop --rollout-steps"):
        run("both", distill_from=tiny_checkpoint, rollout_steps=1)
    distilled = str(tmp_path / "distilled" / "model")
    with pytest.raises(ValueError, match="samples in 1 moves"):  # a teacher's own moves, not more
        run("again", distill_from=distilled, distill_steps=2)
    teacher = WorldModel.load(tiny_checkpoint).dit.cfg
    merged = WorldModel.load(run("merged", distill_from=tiny_checkpoint, distill_steps=4, merge_patches=2))
    assert merged.dit.cfg.patch == (teacher.patch[0], 2 * teacher.patch[1], 2 * teacher.patch[2])
    assert merged.dit.cfg.tokens_per_step * 4 == teacher.tokens_per_step
    assert merged.meta["rollout"]["sampling_steps"] == 4
    retrained = WorldModel.load(finetune(FinetuneConfig(data=(data,), out=str(tmp_path / "plain"), steps=1,
                                                        batch_size=2), Path(distilled)))
    assert "sampling_steps" not in retrained.meta["rollout"] and "distilled_from" not in retrained.meta


def test_finetune_gives_first_frames_layout_tokens_from_each_episodes_scene(data, tiny_checkpoint, tmp_path):
    from pathlib import Path

    from worldsim.envs.layout import LAYOUT_DIM, layout_batch
    from worldsim.finetune import FinetuneConfig, finetune
    from worldsim.store import EpisodeStore

    layouts = layout_batch([ep.spec for ep in EpisodeStore(data)], LAYOUT_DIM)  # the scene each episode was reset to
    assert layouts.shape[-1] == LAYOUT_DIM and np.abs(layouts[:, 0]).sum() > 0  # an agent in every scene
    cfg = FinetuneConfig(data=(data,), first_frames=(data,), first_frame_batch=2, out=str(tmp_path / "layout"),
                         steps=2, batch_size=2, save_every=1, layout=True)
    model = WorldModel.load(finetune(cfg, Path(tiny_checkpoint)))
    assert model.dit.cfg.layout_dim == LAYOUT_DIM
    assert model.dit.blocks[0].layout.proj.weight.abs().sum() > 0  # it trained: the batches carried layouts


def test_resume_refuses_a_model_and_state_from_different_steps(data, tiny_checkpoint, tmp_path):
    from pathlib import Path

    from worldsim.finetune import FinetuneConfig, finetune

    run = lambda steps, resume=False: finetune(FinetuneConfig(data=(data,), out=str(tmp_path / "ft"), steps=steps,
                                                              batch_size=2, save_every=1, resume=resume),
                                               Path(tiny_checkpoint))
    run(2)
    state = tmp_path / "ft" / "state" / "state.json"
    saved = json.loads(state.read_text())
    state.write_text(json.dumps({**saved, "step": 1}))  # as if stopped between saving model/ and state/
    with pytest.raises(ValueError, match="model is at step 2 but .* at step 1"):
        run(3, resume=True)


def test_training_stops_at_the_first_non_finite_loss_and_keeps_the_checkpoint(data, tiny_checkpoint, tmp_path,
                                                                             monkeypatch):
    from pathlib import Path

    import torch

    import worldsim.finetune as ft
    from worldsim.trainer import DivergedError

    cfg = ft.FinetuneConfig(data=(data,), out=str(tmp_path / "ft"), steps=2, batch_size=2, save_every=1)
    ft.finetune(cfg, Path(tiny_checkpoint))
    before = WorldModel.load(tmp_path / "ft" / "model").checkpoint_hash
    real = ft.flow_loss

    def poisoned(*args, **kw):
        out = real(*args, **kw)
        out.loss = out.loss * torch.tensor(float("nan"))
        return out

    monkeypatch.setattr(ft, "flow_loss", poisoned)
    with pytest.raises(DivergedError, match="at step 2"):
        ft.finetune(ft.FinetuneConfig(**{**cfg.__dict__, "steps": 4, "resume": True}), Path(tiny_checkpoint))
    assert WorldModel.load(tmp_path / "ft" / "model").checkpoint_hash == before


@pytest.mark.slow
def test_ddp_finetune_two_processes_on_cpu(data, tiny_checkpoint, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_PORT": "29533"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29533",
           "-m", "worldsim", "finetune", "--checkpoint", tiny_checkpoint, "--data", data,
           "--out", str(tmp_path / "ddp"), "--steps", "3", "--batch-size", "2",
           "--ema", "0.5", "--check-episodes", "0"]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert WorldModel.load(tmp_path / "ddp" / "model").meta["finetune_step"] == 3


@pytest.mark.parametrize("window, memory", [(5, None), (2, 3)])
def test_finetune_widens_the_attention_window_and_the_simulator_rolls_it_out(data, tiny_checkpoint, tmp_path,
                                                                             window, memory):
    from worldsim.finetune import FinetuneConfig, finetune

    path = finetune(FinetuneConfig(data=(data,), out=str(tmp_path / "w"), steps=1, batch_size=2, window=window,
                                   memory=memory), Path(tiny_checkpoint))
    model = WorldModel.load(path)
    recalled = memory or 0
    assert model.dit.cfg.window == window and all(block.attn.window == window for block in model.dit.blocks)
    assert model.dit.cfg.memory == recalled and all(block.attn.memory == recalled for block in model.dit.blocks)
    sim = Simulator(model, 1)
    assert sim.window == window
    sim.reset(context_frames=np.zeros((1, 1, 64, 64, 3), np.uint8), seed=0)
    for _ in range(6):
        out = sim.step(np.zeros((1, 4), np.float32))
    assert np.isfinite(out.rewards).all()
    assert sim.cache.steps == window - 1 + recalled  # the recalled steps stay in the cache


def test_clip_sampler_gives_each_step_its_previous_frames_change():
    """Latent t holds the value t everywhere, so every change is 1, except where the frame before the
    previous one does not exist (the episode's first two frames)."""
    import torch

    from worldsim.data import ClipSampler, EpisodeData

    T = 12
    data = EpisodeData([np.zeros((T + 1, 8, 8, 3), np.uint8)], [np.zeros((T, 2), np.float32)],
                       [np.zeros(T, np.float32)], [np.zeros(T, bool)], [""], np.zeros(1, bool), 2)
    latents = [torch.arange(T + 1.0)[:, None, None, None].expand(T + 1, 4, 2, 2).clone()]
    text = {"tokens": torch.zeros(1, 3, 8), "mask": torch.ones(1, 3, dtype=torch.bool), "pooled": torch.zeros(1, 8)}
    batch = ClipSampler(latents, data, text, np.arange(1), 4, 0.5, torch.Generator().manual_seed(0)).sample(
        64, torch.device("cpu"))
    step = batch.latents[:, :, 0, 0, 0]  # (B, n): each step's index in its episode
    expected = (step >= 2).float()
    torch.testing.assert_close(batch.prev_change[:, :, 0, 0, 0], expected)
    assert (step == 0).any() and (step == 1).any()  # the clips that start at the first frame are in the batch


def _hide_and_return(T: int = 14) -> np.ndarray:
    """Centroids ``(T+1, 2, 2)``: object 0 is in view, hides at frames 4-7 and is back from 8 on; object 1
    first shows at frame 10 (never seen before, so not a return)."""
    found = np.full((T + 1, 2, 2), np.nan)
    found[:, 0] = [[4.0 * t, 20.0] for t in range(T + 1)]
    found[4:8, 0] = np.nan
    found[10:, 1] = [40.0, 60.0]
    return found


def test_find_returns_marks_the_cells_of_an_object_back_in_view():
    from worldsim.data import find_returns

    focus, seen_at = find_returns(_hide_and_return(), grid=(16, 16), frame_size=(64, 64), frames_back=2, reach=15)
    assert np.flatnonzero(seen_at >= 0).tolist() == [8, 9] and (seen_at[[8, 9]] == 3).all()
    assert focus[[0, 3, 7, 10, 12]].sum() == 0  # in view all along, hidden, or never seen before: no focus
    # frame 8 puts the object at (col 32, row 20) px: latent cell (row 5, col 8) and its neighbours
    assert focus[8].sum() == 9 and focus[8, 4:7, 7:10].all()
    assert focus[9, 4:7, 8:11].all()  # frame 9 at col 36: cell 9
    # a return more frames after the last sight than the model sees back is not marked
    assert (find_returns(_hide_and_return(), (16, 16), (64, 64), reach=4)[1] < 0).all()


def test_occlusion_episodes_hold_returns_and_finetune_draws_clips_around_them(tiny_checkpoint, tmp_path,
                                                                              monkeypatch):
    """An object glides under the Occlusion slab and out again: the episode's frames show its return,
    and a fine-tune that asks for clips around returns runs on them (a store without one is refused)."""
    import json
    from pathlib import Path

    from worldsim.data import episode_returns, load_episodes
    from worldsim.finetune import FinetuneConfig, finetune

    out = tmp_path / "occlusion"
    collect(CollectConfig(env_id="WorldSim/Occlusion-v0", episodes=2, steps=16, policy="random", out=str(out),
                          progress=False))
    data = load_episodes((str(out),), 0.0)
    returns = episode_returns(data, (16, 16), reach=15, cache=tmp_path / "returns.safetensors")
    for focus, seen_at in zip(returns.focus, returns.seen_at):
        back = np.flatnonzero(seen_at >= 0)
        assert len(back) and (seen_at[back] < back - 1).all()  # hidden for at least one frame in between
        assert (focus[back].sum(axis=(1, 2)) > 0).all() and focus[seen_at < 0].sum() == 0
    # the second time they are read from the cache, the frames not searched again; another reach searches
    import worldsim.envs.physics_teacher as teacher

    monkeypatch.setattr(teacher, "find_bodies", lambda *a: pytest.fail("searched the frames again"))
    cached = episode_returns(data, (16, 16), reach=15, cache=tmp_path / "returns.safetensors")
    for a, b in zip(returns.focus + returns.seen_at, cached.focus + cached.seen_at):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(pytest.fail.Exception, match="searched the frames again"):
        episode_returns(data, (16, 16), reach=14, cache=tmp_path / "returns.safetensors")
    monkeypatch.undo()
    cfg = FinetuneConfig(data=(str(out),), out=str(tmp_path / "ft"), steps=2, batch_size=2, save_every=2,
                         window=12, return_prob=1.0, flow=FlowConfig(return_weight=10.0),
                         first_frames=(str(out),), first_frame_batch=2)  # first frames beside: none returns
    finetune(cfg, Path(tiny_checkpoint))
    log = json.loads((tmp_path / "ft" / "state" / "state.json").read_text())["log"]
    assert len(log) == 2 and all(np.isfinite(row["flow"]) and np.isfinite(row["first_frame"]) for row in log)
    with pytest.raises(ValueError, match="drop return_prob"):
        finetune(replace(cfg, out=str(tmp_path / "short"), window=None), Path(tiny_checkpoint))  # sees 3 steps


def test_clip_sampler_draws_clips_around_returns_and_weights_only_those_that_show_the_hiding():
    import torch

    from worldsim.data import ClipSampler, EpisodeData, Returns, find_returns

    T, n = 30, 6
    data = EpisodeData([np.zeros((T + 1, 8, 8, 3), np.uint8)] * 2, [np.zeros((T, 2), np.float32)] * 2,
                       [np.zeros(T, np.float32)] * 2, [np.zeros(T, bool)] * 2, ["", ""], np.zeros(2, bool), 2)
    latents = [torch.zeros(T + 1, 4, 4, 4)] * 2
    text = {"tokens": torch.zeros(2, 3, 8), "mask": torch.ones(2, 3, dtype=torch.bool), "pooled": torch.zeros(2, 8)}
    found = np.full((T + 1, 1, 2), np.nan)
    found[:20, 0] = [8.0, 8.0]
    found[23:, 0] = [8.0, 8.0]  # episode 0: hidden at 20-22, back at 23; last seen at 19
    focus, seen = find_returns(found, (4, 4), (8, 8), frames_back=1, reach=10)
    none = (np.zeros_like(focus), np.full_like(seen, -1))
    returns = Returns([focus, none[0]], [seen, none[1]])
    g = lambda: torch.Generator().manual_seed(0)
    sampler = ClipSampler(latents, data, text, np.arange(2), n, 0.0, g(), returns, return_prob=1.0)
    assert sampler.num_returns == 1
    batch = sampler.sample(200, torch.device("cpu"))
    assert (batch.clips[:, 0] == 0).all()
    starts = batch.clips[:, 1]
    assert ((starts >= 23 - n + 1) & (starts <= 19)).all() and len(set(starts.tolist())) == 2  # 18 and 19
    marked = batch.focus.sum(dim=(2, 3))  # (B, n) cells in focus per step
    for row, s in enumerate(starts.tolist()):
        assert marked[row, 23 - s] > 0 and marked[row].sum() == marked[row, 23 - s]
    # without the draw, clips that start after the last sight carry no focus
    plain = ClipSampler(latents, data, text, np.arange(2), n, 0.0, g(), returns).sample(300, torch.device("cpu"))
    weighted = plain.focus.sum(dim=(1, 2, 3)) > 0
    assert weighted.any()
    for (e, s), w in zip(plain.clips.tolist(), weighted.tolist()):
        assert w == (e == 0 and 23 - n + 1 <= s <= 19)
    with pytest.raises(ValueError, match="pass returns"):
        ClipSampler(latents, data, text, np.arange(2), n, 0.0, g(), None, return_prob=0.5)
    with pytest.raises(ValueError, match="drop return_prob"):
        ClipSampler(latents, data, text, np.arange(2), 3, 0.0, g(), returns, return_prob=0.5)
