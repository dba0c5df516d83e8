"""Training: the frame autoencoder first, then the DiT on precomputed latents.

    worldsim train --data data/pushbox data/playground --preset S --out runs/main
    worldsim train --data data/pushbox --out runs/main --resume          # continue a stopped run
    torchrun --nproc-per-node 2 -m worldsim train --data data/pushbox --out runs/ddp   # DDP

A run directory holds::

    autoencoder/   autoencoder checkpoint (stage 1, reused when present)
    model/         the world-model checkpoint (autoencoder + DiT), rewritten every ``save_every`` steps
    state/         optimizer, step and RNG state for ``--resume``
    latents.safetensors, text.safetensors   caches of the encoded data
    tb/            TensorBoard scalars

Both stages, like fine-tuning and the decoder's training, run through :class:`worldsim.trainer.Trainer`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from .autoencoder import Autoencoder, AutoencoderConfig, foreground_weighted_loss, psnr_float
from .checkpoint import (
    atomic_write_json,
    config_from_dict,
    load_checkpoint,
    save_checkpoint,
)
from .data import (
    ClipSampler,
    EpisodeData,
    encode_all,
    encode_captions,
    episode_returns,
    load_episodes,
    scene_layouts,
    split_frames,
)
from .diffusion import FlowConfig, flow_loss
from .model import MODELS, DiT
from .trainer import Dist, FitConfig, Trainer, default_device, init_distributed, resumable, stage_generators
from .worldmodel import WorldModel

# --------------------------------------------------------------------------------------------
#                                         Configs
# --------------------------------------------------------------------------------------------


@dataclass
class AutoencoderTrainConfig:
    """Stage 1: the frame autoencoder."""

    steps: int = 3000
    """Optimizer steps."""
    batch_size: int = 32
    """Frames per batch."""
    lr: float = 1e-3
    """AdamW learning rate (cosine decay to 10%)."""
    fg_weight: float = 20.0
    """Loss weight of pixels that differ from the background (small objects must survive)."""
    channels: tuple[int, ...] = (16, 32, 64)
    """Encoder widths; two downsamples give a 16x16 latent for 64x64 frames."""
    latent_channels: int = 8
    """Latent channels."""


@dataclass
class DiTTrainConfig:
    """Stage 2: the DiT on latent clips."""

    preset: str = "S"
    """Model size, a key of worldsim.model.MODELS."""
    steps: int = 4000
    """Optimizer steps."""
    batch_size: int = 32
    """Clips per batch."""
    clip_steps: int = 4
    """Steps per training clip."""
    window: int = 4
    """Attention window W (steps) stored in the model; rollouts keep this many steps of context.
    Keep it at most clip_steps: training shows the model no longer distances."""
    memory: int = 0
    """Steps before the window each step also attends to, pooled to a quarter of their tokens
    (DiTConfig.memory). Keep window + memory at most clip_steps."""
    patch: tuple[int, int] = (2, 2)
    """Latent cells a token covers, rows by columns: 4 4 gives a quarter of the tokens of 2 2 (16 a
    step instead of 64 on a 16x16 latent), each one wider, for about a quarter of the compute."""
    residual: bool = True
    """Denoise each step's change from the previous one, scaled by its std in the data (see
    DiTConfig.residual_scale), instead of the latent itself."""
    lr: float = 5e-4
    """Peak AdamW learning rate."""
    warmup: int = 200
    """Linear warm-up steps."""
    weight_decay: float = 0.01
    """AdamW weight decay."""
    start_prob: float = 0.15
    """Chance a clip starts at an episode's first frame (teaches frame 0 from text)."""
    return_prob: float = 0.0
    """Chance a clip is drawn around a step where an object comes back into view after hiding, with
    its last sight in the clip (see worldsim.data.Returns); use with flow.return_weight."""
    ema: float = 0.0
    """Decay of an exponential moving average of the weights; above 0 model/ holds the average
    and state/ the raw weights to resume from. 0 saves the raw weights."""
    flow: FlowConfig = field(default_factory=FlowConfig)
    """Noise-level sampling and loss weights."""
    precision: Literal["float32", "bfloat16"] = "float32"
    """Precision of the forward pass (bfloat16: under torch.autocast; the weights stay float32)."""
    spatial_rope: bool = False
    """Rotate attention by each token's row and column as well as its step (DiTConfig.spatial_rope)."""
    exact_gelu: bool = True
    """GELU in its exact form, cheaper on CPUs than the tanh approximation (DiTConfig.exact_gelu)."""
    layout: bool = False
    """Give first frames one token per agent, object, goal and slab of the episode's recorded scene
    (DiTConfig.layout_dim, worldsim.envs.layout), so frame 0 from text is drawn where the prompt says."""


@dataclass
class TrainConfig:
    """worldsim train: autoencoder then DiT on episodes from worldsim collect."""

    data: tuple[str, ...] = ("data/pushbox",)
    """Episode store directories (one or more)."""
    out: str = "runs/main"
    """Run directory."""
    resume: bool = False
    """Continue from the run directory's last saved state."""
    autoencoder: str | None = None
    """Take the autoencoder of this world-model checkpoint instead of training one (stage 1 is skipped),
    so DiTs trained in different runs share one latent space and can be compared on equal terms."""
    seed: int = 0
    """Seed for sampling and init."""
    val_fraction: float = 0.1
    """Share of episodes held out for validation (by index, see worldsim.store.split_of)."""
    save_every: int = 250
    """Checkpoint every N DiT steps (and at the end)."""
    log_every: int = 25
    """Scalars to TensorBoard every N steps."""
    time_budget_min: float = 0.0
    """Stop the DiT stage after this many minutes (0 = no limit); the checkpoint is saved."""
    ae: AutoencoderTrainConfig = field(default_factory=AutoencoderTrainConfig)
    dit: DiTTrainConfig = field(default_factory=DiTTrainConfig)


# --------------------------------------------------------------------------------------------
#                                  Stage 1: autoencoder
# --------------------------------------------------------------------------------------------


def train_autoencoder(cfg: TrainConfig, data: EpisodeData, device: torch.device, d: Dist) -> Autoencoder:
    """Train (or load) the frame autoencoder; saves ``out/autoencoder``."""
    out = Path(cfg.out) / "autoencoder"
    if (out / "config.json").exists():
        ae_cfg, tensors, meta = load_checkpoint(out, kind="autoencoder")
        ae = Autoencoder(config_from_dict(AutoencoderConfig, ae_cfg, where=str(out)))
        ae.load_state_dict(tensors)
        if d.main:
            print(f"autoencoder: loaded {out} (val PSNR {meta.get('val_psnr', float('nan')):.2f} dB)")
        return ae.to(device)
    if cfg.autoencoder is not None:
        return _taken_autoencoder(cfg.autoencoder, out, data, device, d)
    c = cfg.ae
    torch.manual_seed(cfg.seed)
    ae = Autoencoder(AutoencoderConfig(channels=c.channels, decoder_channels=tuple(reversed(c.channels)),
                                       latent_channels=c.latent_channels)).to(device)
    train_frames = split_frames(data, val=False)
    val_frames = split_frames(data, val=True) if data.val.any() else torch.from_numpy(data.frames[0])
    opt = torch.optim.AdamW(ae.parameters(), lr=c.lr, weight_decay=0.0)
    g = torch.Generator().manual_seed(cfg.seed + d.rank)
    trainer = Trainer("autoencoder", ae, opt, FitConfig(steps=c.steps, lr=c.lr, warmup=100, log_every=cfg.log_every),
                      Path(cfg.out), g, d)

    def objective(step: int) -> tuple[Tensor, dict[str, float]]:
        idx = torch.randint(len(train_frames), (c.batch_size,), generator=g)
        x = Autoencoder.to_float(train_frames[idx].to(device))  # (N, 3, H, W)
        return foreground_weighted_loss(ae.reconstruct(x), x, c.fg_weight), {}

    trainer.fit(objective)
    ae.eval()
    val_psnr = evaluate_autoencoder(ae, val_frames[:512].to(device))
    with torch.no_grad():
        ae.fit_normalisation(train_frames[:: max(1, len(train_frames) // 4096)].to(device))
    if d.main:
        print(f"autoencoder: val PSNR {val_psnr:.2f} dB")
        save_checkpoint(out, kind="autoencoder", config=asdict(ae.cfg), tensors=ae.state_dict(),
                        meta={"val_psnr": val_psnr, "steps": c.steps})
    return ae


def _taken_autoencoder(checkpoint: str, out: Path, data: EpisodeData, device: torch.device, d: Dist) -> Autoencoder:
    """The autoencoder of world model ``checkpoint`` in float32, saved as this run's stage 1."""
    model = WorldModel.load(checkpoint, device=device)
    ae = model.autoencoder.float().eval()
    if tuple(data.frames[0].shape[1:3]) != (ae.cfg.image_size, ae.cfg.image_size):
        raise ValueError(f"the autoencoder of {checkpoint} reads {ae.cfg.image_size}px frames, the data has "
                         f"{data.frames[0].shape[1]}x{data.frames[0].shape[2]}; collect at its size or train one")
    val_frames = split_frames(data, val=True) if data.val.any() else torch.from_numpy(data.frames[0])
    val_psnr = evaluate_autoencoder(ae, val_frames[:512].to(device))
    if d.main:
        print(f"autoencoder: taken from {checkpoint} (val PSNR {val_psnr:.2f} dB)")
        save_checkpoint(out, kind="autoencoder", config=asdict(ae.cfg), tensors=ae.state_dict(),
                        meta={"val_psnr": val_psnr, "taken_from": model.checkpoint_hash})
    return ae


@torch.no_grad()
def evaluate_autoencoder(ae: Autoencoder, frames: Tensor) -> float:
    x = Autoencoder.to_float(frames)
    return psnr_float(torch.cat([ae.reconstruct(x[i:i + 128]) for i in range(0, len(x), 128)]), x)


# --------------------------------------------------------------------------------------------
#                                      Stage 2: DiT
# --------------------------------------------------------------------------------------------


def residual_std(latents: list[Tensor]) -> float:
    """Std of the change between consecutive latents, over every episode given."""
    diffs = torch.cat([(z[1:] - z[:-1]).flatten() for z in latents if len(z) > 1])
    return float(diffs.std())


def build_dit(cfg: TrainConfig, ae: Autoencoder, action_dim: int, residual_scale: float = 0.0) -> DiT:
    from worldsim.envs.layout import LAYOUT_DIM

    if cfg.dit.preset not in MODELS:
        raise ValueError(f"unknown preset {cfg.dit.preset!r}; choose one of {sorted(MODELS)}")
    return MODELS[cfg.dit.preset](latent_channels=ae.cfg.latent_channels, latent_size=ae.cfg.latent_size,
                                  action_dim=action_dim, window=cfg.dit.window, memory=cfg.dit.memory,
                                  residual_scale=residual_scale,
                                  patch=(1, *cfg.dit.patch), spatial_rope=cfg.dit.spatial_rope,
                                  exact_gelu=cfg.dit.exact_gelu, layout_dim=LAYOUT_DIM if cfg.dit.layout else 0)


def refuse_another_dit(saved: DiT, built: DiT, out: Path) -> None:
    """A resumed run goes on with the network it saved: a DiT setting that differs from the saved
    model's (an option changed since, or a new default) is refused rather than trained on silently."""
    was, now = asdict(saved.cfg), asdict(built.cfg)
    changed = sorted(k for k in was if was[k] != now[k])
    if changed:
        diff = ", ".join(f"{k}: saved {was[k]!r}, now {now[k]!r}" for k in changed)
        raise ValueError(f"--resume: the DiT in {out}/model differs from the one these options build ({diff}); "
                         "resume with the options the run was started with (see its train_config.json and "
                         "model/config.json), or start a new run")


def train(cfg: TrainConfig) -> Path:
    """Run both stages; returns the world-model checkpoint directory."""
    device = default_device()
    d = init_distributed(device)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    if d.main:
        atomic_write_json(out / "train_config.json", asdict(cfg))
    data = load_episodes(cfg.data, cfg.val_fraction)
    ae = train_autoencoder(cfg, data, device, d)
    latents = encode_all(ae, data, out / "latents.safetensors", device)
    text = encode_captions(data.captions, out / "text.safetensors")
    train_latents = [latents[i] for i in np.flatnonzero(~data.val)]
    scale = round(residual_std(train_latents), 4) if cfg.dit.residual else 0.0
    dit = build_dit(cfg, ae, data.action_dim, scale).to(device)
    if dit.cfg.layout_dim:
        text["layout"] = scene_layouts(data, dit.cfg.layout_dim)
    c = cfg.dit
    opt = torch.optim.AdamW(dit.parameters(), lr=c.lr, weight_decay=c.weight_decay, betas=(0.9, 0.99))
    g, noise = stage_generators(cfg.seed + 1000 * d.rank, device)
    fit = FitConfig(steps=c.steps, lr=c.lr, warmup=c.warmup, save_every=cfg.save_every,
                    time_budget_min=cfg.time_budget_min, log_every=cfg.log_every, ema=c.ema, grad_clip=1.0,
                    precision=c.precision)
    trainer = Trainer("dit", dit, opt, fit, out, g, d, noise)
    if resumable(out, cfg.resume, out / "model"):
        saved = WorldModel.load(out / "model", device=device)
        refuse_another_dit(saved.dit, dit, out)
        trainer.resume(saved.dit.state_dict(), model_step=int(saved.meta.get("step", -1)))
    returns = None
    if c.flow.return_weight > 0 or c.return_prob > 0:
        returns = episode_returns(data, tuple(latents[0].shape[-2:]), dit.cfg.span - 1, out / "returns.safetensors")
    sampler = ClipSampler(latents, data, text, np.flatnonzero(~data.val), c.clip_steps, c.start_prob, g,
                          returns, c.return_prob)
    del latents, train_latents  # the sampler holds them, laid end to end
    meta = {"data": list(cfg.data), "frames": data.num_frames, "episodes": len(data.frames),
            **({"ema": c.ema} if c.ema else {})}

    def objective(step: int) -> tuple[Tensor, dict[str, Tensor]]:
        losses = flow_loss(dit, sampler.sample(c.batch_size, device), c.flow, noise)
        return losses.loss, {"flow": losses.flow, "reward": losses.reward, "done": losses.done}

    def save(step: int, weights: torch.nn.Module) -> None:
        WorldModel(ae, weights).save(out / "model", meta={**meta, "step": step})

    trainer.fit(objective, save)
    return out / "model"
