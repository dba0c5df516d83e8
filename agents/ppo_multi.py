"""Two agents trained together in the learned simulator, with one shared PPO policy, scored in MuJoCo.

    python -m worldsim.agents.ppo_multi --total-timesteps 20000 --out runs/ppo_multi
    python -m worldsim.agents.ppo_multi --help

The task is :class:`worldsim.envs.multiagent.TeamPushTask` on TwoAgents: both agents earn the box's progress
towards the right wall, measured from pixels. Training runs in ``copies`` PettingZoo envs of the
learned TwoAgents scene (:func:`worldsim.envs.multiagent.learned_parallel_env`); :class:`worldsim.envs.sb3.AgentsVecEnv`
makes each agent of each copy one SB3 env, so a single policy acts for both agents (parameter
sharing), told apart by an agent-indicator channel. The policy is then scored over seeded episodes of
the MuJoCo TwoAgents ``ParallelEnv``, beside a random policy on the same episodes.

Writes to ``out``: ``policy.safetensors`` (loads without unpickling: :mod:`worldsim.agents.policy_file`),
``policy.zip`` (SB3 format; loading it unpickles), ``summary.json`` and ``tb/``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tyro
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecMonitor, VecTransposeImage

from worldsim.agents.policy_file import save_policy_file
from worldsim.agents.ppo import check_sizes, progress_bar_available
from worldsim.checkpoint import atomic_write_json
from worldsim.diffusion import SamplerConfig
from worldsim.envs.multiagent import TeamPushTask, learned_parallel_env, parallel_env
from worldsim.envs.sb3 import AgentsVecEnv
from worldsim.simulator import SimulatorConfig
from worldsim.worldmodel import default_checkpoint


@dataclass
class Args:
    checkpoint: str | None = None
    """World-model checkpoint directory; None uses the shipped one or $WORLDSIM_CHECKPOINT."""
    copies: int = 4
    """Learned TwoAgents envs trained in parallel (each holds two SB3 envs, one per agent)."""
    total_timesteps: int = 20_000
    """Training steps, counted per agent, all envs together."""
    sampling_steps: int = 2
    """Denoising steps per simulated frame."""
    max_cycles: int = 50
    """Episode length in training and scoring (10 steps = 1 s)."""
    eval_episodes: int = 10
    """Seeded ground-truth episodes for the final score (episode i uses eval_seed + i)."""
    eval_seed: int = 0
    """Seed of the first scoring episode."""
    seed: int = 0
    """Seed of the policy and the training envs."""
    out: str = "runs/ppo_multi"
    """Output directory."""
    device: str = "auto"
    """Torch device for the policy and the simulator ("auto": CUDA when available)."""
    progress_bar: bool = True
    """Show SB3's progress bar (needs tqdm and rich)."""
    n_steps: int = 64
    """PPO steps per env per rollout."""
    batch_size: int = 128
    """PPO minibatch size."""
    n_epochs: int = 4
    """Passes over each rollout."""
    learning_rate: float = 2.5e-4
    """Adam step size."""
    ent_coef: float = 0.0
    """Entropy bonus weight."""


def check_args(args: Args) -> None:
    """Raise a ValueError that says how to fix ``args`` before anything heavy is built."""
    check_sizes(args, ("copies", "total_timesteps", "sampling_steps", "max_cycles", "eval_episodes", "n_steps"),
                2 * args.copies, "2 * copies")


def team_score(act: Callable[[np.ndarray], np.ndarray], episodes: int, seed: int, max_cycles: int) -> dict[str, Any]:
    """Team return of ``act`` (observations ``(2, C, H, W)`` -> actions ``(2, 2)``) in the MuJoCo scene.

    Episode i is reset with ``seed + i``; the return is the box's rightward progress in units of
    :class:`~envs.multiagent.TeamPushTask` (8 pixels each).
    """
    venv = VecTransposeImage(AgentsVecEnv([TeamPushTask(parallel_env(max_cycles=max_cycles))]))
    returns = []
    try:
        for i in range(episodes):
            venv.seed(seed + i)
            obs, total, done = venv.reset(), 0.0, False
            while not done:
                obs, rewards, dones, _ = venv.step(act(obs))
                total, done = total + float(rewards[0]), bool(dones[0])
            returns.append(total)
    finally:
        venv.close()
    return {"mean_return": float(np.mean(returns)), "std_return": float(np.std(returns)),
            "returns": [round(r, 4) for r in returns]}


def train(args: Args) -> dict[str, Any]:
    """Train the shared policy in the learned scene, save ``out/policy.safetensors`` and ``out/policy.zip``,
    return (and write) the summary."""
    check_args(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = args.checkpoint if args.checkpoint is not None else default_checkpoint()
    sim = SimulatorConfig(sampler=SamplerConfig(steps=args.sampling_steps))
    device = None if args.device == "auto" else args.device
    copies = [TeamPushTask(learned_parallel_env(checkpoint, max_cycles=args.max_cycles, sim=sim, device=device))
              for _ in range(args.copies)]
    train_env = VecTransposeImage(VecMonitor(AgentsVecEnv(copies, seed=args.seed)))
    model = PPO("CnnPolicy", train_env, n_steps=args.n_steps, batch_size=args.batch_size, n_epochs=args.n_epochs,
                learning_rate=args.learning_rate, ent_coef=args.ent_coef, tensorboard_log=str(out / "tb"),
                seed=args.seed, device=args.device, verbose=0)
    start = time.perf_counter()
    try:
        model.learn(args.total_timesteps, progress_bar=args.progress_bar and progress_bar_available(),
                    tb_log_name="ppo_multi")
    finally:
        train_env.close()
    train_s = time.perf_counter() - start
    model.save(out / "policy.zip")
    policy_file = save_policy_file(model, out / "policy.safetensors")

    trained = team_score(lambda obs: model.predict(obs, deterministic=True)[0], args.eval_episodes,
                         args.eval_seed, args.max_cycles)
    rng = np.random.default_rng(args.eval_seed)
    random = team_score(lambda obs: rng.uniform(-1, 1, (len(obs), 2)).astype(np.float32), args.eval_episodes,
                        args.eval_seed, args.max_cycles)
    summary = {
        "task": "TeamPushTask on WorldSim/TwoAgents: box progress to the right wall, 8 px per unit",
        "checkpoint": str(checkpoint),
        "num_timesteps": int(model.num_timesteps),
        "train_seconds": round(train_s, 2),
        "policy": str(policy_file),
        "mean_return": trained["mean_return"],
        "std_return": trained["std_return"],
        "random": random,
        "eval": trained,
        "args": asdict(args),
    }
    atomic_write_json(out / "summary.json", summary)
    return summary


def main() -> None:
    args = tyro.cli(Args)
    s = train(args)
    print(f"TwoAgents (MuJoCo) team return {s['mean_return']:.3f} ± {s['std_return']:.3f} "
          f"(random {s['random']['mean_return']:.3f} ± {s['random']['std_return']:.3f}) over "
          f"{args.eval_episodes} episodes; policy in {s['policy']}")


if __name__ == "__main__":
    main()
