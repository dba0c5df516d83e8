"""Fine-tuning a trained world model: on one scene's physics, on more data, or to new inputs.

    worldsim finetune --env WorldSim/PushBox-v0 --data data/pushbox_ft --out runs/ft_pushbox

By default this is teacher-forced: the flow loss of the next latent given ground-truth context, on
the given episodes, optionally with first frames drawn from text (``first_frames``) and a moving
average of the weights (``ema``). What each option did to the checks is recorded in
``benchmarks/README.md`` ("What was tried"), not here.

Options that change what is trained:

* ``rollout_steps``: unroll that many steps on the model's own samples through the KV-cached path
  and train the flow loss towards the *ground-truth* next latent from that self-made context (the
  self-generated context of Self-Forcing, Huang et al. 2025, and of the rollout training in
  Diffusion Forcing). Unrolled samples are drawn without gradients and committed detached, so
  memory stays that of one training pass per unrolled step. A regression of the sampled frame
  onto the truth is deliberately not offered: its minimiser is the conditional *mean*, which for a
  small moving object is a faded blur of its possible positions.
* ``physics_teacher`` (with ``rollout_steps``): the target of each unrolled step is not the recorded
  future but MuJoCo's next frame from the scene the model's own frames show, read off them by colour
  (:mod:`worldsim.envs.physics_teacher`): the short-horizon teacher that corrects the student's own
  window in Self-Forcing++, here exact. It asks only for what is predictable from the model's context,
  and a body the model lost comes back where it was last seen. ``rollout_burn_in`` unrolls that many
  of the model's own steps first, without a loss, so the taught steps start deep in its own rollout.
  With ``teacher_recorded_motion`` the teacher's bodies move at the episode's recorded velocities from
  where the model drew them, so a glide the model slowed is taught to go on at its speed.
* ``self_forcing_steps``: the model draws that many frames on its own after the true context, in
  its own moves through its KV cache, and each is scored by distribution matching against the
  starting model, frozen, given that same self-made context (Self-Forcing with DMD; a critic learns
  the model's own distribution beside it, :mod:`worldsim.self_forcing`). It asks for no recorded
  future, only for frames the starting model finds likely after what the model itself drew.
* ``distill_from``: progressive distillation of the sampler into fewer moves per frame.
* ``sink``, ``window``, ``null_action``, ``layout``, ``spatial_heads``, ``change_input``: add an input
  or a layer to the trained model as an exact no-op, then train it. ``spatial_rope`` changes how its
  attention turns with place, so it is no no-op.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from .autoencoder import Autoencoder
from .data import (
    ClipSampler,
    EpisodeData,
    encode_all,
    encode_captions,
    episode_returns,
    load_episodes,
    pad_actions,
    scene_layouts,
)
from .diffusion import (
    Batch,
    FlowConfig,
    FlowSampler,
    SamplerConfig,
    add_noise,
    distill_loss,
    flow_loss,
    from_target,
    sample_noise_levels,
    to_target,
)
from .model import DiT
from .self_forcing import Critic, SelfForcingConfig, self_forcing_loss
from .simulator import DEFAULT_SAMPLING_STEPS, recorded_sampling_steps
from .trainer import FitConfig, Trainer, default_device, init_distributed, resumable, stage_generators
from .worldmodel import WorldModel


@dataclass
class FinetuneConfig:
    """worldsim finetune: adapt a checkpoint to one scene's ground truth."""

    checkpoint: str | None = None
    """Checkpoint to start from (default: the shipped one)."""
    env: str = "WorldSim/PushBox-v0"
    """Scene to fine-tune on (its episodes are collected into data if missing)."""
    data: tuple[str, ...] = ("data/finetune",)
    """Episode stores to train on. A single empty one is filled from env first."""
    episodes: int = 200
    """Episodes to collect when data is empty."""
    episode_steps: int = 30
    """Steps per collected episode."""
    policy: str = "scripted"
    """Collection policy (random or scripted)."""
    out: str = "runs/finetune"
    """Run directory (model/ is the fine-tuned checkpoint)."""
    steps: int = 1000
    """Optimizer steps."""
    batch_size: int = 16
    """Clips per batch."""
    clip_steps: int = 4
    """Steps per teacher-forced training clip (at least context_steps + rollout_steps, and at least the
    model's attention window, are drawn)."""
    context_steps: int = 4
    """Ground-truth steps before the unroll."""
    start_prob: tuple[float, ...] = (0.0,)
    """Chance a clip starts at an episode's first frame (pre-training uses 0.15): one value for every
    store, or one per data store. Start clips teach the first step from rest
    (benchmarks/first_step.py measures it); they suit scenes that start at rest."""
    return_prob: float = 0.0
    """Chance a clip is drawn around a step where an object comes back into view after hiding (out
    from under an occluder), with its last sight before the hiding in the clip: such steps are rare,
    and a model that is to recall a hidden object has to see them. Use with flow.return_weight."""
    rollout_steps: int = 0
    """r: steps unrolled on the model's own samples for the rollout loss; 0 (the default) turns it off."""
    rollout_weight: float = 1.0
    """Weight of the rollout loss (or the self-forcing loss) against the flow loss."""
    self_forcing_steps: int = 0
    """Frames the model draws on its own after --context-steps true ones, each scored by distribution
    matching against the starting model, frozen, given the same self-made context (Self-Forcing);
    0 (the default) turns it off. Start from a model that samples in 4 moves or more: its velocities
    at every noise level are what scores the frames."""
    critic_lr: float = 1e-4
    """Learning rate of the self-forcing critic, which learns where the model's own frames lie (one
    step per drawn frame)."""
    real_score: str | None = None
    """With --self-forcing-steps: a checkpoint whose DiT, frozen, scores the model's own frames instead
    of a copy of the model as it starts (which at the start agrees with the critic, so the loss begins at
    zero). It must read the same latents (the same autoencoder) and actions; its target, window and
    inputs may differ. A model that moves things better than the one trained, for example."""
    rollout_burn_in: int = 0
    """Steps unrolled on the model's own samples, without a loss, before the --rollout-steps that are
    trained: those then start from a context the model made itself over that many steps, as deep in a
    long rollout (with --physics-teacher; the recorded future is unpredictable that far). The
    teacher-forced loss keeps clips of --clip-steps."""
    physics_teacher: bool = False
    """With --rollout-steps: each unrolled step's target is the frame MuJoCo renders from the scene the
    model's own frames show (worldsim.envs.physics_teacher), not the recorded future, which after a few
    of its own steps is no longer predictable from them. Needs stores that record their scene specs."""
    teacher_recorded_motion: bool = False
    """With --physics-teacher: each body's velocity in the teacher's scene is the episode's recorded one
    at that step, not the one read off the model's last two frames, and a body missing from the model's
    frame is put where the episode has it: a glide the model slowed is taught to go on at its speed."""
    sampling_steps: int | None = None
    """Denoising moves per unrolled sample; default: the checkpoint's own (as the simulator's, so the
    drift is the one it meets)."""
    distill_from: str | None = None
    """A teacher checkpoint (usually --checkpoint itself, with the same inputs): the clips then train
    the model to sample in --distill-steps moves what the teacher samples in its own moves (4, or
    what a distilled teacher records), by progressive distillation (worldsim.diffusion.distill_loss)
    instead of the flow loss; first-frame batches keep the flow loss. The new checkpoint records its
    moves for its rollouts (Euler, no timestep shift). With as many moves as the teacher's, it learns
    the teacher's own velocities: a way to move a model into another shape (--merge-patches)."""
    distill_steps: int = 2
    """The distilled model's denoising moves per frame; they must divide the teacher's."""
    context_noise: float = 0.02
    """Noise level of committed context, as in the simulator."""
    lr: float = 2e-4
    """Peak AdamW learning rate."""
    ema: float = 0.0
    """Decay of an exponential moving average of the weights, started from the checkpoint; above 0
    model/ holds the average and state/ the raw weights to resume from. 0 saves the raw weights."""
    save_every: int = 100
    """Checkpoint every N steps."""
    resume: bool = False
    """Continue from out's last state."""
    seed: int = 0
    """Seed of sampling."""
    time_budget_min: float = 0.0
    """Stop after this many minutes (0 = no limit)."""
    precision: Literal["float32", "bfloat16"] = "float32"
    """Precision of the forward pass (bfloat16: under torch.autocast; the weights stay float32)."""
    first_frames: tuple[str, ...] = ()
    """Stores whose episodes' first frames teach frame 0 from text alone (many short episodes, e.g.
    worldsim collect --steps 1); their flow loss is added each step. Empty: off."""
    first_frame_batch: int = 32
    """First frames per batch."""
    rollout_prev_noise: float | None = None
    """Record this level in the checkpoint as its rollouts' default SimulatorConfig.prev_noise (the
    noise a rollout gives its last frame before it conditions the next one). None keeps what the
    starting checkpoint records."""
    latent_target: bool = False
    """Denoise each step's latent itself from now on, not its change from the previous step
    (DiTConfig.residual_scale set to 0): the change from a model's own last frame carries that
    frame's errors on; a latent target has to be drawn whole."""
    sink: bool = False
    """Give the model a frame sink before fine-tuning (DiTConfig.sink): every step also attends
    to the episode's first frame, kept for the whole rollout. The sink starts as a no-op."""
    spatial_rope: bool = False
    """Rotate the model's attention by each token's row and column as well as its step before
    fine-tuning (DiTConfig.spatial_rope). Not a no-op: the rotated slices change their meaning, and
    the fine-tune re-learns them."""
    merge_patches: int = 1
    """Merge each k x k of the model's patches into one token before fine-tuning (DiT.merge_patches):
    k*k fewer tokens a step, so a cheaper step to train and to roll out. Not a no-op: a merged token
    starts from its patches' mean embedding, and the fine-tune re-learns the rest. 1 keeps them."""
    window: int | None = None
    """Give the model this attention window W (steps it sees: itself and W - 1 before it) before
    fine-tuning (clips are at least W steps long, so every distance in the window is trained).
    None keeps the checkpoint's."""
    memory: int | None = None
    """Also attend to the M steps before the window, each pooled to a quarter of its tokens
    (DiTConfig.memory), before fine-tuning: an object hidden for longer than the window is still
    recalled. Clips are at least window + M steps long. None keeps the checkpoint's."""
    spatial_heads: bool = False
    """Replace the reward and termination heads with fresh ones that read every token in its place
    (DiTConfig.spatial_heads) before fine-tuning: for rewards that depend on where things are."""
    layout: bool = False
    """Give the model layout tokens for its first frames before fine-tuning (DiTConfig.layout_dim:
    one token per agent, object, goal and slab of the episode's scene, from its recorded spec). They
    start as a no-op; use with first_frames, whose episodes teach drawing a scene from text."""
    null_action: bool = False
    """Give the model an unknown-action input before fine-tuning (DiTConfig.null_action); with
    flow.action_dropout it also learns each step without its action, and rollouts can guide towards
    the actions taken (SimulatorConfig.action_guidance). The input starts as a no-op."""
    change_input: bool = False
    """Give the model the change input before fine-tuning (DiTConfig.change_input): each step also
    reads how its previous frame changed from the one before, so motion can be continued from it.
    The input starts as a no-op."""
    offset_heads: int = 0
    """Give every block this many attention heads more before fine-tuning, turned by row and column
    as well as by step (DiTConfig.offset_heads): the offset lookups that following a glide or a push
    needs, for a model trained without spatial_rope. They start as a no-op."""
    added_lr_scale: float = 1.0
    """The learning rate of the weights this fine-tune adds (offset heads) as a multiple of --lr: new
    weights can learn fast while the trained ones move slowly."""
    heads_only: bool = False
    """Train the reward and termination heads alone, the rest of the model frozen (its frames are
    unchanged): the heads' losses on teacher-forced clips, at a fraction of a full step's cost."""
    flow: FlowConfig = field(default_factory=FlowConfig)
    """Teacher-forced flow loss settings."""


Targets = Callable[[int, torch.Tensor, bool], tuple[torch.Tensor, torch.Tensor] | None]
"""``z, keep = targets(j, prev, True)``: the latent ``(B, 1, C, h, w)`` unrolled step ``j`` should reach from
the model's own previous latent ``prev``, and which rows ``(B,)`` have one; ``targets(j, prev, False)``
only takes note of ``prev`` (a step unrolled without a loss) and returns None."""


class PhysicsTargets:
    """The unrolled steps' targets of one batch from MuJoCo (:class:`~worldsim.envs.physics_teacher.
    PhysicsTeacher`): the model's own frames so far, the true context before them, are read as a scene,
    stepped with the recorded action and rendered, then encoded."""

    def __init__(self, teacher: Any, ae: Autoencoder, data: EpisodeData, clips: torch.Tensor, context: int,
                 actions: torch.Tensor, recorded_motion: bool = False) -> None:
        self.teacher, self.ae, self.data = teacher, ae, data
        self.rows = [(int(e), int(s)) for e, s in clips.tolist()]
        self.frames = [data.frames[e][s : s + context] for e, s in self.rows]  # true context, then own frames
        self.actions, self.context, self.recorded_motion = actions.cpu().numpy(), context, recorded_motion

    def _recorded(self, e: int, t: int) -> np.ndarray | None:
        """Episode ``e``'s recorded body states at frame ``t`` (with recorded_motion)."""
        return self.data.states[e][t] if self.recorded_motion else None

    @torch.no_grad()
    def __call__(self, j: int, prev: torch.Tensor, teach: bool = True) -> tuple[torch.Tensor, torch.Tensor] | None:
        if j > self.context:  # the model's own frame j - 1 joins the history
            own = self.ae.decode(prev[:, 0]).cpu().numpy()  # (B, H, W, 3)
            self.frames = [np.concatenate([f, o[None]]) for f, o in zip(self.frames, own)]
        if not teach:
            return None
        taught = [self.teacher.next_frame(self.data.env_ids[e], self.data.specs[e], f, self.actions[b, j],
                                          self._recorded(e, s + len(f) - 1))
                  for b, ((e, s), f) in enumerate(zip(self.rows, self.frames))]
        keep = torch.tensor([t is not None for t in taught], device=prev.device)
        frames = np.stack([t if t is not None else f[-1] for t, f in zip(taught, self.frames)])
        return self.ae.encode(torch.from_numpy(frames).to(prev.device))[:, None], keep


def first_steps(batch: Batch, n: int) -> Batch:
    """The first ``n`` steps of each clip of ``batch``."""
    if n >= batch.latents.shape[1]:
        return batch
    cut = {f.name: getattr(batch, f.name)[:, :n] for f in fields(Batch)
           if f.name in ("latents", "prev", "action", "first", "reward", "done", "prev_change", "focus")
           and getattr(batch, f.name) is not None}
    return replace(batch, **cut)


def physics_targets(ae: Autoencoder, data: EpisodeData,
                    recorded_motion: bool = False) -> Callable[[Batch, int], PhysicsTargets]:
    """A maker of :class:`PhysicsTargets` for each batch drawn from ``data``."""
    from worldsim.envs.physics_teacher import PhysicsTeacher

    bodies = lambda spec: len(spec.get("agents", [])) + len(spec.get("objects", []))
    states = data.states or [None] * len(data.specs)
    missing = {data.env_ids[e] or "?" for e, (spec, state) in enumerate(zip(data.specs, states))
               if not spec or (recorded_motion and (state is None or state.shape[1:] != (bodies(spec), 4)))}
    if missing:
        raise ValueError(f"--physics-teacher needs each episode's scene spec (and with --teacher-recorded-motion "
                         f"its body states); episodes of {sorted(missing)} have none (collect them again with this "
                         "version)")
    teacher = PhysicsTeacher()
    return lambda batch, context: PhysicsTargets(teacher, ae, data, batch.clips, context, batch.action,
                                                 recorded_motion)


def rollout_loss(dit: DiT, batch: Batch, cfg: FinetuneConfig, generator: torch.Generator,
                 targets: Targets | None = None) -> torch.Tensor:
    """Flow loss towards the ground truth from the model's own context, over ``rollout_steps`` steps.

    The first ``context_steps`` ground-truth steps are committed to a fresh KV cache. At each later
    step ``j`` the ground-truth latent, expressed against the model's own previous frame
    (:func:`~worldsim.diffusion.to_target`), is noised to a sampled level and the velocity is scored
    with the flow loss, attending to the self-made cache. Then the model samples step ``j`` itself
    (no gradients) and that sample, not the ground truth, becomes the context of step ``j + 1``.
    ``targets`` replaces the ground truth of each unrolled step (:class:`PhysicsTargets`). The first
    ``rollout_burn_in`` unrolled steps are sampled and committed without a loss.
    """
    k, r, burn = cfg.context_steps, cfg.rollout_steps, cfg.rollout_burn_in
    target_levels = replace(cfg.flow, all_context_prob=0.0)  # every unrolled step is a target
    z = batch.latents  # (B, k+r, C, h, w)
    B, device = z.shape[0], z.device
    sigma_c = torch.full((B, 1), cfg.context_noise, device=device)
    sampler = FlowSampler(SamplerConfig(steps=cfg.sampling_steps or DEFAULT_SAMPLING_STEPS))
    randn = lambda shape: torch.randn(shape, generator=generator, device=device)
    cache = dit.new_cache(batch.text)
    if dit.cfg.sink:
        with torch.no_grad():
            dit.prime_sink(cache, add_noise(batch.sink, sigma_c, randn(batch.sink.shape)), sigma_c, batch.text)

    def commit(y: torch.Tensor, prev: torch.Tensor, j: slice) -> None:
        sigma = sigma_c.expand(B, y.shape[1])
        dit(add_noise(y, sigma, randn(y.shape)), prev, sigma, batch.action[:, j], batch.first[:, j], batch.text,
            cache=cache, commit=True)

    with torch.no_grad():
        commit(to_target(dit, z[:, :k], batch.prev[:, :k], batch.first[:, :k]), batch.prev[:, :k], slice(0, k))
    prev = z[:, k - 1:k]  # (B, 1, C, h, w): the last ground-truth frame, then the model's own
    losses = []
    for j in range(k, k + burn + r):
        act, first = batch.action[:, j:j + 1], batch.first[:, j:j + 1]
        if j >= k + burn:
            z_j, keep = (z[:, j:j + 1], torch.ones(B, dtype=torch.bool, device=device)) if targets is None else \
                targets(j, prev, True)
            y_true = to_target(dit, z_j, prev, first)
            sigma, _ = sample_noise_levels(target_levels, B, 1, generator, device)  # (B, 1)
            eps = randn(y_true.shape)
            v = dit(add_noise(y_true, sigma, eps), prev, sigma, act, first, batch.text, cache=cache).velocity
            per_row = (v - (eps - y_true)).square().flatten(1).mean(1)  # (B,)
            losses.append((per_row * keep).sum() / keep.sum().clamp_min(1))
        elif targets is not None:
            targets(j, prev, False)
        with torch.no_grad():
            denoise = lambda x, s, prev=prev, act=act, first=first: dit(x, prev, s, act, first, batch.text,
                                                                        cache=cache).velocity
            y = sampler.sample(denoise, randn(prev.shape))
            commit(y, prev, slice(j, j + 1))
            prev = from_target(dit, y, prev, first)
    return torch.stack(losses).mean()


def differing_inputs(other: DiT, dit: DiT, *also: str) -> list[str]:
    """The settings of what a DiT reads (latents, actions; and ``also``) in which ``other`` differs from ``dit``:
    a network that teaches or scores ``dit`` must read the same."""
    names = ("latent_channels", "latent_size", "null_action", "sink", "action_dim", *also)
    return [name for name in names if getattr(other.cfg, name) != getattr(dit.cfg, name)]


def real_score(path: str, dit: DiT, ae: Autoencoder, device: torch.device) -> DiT:
    """The DiT of checkpoint ``path`` as a Self-Forcing real score for ``dit``, whose autoencoder is ``ae``:
    refused unless it reads the same latents and actions."""
    other = WorldModel.load(Path(path), device=device)
    mine, theirs = ae.encoder.state_dict(), other.autoencoder.encoder.state_dict()
    # the same weights up to half-precision storage, which either checkpoint may have been written in
    if mine.keys() != theirs.keys() or not all(mine[k].shape == theirs[k].shape and torch.allclose(
            mine[k].float(), theirs[k].float(), rtol=1e-3, atol=1e-3) for k in mine):
        raise ValueError(f"the real score {path} encodes frames with another autoencoder than the model's: its "
                         f"latents mean something else; give a model trained on the same autoencoder")
    differs = differing_inputs(other.dit, dit)
    if differs:
        raise ValueError(f"the real score {path} differs from the model in {differs}; give one with the same inputs")
    return other.dit


def self_forcing(dit: DiT, cfg: FinetuneConfig, ae: Autoencoder,
                 device: torch.device) -> tuple[DiT, Critic, SelfForcingConfig] | None:
    """For ``--self-forcing-steps``: the real score (a frozen copy of ``dit`` as it starts, or the DiT of
    ``cfg.real_score``, which reads the latents of ``ae``), the critic (a trained copy of ``dit``) and the
    unroll's settings; None without it."""
    if not cfg.self_forcing_steps:
        return None
    real = copy.deepcopy(dit) if cfg.real_score is None else real_score(cfg.real_score, dit, ae, device)
    real.eval().requires_grad_(False)
    sf = SelfForcingConfig(rollout_steps=cfg.self_forcing_steps, sampling_steps=cfg.sampling_steps,
                           context_noise=cfg.context_noise, critic_lr=cfg.critic_lr)
    return real, Critic(dit, cfg.critic_lr), sf


def distill_teacher(cfg: FinetuneConfig, student: DiT, device: torch.device) -> tuple[WorldModel, int] | None:
    """The teacher of a distilling fine-tune (``cfg.distill_from``), its DiT frozen, and the moves
    per frame it samples in (its recorded ones, else the default); None without one."""
    if cfg.distill_from is None:
        return None
    if cfg.rollout_steps or cfg.heads_only:
        raise ValueError("--distill-from trains the clips by distillation; drop --rollout-steps and --heads-only")
    teacher = WorldModel.load(Path(cfg.distill_from), device=device)
    teacher.dit.eval().requires_grad_(False)
    moves = recorded_sampling_steps(teacher)
    if not 1 <= cfg.distill_steps <= moves or moves % cfg.distill_steps:
        raise ValueError(f"the teacher samples in {moves} moves a frame; --distill-steps must divide it "
                         f"(e.g. {max(moves // 2, 1)}), got {cfg.distill_steps}")
    differs = differing_inputs(teacher.dit, student, "residual_scale")
    if differs:
        raise ValueError(f"the teacher {cfg.distill_from} differs from the model in {differs}; distil from the "
                         f"checkpoint being fine-tuned, or fine-tune that one to the same inputs first")
    return teacher, moves


def prepare_model(dit: DiT, cfg: FinetuneConfig) -> DiT:
    """Add what ``cfg`` asks for to a trained model before fine-tuning, and freeze what it does not train."""
    for wanted, add in ((cfg.sink, dit.add_sink),
                        (cfg.spatial_heads, dit.add_spatial_heads), (cfg.null_action, dit.add_null_action),
                        (cfg.change_input, dit.add_change_input)):
        if wanted:
            add()
    if cfg.latent_target:
        dit.cfg.residual_scale = 0.0
    if cfg.spatial_rope:
        dit.add_spatial_rope()
    if cfg.offset_heads:
        dit.add_offset_heads(cfg.offset_heads)
    dit.merge_patches(cfg.merge_patches)
    for value, set_value in ((cfg.window, dit.set_window), (cfg.memory, dit.set_memory)):
        if value is not None:
            set_value(value)
    if cfg.layout:
        from worldsim.envs.layout import LAYOUT_DIM

        dit.add_layout(LAYOUT_DIM)
    _refuse_conflicts(dit, cfg)
    if cfg.heads_only:
        for name, param in dit.named_parameters():
            param.requires_grad_(name.startswith("heads."))
    return dit


ADDED = ("qkv_offset.", "proj_offset.")
"""Names of the weights an addition brings (offset heads): they may train at their own rate."""


def param_groups(dit: DiT, added_lr_scale: float) -> list[dict]:
    """The trainable weights as optimizer groups: the added ones (:data:`ADDED`) at ``added_lr_scale``
    times the learning rate, the rest at the rate itself."""
    if not added_lr_scale > 0:
        raise ValueError(f"--added-lr-scale must be above 0, got {added_lr_scale}")
    added, rest = [], []
    for name, p in dit.named_parameters():
        if p.requires_grad:
            (added if any(part in name for part in ADDED) else rest).append(p)
    return [g for g in ({"params": rest, "lr_scale": 1.0}, {"params": added, "lr_scale": added_lr_scale})
            if g["params"]]


def _refuse_conflicts(dit: DiT, cfg: FinetuneConfig) -> None:
    """Refuse options the prepared model cannot train together."""
    if dit.cfg.change_input and cfg.rollout_steps:
        raise ValueError("--rollout-steps does not carry the change input through its unroll yet; drop one of "
                         "--rollout-steps and --change-input")
    if cfg.flow.action_dropout > 0 and not dit.cfg.null_action:
        raise ValueError("--flow.action-dropout needs the unknown-action input: add --null-action")
    if cfg.heads_only and (cfg.rollout_steps or cfg.first_frames or cfg.self_forcing_steps):
        raise ValueError("--heads-only trains the heads on teacher-forced clips; drop "
                         "--rollout-steps, --self-forcing-steps and --first-frames")
    if cfg.self_forcing_steps and (cfg.rollout_steps or cfg.distill_from):
        raise ValueError("--self-forcing-steps is a loss of its own on the model's unrolled frames; drop "
                         "--rollout-steps and --distill-from")


def _caches(runs: tuple[Path, ...], kind: str) -> tuple[Path, ...]:
    """The ``kind`` caches (``latents`` or ``text``) that the run directories ``runs`` may hold: those of
    their episodes and of their first frames."""
    return tuple(run / f"{tag}{kind}.safetensors" for run in runs for tag in ("", "first_"))


def episode_sampler(dirs: tuple[str, ...], val_fraction: float, dit: DiT, ae: Autoencoder, out: Path, tag: str,
                    clip: int, start_prob: float | tuple[float, ...], g: torch.Generator,
                    device: torch.device, returns: bool = False, return_prob: float = 0.0,
                    seed_runs: tuple[Path, ...] = ()) -> ClipSampler:
    """Clips of ``clip`` steps from the training episodes of ``dirs``, as latents, actions padded to the model's.

    ``start_prob`` holds one chance for every store or one per store in ``dirs``. With ``returns``, the
    clips carry where objects come back into view, and ``return_prob`` of them are drawn around one.
    Latents and captions are read from the caches of ``seed_runs`` (other runs' directories) where they
    are there."""
    start_prob = np.atleast_1d(np.asarray(start_prob, dtype=np.float64))
    if len(start_prob) not in (1, len(dirs)):
        raise ValueError(f"{len(start_prob)} start chances for {len(dirs)} stores; pass one for all, or one per store "
                         f"in the order of --data")
    data = load_episodes(dirs, val_fraction)
    if data.action_dim > dit.cfg.action_dim:
        raise ValueError(f"{', '.join(dirs)} has {data.action_dim}-D actions; the model takes {dit.cfg.action_dim}")
    data.actions = [pad_actions(a, dit.cfg.action_dim) for a in data.actions]
    latents = encode_all(ae, data, out / f"{tag}latents.safetensors", device, _caches(seed_runs, "latents"))
    text = encode_captions(data.captions, out / f"{tag}text.safetensors", _caches(seed_runs, "text"))
    if dit.cfg.layout_dim:
        text["layout"] = scene_layouts(data, dit.cfg.layout_dim)
    per_episode = np.broadcast_to(start_prob, (len(dirs),))[data.source]
    cache = out / f"{tag}returns.safetensors"
    found = episode_returns(data, tuple(latents[0].shape[-2:]), dit.cfg.span - 1, cache) if returns else None
    return ClipSampler(latents, data, text, np.flatnonzero(~data.val), clip, per_episode, g, found, return_prob)


def finetune(cfg: FinetuneConfig, checkpoint: Path) -> Path:
    """Fine-tune ``checkpoint`` on the episodes in ``cfg.data``; returns the new checkpoint directory."""
    if (cfg.physics_teacher or cfg.rollout_burn_in) and not cfg.rollout_steps:
        raise ValueError("--physics-teacher and --rollout-burn-in act on the unrolled steps; give --rollout-steps too")
    if cfg.teacher_recorded_motion and not cfg.physics_teacher:
        raise ValueError("--teacher-recorded-motion sets the --physics-teacher's velocities; "
                         "give --physics-teacher too")
    device = default_device()
    d = init_distributed(device)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    model = WorldModel.load(checkpoint, device=device)
    if cfg.sampling_steps is None:
        cfg = replace(cfg, sampling_steps=recorded_sampling_steps(model))
    ae, dit = model.autoencoder, prepare_model(model.dit.train(), cfg)
    g, noise = stage_generators(cfg.seed + 1000 * d.rank, device)
    span = dit.cfg.span
    clip = max(cfg.clip_steps, cfg.context_steps + cfg.rollout_burn_in + cfg.rollout_steps + cfg.self_forcing_steps,
               span)
    forced = max(cfg.clip_steps, span) if cfg.rollout_burn_in else clip  # steps the flow loss sees
    returns = cfg.flow.return_weight > 0 or cfg.return_prob > 0
    # the caches of the run the checkpoint comes from (a run's model/ sits beside them) spare encoding its
    # episodes and captions again
    seeds = (Path(checkpoint).parent,)
    sampler = episode_sampler(cfg.data, 0.1, dit, ae, out, "", clip, cfg.start_prob, g, device, returns,
                              cfg.return_prob, seeds)
    taught = physics_targets(ae, sampler.data, cfg.teacher_recorded_motion) if cfg.physics_teacher else None
    firsts = (episode_sampler(cfg.first_frames, 0.0, dit, ae, out, "first_", 1, 1.0, g, device, seed_runs=seeds)
              if cfg.first_frames else None)
    opt = torch.optim.AdamW(param_groups(dit, cfg.added_lr_scale), lr=cfg.lr, weight_decay=0.01, betas=(0.9, 0.99))
    fit = FitConfig(steps=cfg.steps, lr=cfg.lr, warmup=20, save_every=cfg.save_every,
                    time_budget_min=cfg.time_budget_min, ema=cfg.ema, grad_clip=1.0,
                    precision=cfg.precision)
    trainer = Trainer("finetune", dit, opt, fit, out, g, d, noise)
    forcing = self_forcing(dit, cfg, ae, device)  # the real score and the critic
    if resumable(out, cfg.resume, out / "model"):
        saved = WorldModel.load(out / "model", device=device)
        trainer.resume(saved.dit.state_dict(), model_step=int(saved.meta.get("finetune_step", -1)))
        if forcing is not None:
            forcing[1].load(out)
    distilling = distill_teacher(cfg, dit, device)
    # a fine-tune of a distilled model is sampled in the default moves again, unless it is distilled too
    rollout = {k: v for k, v in model.meta.get("rollout", {}).items() if k != "sampling_steps"}
    if cfg.rollout_prev_noise is not None:
        rollout["prev_noise"] = cfg.rollout_prev_noise
    if distilling is not None:
        teacher, teacher_steps = distilling
        rollout["sampling_steps"] = cfg.distill_steps
    meta = {k: v for k, v in model.meta.items() if k != "distilled_from"}
    meta.update({"finetuned_from": model.checkpoint_hash, "finetune_data": list(cfg.data), "rollout": rollout,
                 **({"finetune_first_frames": list(cfg.first_frames)} if cfg.first_frames else {}),
                 **({"finetune_ema": cfg.ema} if cfg.ema else {}),
                 **({"distilled_from": teacher.checkpoint_hash} if distilling is not None else {})})

    first_flow = replace(cfg.flow, return_weight=0.0)  # a first frame follows no hidden object

    def objective(step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        batch = sampler.sample(cfg.batch_size, device)
        head = first_steps(batch, forced)
        flow = (flow_loss(dit, head, cfg.flow, noise) if distilling is None else
                distill_loss(dit, teacher.dit, head, cfg.flow, cfg.distill_steps, teacher_steps, generator=noise))
        targets = taught(batch, cfg.context_steps) if taught is not None else None
        roll = rollout_loss(dit, batch, cfg, noise, targets) if cfg.rollout_steps else None
        forced_logs = {}
        if forcing is not None:
            real, critic, sf = forcing
            roll, forced_logs = self_forcing_loss(dit, real, critic, batch, cfg.context_steps, sf, noise)
        first = flow_loss(dit, firsts.sample(cfg.first_frame_batch, device), first_flow, noise) if firsts else None
        loss = flow.loss + (cfg.rollout_weight * roll if roll is not None else 0)
        loss = loss + (first.loss if first is not None else 0)
        return loss, {"flow": flow.flow, "reward": flow.reward, "done": flow.done,
                      "episode_starts": batch.first.any(1).sum(),
                      **({"rollout": roll.detach()} if roll is not None else {}), **forced_logs,
                      **({"first_frame": first.flow} if first is not None else {})}

    def save(step: int, weights: torch.nn.Module) -> None:
        WorldModel(ae, weights).save(out / "model", meta={**meta, "finetune_step": step})
        if forcing is not None:
            forcing[1].save(out)

    trainer.fit(objective, save)
    return out / "model"
