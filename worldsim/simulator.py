"""The learned simulator: batched, KV-cached, autoregressive rollout of the world model.

This is the object environment wrappers call. It owns the rollout state (a per-layer
:class:`~worldsim.model.KVCache` over a rolling window, the last frame's latent, the text
conditioning) and nothing about Gymnasium.

One ``step(actions)``:

1. samples the next latent frame with the few-step flow sampler, every pass attending to the cache;
2. runs one *commit* pass on that frame, re-noised to ``context_noise``: it writes the frame's keys
   and values into the cache (evicting the oldest beyond the window) and evaluates the reward and
   termination heads;
3. decodes the frame to pixels. A model with frame heads (:mod:`worldsim.frame_heads`) reads the
   step's reward and termination off the last two decoded frames instead of the DiT's heads.

A model with a frame sink (``DiTConfig.sink``) also keeps the episode's first frame, committed once at
reset, for the whole rollout; it adds a constant to the cache. Memory is bounded by the window,
however long the rollout. With ``use_cache=False`` the same
rollout is computed by re-running the network over the whole receptive field each pass; the two
agree to float tolerance under the same noise (a test holds this).
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .diffusion import FlowSampler, SamplerConfig, add_noise, from_target, to_target
from .model import DiT, KVCache, TextCond, left_pad
from .worldmodel import WorldModel


@dataclass
class SimulatorConfig:
    """Rollout settings."""

    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    """Few-step sampler (steps, solver, shift)."""
    guidance: float = 4.0
    """Classifier-free guidance scale for frames generated from text alone (1 = off)."""
    first_frame_steps: int = 32
    """Denoising moves for a first frame generated from text alone. A whole scene from noise needs
    far more than the few moves a next frame does (benchmarks/README.md, "Frames from text"),
    and it is drawn once per reset."""
    first_frame_candidates: int = 16
    """First frames drawn per rollout when ``reset`` is given a ``first_frame_score``: the one that
    scores best starts the rollout (best-of-n against a check of what the prompt asked for)."""
    context_noise: float = 0.02
    """Noise level at which a finished frame is committed to the cache (matches training's context noise)."""
    window: int | None = None
    """W, in steps, attended to (itself included); None uses the model's trained window."""
    use_cache: bool = True
    """Attend to the KV cache (fast). False re-runs the network over the history every pass."""
    recompute_steps: int | None = None
    """Without the cache: steps of history re-run per pass. None = the whole receptive field, which
    reproduces the cached rollout exactly; the window W is what a cache-less sampler would use."""
    action_guidance: float = 1.0
    """Guidance towards the actions taken (1 = off): each denoising move also runs the model without
    the step's action and moves v_none + g * (v_action - v_none), at twice the cost. Needs a
    model trained with action dropout (DiTConfig.null_action)."""
    done_threshold: float = 0.5
    """Termination probability above which a step counts as terminated."""
    prev_noise: float | None = None
    """Noise level given to the last frame before it conditions the next one, as training noises
    the previous-frame channel (FlowConfig.prev_noise). None: the level the checkpoint records for
    its rollouts (meta["rollout"]["prev_noise"], written by worldsim finetune --rollout-prev-noise),
    else 0."""

    latent_grid: float | None = None
    """Round every finished latent (and the context's) to a multiple of this; 0 leaves them as they
    are. On a grid, a cell whose predicted change is below half a step stays exactly as it was, so
    small per-step errors in still parts of the scene cannot add up over a long rollout. None: the
    grid the checkpoint records for its rollouts (meta["rollout"]["latent_grid"]), else 0."""
    latent_hold: float | None = None
    """Keep a latent cell exactly as it was when none of its channels changed by more than this in a
    step; 0 lets every cell change. Unlike the grid, cells that do change keep their exact values
    and the context is left as encoded. None: the level the checkpoint records for its rollouts
    (meta["rollout"]["latent_hold"]), else 0."""
    latent_hold_moving: float | None = None
    """A narrower hold for what moves: a cell that changed by more than this in one of the last
    ``latent_hold_memory`` steps, or borders one that did, is held only at this level, so that a
    moving or touched object moves on freely while still parts of the scene keep ``latent_hold``. At
    most ``latent_hold``; equal to it, every cell is held at one level. None: the level the checkpoint
    records for its rollouts (meta["rollout"]["latent_hold_moving"]), else ``latent_hold``."""
    latent_hold_memory: int | None = None
    """Steps a cell counts as moving after its last change beyond ``latent_hold_moving`` (or a
    neighbour's). None: the checkpoint's recorded count (meta["rollout"]["latent_hold_memory"]), else 4."""
    dtype: str = "float32"
    """Precision of the network passes: float32, or bfloat16 / float16 under
    torch.autocast (half the KV-cache memory; float16 on CUDA only)."""
    quantize: str = "none"
    """"int8": the DiT's linear layers run with int8 weights and int8 activations quantised on the
    fly (dynamic quantisation, CPU only, with dtype float32; without a device given it runs on the
    CPU); the simulator works on its own copy of the network, so the model passed in is left as it
    is. "none": the weights as stored."""
    compile: bool = False
    """Run each step's DiT passes through ``torch.compile`` (a first frame drawn from text is not):
    the first steps of each batch size wait for the compiler, every step after them is faster, and
    the frames are those of the plain passes. For long rollouts and RL training; ``worldsim bench``
    times both."""

    def __post_init__(self) -> None:
        if self.latent_grid is not None and not 0.0 <= self.latent_grid < 1.0:
            raise ValueError(f"latent_grid must be in [0, 1), got {self.latent_grid}")
        for name in ("latent_hold", "latent_hold_moving"):
            level = getattr(self, name)
            if level is not None and not 0.0 <= level < math.inf:
                raise ValueError(f"{name} must be a finite level >= 0, got {level}")
        if self.dtype not in PRECISIONS:
            raise ValueError(f"dtype must be one of {sorted(PRECISIONS)}, got {self.dtype!r}")
        if not (math.isfinite(self.action_guidance) and self.action_guidance >= 0):
            raise ValueError(f"action_guidance must be a finite number >= 0, got {self.action_guidance}")
        if self.quantize not in QUANTIZATIONS:
            raise ValueError(f"quantize must be one of {QUANTIZATIONS}, got {self.quantize!r}")
        if self.quantize == "int8" and self.dtype != "float32":
            raise ValueError(f"quantize='int8' runs with dtype='float32' (its layers take float32 inputs), "
                             f"got dtype={self.dtype!r}; choose one of the two")
        for name in ("first_frame_candidates", "first_frame_steps", "latent_hold_memory"):
            count = getattr(self, name)
            if count is not None and count < 1:
                raise ValueError(f"{name} must be >= 1, got {count}")
        if self.prev_noise is not None and not 0.0 <= self.prev_noise < 1.0:
            raise ValueError(f"prev_noise must be in [0, 1), got {self.prev_noise}")
        if not 0.0 <= self.context_noise < 1.0:
            raise ValueError(f"context_noise must be in [0, 1), got {self.context_noise}")

    @classmethod
    def coerce(cls, value: SimulatorConfig | dict | None) -> SimulatorConfig:
        """Accept a config, a (nested) dict of its fields as passed through ``gymnasium.make``, or None."""
        if value is None or isinstance(value, cls):
            return value or cls()
        if not isinstance(value, dict):
            raise TypeError(f"sim must be a SimulatorConfig or a dict of its fields, got {type(value).__name__}")
        fields = dict(value)
        sampler = fields.pop("sampler", None)
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(fields) - known)
        if unknown:
            raise ValueError(f"unknown simulator settings {unknown}; known: {sorted(known)}")
        if isinstance(sampler, dict):
            sampler = SamplerConfig(**sampler)
        return cls(**fields, **({"sampler": sampler} if sampler is not None else {}))


PRECISIONS = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
QUANTIZATIONS = ("none", "int8")
DEFAULT_SAMPLING_STEPS = 4
"""Denoising moves per frame of a checkpoint that records none (``meta["rollout"]["sampling_steps"]``)."""


def quantize_int8(dit: DiT) -> DiT:
    """A copy of ``dit`` whose ``nn.Linear`` layers hold int8 weights (one scale per layer) and
    quantise their inputs to int8 per call: integer matrix products on the CPU. ``dit`` itself is
    left unchanged."""
    import warnings

    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():  # the eager-mode quantisation API is deprecated in favour of torchao
        warnings.simplefilter("ignore")
        return quantize_dynamic(dit, {torch.nn.Linear}, dtype=torch.qint8, inplace=False)


def _in_precision(method):
    """Run a :class:`Simulator` method under its configured autocast precision."""

    @functools.wraps(method)
    def wrapped(self, *args, **kwargs):
        with self._autocast():
            return method(self, *args, **kwargs)

    return wrapped


@dataclass
class ContextHeads:
    """What the reward and termination heads read off the context frames of the last reset, teacher
    forced: for each transition between two context frames, (N, k-1)."""

    rewards: np.ndarray  # (N, k-1) float32
    done_prob: np.ndarray  # (N, k-1) float32, termination probability


@dataclass
class StepOutput:
    """What :meth:`Simulator.reset` and :meth:`Simulator.step` return, for the whole batch."""

    frames: np.ndarray  # (B, H, W, 3) uint8
    rewards: np.ndarray  # (B,) float32
    terminated: np.ndarray  # (B,) bool
    latents: Tensor  # (B, C, h, w)


@dataclass
class _History:
    """Committed steps kept for the no-cache path: exactly what the cache would have seen."""

    x: list[Tensor] = field(default_factory=list)  # each (B, 1, C, h, w), noised to context_noise
    prev: list[Tensor] = field(default_factory=list)
    action: list[Tensor] = field(default_factory=list)  # each (B, 1, A)
    first: list[Tensor] = field(default_factory=list)  # each (B, 1)
    change: list[Tensor] = field(default_factory=list)  # each (B, 1, C, h, w), change_input models only

    def append(self, x: Tensor, prev: Tensor, action: Tensor, first: Tensor, change: Tensor | None,
               keep: int) -> None:
        for name, value in (("x", x), ("prev", prev), ("action", action), ("first", first), ("change", change)):
            if value is not None:
                items = getattr(self, name) + list(value.split(1, dim=1))
                setattr(self, name, items[-keep:])


def rollout_defaults(model: WorldModel) -> dict[str, float]:
    """Rollout settings a checkpoint records for itself (``meta["rollout"]``), e.g. ``prev_noise``."""
    rollout = model.meta.get("rollout", {})
    if not isinstance(rollout, dict) or not all(isinstance(v, (int, float)) for v in rollout.values()):
        raise ValueError(f"the checkpoint's meta['rollout'] must map setting names to numbers, got {rollout!r}")
    return rollout


def recorded_sampling_steps(model: WorldModel) -> int:
    """The denoising moves per frame a checkpoint records for its rollouts (a distilled one's), else
    :data:`DEFAULT_SAMPLING_STEPS`."""
    return int(rollout_defaults(model).get("sampling_steps", DEFAULT_SAMPLING_STEPS))


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` when given, else ``cuda`` when available, else the CPU. The process's torch thread
    count is left as the caller set it."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Simulator:
    """Batched learned simulator over a :class:`~worldsim.worldmodel.WorldModel`.

    Args:
        model: The world model (autoencoder + DiT).
        batch_size: Number of parallel rollouts N.
        cfg: Rollout settings.
        device: Torch device; default CUDA when available, else CPU.
    """

    def __init__(self, model: WorldModel, batch_size: int = 1, cfg: SimulatorConfig | dict | None = None,
                 device: str | torch.device | None = None):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.cfg = SimulatorConfig.coerce(cfg)
        recorded = rollout_defaults(model)
        if self.cfg.prev_noise is None:
            self.cfg = replace(self.cfg, prev_noise=recorded.get("prev_noise", 0.0))
        for name in ("latent_grid", "latent_hold"):
            if getattr(self.cfg, name) is None:
                self.cfg = replace(self.cfg, **{name: recorded.get(name, 0.0)})
        if self.cfg.latent_hold_moving is None:
            self.cfg = replace(self.cfg, latent_hold_moving=recorded.get("latent_hold_moving", self.cfg.latent_hold))
        if self.cfg.latent_hold_memory is None:
            self.cfg = replace(self.cfg, latent_hold_memory=int(recorded.get("latent_hold_memory", 4)))
        if self.cfg.latent_hold_moving > self.cfg.latent_hold:
            raise ValueError(f"latent_hold_moving ({self.cfg.latent_hold_moving}) must be at most latent_hold "
                             f"({self.cfg.latent_hold}): it is the narrower hold for what moves")
        if self.cfg.sampler.steps is None:
            self.cfg = replace(self.cfg, sampler=replace(self.cfg.sampler, steps=recorded_sampling_steps(model)))
        self.device = resolve_device("cpu" if device is None and self.cfg.quantize == "int8" else device)
        if self.cfg.dtype == "float16" and self.device.type != "cuda":
            raise ValueError(f"dtype float16 runs on CUDA only; on {self.device.type} use bfloat16 or float32")
        if self.cfg.quantize == "int8" and self.device.type != "cpu":
            raise ValueError(f"quantize='int8' runs on the CPU only; on {self.device.type} use dtype='bfloat16'")
        if self.cfg.action_guidance != 1.0 and not model.dit.cfg.null_action:
            raise ValueError("action_guidance needs a model trained with action dropout (DiTConfig.null_action); "
                             "fine-tune it with `worldsim finetune --null-action --flow.action-dropout 0.1`")
        self.model = model.to(self.device).eval()
        self.dit: DiT = quantize_int8(self.model.dit) if self.cfg.quantize == "int8" else self.model.dit
        # the passes run through this; torch.compile wraps the module and leaves it as it is
        self._net = torch.compile(self.dit) if self.cfg.compile else self.dit
        self.batch_size = batch_size
        self.window = self.cfg.window or self.dit.cfg.window
        self.sampler = FlowSampler(self.cfg.sampler)
        self.first_sampler = FlowSampler(replace(self.cfg.sampler, steps=self.cfg.first_frame_steps))
        self.generator = torch.Generator(device=self.device)
        self.cache: KVCache | None = None
        self.text: TextCond | None = None
        self.prev: Tensor | None = None  # (B, 1, C, h, w) last clean latent
        self.frames: Tensor | None = None  # (B, H, W, 3) last frames shown, kept for the frame heads
        self.change: Tensor | None = None  # (B, 1, C, h, w) its change from the one before (change_input models)
        self.quiet: Tensor | None = None  # (B, 1, 1, h, w) steps since each cell (or a neighbour) last moved
        self.sink: _Sink | None = None  # the frame sink of sink models
        self.history = _History()
        self.steps_taken = np.zeros(batch_size, dtype=np.int64)
        self.context_heads: ContextHeads | None = None  # the heads on the last reset's context frames

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, batch_size: int = 1, cfg: SimulatorConfig | None = None,
                        device: str | torch.device | None = None) -> Simulator:
        return cls(WorldModel.load(Path(path)), batch_size, cfg, device)

    # -- properties --

    @property
    def action_dim(self) -> int:
        return self.dit.cfg.action_dim

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        s = self.model.autoencoder.cfg.image_size
        return (s, s, 3)

    @property
    def receptive_field(self) -> int:
        """Steps a new frame can depend on through the stacked banded attention."""
        return self.dit.cfg.depth * (self.window - 1 + self.dit.cfg.memory) + 1

    def cache_nbytes(self) -> int:
        return 0 if self.cache is None else self.cache.nbytes()

    # -- public API --

    @torch.no_grad()
    @_in_precision
    def reset(self, *, context_frames: np.ndarray | Tensor | None = None,
              context_actions: np.ndarray | Tensor | None = None, prompt: str | list[str] | None = None,
              seed: int | None = None, rows: np.ndarray | list[int] | None = None,
              layout: np.ndarray | Tensor | None = None,
              first_frame_score: Callable[[np.ndarray], np.ndarray] | None = None) -> StepOutput:
        """Start (or restart some of) the rollouts.

        Args:
            context_frames: uint8 ``(N, k, H, W, 3)`` frames to continue from (k >= 1). ``N`` is the
                batch size, or ``len(rows)``.
            context_actions: ``(N, k-1, A)`` actions between the context frames (zeros if omitted).
            prompt: Text for each rollout (one string for all). Without context frames, the first
                frame is generated from the text with classifier-free guidance.
            seed: Seeds the sampling noise.
            rows: Reset only these batch rows; the others keep their state untouched.
            layout: float ``(N, K, layout_dim)`` layout tokens of the scene each first frame shows
                (``worldsim.envs.layout.layout_features``), for models that read them
                (``DiTConfig.layout_dim``); a first frame drawn from text is then drawn to them.
            first_frame_score: For a first frame drawn from text: scores uint8 candidates
                ``(N, c, H, W, 3)`` as a float ``(N, c)``, higher is better
                (``worldsim.envs.layout.first_frame_score`` checks them against a parsed prompt).
                ``cfg.first_frame_candidates`` are drawn per rollout and the best one is kept.

        Returns:
            The last context frame (or the generated first frame) for the rows reset, with zero
            rewards and no terminations.
        """
        if seed is not None:
            self.generator.manual_seed(seed)
        rows_t = self._check_rows(rows)
        if len(rows_t) < self.batch_size and not self.cfg.use_cache:
            raise ValueError("resetting a subset of rows needs use_cache=True (the recompute path is for checks)")
        n = len(rows_t)
        if context_frames is None and prompt is None:
            raise ValueError("reset needs context_frames, a prompt, or both")
        text = self._encode_prompt(prompt, n)
        if layout is not None:
            text = replace(text, layout=self._check_layout(layout, n))
        if context_frames is not None:
            frames = self._check_frames(context_frames, n)  # (n, k, H, W, 3)
            latents = self.model.autoencoder.encode(frames)  # (n, k, C, h, w)
            actions = self._check_context_actions(context_actions, n, frames.shape[1])
        else:
            latents = self._best_first(text, first_frame_score)  # (n, 1, C, h, w)
            actions = torch.zeros(n, 0, self.action_dim, device=self.device)
        latents = self._snap(latents)
        k = latents.shape[1]
        prev = torch.cat([torch.zeros_like(latents[:, :1]), latents[:, :-1]], dim=1)  # (n, k, C, h, w)
        action = torch.cat([torch.zeros(n, 1, self.action_dim, device=self.device), actions], dim=1)
        first = torch.zeros(n, k, dtype=torch.bool, device=self.device)
        first[:, 0] = True
        sub = _SubRollout(self.dit.new_cache(text, self.window) if self.cfg.use_cache else None, text, _History(),
                          self._make_sink(latents[:, :1], text))
        if sub.cache is not None and sub.sink is not None:
            self.dit.prime_sink(sub.cache, sub.sink.x, sub.sink.sigma, text)
        change, last_change = self._context_changes(latents)
        heads = self._commit(sub, latents, self._noised_prev(prev, first), action, first, change)
        self._merge(rows_t, sub, latents[:, -1:], last_change, self._context_quiet(latents))
        self.steps_taken[rows_t.cpu().numpy()] = 0
        if self.model.frame_heads is None:
            frames_out = self.model.autoencoder.decode(latents[:, -1])  # (n, H, W, 3)
            rewards, done_prob = heads.reward[:, 1:], torch.sigmoid(heads.done_logit[:, 1:])
        else:  # the heads read every context frame as decoded, pair by pair
            decoded = self.model.autoencoder.decode(latents)  # (n, k, H, W, 3)
            frames_out = decoded[:, -1]
            rewards, done_prob = self._frame_heads(decoded[:, :-1].flatten(0, 1), decoded[:, 1:].flatten(0, 1),
                                                   actions.flatten(0, 1))
            rewards, done_prob = rewards.view(n, k - 1), done_prob.view(n, k - 1)
        self.context_heads = ContextHeads(rewards.float().cpu().numpy(), done_prob.float().cpu().numpy())
        self._put_frames(rows_t, frames_out)
        return StepOutput(frames_out.cpu().numpy(), np.zeros(n, np.float32), np.zeros(n, bool),
                          latents[:, -1])

    @torch.no_grad()
    @_in_precision
    def step(self, actions: np.ndarray | Tensor) -> StepOutput:
        """Advance every rollout by one step.

        Args:
            actions: ``(N, action_dim)`` float actions, one row per rollout.
        """
        if self.prev is None:
            raise RuntimeError("call reset() before step()")
        action = self._check_actions(actions)[:, None]  # (B, 1, A)
        B = self.batch_size
        first = torch.zeros(B, 1, dtype=torch.bool, device=self.device)
        noise = torch.randn(self.prev.shape, generator=self.generator, device=self.device)
        sub = _SubRollout(self.cache, self.text, self.history, self.sink)
        prev = self._noised_prev(self.prev, first)
        g = self.cfg.action_guidance

        change = self.change

        def denoise(x: Tensor, sigma: Tensor) -> Tensor:
            v = self._forward(sub, x, prev, sigma, action, first, change=change).velocity
            if g == 1.0:
                return v
            v_none = self._forward(sub, x, prev, sigma, action, first, action_known=torch.zeros_like(first),
                                   change=change).velocity
            return v_none + g * (v - v_none)

        z = from_target(self.dit, self.sampler.sample(denoise, noise), prev, first)  # (B, 1, C, h, w)
        if not torch.isfinite(z).all():
            raise FloatingPointError("the model produced NaN or inf latents; the checkpoint or its inputs are "
                                     "broken (checkpoints with non-finite weights are refused at load)")
        z = self._hold(self._snap(z), self.prev)
        out = self._commit(sub, z, prev, action, first, change)
        self.change = None if change is None else z - self.prev
        self.prev = z
        self.steps_taken += 1
        frames = self.model.autoencoder.decode(z[:, 0])  # (B, H, W, 3)
        if self.model.frame_heads is None:
            reward, done_prob = out.reward[:, -1], torch.sigmoid(out.done_logit[:, -1])
        else:
            reward, done_prob = self._frame_heads(self.frames, frames, action[:, 0])
            self.frames = frames
        return StepOutput(frames.cpu().numpy(), reward.float().cpu().numpy(),
                          (done_prob > self.cfg.done_threshold).cpu().numpy(), z[:, 0])

    # -- internals --

    def _frame_heads(self, before: Tensor, after: Tensor, action: Tensor) -> tuple[Tensor, Tensor]:
        """The model's frame heads on decoded frames ``(N, H, W, 3)`` either side of ``action`` ``(N, A)``:
        reward and termination probability, ``(N,)`` each."""
        reward, logit = self.model.frame_heads(before, after, action)
        return reward, torch.sigmoid(logit)

    def _put_frames(self, rows: Tensor, frames: Tensor) -> None:
        """Keep the frames just shown for ``rows``: the frame heads read them beside the next step's."""
        if self.model.frame_heads is None:
            return
        if len(rows) == self.batch_size:
            self.frames = frames
        else:
            self.frames[rows] = frames

    def _snap(self, z: Tensor) -> Tensor:
        """``z`` rounded to the latent grid (unchanged when the grid is off)."""
        q = self.cfg.latent_grid
        return z if q == 0 else torch.round(z / q) * q

    def _hold(self, z: Tensor, prev: Tensor) -> Tensor:
        """``z`` ``(B, 1, C, h, w)`` with the cells that changed by at most the hold in every channel
        put back to ``prev`` (unchanged when holding is off): ``latent_hold`` for still cells,
        ``latent_hold_moving`` for the cells that moved lately (:attr:`quiet`), which it updates."""
        tau = self.cfg.latent_hold
        if tau == 0:
            return z
        change = _largest_change(z, prev)  # (B, 1, 1, h, w)
        if self.quiet is not None:
            tau = torch.where(self.quiet < self.cfg.latent_hold_memory, self.cfg.latent_hold_moving, tau)
            self.quiet = self._next_quiet(self.quiet, change > tau)
        return torch.where(change <= tau, prev, z)

    def _next_quiet(self, quiet: Tensor, moved: Tensor) -> Tensor:
        """Steps since each cell or one of its 8 neighbours moved, after a step in which ``moved``
        ``(B, 1, 1, h, w)`` cells changed by more than their hold."""
        near = torch.nn.functional.max_pool2d(moved[:, 0].float(), 3, stride=1, padding=1)[:, None] > 0
        return torch.where(near, torch.zeros_like(quiet), (quiet + 1).clamp(max=self.cfg.latent_hold_memory))

    def _context_quiet(self, latents: Tensor) -> Tensor | None:
        """:attr:`quiet` after the context latents ``(n, k, C, h, w)``, each step's change beyond
        ``latent_hold_moving`` counted as a move; None when every cell is held at one level."""
        if self.cfg.latent_hold == 0 or self.cfg.latent_hold_moving == self.cfg.latent_hold:
            return None
        memory = self.cfg.latent_hold_memory
        quiet = torch.full_like(latents[:, :1, :1], memory, dtype=torch.long)  # (n, 1, 1, h, w)
        for t in range(1, latents.shape[1]):
            quiet = self._next_quiet(quiet, _largest_change(latents[:, t:t + 1], latents[:, t - 1:t])
                                     > self.cfg.latent_hold_moving)
        return quiet

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.cfg.dtype == "float32":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=PRECISIONS[self.cfg.dtype])

    def _make_sink(self, first_latent: Tensor, text: TextCond) -> _Sink | None:
        """The frame sink of a sink model: the episode's first latent ``(n, 1, C, h, w)`` at the
        context noise level, fixed for the whole rollout."""
        if not self.dit.cfg.sink:
            return None
        sigma = torch.full(first_latent.shape[:2], self.cfg.context_noise, device=self.device)
        eps = torch.randn(first_latent.shape, generator=self.generator, device=self.device)
        return _Sink(add_noise(first_latent, sigma, eps), sigma)

    def _noised_prev(self, prev: Tensor, first: Tensor) -> Tensor:
        """Previous-frame latents ``(B, k, C, h, w)`` noised to ``prev_noise`` (zero for first steps)."""
        if self.cfg.prev_noise == 0:
            return prev
        eps = torch.randn(prev.shape, generator=self.generator, device=self.device)
        level = torch.full(first.shape, self.cfg.prev_noise, device=self.device)  # (B, k)
        return add_noise(prev, level, eps) * (~first)[..., None, None, None]

    def _forward(self, sub: _SubRollout, x: Tensor, prev: Tensor, sigma: Tensor, action: Tensor, first: Tensor,
                 commit: bool = False, action_known: Tensor | None = None, change: Tensor | None = None):
        """One DiT pass over new steps, through the cache or by recomputing the history.
        ``action_known`` (the new steps') False: the pass does not see those steps' actions.
        ``change``: the new steps' ``prev`` change from the latent before it (change_input models)."""
        if self.cfg.use_cache:
            if self.cfg.compile:  # one memory layout, so the compiled graph is not recompiled for another
                x, prev = x.contiguous(), prev.contiguous()
            return self._net(x, prev, sigma, action, first, sub.text, cache=sub.cache, commit=commit,
                             action_known=action_known, prev_change=change)
        h = sub.history
        keep = (self.cfg.recompute_steps or self.receptive_field) - x.shape[1]
        hist = lambda items: items[-keep:] if keep > 0 else []
        xs = torch.cat(hist(h.x) + [x], 1)
        ps = torch.cat(hist(h.prev) + [prev], 1)
        acts = torch.cat(hist(h.action) + [action], 1)
        firsts = torch.cat(hist(h.first) + [first], 1)
        changes = None if change is None else torch.cat(hist(h.change) + [change], 1)
        m = xs.shape[1] - x.shape[1]
        ctx_sigma = torch.full((x.shape[0], m), self.cfg.context_noise, device=self.device)
        band = KVCache(window=self.window, memory=self.dit.cfg.memory)  # empty: only sets the attention band
        sink = {"sink": sub.sink.x, "sink_sigma": sub.sink.sigma} if sub.sink is not None else {}
        known = None if action_known is None else torch.cat([torch.ones_like(firsts[:, :m]), action_known], 1)
        out = self._net(xs, ps, torch.cat([ctx_sigma, sigma], 1), acts, firsts, sub.text, cache=band,
                        action_known=known, prev_change=changes, **sink)
        n = x.shape[1]
        out.velocity, out.reward, out.done_logit = out.velocity[:, -n:], out.reward[:, -n:], out.done_logit[:, -n:]
        return out

    def _commit(self, sub: _SubRollout, z: Tensor, prev: Tensor, action: Tensor, first: Tensor,
                change: Tensor | None = None):
        """Write finished steps ``z`` ``(B, k, ...)`` into the context at the context noise level."""
        sigma = torch.full(z.shape[:2], self.cfg.context_noise, device=self.device)
        eps = torch.randn(z.shape, generator=self.generator, device=self.device)
        x = add_noise(to_target(self.dit, z, prev, first), sigma, eps)
        out = self._forward(sub, x, prev, sigma, action, first, commit=True, change=change)
        if not self.cfg.use_cache:
            sub.history.append(x, prev, action, first, change, keep=self.receptive_field)
        return out

    def _context_changes(self, latents: Tensor) -> tuple[Tensor, Tensor] | tuple[None, None]:
        """For change_input models: each context step's ``prev`` change from the latent before it
        ``(n, k, C, h, w)`` (zeros for the first two steps, which have no such latent), and the last
        latent's own change ``(n, 1, C, h, w)``, which the next step reads; else (None, None)."""
        if not self.dit.cfg.change_input:
            return None, None
        steps = latents[:, 1:] - latents[:, :-1]  # (n, k-1, ...): each latent's change from the one before
        zeros = torch.zeros_like(latents[:, :1])
        change = torch.cat([zeros, zeros, steps[:, :-1]], dim=1)[:, :latents.shape[1]]
        return change, steps[:, -1:] if steps.shape[1] else zeros

    def _generate_first(self, text: TextCond) -> Tensor:
        """Sample a first frame from text alone, with classifier-free guidance."""
        n = text.pooled.shape[0]
        shape = (n, 1, self.dit.cfg.latent_channels, self.dit.cfg.latent_size, self.dit.cfg.latent_size)
        zeros = torch.zeros(shape, device=self.device)
        action = torch.zeros(n, 1, self.action_dim, device=self.device)
        first = torch.ones(n, 1, dtype=torch.bool, device=self.device)
        g = self.cfg.guidance
        empty = TextCond.empty(n, self.dit.cfg.text_dim, self.device)
        both = TextCond(*(torch.cat([a, b]) for a, b in _pad_text(text, empty)),
                        None if text.layout is None else torch.cat([text.layout, torch.zeros_like(text.layout)]))

        def denoise(x: Tensor, sigma: Tensor) -> Tensor:
            if g == 1.0:
                return self.dit(x, zeros, sigma, action, first, text).velocity
            v = self.dit(torch.cat([x, x]), torch.cat([zeros, zeros]), torch.cat([sigma, sigma]),
                         torch.cat([action, action]), torch.cat([first, first]), both).velocity
            v_cond, v_uncond = v.chunk(2)
            return v_uncond + g * (v_cond - v_uncond)

        noise = torch.randn(shape, generator=self.generator, device=self.device)
        return self.first_sampler.sample(denoise, noise)

    def _best_first(self, text: TextCond, score: Callable[[np.ndarray], np.ndarray] | None) -> Tensor:
        """A first frame per row drawn from text; with ``score``, the best of ``cfg.first_frame_candidates``."""
        c = self.cfg.first_frame_candidates
        if score is None or c == 1:
            return self._generate_first(text)
        n = text.pooled.shape[0]
        latents = self._generate_first(text.index(torch.arange(n, device=self.device).repeat_interleave(c)))
        frames = self.model.autoencoder.decode(latents[:, 0]).cpu().numpy()  # (n * c, H, W, 3)
        scores = np.asarray(score(frames.reshape(n, c, *frames.shape[1:])), dtype=np.float64)
        if scores.shape != (n, c) or not np.isfinite(scores).all():
            raise ValueError(f"first_frame_score must return finite scores of shape {(n, c)}, got {scores.shape}")
        best = torch.as_tensor(scores.argmax(axis=1), device=self.device)
        return latents.view(n, c, *latents.shape[1:])[torch.arange(n, device=self.device), best]

    def _encode_prompt(self, prompt: str | list[str] | None, n: int) -> TextCond:
        if prompt is None:
            return TextCond.empty(n, self.dit.cfg.text_dim, self.device)
        prompts = [prompt] * n if isinstance(prompt, str) else list(prompt)
        if len(prompts) != n:
            raise ValueError(f"got {len(prompts)} prompts for {n} rollouts")
        from .text import get_text_encoder

        emb = get_text_encoder().encode_cached(prompts)
        return TextCond(emb.tokens.to(self.device), emb.mask.to(self.device), emb.pooled.to(self.device))

    def _merge(self, rows: Tensor, sub: _SubRollout, last: Tensor, change: Tensor | None,
               quiet: Tensor | None) -> None:
        """Install a freshly reset sub-rollout into ``rows`` of the batch state."""
        if len(rows) == self.batch_size:
            self.cache, self.text, self.history, self.prev = sub.cache, sub.text, sub.history, last
            self.sink, self.change, self.quiet = sub.sink, change, quiet
            return
        if self.prev is None:
            raise RuntimeError(f"reset all {self.batch_size} rollouts before resetting a subset of rows")
        self.prev[rows] = last
        if quiet is not None:
            self.quiet[rows] = quiet
        if change is not None:
            self.change[rows] = change
        if self.sink is not None:
            self.sink = _Sink(_put_rows(self.sink.x, sub.sink.x, rows),
                              _put_rows(self.sink.sigma, sub.sink.sigma, rows))
        pairs = _pad_text(self.text, sub.text)
        self.text = TextCond(*(_put_rows(a, b, rows) for a, b in pairs))
        _merge_cache(self.cache, sub.cache, rows)

    # -- input checks (errors say how to fix the call) --

    def _check_rows(self, rows) -> Tensor:
        if rows is None:
            return torch.arange(self.batch_size, device=self.device)
        r = torch.as_tensor(np.asarray(rows, dtype=np.int64), device=self.device).flatten()
        if len(r) == 0 or int(r.min()) < 0 or int(r.max()) >= self.batch_size or len(set(r.tolist())) != len(r):
            raise ValueError(f"rows must be distinct indices in [0, {self.batch_size}), got {rows}")
        return r

    def _check_layout(self, layout, n: int) -> Tensor:
        width = self.dit.cfg.layout_dim
        if not width:
            raise ValueError("this model reads no layout tokens; drop layout=, or fine-tune it with "
                             "`worldsim finetune --layout`")
        t = torch.as_tensor(np.asarray(layout, dtype=np.float32) if not isinstance(layout, Tensor) else layout)
        if t.ndim != 3 or t.shape[0] != n or t.shape[2] != width or not torch.isfinite(t).all():
            raise ValueError(f"layout must be finite float ({n}, K, {width}), got {tuple(t.shape)}")
        return t.float().to(self.device)

    def _check_frames(self, frames, n: int) -> Tensor:
        f = torch.as_tensor(np.asarray(frames) if not torch.is_tensor(frames) else frames)
        if f.dtype != torch.uint8 or f.ndim != 5 or f.shape[0] != n or tuple(f.shape[2:]) != self.frame_shape:
            raise ValueError(f"context_frames must be uint8 (N={n}, k, *{self.frame_shape}), "
                             f"got {f.dtype} {tuple(f.shape)}")
        return f.to(self.device)

    def _check_context_actions(self, actions, n: int, k: int) -> Tensor:
        if actions is None:
            return torch.zeros(n, k - 1, self.action_dim, device=self.device)
        a = torch.as_tensor(np.asarray(actions, dtype=np.float32)).to(self.device)
        if a.shape != (n, k - 1, self.action_dim):
            raise ValueError(f"context_actions must be ({n}, {k - 1}, {self.action_dim}), got {tuple(a.shape)}")
        return a

    def _check_actions(self, actions) -> Tensor:
        a = torch.as_tensor(actions) if torch.is_tensor(actions) else torch.as_tensor(np.asarray(actions))
        if a.shape != (self.batch_size, self.action_dim):
            raise ValueError(f"actions must have shape ({self.batch_size}, {self.action_dim}), got {tuple(a.shape)}")
        if not a.dtype.is_floating_point:
            raise TypeError(f"actions must be floating point, got {a.dtype}")
        a = a.float().to(self.device)
        if not torch.isfinite(a).all():
            raise ValueError("actions contain NaN or inf")
        return a


@dataclass
class _Sink:
    x: Tensor  # (B, 1, C, h, w) the first latent, noised to sigma
    sigma: Tensor  # (B, 1)


@dataclass
class _SubRollout:
    cache: KVCache | None
    text: TextCond
    history: _History
    sink: _Sink | None = None


def _pad_text(a: TextCond, b: TextCond) -> list[tuple[Tensor, Tensor]]:
    """Pad two text conditionings to the same token count; returns (a, b) pairs per field."""
    S = max(a.tokens.shape[1], b.tokens.shape[1])
    pad = lambda t: torch.nn.functional.pad(t, (0, 0, 0, S - t.shape[1])) if t.ndim == 3 else \
        torch.nn.functional.pad(t, (0, S - t.shape[1]))
    return [(pad(a.tokens), pad(b.tokens)), (pad(a.mask), pad(b.mask)), (a.pooled, b.pooled)]


def _put_rows(dst: Tensor, src: Tensor, rows: Tensor) -> Tensor:
    out = dst.clone()
    out[rows] = src
    return out


def _largest_change(z: Tensor, prev: Tensor) -> Tensor:
    """Each latent cell's largest change over its channels, ``(B, T, 1, h, w)`` for ``(B, T, C, h, w)``:
    what the latent holds compare with their levels."""
    return (z - prev).abs().amax(dim=2, keepdim=True)


def _merge_cache(dst: KVCache, src: KVCache, rows: Tensor) -> None:
    m = max(dst.steps, src.steps)
    for name in ("keys", "values", "mem_keys", "mem_values"):
        for layer, (a, b) in enumerate(zip(getattr(dst, name), getattr(src, name))):
            if a is None and b is None:  # no memory
                continue
            size = max(a.shape[2], b.shape[2])
            getattr(dst, name)[layer] = _put_rows(left_pad(a, size, dim=2), left_pad(b, size, dim=2), rows)
    dst.valid = _put_rows(left_pad(dst.valid, m, dim=1), left_pad(src.valid, m, dim=1), rows)
    S = max(dst.text_mask.shape[1], src.text_mask.shape[1])
    pad_s = lambda t: torch.nn.functional.pad(t, (0, 0, 0, S - t.shape[2]))
    dst.text_kv = [(_put_rows(pad_s(dk), pad_s(sk), rows), _put_rows(pad_s(dv), pad_s(sv), rows))
                   for (dk, dv), (sk, sv) in zip(dst.text_kv, src.text_kv)]
    pad_m = lambda t: torch.nn.functional.pad(t, (0, S - t.shape[1]))
    dst.text_mask = _put_rows(pad_m(dst.text_mask), pad_m(src.text_mask), rows)
    if dst.sink_kv is not None:
        dst.sink_kv = [(_put_rows(dk, sk, rows), _put_rows(dv, sv, rows))
                       for (dk, dv), (sk, sv) in zip(dst.sink_kv, src.sink_kv)]
