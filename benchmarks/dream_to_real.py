"""PPO trained in the learned simulator against PPO trained in MuJoCo, all scored in MuJoCo.

    .venv/bin/python benchmarks/dream_to_real.py --task reach --checkpoint runs/reach_wm/model \
        --dataset data/reach/scripted data/reach/random --horizon 16 --seeds 0 1 2

B is the number of real MuJoCo steps of the task in ``--dataset``, the episodes the world model was
fine-tuned on (and the dream starts from). Every row is scored in the ground-truth scene over the same
seeded episodes (``agents/evaluate.py``'s protocol, seeds the data never used), for each training seed:

* ``random``: the random policy;
* ``dream``: PPO trained only in ``WorldSim/<Task>-Learned-v0``, with imagined episodes of ``--horizon``
  steps that start at random recorded steps of ``--dataset`` after ``--burn-in`` true frames (the dream
  protocol of DIAMOND and IRIS), rewards and terminations from the model's heads (``--reward heads``)
  or from the task's rule applied to the imagined frames (``--reward frames``);
* ``mujoco_B``: PPO trained in ``WorldSim/<Task>-v0`` for B steps;
* ``mujoco_ref``: PPO trained in MuJoCo for ``--ref-steps``, scored every ``--eval-every`` steps on
  the way: the learning curve.

With the dream row, ``heads`` reports the model's reward and termination heads against MuJoCo on 32
fresh episodes (half scripted, half random), teacher forced (:func:`worldsim.evaluate.head_scores`).

dream-to-real = (R_dream - R_random) / (R_mujoco_B - R_random), from the returns averaged over seeds;
the same ratio against ``mujoco_ref`` is reported beside it.

Each finished row leaves ``out/<row>/summary.json``; a rerun with the same settings skips it, so an
interrupted comparison resumes row by row. The report goes to ``--json`` (default under ``--out``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from worldsim import envs  # noqa: F401  (registers WorldSim/*)
from worldsim.agents import ppo
from worldsim.agents.evaluate import evaluate
from worldsim.checkpoint import checkpoint_hash
from worldsim.fileio import atomic_write_json
from worldsim.report import write_json
from worldsim.store import EpisodeStore
from worldsim.worldmodel import default_checkpoint

TASKS = {"reach": "Reach", "pushbox": "PushBox"}
ROWS = ("random", "mujoco_B", "mujoco_ref", "dream")
EVAL_SEED = 10_000
HEADS_SEED = 20_000  # episodes no collection used (collection seeds start at 0 and 100,000)


def real_steps(stores: list[str]) -> int:
    """Real env steps recorded in the episode stores."""
    return sum(EpisodeStore(s).manifest["num_steps"] for s in stores)


def run_row(name: str, out: Path, settings: dict, run) -> dict:
    """Run one row unless ``out/name/summary.json`` already holds it with the same settings."""
    path = out / name / "summary.json"
    if path.is_file():
        done = json.loads(path.read_text())
        if done.get("settings") == settings:
            print(f"{name}: already done ({path})")
            return done
    start = time.perf_counter()
    result = run()
    row = {"settings": settings, "seconds": round(time.perf_counter() - start, 1),
           "mean_return": result["mean_return"], "std_return": result["std_return"],
           "success_rate": result["success_rate"], "curve": result.get("periodic_eval", [])}
    atomic_write_json(path, row)
    print(f"{name}: return {row['mean_return']:.3f} ± {row['std_return']:.3f}, "
          f"success {row['success_rate']}, {row['seconds']:.0f} s")
    return row


def heads_on_fresh_episodes(checkpoint: str, gt_id: str, episodes: int, steps: int) -> dict:
    """The reward and termination heads, teacher forced, on fresh episodes: half scripted, half random."""
    import gymnasium as gym

    from worldsim.collect import rollout
    from worldsim.evaluate import head_scores
    from worldsim.simulator import Simulator
    from worldsim.worldmodel import WorldModel

    env = gym.make(gt_id, max_episode_steps=steps)
    eps = [rollout(env, steps=steps, seed=HEADS_SEED + i, policy="scripted" if i % 2 else "random")
           for i in range(episodes)]
    env.close()
    return head_scores(Simulator(WorldModel.load(checkpoint), 1), eps)


def mean_of(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r[key] is not None]
    return float(np.mean(values)) if values else None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--task", choices=sorted(TASKS), default="reach")
    p.add_argument("--checkpoint", default=None, help="world model (default: the shipped checkpoint)")
    p.add_argument("--dataset", nargs="+", required=True,
                   help="episode stores of the task the world model was trained on; the dream starts from them")
    p.add_argument("--horizon", type=int, default=16, help="H: steps of an imagined episode")
    p.add_argument("--burn-in", type=int, default=4, help="true context frames of a dataset start")
    p.add_argument("--reward", choices=["heads", "frames"], default="heads",
                   help="the dream's reward: the model's heads, or the task's rule read off the imagined frames")
    p.add_argument("--dream-steps", type=int, default=150_000, help="PPO steps inside the learned simulator")
    p.add_argument("--ref-steps", type=int, default=300_000, help="PPO steps in MuJoCo for the reference curve")
    p.add_argument("--eval-every", type=int, default=25_000, help="steps between scores on the way (curves)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds")
    p.add_argument("--dream-seeds", type=int, nargs="+", default=None,
                   help="training seeds of the dream row, the slowest (default: --seeds)")
    p.add_argument("--rows", nargs="+", default=list(ROWS), choices=ROWS, help="rows to run (all by default)")
    p.add_argument("--eval-episodes", type=int, default=30)
    p.add_argument("--max-episode-steps", type=int, default=100)
    p.add_argument("--num-envs", type=int, default=16, help="learned rollouts batched in one simulator")
    p.add_argument("--dream-n-steps", type=int, default=128,
                   help="PPO steps per env per update in the dream (more envs want fewer, for as many updates)")
    p.add_argument("--mujoco-envs", type=int, default=8)
    p.add_argument("--sampling-steps", type=int, default=2)
    p.add_argument("--n-epochs", type=int, default=10)
    p.add_argument("--learning-rate", type=float, default=3e-4)
    p.add_argument("--extractor", choices=sorted(ppo.EXTRACTOR_KWARGS), default="nature",
                   help="every trained row's image encoder (worldsim.agents.ppo --extractor)")
    p.add_argument("--out", default="runs/dream_to_real")
    p.add_argument("--json", default=None, help="report file (default: OUT/report.json)")
    a = p.parse_args()

    name = TASKS[a.task]
    gt_id, learned_id = f"WorldSim/{name}-v0", f"WorldSim/{name}-Learned-v0"
    checkpoint = str(a.checkpoint or default_checkpoint())
    weights = checkpoint_hash(checkpoint) if "dream" in a.rows else None
    budget = real_steps(a.dataset)
    out = Path(a.out) / a.task
    score = dict(episodes=a.eval_episodes, seed=EVAL_SEED, max_episode_steps=a.max_episode_steps)

    def train(env_id: str, steps: int, seed: int, row: str, **extra):
        learned = env_id == learned_id
        args = ppo.Args(env_id=env_id, eval_env_id=gt_id, checkpoint=checkpoint,
                        num_envs=a.num_envs if learned else a.mujoco_envs, total_timesteps=steps,
                        sampling_steps=a.sampling_steps, max_episode_steps=a.max_episode_steps,
                        eval_every=a.eval_every if steps > a.eval_every else 0, eval_episodes=a.eval_episodes,
                        eval_seed=EVAL_SEED, seed=seed, out=str(out / row), device="cpu", progress_bar=False,
                        n_epochs=a.n_epochs, learning_rate=a.learning_rate, extractor=a.extractor, **extra)
        return lambda: ppo.train(args)

    # the default encoder is left out of the settings, so rows run before --extractor existed still match
    common = {"n_epochs": a.n_epochs, "learning_rate": a.learning_rate, **score,
              **({"extractor": a.extractor} if a.extractor != "nature" else {})}
    dream = {"dataset": tuple(a.dataset), "horizon": a.horizon, "burn_in": a.burn_in, "n_steps": a.dream_n_steps,
             "reward": a.reward}
    plans = {  # row -> (env, steps, extra PPO arguments, extra settings)
        "mujoco_B": (gt_id, budget, {}, {}),
        "mujoco_ref": (gt_id, a.ref_steps, {}, {}),
        "dream": (learned_id, a.dream_steps, dream, {"checkpoint_hash": weights, **dream, "dataset": a.dataset}),
    }
    rows: dict[str, list[dict]] = {}
    if "random" in a.rows:  # one row: the random policy is seeded by the episode seeds
        rows["random"] = [run_row("random", out, {"policy": "random", **score},
                                  lambda: evaluate("random", gt_id, **score))]
    for row in [r for r in a.rows if r != "random"]:
        env_id, steps, extra, settings = plans[row]
        seeds = a.dream_seeds if row == "dream" and a.dream_seeds else a.seeds
        rows[row] = [run_row(f"{row}/seed{seed}", out, {"env": env_id, "steps": steps, "seed": seed, **settings,
                                                        **common},
                             train(env_id, steps, seed, f"{row}/seed{seed}", **extra)) for seed in seeds]
    summary = {k: {"mean_return": mean_of(v, "mean_return"), "success_rate": mean_of(v, "success_rate"),
                   "per_seed": [{"mean_return": r["mean_return"], "success_rate": r["success_rate"]} for r in v]}
               for k, v in rows.items()}
    r = {k: summary[k]["mean_return"] for k in rows}

    def ratio(ref: str) -> float | None:
        if not {"dream", "random", ref} <= set(r):
            return None
        gap = r[ref] - r["random"]
        return (r["dream"] - r["random"]) / gap if abs(gap) > 1e-9 else None

    heads = heads_on_fresh_episodes(checkpoint, gt_id, 32, a.max_episode_steps) if "dream" in rows else None
    report = {
        "task": a.task,
        "reward": a.reward,
        "heads": heads,
        "budget_real_steps": budget,
        "checkpoint": checkpoint,
        "checkpoint_hash": weights,
        "summary": summary,
        "curves": {k: [r_["curve"] for r_ in rows[k]] for k in ("dream", "mujoco_ref") if k in rows},
        "dream_to_real": ratio("mujoco_B"),
        "dream_to_real_vs_ref": ratio("mujoco_ref"),
        "command": "benchmarks/dream_to_real.py " + " ".join(
            f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}"
            for k, v in vars(a).items() if v is not None),
    }
    write_json(a.json or out / "report.json", report)
    print(json.dumps({k: summary[k]["mean_return"] for k in summary}), f"dream-to-real = {report['dream_to_real']}")


if __name__ == "__main__":
    main()
