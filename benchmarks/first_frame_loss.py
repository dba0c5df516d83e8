"""Does the model fit the first frames it was trained on better than fresh ones?

    .venv/bin/python benchmarks/first_frame_loss.py --stores data/first data/first_fresh \
        --json outputs/first_frame_loss.json

Each ``--stores`` folder holds one episode store per scene (``worldsim collect --steps 1``). For each
store the flow-matching loss of frame 0 from its caption (no text dropout) is averaged over the same
noise levels and noise draws, so two folders collected with different ``--seed`` compare the loss on
first frames the model was fine-tuned on with the loss on first frames it never saw. Equal losses
mean the model is not memorising them, and more first frames of the same kind will not help it.

With ``--mirrored``, each batch is scored a second time with the same noise against the scene turned half
a turn: every place word of its caption swapped (left and right, top and bottom, up and down) and, for a
model that reads layout tokens, each centre moved to the opposite side. The loss that rises
(``mirrored - loss``) is what the model draws from where the prompt puts things; a model that ignores
place words scores the same twice.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import tempfile
from pathlib import Path

import numpy as np
import torch

from worldsim.data import ClipSampler, encode_captions
from worldsim.diffusion import FlowConfig, flow_loss
from worldsim.envs.layout import mirror_layout
from worldsim.finetune import episode_sampler
from worldsim.model import TextCond
from worldsim.report import write_json
from worldsim.worldmodel import WorldModel, default_checkpoint

OPPOSITE = {"left": "right", "right": "left", "top": "bottom", "bottom": "top", "up": "down", "down": "up"}


def mirror_caption(caption: str) -> str:
    """``caption`` with every place and direction word swapped for its opposite."""
    return re.sub(r"\b(" + "|".join(OPPOSITE) + r")\b", lambda m: OPPOSITE[m.group(1)], caption)


def mirrored_text(sampler: ClipSampler, cache: Path) -> TextCond:
    """The text (and layout tokens) of every episode of ``sampler`` for its scene turned half a turn
    (:func:`mirror_caption`), encoded once; a batch takes its rows by episode."""
    text = encode_captions([mirror_caption(c) for c in sampler.data.captions], cache / "mirrored_text.safetensors")
    layout = sampler.text.get("layout")
    layout = None if layout is None else torch.from_numpy(mirror_layout(layout.numpy()))
    return TextCond(text["tokens"], text["mask"], text["pooled"], layout)


def store_loss(model: WorldModel, store: Path, batches: int, batch: int, cache: Path,
               mirror: bool = False) -> dict[str, float]:
    """Mean first-frame flow loss over ``batches`` batches and its standard error; with ``mirror``, also the
    loss of each batch against its mirrored scene (same noise) and the mean rise."""
    g = torch.Generator().manual_seed(0)
    sampler = episode_sampler((str(store),), 0.0, model.dit, model.autoencoder, cache, "first_", 1, 1.0, g,
                               torch.device("cpu"))
    cfg = dataclasses.replace(FlowConfig(), text_dropout=0.0)
    turned = mirrored_text(sampler, cache) if mirror else None
    own, other = [], []
    with torch.no_grad():
        for i in range(batches):  # the same noise levels and draws for every store, and for both scenes
            b = sampler.sample(batch, torch.device("cpu"))
            own.append(flow_loss(model.dit, b, cfg, torch.Generator().manual_seed(1 + i)).flow.item())
            if turned is not None:
                b = dataclasses.replace(b, text=turned.index(b.clips[:, 0]))
                other.append(flow_loss(model.dit, b, cfg, torch.Generator().manual_seed(1 + i)).flow.item())
    out = {"loss": float(np.mean(own)), "stderr": float(np.std(own) / np.sqrt(batches))}
    if mirror:
        rise = np.subtract(other, own)
        out.update(mirrored=float(np.mean(other)), rise=float(rise.mean()),
                   rise_stderr=float(rise.std() / np.sqrt(batches)))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stores", nargs="+", required=True, help="folders of per-scene first-frame stores")
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--batches", type=int, default=25)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--mirrored", action="store_true",
                   help="also score each batch against its scene turned half a turn (place words swapped)")
    p.add_argument("--json", default="outputs/first_frame_loss.json")
    args = p.parse_args()
    model = WorldModel.load(args.checkpoint or default_checkpoint())
    model.dit.eval()
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for folder in args.stores:
            for store in sorted(p for p in Path(folder).iterdir() if p.is_dir()):
                cache = Path(tmp) / Path(folder).name / store.name
                cache.mkdir(parents=True)
                row = store_loss(model, store, args.batches, args.batch, cache, args.mirrored)
                results.setdefault(folder, {})[store.name] = {k: round(v, 4) for k, v in row.items()}
                rise = f"; mirrored {row['mirrored']:.4f} (rise {row['rise']:+.4f} +- {row['rise_stderr']:.4f})" \
                    if args.mirrored else ""
                print(f"{folder} {store.name}: {row['loss']:.4f} +- {row['stderr']:.4f}{rise}", flush=True)
    write_json(args.json, {"checkpoint": model.checkpoint_hash, "batches": args.batches, "batch": args.batch,
                           "loss": results})


if __name__ == "__main__":
    main()
