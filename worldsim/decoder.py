"""Sharpen a world model's decoder while its latent space stays as it is.

The autoencoder is trained first and briefly (``make checkpoint``: 1,000 steps, 3 minutes), and the
DiT is then trained on its latents, so retraining the autoencoder would mean retraining the DiT.
The decoder alone can go on learning: with the encoder and its latent normalisation frozen, every
latent the DiT samples means what it meant, and only how it is turned into pixels improves. That
raises the PSNR ceiling of every frame the simulator shows (``benchmarks/README.md``, "A sharper
decoder").

    worldsim finetune-decoder --checkpoint worldsim/checkpoints/default --out runs/decoder
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch

from .autoencoder import Autoencoder, foreground_weighted_loss
from .checkpoint import checkpoint_hash
from .data import load_episodes, split_frames
from .report import write_json
from .train import evaluate_autoencoder
from .trainer import FitConfig, Trainer, default_device, resumable
from .worldmodel import WorldModel

DEFAULT_STORES = tuple(f"data/default/{scene}" for scene in ("playground", "pushbox", "occlusion", "twoagents"))


@dataclass
class DecoderConfig:
    """worldsim finetune-decoder: train a world model's decoder further, encoder and DiT frozen."""

    checkpoint: str | None = None
    """World model to start from (default: the shipped one)."""
    data: tuple[str, ...] = DEFAULT_STORES
    """Episode stores whose frames the decoder learns to draw (make checkpoint collects these)."""
    out: str = "runs/decoder"
    """Run directory: the new world model goes to out/model, its report to out/decoder_report.json."""
    steps: int = 10_000
    """Optimizer steps."""
    batch_size: int = 32
    """Frames per batch."""
    lr: float = 5e-4
    """AdamW peak learning rate (cosine decay to 10 %)."""
    fg_weight: float = 20.0
    """Loss weight of pixels that differ from the background, as in the autoencoder's training."""
    val_fraction: float = 0.1
    """Share of episodes held out for the PSNR it reports."""
    save_every: int = 1000
    """Save the model and the optimizer state every this many steps."""
    resume: bool = False
    """Continue out's run from its last saved step."""
    time_budget_min: float = 0.0
    """Stop, saved, after this many minutes (0 = no limit); --resume goes on from there."""
    seed: int = 0
    """Seed of the batch draws."""
    json: str | None = None
    """Write the report here too (it always goes to out/decoder_report.json)."""
    latent_noise: float = 0.0
    """Train on latents noised by Gaussian noise of a standard deviation drawn per frame from [0,
    latent_noise] (in the normalised latent's units), so that latents a little off the encoder's, as
    the DiT's are, decode to clean frames too. 0: the encoder's latents as they are."""
    decoder_channels: tuple[int, ...] | None = None
    """Widths of a new decoder, from the latent up (as AutoencoderConfig.decoder_channels), trained from
    its initialisation instead of the checkpoint's decoder: a narrower one decodes each env step
    faster. Default: go on training the checkpoint's own."""


def _latent_space(ae: Autoencoder) -> dict[str, torch.Tensor]:
    """What fixes the meaning of ``ae``'s latents: every tensor but the decoder's."""
    return {k: v for k, v in ae.state_dict().items() if not k.startswith("decoder.")}


def same_latent_space(a: Autoencoder, b: Autoencoder) -> bool:
    """Same encoder weights and latent normalisation (everything but the decoder)."""
    sa, sb = _latent_space(a), _latent_space(b)
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def with_new_decoder(ae: Autoencoder, channels: tuple[int, ...]) -> Autoencoder:
    """A copy of ``ae`` with the same encoder and latent normalisation and a freshly initialised
    decoder of ``channels`` widths (so the DiT's latents keep their meaning), on ``ae``'s device."""
    new = Autoencoder(replace(ae.cfg, decoder_channels=channels)).to(ae.shift.device)
    missing, unexpected = new.load_state_dict(_latent_space(ae), strict=False)
    assert not unexpected and all(k.startswith("decoder.") for k in missing), (missing, unexpected)
    return new


def finetune_decoder(cfg: DecoderConfig, checkpoint: Path) -> dict[str, Any]:
    """Train ``checkpoint``'s decoder on the frames of ``cfg.data``; returns the report it writes."""
    if cfg.latent_noise < 0:
        raise ValueError(f"--latent-noise is a standard deviation, at least 0; got {cfg.latent_noise}")
    device = default_device()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_episodes(cfg.data, cfg.val_fraction)
    if not data.val.any():
        raise ValueError(f"no episode of {cfg.data} is held out at val_fraction {cfg.val_fraction}; raise it")
    train_frames, val_frames = split_frames(data, val=False), split_frames(data, val=True)[:512].to(device)
    model = WorldModel.load(checkpoint, device=device)
    started_from = model.checkpoint_hash
    before = evaluate_autoencoder(model.autoencoder.eval(), val_frames)
    if cfg.decoder_channels is not None:
        model.autoencoder = with_new_decoder(model.autoencoder, tuple(cfg.decoder_channels))
    ae = model.autoencoder.eval()
    ae.encoder.requires_grad_(False)
    opt = torch.optim.AdamW(ae.decoder.parameters(), lr=cfg.lr, weight_decay=0.0)
    g = torch.Generator().manual_seed(cfg.seed)
    fit = FitConfig(steps=cfg.steps, lr=cfg.lr, save_every=cfg.save_every, time_budget_min=cfg.time_budget_min)
    trainer = Trainer("decoder", ae.decoder, opt, fit, out, g)
    if resumable(out, cfg.resume, out / "model"):
        saved = WorldModel.load(out / "model", device=device)
        if saved.autoencoder.cfg.decoder_channels != ae.cfg.decoder_channels:
            raise ValueError(f"--resume: the run in {out} trains a decoder of widths "
                             f"{saved.autoencoder.cfg.decoder_channels}, not {ae.cfg.decoder_channels}; resume with "
                             "the same --decoder-channels, or pick a new --out")
        if not same_latent_space(saved.autoencoder, ae):
            raise ValueError(f"--resume: the run in {out} started from another model than {checkpoint}; "
                             "resume with the same --checkpoint, or pick a new --out")
        trainer.resume(saved.autoencoder.decoder.state_dict(), model_step=int(saved.meta.get("decoder_step", -1)))
    meta = {**model.meta, "decoder_finetuned_from": started_from,
            "decoder_finetune": {"data": list(cfg.data), "steps": cfg.steps, "lr": cfg.lr,
                                 "latent_noise": cfg.latent_noise, "decoder_channels": list(ae.cfg.decoder_channels)}}

    def objective(step: int) -> tuple[torch.Tensor, dict[str, float]]:
        idx = torch.randint(len(train_frames), (cfg.batch_size,), generator=g)
        x = Autoencoder.to_float(train_frames[idx].to(device))  # (N, 3, H, W)
        with torch.no_grad():
            z = ae.encoder(x)  # (N, C, h, w) raw latents: the encoder is frozen
            if cfg.latent_noise > 0:  # noise in the normalised units, carried to the raw ones
                sd = cfg.latent_noise * torch.rand(len(z), 1, 1, 1, generator=g).to(device)
                z = z + sd * torch.randn(z.shape, generator=g).to(device) * ae.scale[:, None, None]
        return foreground_weighted_loss(ae.decoder(z), x, cfg.fg_weight), {}

    def save(step: int, decoder: torch.nn.Module) -> dict[str, float]:
        score = evaluate_autoencoder(ae, val_frames)  # ``decoder`` is ``ae``'s own, in eval mode
        model.save(out / "model", meta={**meta, "decoder_step": step})
        return {"val_psnr": score}

    trainer.fit(objective, save)
    ae.eval()
    log = trainer.log
    report = {"checkpoint_before": started_from, "checkpoint_after": checkpoint_hash(out / "model"),
              "val_psnr_before": round(before, 3), "val_psnr_after": round(evaluate_autoencoder(ae, val_frames), 3),
              "val_frames": len(val_frames), "config": asdict(cfg),
              "val_psnr_by_step": {e["step"] + 1: round(e["val_psnr"], 3) for e in log if "val_psnr" in e}}
    write_json(out / "decoder_report.json", report)
    if cfg.json:
        write_json(cfg.json, report)
    return report
