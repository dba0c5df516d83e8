"""Train reward and termination heads that read decoded frames, and add them to a world model.

The world model stays frozen: only :class:`~worldsim.frame_heads.FrameHeads` learns, on recorded
episodes of a task. Half of each batch sees its frames through the checkpoint's autoencoder (encoded
and decoded again, as a rollout shows them), so the heads read the decoder's frames as well as the
camera's. The result is the same world model with the heads added, in one checkpoint, and a report of
the heads' reward error and termination precision and recall on held-out episodes:

    worldsim frame-heads --checkpoint runs/reach_wm/model --data data/reach/scripted data/reach/random \\
        --out runs/reach_frame_heads
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .autoencoder import Autoencoder
from .checkpoint import checkpoint_hash
from .data import load_episodes
from .frame_heads import FrameHeads, FrameHeadsConfig, Transitions, score_heads, transitions
from .report import write_json
from .trainer import FitConfig, Trainer, default_device, resumable
from .worldmodel import WorldModel, resolve_checkpoint


@dataclass
class FrameHeadsTrainConfig:
    """worldsim frame-heads: train reward and termination heads that read decoded frames."""

    checkpoint: str | None = None
    """World model to add the heads to (default: the shipped one); it is not changed."""
    data: tuple[str, ...] = ("data/reach/scripted", "data/reach/random")
    """Episode stores with the task's rewards and terminations."""
    out: str = "runs/frame_heads"
    """Run directory: the world model with its heads goes to out/model, the report to out/frame_heads_report.json."""
    steps: int = 3000
    """Optimizer steps."""
    batch_size: int = 128
    """Transitions per batch."""
    lr: float = 1e-3
    """AdamW peak learning rate (cosine decay to 10 %)."""
    read_action: bool = True
    """Let the heads read the action beside the frames (FrameHeadsConfig.read_action)."""
    potential: bool = False
    """Read the reward as a potential's change plus the step's own term (FrameHeadsConfig.potential)."""
    separable: bool = False
    """Read the step's own term from the frame after and the action apart (FrameHeadsConfig.separable)."""
    init_heads: str | None = None
    """A checkpoint whose frame heads (of the same kind: --potential, --separable, --read-action) to start
    from instead of fresh weights, as DIAMOND's loop carries its heads from one round to the next; None
    starts fresh."""
    round_trip_share: float = 0.5
    """Share of each batch that sees its frames through the autoencoder, as a rollout shows them."""
    max_pos_weight: float = 20.0
    """Terminations are rare: their loss is weighted by (other steps / terminations), at most this."""
    val_fraction: float = 0.1
    """Share of episodes held out for the scores the report gives."""
    save_every: int = 500
    """Save the heads and the optimizer state every this many steps."""
    resume: bool = False
    """Continue out's run from its last saved step."""
    time_budget_min: float = 0.0
    """Stop, saved, after this many minutes (0 = no limit); --resume goes on from there."""
    seed: int = 0
    """Seed of the batch draws and the initial weights."""
    json: str | None = None
    """Write the report here too (it always goes to out/frame_heads_report.json)."""


def _round_trip(ae: Autoencoder, frames: list[np.ndarray], batch: int = 256) -> list[np.ndarray]:
    """Each episode's frames encoded and decoded again."""
    return [np.concatenate([ae.round_trip(f[i:i + batch]) for i in range(0, len(f), batch)]) for f in frames]


def _reward_scale(data: Transitions) -> Tensor:
    """The mean square reward of the steps that go on and of the steps that end, ``(2,)``.

    Each step's squared reward error is divided by the one of its kind: a task's rare large rewards at
    the end would otherwise drown the small ones on the way, which are what a policy climbs.
    """
    ends = data.terminated
    return torch.stack([data.reward[~ends].pow(2).mean(), data.reward[ends].pow(2).mean()]).clamp(min=1e-4)


def _heads_from(checkpoint: str, wanted: FrameHeadsConfig, device: torch.device) -> FrameHeads:
    """The frame heads of ``checkpoint``, to train on from; refused unless they read what ``wanted`` reads."""
    source = WorldModel.load(resolve_checkpoint(checkpoint), device=device).frame_heads
    if source is None:
        raise ValueError(f"--init-heads {checkpoint} has no frame heads; give a checkpoint worldsim frame-heads wrote")
    keys = ("image_size", "action_dim", "read_action", "potential", "separable")
    have, want = ({k: getattr(c, k) for k in keys} for c in (source.cfg, wanted))
    if have != want:
        raise ValueError(f"--init-heads {checkpoint} holds heads of {have}, this run trains {want}: pass the same "
                         "--potential / --separable / --read-action, for a world model of the same frames and actions")
    return source


def train_frame_heads(cfg: FrameHeadsTrainConfig, checkpoint: Path) -> dict[str, Any]:
    """Train frame heads for ``checkpoint`` on ``cfg.data``; returns the report it writes."""
    if not 0.0 <= cfg.round_trip_share <= 1.0:
        raise ValueError(f"round_trip_share must lie in [0, 1], got {cfg.round_trip_share}")
    device = default_device()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    model = WorldModel.load(checkpoint, device=device)
    started_from = model.checkpoint_hash
    data = load_episodes(cfg.data, cfg.val_fraction)
    if not data.val.any() or data.val.all():
        raise ValueError(f"{cfg.data}: val_fraction {cfg.val_fraction} leaves no held-out or no training "
                         "episode; give more episodes or change it")
    A = model.dit.cfg.action_dim
    trip = _round_trip(model.autoencoder, data.frames)
    pick = lambda frames, val: [f for f, v in zip(frames, data.val, strict=True) if v == val]  # noqa: E731
    series = (data.actions, data.rewards, data.terminated)
    train = [transitions(pick(f, False), *(pick(s, False) for s in series), A) for f in (data.frames, trip)]
    val = transitions(pick(trip, True), *(pick(s, True) for s in series), A)
    if not train[0].terminated.any():
        raise ValueError(f"{cfg.data}: no training episode terminates, so there is nothing to learn "
                         "termination from; collect episodes that reach the task's end")

    torch.manual_seed(cfg.seed)
    wanted = FrameHeadsConfig(model.autoencoder.cfg.image_size, A, read_action=cfg.read_action,
                              potential=cfg.potential, separable=cfg.separable)
    heads = FrameHeads(wanted).to(device) if cfg.init_heads is None else _heads_from(cfg.init_heads, wanted, device)
    rate = float(train[0].terminated.float().mean())
    pos_weight = torch.tensor(min((1 - rate) / rate, cfg.max_pos_weight), device=device)
    scale = _reward_scale(train[0]).to(device)
    opt = torch.optim.AdamW(heads.parameters(), lr=cfg.lr)
    g = torch.Generator().manual_seed(cfg.seed)
    fit = FitConfig(steps=cfg.steps, lr=cfg.lr, save_every=cfg.save_every, time_budget_min=cfg.time_budget_min)
    trainer = Trainer("frame_heads", heads, opt, fit, out, g)
    if resumable(out, cfg.resume, out / "model"):
        saved = WorldModel.load(out / "model", device=device)
        if saved.meta.get("frame_heads_added_to") != started_from or saved.frame_heads is None:
            raise ValueError(f"--resume: the run in {out} added heads to another model than {checkpoint}; "
                             "resume with the same --checkpoint, or pick a new --out")
        trainer.resume(saved.frame_heads.state_dict(), model_step=int(saved.meta.get("frame_heads_step", -1)))
    model.frame_heads = heads
    at_start = score_heads(heads, val)  # untrained, or where a resumed run left off
    n_trip = round(cfg.batch_size * cfg.round_trip_share)

    def objective(step: int) -> tuple[Tensor, dict[str, float]]:
        parts = [(train[1], n_trip), (train[0], cfg.batch_size - n_trip)]
        idx = [(d, torch.randint(len(d), (n,), generator=g)) for d, n in parts if n]
        take = lambda name: torch.cat([getattr(d, name)[i] for d, i in idx]).to(device)  # noqa: E731
        reward, logit = heads(take("prev"), take("frame"), take("action"))
        ends = take("terminated")
        reward_loss = ((reward - take("reward")).pow(2) / scale[ends.long()]).mean()
        done_loss = nn.functional.binary_cross_entropy_with_logits(logit, ends.float(),
                                                                    pos_weight=pos_weight)
        return reward_loss + done_loss, {"reward": reward_loss, "done": done_loss}

    def save(step: int, weights: nn.Module) -> dict[str, float]:
        scores = score_heads(heads, val)
        meta = {**model.meta, "frame_heads_added_to": started_from, "frame_heads_step": step,
                "frame_heads_data": list(cfg.data), "frame_heads_val": scores}
        model.save(out / "model", meta=meta)
        return {"val_reward_mae": scores["reward_mae"]}

    trainer.fit(objective, save)
    heads.eval()
    report = {"checkpoint_before": started_from, "checkpoint_after": checkpoint_hash(out / "model"),
              "config": asdict(cfg), "val_frames": "through the autoencoder",
              "val_at_start": at_start, "val_after": score_heads(heads, val)}
    write_json(out / "frame_heads_report.json", report)
    if cfg.json:
        write_json(cfg.json, report)
    return report
