"""Rectified-flow objective with per-step noise levels, and a few-step sampler.

Notation (Liu et al. 2022, "Flow straight and fast"; Lipman et al. 2022, "Flow matching"):
``x0`` clean latent, ``eps`` Gaussian noise, ``sigma`` in [0, 1] the noise level, and
``x_sigma = (1 - sigma) * x0 + sigma * eps``. The network predicts the velocity
``v = eps - x0``, so ``x0 = x_sigma - sigma * v`` and an Euler step is
``x_{sigma'} = x_sigma + (sigma' - sigma) * v``.

Every step of a training clip gets its own noise level (Diffusion Forcing, Chen et al. 2024): a
clean-ish prefix of context steps (noise up to ``context_noise``, which teaches the model to trust
imperfect context) and target steps at independent levels, some dropped to pure noise so that the
same network makes a first frame from text alone. Text is dropped for classifier-free guidance.

Sampling schedules are data: a ``[step, frame]`` matrix of noise levels (:func:`schedule`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .model import DiT, DiTOutput, TextCond

# --------------------------------------------------------------------------------------------
#                                        Training
# --------------------------------------------------------------------------------------------


@dataclass
class FlowConfig:
    """Noise-level sampling for training."""

    context_noise: float = 0.1
    """Context steps get noise uniform in [0, context_noise]: augmentation against drift."""
    prev_noise: float = 0.05
    """The previous-frame channel gets noise uniform in [0, prev_noise]."""
    pure_noise_prob: float = 0.1
    """Chance that a target step is pure noise (sigma = 1)."""
    all_context_prob: float = 0.05
    """Chance that a clip is all context, with no target step. The reward and termination heads learn
    on context steps, and a clip's last step is otherwise always a target: without such clips the
    heads never see the transition that ends an episode, which always comes last."""
    text_dropout: float = 0.1
    """Chance that a clip's text is dropped (for classifier-free guidance)."""
    action_dropout: float = 0.0
    """Chance that a clip's actions are all unknown (null_action models), so that the model also
    learns each step without its action and a rollout can guide towards the actions taken
    (SimulatorConfig.action_guidance)."""
    logit_normal: bool = True
    """Draw target sigmas from a logit-normal (more weight mid-way, as in SD3) rather than uniform."""
    reward_weight: float = 0.5
    """Weight of the reward-head loss."""
    done_weight: float = 0.1
    """Weight of the termination-head loss."""
    motion_weight: float = 0.0
    """Extra weight of latent cells that change from the previous step: a cell's flow loss counts
    1 + motion_weight * |latent - prev| (mean over channels). Moving objects cover a few cells
    of a mostly still frame, so an unweighted loss barely sees them; 0 turns it off (what it did is in
    benchmarks/README.md, "What was tried")."""
    return_weight: float = 0.0
    """Extra loss on the cells where an object comes back into view after hiding (Batch.focus): each
    such cell adds return_weight times its error, as a share of its step's cells, on top of the
    step's loss. Such a return is a few cells of one step, which an average over every cell and
    step barely sees. 0 turns it off."""


@dataclass
class Batch:
    """A batch of latent clips.

    latents[:, s] is step s; prev[:, s] its predecessor (zeros where first);
    action[:, s] the action that led into step s; reward[:, s] and done[:, s] the
    reward and termination of that transition.
    """

    latents: Tensor  # (B, n, C, h, w)
    prev: Tensor  # (B, n, C, h, w)
    action: Tensor  # (B, n, A)
    first: Tensor  # (B, n) bool
    reward: Tensor  # (B, n)
    done: Tensor  # (B, n) float 0/1
    text: TextCond
    sink: Tensor | None = None  # (B, 1, C, h, w) the episode's first latent, for ``sink`` models
    prev_change: Tensor | None = None  # (B, n, C, h, w) prev minus its own predecessor (zeros where none)
    clips: Tensor | None = None  # (B, 2) long: each clip's episode (in its sampler's data) and first step
    focus: Tensor | None = None  # (B, n, h, w) 1 on the cells where an object comes back into view


@dataclass
class LossOutput:
    loss: Tensor
    flow: Tensor
    reward: Tensor
    done: Tensor


def _step_mask(model: DiT, first: Tensor, like: Tensor) -> Tensor:
    """``first`` ``(B, n)`` broadcast to ``like`` ``(B, n*pt, C, h, w)``: true on an episode's first steps."""
    return first.repeat_interleave(model.cfg.patch[0], dim=1)[..., None, None, None].expand(-1, -1, *like.shape[2:])


def to_target(model: DiT, z: Tensor, prev: Tensor, first: Tensor) -> Tensor:
    """Latents ``z`` ``(B, n*pt, C, h, w)`` -> what ``model`` denoises: the latent itself, or with
    ``DiTConfig.residual_scale`` s its change from ``prev`` divided by s (the latent itself on first
    steps, which have no previous frame)."""
    s = model.cfg.residual_scale
    if not s:
        return z
    return torch.where(_step_mask(model, first, z), z, (z - prev) / s)


def from_target(model: DiT, y: Tensor, prev: Tensor, first: Tensor) -> Tensor:
    """Inverse of :func:`to_target`: a denoised ``y`` -> latents ``(B, n*pt, C, h, w)``."""
    s = model.cfg.residual_scale
    if not s:
        return y
    return torch.where(_step_mask(model, first, y), y, prev + s * y)


def sample_noise_levels(cfg: FlowConfig, batch: int, steps: int, generator: torch.Generator | None = None,
                        device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
    """Per-step noise levels for a batch of clips.

    Returns:
        ``(sigma, is_target)``, both ``(B, n)``: a random-length clean-ish prefix is context (the
        whole clip with ``all_context_prob``), the rest are targets at independent levels.
    """
    n_ctx = torch.randint(0, steps, (batch, 1), generator=generator, device=device)  # (B, 1)
    if cfg.all_context_prob > 0:
        whole = torch.rand(batch, 1, generator=generator, device=device) < cfg.all_context_prob
        n_ctx = torch.where(whole, torch.full_like(n_ctx, steps), n_ctx)
    is_target = torch.arange(steps, device=device)[None, :] >= n_ctx  # (B, n)
    u = torch.rand(batch, steps, generator=generator, device=device)
    if cfg.logit_normal:
        target_sigma = torch.sigmoid(torch.randn(batch, steps, generator=generator, device=device))
    else:
        target_sigma = u
    drop = torch.rand(batch, steps, generator=generator, device=device) < cfg.pure_noise_prob
    target_sigma = torch.where(drop, torch.ones_like(target_sigma), target_sigma)
    context_sigma = u * cfg.context_noise
    return torch.where(is_target, target_sigma, context_sigma), is_target


def add_noise(x0: Tensor, sigma: Tensor, eps: Tensor) -> Tensor:
    """``x_sigma = (1 - sigma) x0 + sigma eps`` with ``sigma`` ``(B, n)`` broadcast over ``(B, n, C, h, w)``."""
    s = sigma[..., None, None, None]
    return (1 - s) * x0 + s * eps


def corrupt_prev(prev: Tensor, first: Tensor, cfg: FlowConfig, generator: torch.Generator | None = None) -> Tensor:
    """The previous-frame channel ``(B, n, C, h, w)`` as training shows it: noised to a random level
    up to ``prev_noise``, zero where ``first``."""
    level = torch.rand(prev.shape[:2], generator=generator, device=prev.device) * cfg.prev_noise  # (B, n)
    prev = add_noise(prev, level, torch.randn(prev.shape, generator=generator, device=prev.device))
    return prev * (~first)[..., None, None, None]


def noised_sink(model: DiT, batch: Batch, cfg: FlowConfig, generator: torch.Generator | None = None
                ) -> dict[str, Tensor]:
    """The frame sink as training shows it to ``sink`` models: the episode's first latent at a
    context noise level, uniform in [0, context_noise]. Empty for other models."""
    if not model.cfg.sink:
        return {}
    if batch.sink is None:
        raise ValueError("this model attends to a frame sink; the batch needs sink= (each clip's episode's first "
                         "latent), as ClipSampler gives it")
    B = batch.sink.shape[0]
    sigma = torch.rand(B, 1, generator=generator, device=batch.sink.device) * cfg.context_noise  # (B, 1)
    eps = torch.randn(batch.sink.shape, generator=generator, device=batch.sink.device)
    return {"sink": add_noise(batch.sink, sigma, eps), "sink_sigma": sigma}


def motion_weights(latents: Tensor, prev: Tensor, first: Tensor, strength: float) -> Tensor:
    """Per-cell loss weights ``(B, n, h, w)``: ``1 + strength * |latents - prev|`` averaged over
    channels, and 1 on first steps, which have no previous frame to move from."""
    change = (latents - prev).abs().mean(dim=2) * (~first)[..., None, None]  # (B, n, h, w)
    return 1.0 + strength * change


def _conditioning(model: DiT, batch: Batch, cfg: FlowConfig, generator: torch.Generator | None
                  ) -> tuple[Tensor, dict[str, Any]]:
    """The inputs of a training pass besides the noised latents: the previous-frame channel as
    training corrupts it, and the keyword arguments of ``model`` (its noise level, the text with
    guidance dropout, the actions with action dropout, the frame sink)."""
    B, n = batch.latents.shape[:2]
    device = batch.latents.device
    prev = corrupt_prev(batch.prev, batch.first, cfg, generator)  # (B, n, C, h, w)
    keep = torch.rand(B, generator=generator, device=device) >= cfg.text_dropout
    sink = noised_sink(model, batch, cfg, generator)
    known = None
    if cfg.action_dropout > 0:
        if not model.cfg.null_action:
            raise ValueError("action_dropout needs a model with the unknown-action input: fine-tune with --null-action")
        known = (torch.rand(B, generator=generator, device=device) >= cfg.action_dropout)[:, None].expand(B, n)
    change = {"prev_change": batch.prev_change} if model.cfg.change_input else {}
    return prev, {"text": batch.text.drop(keep), "action_known": known, **sink, **change}


def _heads_loss(out: DiTOutput, batch: Batch, heads_mask: Tensor) -> tuple[Tensor, Tensor]:
    """Reward (squared error) and termination (cross-entropy) losses on the steps of ``heads_mask`` (B, n)."""
    heads_mask = heads_mask.float()
    denom = heads_mask.sum().clamp_min(1)
    reward = ((out.reward - batch.reward).square() * heads_mask).sum() / denom
    done = (F.binary_cross_entropy_with_logits(out.done_logit, batch.done, reduction="none") * heads_mask).sum()
    return reward, done / denom


def flow_loss(model: DiT, batch: Batch, cfg: FlowConfig, generator: torch.Generator | None = None) -> LossOutput:
    """Flow-matching loss on target steps plus reward/termination losses on context steps."""
    B, n = batch.latents.shape[:2]
    device = batch.latents.device
    sigma, is_target = sample_noise_levels(cfg, B, n, generator, device)  # (B, n) x2
    eps = torch.randn(batch.latents.shape, generator=generator, device=device)
    prev, kw = _conditioning(model, batch, cfg, generator)
    x0 = to_target(model, batch.latents, batch.prev, batch.first)  # (B, n, C, h, w)
    x = add_noise(x0, sigma, eps)  # (B, n, C, h, w)
    out = model(x, prev, sigma, batch.action, batch.first, kw.pop("text"), **kw)

    err = (out.velocity - (eps - x0)).square().mean(dim=2)  # (B, n, h, w)
    cell_w = motion_weights(batch.latents, batch.prev, batch.first, cfg.motion_weight)  # (B, n, h, w)
    per_step = (err * cell_w).sum(dim=(2, 3)) / cell_w.sum(dim=(2, 3))  # (B, n)
    if cfg.return_weight > 0:
        if batch.focus is None:
            raise ValueError("return_weight weights the cells where objects come back into view; the batch needs "
                             "focus= (a ClipSampler given returns=)")
        per_step = per_step + cfg.return_weight * (err * batch.focus).mean(dim=(2, 3))
    w = is_target.float()
    flow = (per_step * w).sum() / w.sum().clamp_min(1)
    reward, done = _heads_loss(out, batch, ~is_target & ~batch.first)  # heads are read at context noise
    loss = flow + cfg.reward_weight * reward + cfg.done_weight * done
    return LossOutput(loss, flow.detach(), reward.detach(), done.detach())


def distill_loss(student: DiT, teacher: DiT, batch: Batch, cfg: FlowConfig, student_steps: int,
                 teacher_steps: int, shift: float = 1.0, generator: torch.Generator | None = None) -> LossOutput:
    """Progressive distillation of the few-step sampler (Salimans & Ho 2022), for the flow ODE.

    The last step of each clip is the one being sampled, the steps before it are context at a
    context noise level, as in a rollout. The step is noised to a level of the student's ladder
    (``student_steps`` moves); the frozen ``teacher`` takes the ``teacher_steps / student_steps``
    Euler moves of its own ladder that span the student's next move, and the student learns the one
    velocity that lands where the teacher did. So a ``student_steps`` sampler follows a
    ``teacher_steps`` one (Euler moves on the ladder of timestep shift ``shift``). The reward and
    termination heads keep learning on the context steps; ``cfg.motion_weight`` is not applied.
    """
    if teacher_steps % student_steps:
        raise ValueError(f"the teacher's {teacher_steps} moves must split evenly into the student's {student_steps}")
    B, n = batch.latents.shape[:2]
    device = batch.latents.device
    per_move = teacher_steps // student_steps
    ladder = sigma_ladder(teacher_steps, shift).to(device)  # (teacher_steps + 1,)
    move = torch.randint(0, student_steps, (B,), generator=generator, device=device) * per_move  # teacher index
    is_target = torch.zeros(B, n, dtype=torch.bool, device=device)
    is_target[:, -1] = True
    context = torch.rand(B, n, generator=generator, device=device) * cfg.context_noise

    def levels(i: Tensor) -> Tensor:
        return torch.where(is_target, ladder[i][:, None], context)  # (B, n)

    eps = torch.randn(batch.latents.shape, generator=generator, device=device)
    prev, kw = _conditioning(model=student, batch=batch, cfg=cfg, generator=generator)
    text = kw.pop("text")
    x0 = to_target(student, batch.latents, batch.prev, batch.first)
    x_start = add_noise(x0, levels(move), eps)
    with torch.no_grad():
        x = x_start
        for j in range(per_move):
            sigma, sigma_next = levels(move + j), levels(move + j + 1)
            v = teacher(x, prev, sigma, batch.action, batch.first, text, **kw).velocity
            x = torch.where(is_target[..., None, None, None], x + (sigma_next - sigma)[..., None, None, None] * v, x)
        span = (ladder[move + per_move] - ladder[move])[:, None, None, None]  # (B, 1, 1, 1): negative
        v_target = (x[:, -1] - x_start[:, -1]) / span
    out = student(x_start, prev, levels(move), batch.action, batch.first, text, **kw)
    flow = (out.velocity[:, -1] - v_target).square().mean()
    reward, done = _heads_loss(out, batch, ~is_target & ~batch.first)
    loss = flow + cfg.reward_weight * reward + cfg.done_weight * done
    return LossOutput(loss, flow.detach(), reward.detach(), done.detach())


# --------------------------------------------------------------------------------------------
#                                        Sampling
# --------------------------------------------------------------------------------------------

SCHEDULE_MODES = ("full", "autoregressive", "pyramid")


def sigma_ladder(steps: int, shift: float = 1.0) -> Tensor:
    """Noise levels from 1 to 0 in ``steps`` moves, ``(steps + 1,)``.

    ``shift`` > 1 spends more of the moves at high noise (SD3's timestep shift):
    ``sigma' = shift * sigma / (1 + (shift - 1) * sigma)``.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    s = torch.linspace(1.0, 0.0, steps + 1)
    return shift * s / (1 + (shift - 1) * s)


def schedule(mode: str, steps: int, frames: int, shift: float = 1.0) -> Tensor:
    """A ``[step, frame]`` matrix of noise levels for denoising ``frames`` frames together.

    Row ``i`` holds each frame's level before move ``i``; the last row is all zeros.

    Modes:
        ``full``: every frame walks the same ladder together, ``(steps + 1, frames)``.
        ``autoregressive``: frames are finished one after another, ``(frames*steps + 1, frames)``.
        ``pyramid``: frame ``f`` starts ``f`` moves after frame ``f-1``,
            ``(steps + frames, frames)``: later frames stay noisier than earlier ones.
    """
    ladder = sigma_ladder(steps, shift)  # (steps+1,)
    if mode == "full":
        return ladder[:, None].repeat(1, frames)
    if mode == "autoregressive":
        rows = frames * steps + 1
        idx = torch.arange(rows)[:, None] - steps * torch.arange(frames)[None, :]  # (rows, frames)
        return ladder[idx.clamp(0, steps)]
    if mode == "pyramid":
        rows = steps + frames
        idx = torch.arange(rows)[:, None] - torch.arange(frames)[None, :]
        return ladder[idx.clamp(0, steps)]
    raise ValueError(f"unknown schedule mode {mode!r}; choose one of {SCHEDULE_MODES}")


@dataclass
class SamplerConfig:
    """Few-step sampler settings."""

    steps: int | None = None
    """Denoising moves per frame. None: the moves the checkpoint records for its rollouts
    (``meta["rollout"]["sampling_steps"]``, written by a distilling fine-tune), else 4."""
    solver: str = "euler"
    """euler (one network pass a move) or heun (two, second order)."""
    shift: float = 1.0
    """Timestep shift; > 1 spends more moves at high noise."""


@dataclass
class SamplerStep:
    """Result of one sampler move."""

    sample: Tensor  # x at the next noise level
    x0: Tensor  # the current estimate of the clean sample


Denoiser = Callable[[Tensor, Tensor], Tensor]
"""``velocity = denoise(x, sigma)`` with ``x`` ``(B, n, ...)`` and ``sigma`` ``(B, n)``."""


class FlowSampler:
    """Euler/Heun integration of the flow ODE from noise to data, over a ``[step, frame]`` schedule."""

    def __init__(self, cfg: SamplerConfig):
        if cfg.solver not in ("euler", "heun"):
            raise ValueError(f"unknown solver {cfg.solver!r}; choose 'euler' or 'heun'")
        if cfg.steps is None:
            raise ValueError("SamplerConfig.steps is None: resolve it from the checkpoint first (the Simulator does)")
        self.cfg = cfg
        self.sigmas = sigma_ladder(cfg.steps, cfg.shift)

    def set_timesteps(self, steps: int) -> Tensor:
        """Change the number of moves; returns the new ladder ``(steps + 1,)``."""
        self.cfg.steps = steps
        self.sigmas = sigma_ladder(steps, self.cfg.shift)
        return self.sigmas

    def step(self, denoise: Denoiser, x: Tensor, sigma: Tensor, sigma_next: Tensor) -> SamplerStep:
        """One move from per-frame levels ``sigma`` to ``sigma_next`` (both ``(B, n)``)."""
        v = denoise(x, sigma)
        dt = (sigma_next - sigma)[..., None, None, None]  # (B, n, 1, 1, 1)
        x0 = x - sigma[..., None, None, None] * v
        x_next = x + dt * v
        if self.cfg.solver == "heun" and bool((sigma_next > 0).all()):
            v2 = denoise(x_next, sigma_next)
            x_next = x + dt * 0.5 * (v + v2)
        return SamplerStep(x_next, x0)

    def sample(self, denoise: Denoiser, noise: Tensor, matrix: Tensor | None = None) -> Tensor:
        """Integrate from ``noise`` ``(B, n, ...)`` along ``matrix`` ``[step, frame]`` (default: full)."""
        B, n = noise.shape[:2]
        if matrix is None:
            matrix = self.sigmas[:, None].repeat(1, n)
        if matrix.shape[1] != n:
            raise ValueError(f"schedule has {matrix.shape[1]} frames, the sample has {n}")
        x = noise
        matrix = matrix.to(noise.device)
        for i in range(matrix.shape[0] - 1):
            sigma, sigma_next = matrix[i].expand(B, n), matrix[i + 1].expand(B, n)
            if torch.equal(sigma, sigma_next):
                continue
            x = self.step(denoise, x, sigma, sigma_next).sample
        return x
