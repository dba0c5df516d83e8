"""The one training loop every stage runs through.

A stage (the autoencoder, the DiT, a fine-tune, the decoder) builds its module, optimizer and data,
and gives :meth:`Trainer.fit` an *objective*: ``loss, logs = objective(step)``. The trainer does the
rest, once for all of them:

- the learning-rate schedule (linear warm-up, cosine decay to 10 %);
- a stop at the first non-finite loss, before it reaches the weights or a checkpoint;
- gradient averaging across ``torchrun`` ranks (DDP), and gradient clipping;
- an exponential moving average of the weights (EMA), the weights a diffusion model is sampled with;
- a progress bar, a log of scalars and TensorBoard;
- checkpoints every ``save_every`` steps, at the end and when the time budget runs out;
- ``--resume`` from the last checkpoint, refusing a run whose model and state disagree.

A run directory holds the stage's checkpoint (written by the stage's ``save`` callback, usually
``model/``) and ``state/``: the optimizer, step, RNG and log, and under EMA the raw weights the
average was taken from.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
import torch.distributed as dist
from torch import Tensor
from tqdm import tqdm

from .checkpoint import (
    atomic_write_json,
    flatten_optimizer_state,
    load_tensors,
    save_tensors,
    unflatten_optimizer_state,
)
from .simulator import resolve_device

Objective = Callable[[int], tuple[Tensor, dict[str, float | Tensor]]]
"""``loss, logs = objective(step)``: the loss to minimise at ``step`` and scalars to log beside it
(numbers or one-element tensors, read only on the steps that are logged, so a GPU is not made to
wait on the others)."""

Save = Callable[[int, torch.nn.Module], dict[str, float] | None]
"""``save(step, weights)`` writes the stage's checkpoint of ``weights`` (the average under EMA) at
``step``; it may return scalars measured on the way (a validation score) for the log."""

STATE = "state"
RAW_WEIGHTS = f"{STATE}/raw.safetensors"
"""Under EMA, the trained weights, kept apart from the averaged ones in the checkpoint."""


# --------------------------------------------------------------------------------------------
#                                      Building blocks
# --------------------------------------------------------------------------------------------


def default_device() -> torch.device:
    """CUDA when available, else the CPU. Under torchrun on the CPU each rank takes its share of the
    cores; otherwise the process's thread count is left alone."""
    device = resolve_device()
    world = int(os.environ.get("WORLD_SIZE", 1))
    if device.type == "cpu" and world > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    return device


@dataclass
class Dist:
    """This process's place in a torchrun group (rank 0 of 1 without one)."""

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device: torch.device) -> Dist:
    """Join a torchrun process group when launched by torchrun (gloo on CPU, nccl on CUDA)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size())


def average_gradients(model: torch.nn.Module, d: Dist) -> None:
    """All-reduce gradients across ranks (plain DDP without the wrapper's bucket machinery)."""
    if d.world == 1:
        return
    for p in model.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= d.world


def broadcast_parameters(model: torch.nn.Module, d: Dist) -> None:
    """Every rank starts from rank 0's weights."""
    if d.world == 1:
        return
    for t in list(model.parameters()) + list(model.buffers()):
        dist.broadcast(t.data, src=0)


def cosine_lr(step: int, total: int, peak: float, warmup: int) -> float:
    """Linear warm-up to ``peak`` over ``warmup`` steps, then cosine decay to 10 % of it at ``total``."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    """Every parameter group to ``lr``, times the group's own ``lr_scale`` where it has one."""
    for group in opt.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)


class EMA:
    """Exponential moving average of a module's weights, the weights a diffusion model is sampled with.

    ``update`` moves each floating-point tensor of ``average`` a fraction ``1 - decay`` towards the
    trained module's; integer buffers are copied. The average starts from the module's weights as
    they are, so on a fine-tune it starts from the checkpoint, not from zero.
    """

    def __init__(self, module: torch.nn.Module, decay: float):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must lie in [0, 1), got {decay}; 0 turns averaging off")
        self.decay = decay
        self.average = copy.deepcopy(module).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, module: torch.nn.Module) -> None:
        for mine, theirs in zip(self.average.state_dict().values(), module.state_dict().values(), strict=True):
            if mine.is_floating_point():
                mine.lerp_(theirs.detach(), 1.0 - self.decay)
            else:
                mine.copy_(theirs)


class DivergedError(RuntimeError):
    """A training loss went NaN or infinite; the last saved checkpoint is left as it was."""


def check_finite(loss: Tensor, step: int, out: Path) -> None:
    """Stop at the first non-finite loss, before it reaches the weights or a checkpoint."""
    if not torch.isfinite(loss):
        raise DivergedError(f"the loss is {loss.item()} at step {step}; nothing of this step was saved and "
                            f"{out} keeps its last checkpoint. Check the data for NaN or inf "
                            f"(`worldsim collect` refuses them; a store written otherwise may hold some), "
                            f"or lower the learning rate and resume")


def stage_generators(seed: int, device: torch.device) -> tuple[torch.Generator, torch.Generator]:
    """A stage's two random streams: the one that picks the data, on the host where the episodes are, and
    the one that draws the diffusion noise, on ``device`` (CUDA draws only from a CUDA generator).

    On the CPU the two are one and the same generator.
    """
    host = torch.Generator().manual_seed(seed)
    return host, (host if device.type == "cpu" else torch.Generator(device=device).manual_seed(seed))


def save_state(out: Path, opt: torch.optim.Optimizer, step: int, g: torch.Generator, log: list[dict],
               noise: torch.Generator | None = None) -> None:
    """Write the optimizer, RNG, step and log to ``out/state`` (atomically, file by file). ``noise`` is a
    second generator (the device's, see :func:`stage_generators`) saved beside ``g`` when it is another one."""
    tensors, scalars = flatten_optimizer_state(opt)
    tensors["rng"] = g.get_state()
    if noise is not None and noise is not g:
        tensors["noise_rng"] = noise.get_state()
    save_tensors(out / STATE / "optimizer.safetensors", tensors)
    atomic_write_json(out / STATE / "state.json", {"step": step, "optimizer": scalars, "log": log})


def load_state(out: Path, opt: torch.optim.Optimizer, g: torch.Generator,
               model_step: int | None = None, noise: torch.Generator | None = None) -> tuple[int, list[dict]]:
    """The optimizer, RNG, step and log saved in ``out/state``.

    ``model_step`` is the step recorded in the checkpoint: a run stopped between saving the model
    and saving the state has the two at different steps, and resuming would mix them, so it is refused.
    """
    state_json = out / STATE / "state.json"
    if not state_json.exists():
        raise FileNotFoundError(f"--resume: {state_json} not found; start without --resume")
    state = json.loads(state_json.read_text())
    step = int(state["step"])
    if model_step is not None and model_step != step:
        raise ValueError(f"--resume: {out}/model is at step {model_step} but {out}/state at step {step} (the run "
                         f"stopped while saving). {out}/model is a whole checkpoint and can be used as it is; to "
                         f"train on, start a new run from it or delete {out} and start again")
    tensors = load_tensors(out / STATE / "optimizer.safetensors")
    g.set_state(tensors.pop("rng"))
    saved_noise = tensors.pop("noise_rng", None)
    if noise is not None and noise is not g:
        _restore_noise(noise, saved_noise, out)
    opt.load_state_dict(unflatten_optimizer_state(tensors, state["optimizer"]))
    return step, list(state.get("log", []))


def _restore_noise(noise: torch.Generator, state: Tensor | None, out: Path) -> None:
    """Set the device's noise generator to its saved state; a run saved on another kind of device has none
    that fits, and its noise goes on from the generator's seed instead (the data stream is still exact)."""
    try:
        if state is None:
            raise RuntimeError("no saved state")
        noise.set_state(state)
    except RuntimeError:
        warnings.warn(f"--resume: {out}/state holds no noise stream for a {noise.device.type} device (the run was "
                      "saved on another kind of device); the noise is drawn afresh from the seed", stacklevel=3)


def resumable(out: Path, resume: bool, checkpoint: Path) -> bool:
    """Whether to go on from ``out``'s saved state: ``resume`` and a state to go on from.

    A ``checkpoint`` already in ``out`` without a state to resume it (a run that stopped after
    saving its model and before its state) is not silently trained over from scratch.
    """
    if not resume:
        return False
    if (out / STATE / "state.json").exists():
        return True
    if (checkpoint / "config.json").exists():
        raise FileNotFoundError(f"--resume: {checkpoint} exists but {out / STATE / 'state.json'} does not, so there "
                                f"is nothing to resume it from. {checkpoint} is a whole checkpoint: start a new run "
                                f"from it, or delete {out} to start again")
    return False


def _tensorboard(out: Path, d: Dist):
    if not d.main:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional at run time
        return None
    return SummaryWriter(str(out / "tb"))


# --------------------------------------------------------------------------------------------
#                                        The trainer
# --------------------------------------------------------------------------------------------


@dataclass
class FitConfig:
    """How long and how a stage trains; each stage fills it from its own settings."""

    steps: int
    """Optimizer steps in all (a resumed run goes on to the same total)."""
    lr: float
    """Peak learning rate."""
    warmup: int = 100
    """Linear warm-up steps."""
    save_every: int = 0
    """Checkpoint every N steps; 0: only at the end (and when the time budget runs out)."""
    time_budget_min: float = 0.0
    """Stop, saved, after this many minutes (0 = no limit)."""
    log_every: int = 1
    """Log scalars every N steps."""
    ema: float = 0.0
    """Decay of an exponential moving average of the weights; 0 saves the trained weights."""
    grad_clip: float = 0.0
    """Clip the gradient norm to this; 0 = no clipping."""
    precision: Literal["float32", "bfloat16"] = "float32"
    """Precision of the objective's forward pass: bfloat16 runs it under torch.autocast (matrix
    products in bfloat16, weights, optimizer and loss reductions in float32), faster on CPUs
    with bfloat16 instructions and on GPUs."""

    def __post_init__(self) -> None:
        if self.precision not in ("float32", "bfloat16"):
            raise ValueError(f"precision must be float32 or bfloat16, got {self.precision!r}")


def cpu_has_bfloat16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool | None:
    """Whether this CPU has bfloat16 matrix instructions (AVX512-BF16 or AMX-BF16); None where the
    system does not say (no ``/proc/cpuinfo``). Without them bfloat16 is emulated, slower than float32."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return None
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), None)
    return None if flags is None else bool({"avx512_bf16", "amx_bf16"} & set(flags))


class Trainer:
    """Runs an objective to ``cfg.steps`` optimizer steps of ``module`` (see the module docstring).

    Args:
        name: The stage's name, for the progress bar and TensorBoard (``name/loss``, ...).
        module: The module whose gradients are averaged, clipped and averaged over time (EMA).
        opt: Its optimizer.
        cfg: Steps, schedule and saving.
        out: Run directory; ``out/state`` holds what resuming needs, ``out/tb`` TensorBoard's scalars.
        generator: The stage's random generator; its state is saved and restored with the run.
        d: This process's place in a torchrun group; only rank 0 logs and saves.
        noise: The stage's noise generator on the device, where it is not ``generator`` (see
            :func:`stage_generators`); saved and restored beside it.
    """

    def __init__(self, name: str, module: torch.nn.Module, opt: torch.optim.Optimizer, cfg: FitConfig, out: Path,
                 generator: torch.Generator, d: Dist | None = None, noise: torch.Generator | None = None):
        self.name, self.module, self.opt, self.cfg, self.out, self.g = name, module, opt, cfg, out, generator
        self.noise = noise
        self.d = d or Dist()
        broadcast_parameters(module, self.d)
        self.ema = EMA(module, cfg.ema) if cfg.ema else None
        self.start, self.log = 0, []
        on_cpu = next(module.parameters()).device.type == "cpu"
        if cfg.precision == "bfloat16" and on_cpu and cpu_has_bfloat16() is False:
            warnings.warn("precision bfloat16 on a CPU without bfloat16 instructions (AVX512-BF16, AMX): it is "
                          "emulated and runs many times slower than float32; train with --precision float32",
                          stacklevel=2)

    @property
    def weights(self) -> torch.nn.Module:
        """The weights to save and sample with: the average under EMA, else the trained module."""
        return self.ema.average if self.ema else self.module

    def resume(self, saved: dict[str, Tensor], model_step: int) -> None:
        """Go on from ``out/state``: optimizer, RNG, step and log, with ``saved`` (the checkpoint's
        weights of ``module`` at ``model_step``) as the trained weights, or as the average under EMA."""
        self.start, self.log = load_state(self.out, self.opt, self.g, model_step=model_step, noise=self.noise)
        if self.d.rank:  # the state holds rank 0's streams: every other rank draws its own from here on
            for gen in {id(g): g for g in (self.g, self.noise) if g is not None}.values():
                gen.manual_seed(int(torch.randint(2**62, (), generator=gen)) + 1_000_003 * self.d.rank)
        raw = self.out / RAW_WEIGHTS
        if bool(self.ema) != raw.is_file():
            was = "with" if raw.is_file() else "without"
            raise ValueError(f"--resume: the run in {self.out} was started {was} an EMA of the weights; resume it "
                             f"the same way")
        self.module.load_state_dict(load_tensors(raw) if self.ema else saved)
        if self.ema:
            self.ema.average.load_state_dict(saved)
        broadcast_parameters(self.module, self.d)
        if self.d.main:
            print(f"{self.name}: resuming at step {self.start}")

    def fit(self, objective: Objective, save: Save | None = None) -> int:
        """Train from the resumed step to ``cfg.steps``; returns the step reached.

        ``save`` writes the checkpoint (rank 0 only); without it nothing is saved during the run.
        A run with nothing left to do still saves, so its checkpoint exists.
        """
        cfg, d, writer = self.cfg, self.d, _tensorboard(self.out, self.d)
        params = [p for p in self.module.parameters() if p.requires_grad]
        self.module.train()
        t0, reached = time.time(), self.start
        bar = tqdm(range(self.start, cfg.steps), desc=self.name, disable=not d.main, dynamic_ncols=True,
                   initial=self.start, total=cfg.steps)
        for step in bar:
            set_lr(self.opt, cosine_lr(step, cfg.steps, cfg.lr, cfg.warmup))
            with self._precision():
                loss, logs = objective(step)
            check_finite(loss, step, self.out)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            average_gradients(self.module, d)
            if cfg.grad_clip:
                torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            self.opt.step()
            if self.ema:
                self.ema.update(self.module)
            reached = step + 1
            if d.main and step % cfg.log_every == 0:
                read = {k: v.item() if isinstance(v, Tensor) else v for k, v in logs.items()}
                row = {"step": step, "loss": loss.item(), **read, "time_s": time.time() - t0}
                self.log.append(row)
                bar.set_postfix(loss=f"{row['loss']:.4f}")
                self._scalars(writer, row, step)
            over = self._agreed(bool(cfg.time_budget_min) and time.time() - t0 > 60 * cfg.time_budget_min)
            due = cfg.save_every and (step + 1) % cfg.save_every == 0
            if save and d.main and (due or reached == cfg.steps or over):
                self._save(save, reached, writer)
            if over:
                break
        if save and d.main and self.start >= cfg.steps:  # nothing left to train: the checkpoint still exists
            self._save(save, self.start, writer)
        if writer:
            writer.close()
        if d.world > 1:
            dist.barrier()
        return reached

    def _precision(self) -> contextlib.AbstractContextManager:
        if self.cfg.precision == "float32":
            return contextlib.nullcontext()
        device = next(self.module.parameters()).device
        return torch.autocast(device.type, dtype=torch.bfloat16)

    def _agreed(self, flag: bool) -> bool:
        """Rank 0's ``flag`` on every rank, so that all ranks stop at the same step (their clocks differ)."""
        if self.d.world == 1:
            return flag
        t = torch.tensor([float(flag)])
        dist.broadcast(t, src=0)
        return bool(t.item())

    def _save(self, save: Save, step: int, writer: Any) -> None:
        measured = save(step, self.weights.eval())
        self.module.train()
        if measured:
            if self.log:
                self.log[-1].update(measured)
            self._scalars(writer, measured, step)
        if self.ema:
            save_tensors(self.out / RAW_WEIGHTS, self.module.state_dict())
        save_state(self.out, self.opt, step, self.g, self.log, self.noise)

    def _scalars(self, writer: Any, row: dict[str, float], step: int) -> None:
        if writer:
            for key, value in row.items():
                if key not in ("step", "time_s"):
                    writer.add_scalar(f"{self.name}/{key}", value, step)
