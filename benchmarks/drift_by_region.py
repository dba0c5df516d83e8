"""Where open-loop rollouts drift: latent error in moving against static cells, open loop and teacher forced.

    .venv/bin/python benchmarks/drift_by_region.py --json outputs/drift_by_region.json

Held-out PushBox episodes from the training store are encoded; a latent cell counts as *moving*
when its value changes by more than ``--threshold`` at some step of the episode. Reported per
horizon, as mean squared latent error against the encoded ground truth:

* open loop: the simulator starts from the first true frame and is fed the recorded actions;
* teacher forced: the simulator starts from up to ``window`` true frames ending at step t and
  predicts step t + 1 only.

If the open-loop error grows much faster than the teacher-forced one, the drift is exposure bias
(the model meets its own imperfect frames), not a model that cannot predict one step.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from worldsim.data import pad_actions
from worldsim.report import write_json
from worldsim.simulator import Simulator
from worldsim.store import EpisodeStore, split_of
from worldsim.worldmodel import WorldModel, default_checkpoint


def region_errors(z: torch.Tensor, truth: torch.Tensor, moving: torch.Tensor) -> dict[str, float]:
    """Mean squared error of latents ``(B, C, h, w)`` over moving and static cells ``(B, h, w)``."""
    err = (z - truth).square().mean(1)  # (B, h, w)
    return {"moving": round(float(err[moving].mean()), 5), "static": round(float(err[~moving].mean()), 5)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--data", default="data/default/pushbox")
    p.add_argument("--episodes", type=int, default=8)
    p.add_argument("--horizon", type=int, default=16)
    p.add_argument("--threshold", type=float, default=0.3)
    p.add_argument("--json", default="outputs/drift_by_region.json")
    a = p.parse_args()
    model = WorldModel.load(a.checkpoint or default_checkpoint())
    store = EpisodeStore(a.data)
    val = [i for i in store.indices() if split_of(i, 0.1) == "val"][:a.episodes]
    eps = [store.read(i) for i in val]
    if len(eps) < a.episodes or any(len(e.actions) < a.horizon for e in eps):
        raise SystemExit(f"{a.data} needs {a.episodes} held-out episodes of >= {a.horizon} steps; collect more")
    frames = np.stack([e.frames[:a.horizon + 1] for e in eps])  # (B, H+1, 64, 64, 3)
    actions = np.stack([e.actions[:a.horizon] for e in eps]).astype(np.float32)
    actions = pad_actions(actions, model.dit.cfg.action_dim)
    with torch.no_grad():
        truth = model.autoencoder.encode(torch.from_numpy(frames))  # (B, H+1, C, h, w)
    moving = (truth[:, 1:] - truth[:, :-1]).abs().amax(dim=(1, 2)) > a.threshold  # (B, h, w)
    sim = Simulator(model, len(eps))
    sim.reset(context_frames=frames[:, :1], seed=0)
    open_loop = [region_errors(sim.step(actions[:, t]).latents, truth[:, t + 1], moving) for t in range(a.horizon)]
    teacher = []
    for t in range(a.horizon):
        k = min(t + 1, sim.window)
        sim.reset(context_frames=frames[:, t + 1 - k:t + 1], context_actions=actions[:, t + 1 - k:t], seed=0)
        teacher.append(region_errors(sim.step(actions[:, t]).latents, truth[:, t + 1], moving))
    rows = [{"horizon": t + 1, "open_loop": o, "teacher_forced": f} for t, (o, f) in enumerate(zip(open_loop, teacher))]
    write_json(a.json, {"checkpoint": model.checkpoint_hash, "episodes": len(eps), "threshold": a.threshold,
                        "moving_cell_share": round(float(moving.float().mean()), 4), "per_horizon": rows})
    print(f"{'h':>3} {'open loop moving':>17} {'static':>8} {'teacher forced moving':>22} {'static':>8}")
    for r in rows:
        o, f = r["open_loop"], r["teacher_forced"]
        print(f"{r['horizon']:>3} {o['moving']:>17.4f} {o['static']:>8.4f} {f['moving']:>22.4f} {f['static']:>8.4f}")


if __name__ == "__main__":
    main()
