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

import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .autoencoder import Autoencoder, AutoencoderConfig, foreground_weighted_loss, psnr_float
from .checkpoint import (
    atomic_write_json,
    config_from_dict,
    load_checkpoint,
    load_tensors,
    module_fingerprint,
    save_checkpoint,
    save_tensors,
    tensor_metadata,
)
from .diffusion import Batch, FlowConfig, flow_loss
from .model import MODELS, DiT, TextCond
from .trainer import Dist, FitConfig, Trainer, default_device, init_distributed, resumable
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
    """Model size, a key of ``worldsim.model.MODELS``."""
    steps: int = 4000
    """Optimizer steps."""
    batch_size: int = 32
    """Clips per batch."""
    clip_steps: int = 4
    """Steps per training clip."""
    window: int = 4
    """Attention window W (steps) stored in the model; rollouts keep this many steps of context.
    Keep it at most ``clip_steps``: training shows the model no longer distances."""
    residual: bool = True
    """Denoise each step's change from the previous one, scaled by its std in the data (see
    ``DiTConfig.residual_scale``), instead of the latent itself."""
    lr: float = 5e-4
    """Peak AdamW learning rate."""
    warmup: int = 200
    """Linear warm-up steps."""
    weight_decay: float = 0.01
    """AdamW weight decay."""
    start_prob: float = 0.15
    """Chance a clip starts at an episode's first frame (teaches frame 0 from text)."""
    ema: float = 0.0
    """Decay of an exponential moving average of the weights; above 0 ``model/`` holds the average
    and ``state/`` the raw weights to resume from. 0 saves the raw weights."""
    flow: FlowConfig = field(default_factory=FlowConfig)
    """Noise-level sampling and loss weights."""


@dataclass
class TrainConfig:
    """``worldsim train``: autoencoder then DiT on episodes from ``worldsim collect``."""

    data: tuple[str, ...] = ("data/pushbox",)
    """Episode store directories (one or more)."""
    out: str = "runs/main"
    """Run directory."""
    resume: bool = False
    """Continue from the run directory's last saved state."""
    seed: int = 0
    """Seed for sampling and init."""
    val_fraction: float = 0.1
    """Share of episodes held out for validation (by index, see ``worldsim.store.split_of``)."""
    save_every: int = 250
    """Checkpoint every N DiT steps (and at the end)."""
    log_every: int = 25
    """Scalars to TensorBoard every N steps."""
    time_budget_min: float = 0.0
    """Stop the DiT stage after this many minutes (0 = no limit); the checkpoint is saved."""
    ae: AutoencoderTrainConfig = field(default_factory=AutoencoderTrainConfig)
    dit: DiTTrainConfig = field(default_factory=DiTTrainConfig)


# --------------------------------------------------------------------------------------------
#                                          Data
# --------------------------------------------------------------------------------------------


@dataclass
class EpisodeData:
    """All episodes of the training stores, in memory."""

    frames: list[np.ndarray]  # per episode uint8 (T+1, H, W, 3)
    actions: list[np.ndarray]  # per episode float32 (T, A)
    rewards: list[np.ndarray]  # per episode float32 (T,)
    terminated: list[np.ndarray]  # per episode bool (T,)
    captions: list[str]
    val: np.ndarray  # bool per episode
    action_dim: int
    source: np.ndarray | None = None  # per episode, the index of the store it was read from

    @property
    def num_frames(self) -> int:
        return sum(len(f) for f in self.frames)


def load_episodes(dirs: tuple[str, ...], val_fraction: float) -> EpisodeData:
    """Read every episode of the given stores, padding actions to the widest action size."""
    from .store import CorruptEpisodeError, EpisodeStore, split_of

    episodes, val, source, skipped = [], [], [], {}
    for k, d in enumerate(dirs):
        store = EpisodeStore(d)
        if len(store) == 0:
            raise FileNotFoundError(f"{d} holds no episodes; run `worldsim collect --out {d}` first")
        skipped |= {str(store.root / name): why for name, why in store.problems.items()}
        widths = set()
        for i in store.indices():
            try:
                ep = store.read(i)  # a non-finite episode is refused as corrupt
            except CorruptEpisodeError as e:
                skipped[str(store.path(i))] = str(e)
                continue
            widths.add(ep.action_dim)
            episodes.append(ep)
            val.append(split_of(i, val_fraction) == "val")
            source.append(k)
        if len(widths) > 1:
            raise CorruptEpisodeError(f"{d} mixes {sorted(widths)}-wide actions; a store holds one env's episodes. "
                                      "Collect each env into its own --out")
    if skipped:
        lines = "\n  ".join(f"{path}: {why.splitlines()[0]}" for path, why in sorted(skipped.items()))
        warnings.warn(f"skipped {len(skipped)} unreadable episode file(s):\n  {lines}", stacklevel=2)
    if not episodes:
        raise CorruptEpisodeError(f"no readable episode in {', '.join(dirs)}")
    shapes = {ep.frames.shape[1:] for ep in episodes}
    if len(shapes) > 1:
        raise CorruptEpisodeError(f"{', '.join(dirs)} hold frames of sizes {sorted(shapes)}; train on one frame "
                                  "size (collect with the same --size)")
    action_dim = max(ep.actions.shape[1] for ep in episodes)
    pad = lambda a: np.pad(a, ((0, 0), (0, action_dim - a.shape[1]))).astype(np.float32)
    return EpisodeData(
        frames=[ep.frames for ep in episodes],
        actions=[pad(ep.actions) for ep in episodes],
        rewards=[ep.rewards.astype(np.float32) for ep in episodes],
        terminated=[ep.terminated.astype(bool) for ep in episodes],
        captions=[ep.caption for ep in episodes],
        val=np.array(val, dtype=bool),
        action_dim=action_dim,
        source=np.array(source, dtype=np.int64),
    )


class ClipSampler:
    """Draws latent clips of ``n`` steps from in-memory episode latents (``pt = 1``).

    ``start_prob`` is the chance a clip starts at its episode's first frame: one value, or one per
    episode (indexed like ``latents``).
    """

    def __init__(self, latents: list[Tensor], data: EpisodeData, text: dict[str, Tensor], episodes: np.ndarray,
                 n: int, start_prob: float | np.ndarray, generator: torch.Generator):
        start_prob = np.broadcast_to(np.asarray(start_prob, dtype=np.float64), (len(latents),))
        if not ((start_prob >= 0.0) & (start_prob <= 1.0)).all():
            raise ValueError(f"start_prob {np.unique(start_prob)} is not a chance; pass values from 0 to 1")
        self.latents, self.data, self.text, self.n = latents, data, text, n
        self.episodes = [int(e) for e in episodes if len(latents[e]) >= n]
        if not self.episodes:
            raise ValueError(f"no episode has {n} frames; collect longer episodes or lower clip_steps")
        self.start_prob, self.g = start_prob, generator

    def sample(self, batch_size: int, device: torch.device) -> Batch:
        g = self.g
        eps_idx = torch.randint(len(self.episodes), (batch_size,), generator=g)
        lat, prev, act, first, rew, done, rows, sink = [], [], [], [], [], [], [], []
        for i in eps_idx.tolist():
            e = self.episodes[i]
            z = self.latents[e]  # (T+1, C, h, w)
            T1 = len(z)
            at_start = torch.rand((), generator=g).item() < self.start_prob[e]
            s = 0 if at_start else int(torch.randint(T1 - self.n + 1, (), generator=g))
            idx = torch.arange(s, s + self.n)  # frame indices of the clip
            lat.append(z[idx])
            sink.append(z[:1])
            prev.append(torch.where((idx > 0)[:, None, None, None], z[(idx - 1).clamp_min(0)], 0.0))
            t_prev = (idx - 1).clamp_min(0).numpy()
            a = torch.from_numpy(self.data.actions[e][t_prev]) * (idx > 0)[:, None]
            act.append(a)
            first.append(idx == 0)
            rew.append(torch.from_numpy(self.data.rewards[e][t_prev]) * (idx > 0))
            done.append(torch.from_numpy(self.data.terminated[e][t_prev].astype(np.float32)) * (idx > 0))
            rows.append(e)
        text = TextCond(self.text["tokens"][rows], self.text["mask"][rows], self.text["pooled"][rows])
        to = lambda t: t.to(device)
        return Batch(to(torch.stack(lat)), to(torch.stack(prev)), to(torch.stack(act)), to(torch.stack(first)),
                     to(torch.stack(rew)), to(torch.stack(done)),
                     TextCond(to(text.tokens), to(text.mask), to(text.pooled)), to(torch.stack(sink)))


def encode_captions(captions: list[str], cache_path: Path) -> dict[str, Tensor]:
    """Text embeddings for every episode's caption, cached on disk by the text encoder."""
    from .text import get_text_encoder

    enc = get_text_encoder()
    if cache_path.exists():
        enc.load_cache(cache_path)
    emb = enc.encode_cached(captions)
    enc.save_cache(cache_path)
    S = max(1, int(emb.mask.sum(1).max()))  # padding past the longest caption is masked out: drop it
    return {"tokens": emb.tokens[:, :S].contiguous(), "mask": emb.mask[:, :S].contiguous(), "pooled": emb.pooled}


# --------------------------------------------------------------------------------------------
#                                  Stage 1: autoencoder
# --------------------------------------------------------------------------------------------


def split_frames(data: EpisodeData, val: bool) -> Tensor:
    """Every frame of the held-out (``val``) or the training episodes, uint8 ``(N, H, W, 3)``; empty
    ``(0, H, W, 3)`` where there are none."""
    frames = [f for f, v in zip(data.frames, data.val) if v == val]
    return torch.from_numpy(np.concatenate(frames) if frames else data.frames[0][:0])


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


@torch.no_grad()
def evaluate_autoencoder(ae: Autoencoder, frames: Tensor) -> float:
    x = Autoencoder.to_float(frames)
    return psnr_float(torch.cat([ae.reconstruct(x[i:i + 128]) for i in range(0, len(x), 128)]), x)


@torch.no_grad()
def encode_all(ae: Autoencoder, data: EpisodeData, cache: Path, device: torch.device) -> list[Tensor]:
    """Latents of every episode, cached in ``cache``.

    The cache records the autoencoder's weights and the episodes' lengths, and is rebuilt when either
    differs, so a retrained autoencoder or a changed store never trains on stale latents.
    """
    key = {"autoencoder": module_fingerprint(ae), "lengths": ",".join(str(len(f)) for f in data.frames)}
    if cache.exists() and tensor_metadata(cache) == key:
        tensors = load_tensors(cache)
        return [tensors[f"{i}"] for i in range(len(data.frames))]
    latents = [torch.cat([ae.encode(torch.from_numpy(f[i:i + 256]).to(device)).cpu()
                          for i in range(0, len(f), 256)]) for f in data.frames]
    save_tensors(cache, {f"{i}": z for i, z in enumerate(latents)}, metadata=key)
    return latents


# --------------------------------------------------------------------------------------------
#                                      Stage 2: DiT
# --------------------------------------------------------------------------------------------


def residual_std(latents: list[Tensor]) -> float:
    """Std of the change between consecutive latents, over every episode given."""
    diffs = torch.cat([(z[1:] - z[:-1]).flatten() for z in latents if len(z) > 1])
    return float(diffs.std())


def build_dit(cfg: TrainConfig, ae: Autoencoder, action_dim: int, residual_scale: float = 0.0) -> DiT:
    if cfg.dit.preset not in MODELS:
        raise ValueError(f"unknown preset {cfg.dit.preset!r}; choose one of {sorted(MODELS)}")
    return MODELS[cfg.dit.preset](latent_channels=ae.cfg.latent_channels, latent_size=ae.cfg.latent_size,
                                  action_dim=action_dim, window=cfg.dit.window, residual_scale=residual_scale)


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
    c = cfg.dit
    opt = torch.optim.AdamW(dit.parameters(), lr=c.lr, weight_decay=c.weight_decay, betas=(0.9, 0.99))
    g = torch.Generator().manual_seed(cfg.seed + 1000 * d.rank)
    fit = FitConfig(steps=c.steps, lr=c.lr, warmup=c.warmup, save_every=cfg.save_every,
                    time_budget_min=cfg.time_budget_min, log_every=cfg.log_every, ema=c.ema, grad_clip=1.0)
    trainer = Trainer("dit", dit, opt, fit, out, g, d)
    if resumable(out, cfg.resume, out / "model"):
        saved = WorldModel.load(out / "model", device=device)
        trainer.resume(saved.dit.state_dict(), model_step=int(saved.meta.get("step", -1)))
    sampler = ClipSampler(latents, data, text, np.flatnonzero(~data.val), c.clip_steps, c.start_prob, g)
    meta = {"data": list(cfg.data), "frames": data.num_frames, "episodes": len(data.frames),
            **({"ema": c.ema} if c.ema else {})}

    def objective(step: int) -> tuple[Tensor, dict[str, float]]:
        losses = flow_loss(dit, sampler.sample(c.batch_size, device), c.flow, g)
        return losses.loss, {"flow": losses.flow.item(), "reward": losses.reward.item(), "done": losses.done.item()}

    def save(step: int, weights: torch.nn.Module) -> None:
        WorldModel(ae, weights).save(out / "model", meta={**meta, "step": step})

    trainer.fit(objective, save)
    return out / "model"
