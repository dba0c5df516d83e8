"""Physics fine-tuning: adapt a trained world model to one scene, with a rollout loss.

    worldsim finetune --env WorldSim/PushBox-v0 --data data/pushbox_ft --out runs/ft_pushbox

Teacher forcing trains every step on ground-truth context, but a simulator feeds the model its own
outputs, and small errors compound (exposure bias). Besides the usual flow loss, fine-tuning
therefore unrolls ``rollout_steps`` steps on the model's own samples through the KV-cached path and
scores them against the ground-truth latents (as in Self-Forcing, Huang et al. 2025, and the
rollout training of Diffusion Forcing). Gradients are truncated: every denoising pass but the last
runs without gradients, and the committed context is detached, so memory stays that of one pass.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from .diffusion import Batch, FlowConfig, FlowSampler, SamplerConfig, add_noise, flow_loss
from .model import DiT
from .train import (
    ClipSampler,
    cosine_lr,
    default_device,
    encode_all,
    encode_captions,
    load_episodes,
    load_state,
    save_state,
    set_lr,
)
from .worldmodel import WorldModel


@dataclass
class FinetuneConfig:
    """``worldsim finetune``: adapt a checkpoint to one scene's ground truth."""

    checkpoint: str | None = None
    """Checkpoint to start from (default: the shipped one)."""
    env: str = "WorldSim/PushBox-v0"
    """Scene to fine-tune on (its episodes are collected into ``data`` if missing)."""
    data: tuple[str, ...] = ("data/finetune",)
    """Episode stores to train on. A single empty one is filled from ``env`` first."""
    episodes: int = 200
    """Episodes to collect when ``data`` is empty."""
    episode_steps: int = 30
    """Steps per collected episode."""
    policy: str = "scripted"
    """Collection policy (``random`` or ``scripted``)."""
    out: str = "runs/finetune"
    """Run directory (``model/`` is the fine-tuned checkpoint)."""
    steps: int = 300
    """Optimizer steps."""
    batch_size: int = 16
    """Clips per batch."""
    context_steps: int = 2
    """Ground-truth steps before the unroll."""
    rollout_steps: int = 2
    """r: steps unrolled on the model's own samples."""
    rollout_weight: float = 1.0
    """Weight of the rollout loss against the flow loss."""
    sampling_steps: int = 2
    """Denoising moves per unrolled step (the last one carries gradients)."""
    context_noise: float = 0.02
    """Noise level of committed context, as in the simulator."""
    lr: float = 1e-4
    """Peak AdamW learning rate."""
    save_every: int = 100
    """Checkpoint every N steps."""
    resume: bool = False
    """Continue from ``out``'s last state."""
    seed: int = 0
    """Seed of sampling."""
    time_budget_min: float = 0.0
    """Stop after this many minutes (0 = no limit)."""
    flow: FlowConfig = field(default_factory=FlowConfig)
    """Teacher-forced flow loss settings."""


def rollout_loss(dit: DiT, batch: Batch, cfg: FinetuneConfig, generator: torch.Generator) -> torch.Tensor:
    """Unroll the last ``rollout_steps`` steps of each clip on the model's own samples.

    The first ``context_steps`` ground-truth steps are committed to a fresh KV cache; each unrolled
    step is sampled from noise, scored (predicted clean latent against ground truth, MSE) at its
    last denoising pass, and its own sample, not the ground truth, becomes the next step's context.
    """
    k, r = cfg.context_steps, cfg.rollout_steps
    z = batch.latents  # (B, k+r, C, h, w)
    B = z.shape[0]
    sigma_c = torch.full((B, 1), cfg.context_noise, device=z.device)
    sampler = FlowSampler(SamplerConfig(steps=cfg.sampling_steps))
    ladder = sampler.sigmas.to(z.device)
    cache = dit.new_cache(batch.text)
    with torch.no_grad():
        y = dit.to_target(z[:, :k], batch.prev[:, :k], batch.first[:, :k])
        ctx = add_noise(y, sigma_c.expand(B, k), torch.randn(y.shape, generator=generator, device=z.device))
        dit(ctx, batch.prev[:, :k], sigma_c.expand(B, k), batch.action[:, :k], batch.first[:, :k], batch.text,
            cache=cache, commit=True)
    prev = z[:, k - 1:k]  # (B, 1, C, h, w)
    losses = []
    for j in range(k, k + r):
        act, first = batch.action[:, j:j + 1], batch.first[:, j:j + 1]
        denoise = lambda x, s, prev=prev, act=act, first=first: dit(x, prev, s, act, first, batch.text,
                                                                    cache=cache).velocity
        x = torch.randn(prev.shape, generator=generator, device=z.device)
        with torch.no_grad():
            for i in range(len(ladder) - 2):
                x = sampler.step(denoise, x, ladder[i].expand(B, 1), ladder[i + 1].expand(B, 1)).sample
        y0 = sampler.step(denoise, x, ladder[-2].expand(B, 1), ladder[-1].expand(B, 1)).x0  # with gradients
        x0 = dit.from_target(y0, prev, first)  # (B, 1, C, h, w)
        losses.append(F.mse_loss(x0, z[:, j:j + 1]))
        x0, y0 = x0.detach(), y0.detach()
        with torch.no_grad():
            committed = add_noise(y0, sigma_c, torch.randn(y0.shape, generator=generator, device=z.device))
            dit(committed, prev, sigma_c, act, first, batch.text, cache=cache, commit=True)
        prev = x0
    return torch.stack(losses).mean()


def finetune(cfg: FinetuneConfig, checkpoint: Path) -> Path:
    """Fine-tune ``checkpoint`` on the episodes in ``cfg.data``; returns the new checkpoint directory."""
    device = default_device()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    model = WorldModel.load(checkpoint, device=device)
    ae, dit = model.autoencoder, model.dit.train()
    data = load_episodes(cfg.data, 0.1)
    if data.action_dim > dit.cfg.action_dim:
        raise ValueError(f"{', '.join(cfg.data)} has {data.action_dim}-D actions; the model takes {dit.cfg.action_dim}")
    pad = dit.cfg.action_dim - data.action_dim
    data.actions = [np.pad(a, ((0, 0), (0, pad))) for a in data.actions]
    latents = encode_all(ae, data, out / "latents.safetensors", device)
    text = encode_captions(data.captions, out / "text.safetensors")
    g = torch.Generator().manual_seed(cfg.seed)
    clip = cfg.context_steps + cfg.rollout_steps
    sampler = ClipSampler(latents, data, text, np.flatnonzero(~data.val), clip, 0.0, g)
    opt = torch.optim.AdamW(dit.parameters(), lr=cfg.lr, weight_decay=0.01, betas=(0.9, 0.99))
    start, log = (load_state(out, opt, g) if cfg.resume and (out / "state" / "state.json").exists() else (0, []))
    if start:
        dit.load_state_dict(WorldModel.load(out / "model", device=device).dit.state_dict())
    meta = {**model.meta, "finetuned_from": model.checkpoint_hash, "finetune_data": list(cfg.data)}
    t0, step = time.time(), start
    for step in tqdm(range(start, cfg.steps), desc="finetune", initial=start, total=cfg.steps, dynamic_ncols=True):
        set_lr(opt, cosine_lr(step, cfg.steps, cfg.lr, 20))
        batch = sampler.sample(cfg.batch_size, device)
        flow = flow_loss(dit, batch, cfg.flow, g)
        roll = rollout_loss(dit, batch, cfg, g)
        loss = flow.loss + cfg.rollout_weight * roll
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(dit.parameters(), 1.0)
        opt.step()
        log.append({"step": step, "flow": flow.flow.item(), "rollout": roll.item(), "time_s": time.time() - t0})
        over = cfg.time_budget_min and time.time() - t0 > 60 * cfg.time_budget_min
        if (step + 1) % cfg.save_every == 0 or step + 1 == cfg.steps or over:
            WorldModel(ae, dit.eval()).save(out / "model", meta={**meta, "finetune_step": step + 1})
            dit.train()
            save_state(out, opt, step + 1, g, log)
        if over:
            break
    if not (out / "model" / "config.json").exists():
        WorldModel(ae, dit.eval()).save(out / "model", meta={**meta, "finetune_step": step})
    return out / "model"
