"""Does the model fit the first frames it was trained on better than fresh ones?

    .venv/bin/python benchmarks/first_frame_loss.py --stores data/first data/first_fresh \
        --json outputs/first_frame_loss.json

Each ``--stores`` folder holds one episode store per scene (``worldsim collect --steps 1``). For each
store the flow-matching loss of frame 0 from its caption (no text dropout) is averaged over the same
noise levels and noise draws, so two folders collected with different ``--seed`` compare the loss on
first frames the model was fine-tuned on with the loss on first frames it never saw. Equal losses
mean the model is not memorising them, and more first frames of the same kind will not help it.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import torch

from worldsim.diffusion import FlowConfig, flow_loss
from worldsim.finetune import episode_sampler
from worldsim.report import write_json
from worldsim.worldmodel import WorldModel, default_checkpoint


def store_loss(model: WorldModel, store: Path, batches: int, batch: int, cache: Path) -> tuple[float, float]:
    """Mean first-frame flow loss over ``batches`` batches, and its standard error."""
    g = torch.Generator().manual_seed(0)
    sampler = episode_sampler((str(store),), 0.0, model.dit, model.autoencoder, cache, "first_", 1, 1.0, g,
                               torch.device("cpu"))
    cfg = dataclasses.replace(FlowConfig(), text_dropout=0.0)
    noise = torch.Generator().manual_seed(1)  # the same noise levels and draws for every store
    with torch.no_grad():
        losses = [flow_loss(model.dit, sampler.sample(batch, torch.device("cpu")), cfg, noise).flow.item()
                  for _ in range(batches)]
    return float(np.mean(losses)), float(np.std(losses) / np.sqrt(batches))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stores", nargs="+", required=True, help="folders of per-scene first-frame stores")
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--batches", type=int, default=25)
    p.add_argument("--batch", type=int, default=64)
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
                mean, err = store_loss(model, store, args.batches, args.batch, cache)
                results.setdefault(folder, {})[store.name] = {"loss": round(mean, 4), "stderr": round(err, 4)}
                print(f"{folder} {store.name}: {mean:.4f} +- {err:.4f}", flush=True)
    write_json(args.json, {"checkpoint": model.checkpoint_hash, "batches": args.batches, "batch": args.batch,
                           "loss": results})


if __name__ == "__main__":
    main()
