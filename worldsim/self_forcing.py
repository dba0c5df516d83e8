"""Training on the model's own rollouts with a distribution-matching loss (Self-Forcing).

A model trained only on true contexts meets its own frames at rollout, slightly off, and its errors
compound: objects fade, glides slow down. Teaching it the recorded future from its own context asks
for what that context no longer predicts (the rollout loss of :mod:`worldsim.finetune`), and a
regression onto it gives blurs. Self-Forcing (Huang et al. 2025) instead scores the model's own
frames, made from its own context through the KV cache, by how likely a *teacher* finds them given
that same context: distribution matching distillation (DMD, Yin et al. 2024).

Three networks:

* the **student**, being trained, samples each next frame in its few moves from its own cache;
* the **real score**, frozen, says where its distribution of next frames lies, given the student's
  context: a copy of the starting model, or another model on the same latents that knows something the
  student does not (``worldsim finetune --real-score``); each denoises its own target;
* the **critic** (the "fake score"), a trained copy of the starting model, learns by the flow loss
  where the student's own next frames lie, given the same context.

Each of the student's frames ``y`` is noised to a random level ``t``; the two scores denoise it,
and ``x0_fake - x0_real`` is the direction in which the student's distribution differs from the
real one there. The student's loss moves ``y`` against it (normalised by how far ``y`` is from the
real score's estimate). When the student samples what the real model would, the two scores agree
and the loss has no gradient. Gradients reach the student through the last move of each frame;
its earlier moves and the committed context are detached, so memory is one training pass per
unrolled step.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from .checkpoint import flatten_optimizer_state, load_tensors, save_tensors, unflatten_optimizer_state
from .diffusion import Batch, FlowSampler, SamplerConfig, add_noise, from_target, to_target
from .fileio import atomic_write_json
from .model import DiT, KVCache

CRITIC = "critic"
"""Directory of a run that holds the critic's weights and optimizer, for ``--resume``."""


@dataclass
class SelfForcingConfig:
    """The unroll and the two losses."""

    rollout_steps: int = 8
    """Frames the student draws on its own, after the true context, each scored."""
    sampling_steps: int = 4
    """The student's denoising moves per frame."""
    context_noise: float = 0.02
    """Noise level of committed context frames (as at rollout)."""
    min_level: float = 0.02
    """Lowest and highest noise level at which the two scores compare a frame."""
    max_level: float = 0.98
    critic_lr: float = 1e-4
    """The critic's learning rate (AdamW); it takes one step per unrolled frame, so it keeps ahead of
    the student, which takes one per batch."""


class Critic:
    """The trained "fake" score: a copy of the starting DiT and its optimizer."""

    def __init__(self, start: DiT, lr: float):
        self.dit = copy.deepcopy(start).train().requires_grad_(True)
        self.opt = torch.optim.AdamW(self.dit.parameters(), lr=lr, weight_decay=0.0, betas=(0.9, 0.99))

    def learn(self, loss: Tensor) -> float:
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.dit.parameters(), 1.0)
        self.opt.step()
        return float(loss.detach())

    def save(self, out: Path) -> None:
        """Weights and optimizer moments in ``out/critic`` (atomically, file by file)."""
        tensors, scalars = flatten_optimizer_state(self.opt)
        save_tensors(out / CRITIC / "optimizer.safetensors", tensors)
        save_tensors(out / CRITIC / "weights.safetensors", self.dit.state_dict())
        atomic_write_json(out / CRITIC / "optimizer.json", scalars)

    def load(self, out: Path) -> None:
        """Go on from what :meth:`save` wrote in ``out/critic``."""
        where = out / CRITIC
        if not (where / "weights.safetensors").is_file():
            raise FileNotFoundError(f"--resume: {where} holds no critic; the run was not a --self-forcing one, or "
                                    f"it was stopped before its first save. Delete {out} to start again")
        self.dit.load_state_dict(load_tensors(where / "weights.safetensors"))
        scalars = json.loads((where / "optimizer.json").read_text())
        self.opt.load_state_dict(unflatten_optimizer_state(load_tensors(where / "optimizer.safetensors"), scalars))


def dmd_direction(x0_real: Tensor, x0_fake: Tensor, y: Tensor) -> Tensor:
    """How the student's frames ``y`` ``(B, 1, C, h, w)`` should not move: ``x0_fake - x0_real``, the two
    scores' clean estimates of them from one noised copy, each row divided by the mean distance of ``y``
    from the real estimate."""
    scale = (y - x0_real).abs().flatten(1).mean(1).clamp_min(1e-6)[:, None, None, None, None]  # (B, 1, 1, 1, 1)
    return (x0_fake - x0_real) / scale


def in_target_of(src: DiT, dst: DiT, y: Tensor, prev: Tensor, first: Tensor) -> Tensor:
    """``y``, a denoised target of ``src``, as ``dst``'s target for the same latents: the two differ when
    their ``residual_scale`` does (a real score trained apart from the student)."""
    if src.cfg.residual_scale == dst.cfg.residual_scale:
        return y
    return to_target(dst, from_target(src, y, prev, first), prev, first)


class _Context:
    """One network's KV cache over the same (self-made) context frames as the others'."""

    def __init__(self, dit: DiT, batch: Batch, trained_through: bool = False):
        """``trained_through``: the cache's text keys and values keep their gradients (the student's, whose
        loss is taken once over the whole unroll); the critic's, which learns at every frame, do not."""
        self.dit, self.text = dit, batch.text
        with torch.set_grad_enabled(trained_through):
            self.cache: KVCache = dit.new_cache(batch.text)

    def velocity(self, y: Tensor, prev: Tensor, sigma: Tensor, action: Tensor, first: Tensor) -> Tensor:
        return self.dit(y, prev, sigma, action, first, self.text, cache=self.cache).velocity

    @torch.no_grad()
    def commit(self, y: Tensor, prev: Tensor, sigma: Tensor, action: Tensor, first: Tensor, eps: Tensor) -> None:
        self.dit(add_noise(y, sigma, eps), prev, sigma, action, first, self.text, cache=self.cache, commit=True)


def self_forcing_loss(student: DiT, real: DiT, critic: Critic, batch: Batch, context_steps: int,
                      cfg: SelfForcingConfig, generator: torch.Generator | None = None) -> tuple[Tensor, dict]:
    """The student's DMD loss over ``cfg.rollout_steps`` frames of its own, after ``context_steps`` true
    ones of each clip of ``batch``; the critic learns on each of those frames as it goes.

    Returns:
        ``(loss, logs)``: the student's loss (a scalar with gradients to its parameters) and the critic's
        mean flow loss over the unroll.
    """
    if student.cfg.residual_scale != critic.dit.cfg.residual_scale:
        raise ValueError("the critic must denoise the student's target (residual_scale): make it from the student")
    k, r = context_steps, cfg.rollout_steps
    z = batch.latents  # (B, k + r or more, C, h, w)
    if z.shape[1] < k + r:
        raise ValueError(f"clips of {z.shape[1]} steps cannot hold {k} context steps and the actions of {r} more")
    B, device = z.shape[0], z.device
    randn = lambda shape: torch.randn(shape, generator=generator, device=device)
    level = lambda: cfg.min_level + (cfg.max_level - cfg.min_level) * torch.rand(B, 1, generator=generator,
                                                                                 device=device)
    nets = {"student": _Context(student, batch, trained_through=True), "real": _Context(real, batch),
            "critic": _Context(critic.dit, batch)}
    sampler = FlowSampler(SamplerConfig(steps=cfg.sampling_steps))
    ladder = sampler.sigmas.to(device)

    def commit(y: Tensor, prev: Tensor, action: Tensor, first: Tensor) -> None:
        sigma = torch.full(y.shape[:2], cfg.context_noise, device=device)
        eps = randn(y.shape)  # the same noise for every network: one context
        for net in nets.values():
            net.commit(y, prev, sigma, action, first, eps)

    commit(to_target(student, z[:, :k], batch.prev[:, :k], batch.first[:, :k]), batch.prev[:, :k],
           batch.action[:, :k], batch.first[:, :k])
    prev = z[:, k - 1:k]  # the last true frame, then the student's own
    no_first = torch.zeros(B, 1, dtype=torch.bool, device=device)
    losses, critic_losses = [], []
    at = lambda s: torch.full((B, 1), float(s), device=device)
    for j in range(k, k + r):
        act = batch.action[:, j:j + 1]  # the recorded actions, as the simulator is given them
        denoise = lambda x, sigma, prev=prev, act=act: nets["student"].velocity(x, prev, sigma, act, no_first)
        x = randn(prev.shape)
        for i in range(cfg.sampling_steps):  # every move but the last without gradients
            with torch.set_grad_enabled(i == cfg.sampling_steps - 1):
                x = sampler.step(denoise, x, at(ladder[i]), at(ladder[i + 1])).sample
        y = x  # (B, 1, C, h, w), with gradients through the last move
        t, eps = level(), randn(y.shape)
        at_t = t[..., None, None, None]
        with torch.no_grad():  # each score denoises the same frame, noised in its own target, to a clean estimate
            y_t = add_noise(y.detach(), t, eps)
            x0_fake = y_t - at_t * nets["critic"].velocity(y_t, prev, t, act, no_first)
            y_real = add_noise(in_target_of(student, real, y.detach(), prev, no_first), t, eps)
            x0_real = in_target_of(real, student, y_real - at_t * nets["real"].velocity(y_real, prev, t, act, no_first),
                                   prev, no_first)
            away = dmd_direction(x0_real, x0_fake, y.detach())
        losses.append(0.5 * (y - (y - away).detach()).square().mean())
        t2, eps2 = level(), randn(y.shape)  # the critic learns where the student's frames lie
        v_fake = nets["critic"].velocity(add_noise(y.detach(), t2, eps2), prev, t2, act, no_first)
        critic_losses.append(critic.learn((v_fake - (eps2 - y.detach())).square().mean()))
        commit(y.detach(), prev, act, no_first)
        prev = from_target(student, y.detach(), prev, no_first)
    return torch.stack(losses).mean(), {"critic": sum(critic_losses) / len(critic_losses)}
