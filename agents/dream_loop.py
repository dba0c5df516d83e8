"""DIAMOND's loop: train the policy in the dream, collect real episodes with it, fine-tune the world model
and its heads on everything collected, and dream again; the policy is scored in MuJoCo after each round.

    python -m worldsim.agents.dream_loop --checkpoint runs/reach_fh/model \
        --dataset data/reach/scripted data/reach/random --rounds 3 --out runs/dream_loop
    tensorboard --logdir runs/dream_loop/tb
    python -m worldsim.agents.dream_loop --help

Round r (0, 1, ...) in ``out/round<r>/``:

1. ``ppo/``: PPO in ``<task>-Learned-v0`` for ``dream_steps``, imagined episodes of ``horizon`` steps
   started from recorded steps of every store so far (:mod:`worldsim.agents.ppo`), continuing the policy
   of the round before; scored in the MuJoCo scene on ``eval_episodes`` seeded episodes.
2. ``data/``: ``collect_episodes`` MuJoCo episodes with that policy, actions drawn from its own
   distribution (``worldsim collect --policy policy.safetensors``). These are the round's real steps.
3. ``wm/``: the world model fine-tuned on every store so far (``worldsim finetune``).
4. ``heads/``: its reward and termination heads trained on them, starting from the heads of the round
   before (``worldsim frame-heads --init-heads``): the model of the next round. With ``--reward frames``
   the dream reads the task's rule off the imagined frames and uses no heads, so this stage is skipped
   and the fine-tuned model of step 3 goes on to the next round.

The last round stops after its policy. ``summary.json`` lists each round's real steps (``dataset`` plus
what the rounds collected) beside the policy's MuJoCo return and success. Every stage leaves a
``done.json`` and is skipped on a rerun with the same settings, and each resumes inside itself, so an
interrupted loop goes on where it stopped. With the default ``--reward heads`` the checkpoint needs frame
heads (``worldsim frame-heads``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import tyro

from worldsim.agents import ppo
from worldsim.checkpoint import atomic_write_json, checkpoint_hash
from worldsim.collect import CollectConfig, collect
from worldsim.finetune import FinetuneConfig, finetune
from worldsim.store import EpisodeStore
from worldsim.train_heads import FrameHeadsTrainConfig, train_frame_heads
from worldsim.worldmodel import WorldModel, resolve_checkpoint

TASKS = {"reach": "Reach", "pushbox": "PushBox"}


@dataclass
class Args:
    checkpoint: str
    """World model with frame heads to start from (``worldsim frame-heads`` writes one)."""
    dataset: tuple[str, ...]
    """Episode stores of the task the model was fine-tuned on: the real steps before the loop."""
    task: str = "reach"
    """Task: reach or pushbox (WorldSim/<Task>-v0 and its learned twin)."""
    rounds: int = 3
    """Rounds; each trains the policy in the dream, and all but the last collect and fine-tune."""
    out: str = "runs/dream_loop"
    """Output directory."""
    init_policy: str | None = None
    """Policy file to start round 0 from; None starts from a fresh network."""
    extractor: str = "nature"
    """The policy's image encoder (worldsim.agents.ppo --extractor); an init_policy must have the same."""
    seed: int = 0
    """Seed of the policy, the fine-tunes and the training envs."""
    json: str | None = None
    """Write the summary here too (it always goes to out/summary.json)."""

    # the dream
    dream_steps: int = 50_000
    """PPO steps in the learned simulator per round."""
    horizon: int = 16
    """Steps of an imagined episode."""
    burn_in: int = 4
    """True context frames of an imagined episode's start."""
    reward: str = "heads"
    """The dream's reward: "heads" (the model's, retrained each round) or "frames" (the task's rule read
    off the imagined frames, worldsim.envs.frame_rewards)."""
    num_envs: int = 32
    """Imagined episodes batched in one simulator."""
    n_steps: int = 64
    """PPO steps per env per update."""
    batch_size: int = 256
    """PPO's minibatch size."""
    n_epochs: int = 10
    """Passes over each PPO rollout."""
    learning_rate: float = 3e-4
    """PPO's Adam step size."""
    sampling_steps: int = 2
    """Denoising steps per dreamed frame."""

    # the real steps
    collect_episodes: int = 100
    """MuJoCo episodes collected with the policy per round."""
    collect_steps: int = 30
    """Step limit of a collected episode (it also ends when the task does)."""
    collect_seed: int = 300_000
    """Round r's episode i is reset with collect_seed + r * collect_episodes + i (no other data uses these)."""

    # the model
    wm_steps: int = 300
    """World-model fine-tuning steps per round."""
    wm_lr: float = 1e-4
    """Its peak learning rate."""
    wm_ema: float = 0.99
    """Its weight average's decay (0: the trained weights)."""
    heads_steps: int = 1000
    """Frame-heads training steps per round."""
    heads_lr: float = 5e-4
    """Their peak learning rate."""

    # the score
    eval_episodes: int = 30
    """MuJoCo episodes a policy is scored on."""
    eval_seed: int = 10_000
    """Scoring episode i is reset with eval_seed + i."""
    max_episode_steps: int = 100
    """Step limit of a scoring episode."""

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}; choose one of {sorted(TASKS)}")
        for name in ("rounds", "dream_steps", "horizon", "collect_episodes", "collect_steps", "wm_steps",
                     "heads_steps", "eval_episodes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.dataset:
            raise ValueError("--dataset: give the episode stores the world model was fine-tuned on")
        for store in self.dataset:
            if not (Path(store) / "manifest.json").is_file():
                raise ValueError(f"--dataset {store} is not an episode store (no manifest.json); "
                                 "collect it with worldsim collect")


def stage(path: Path, settings: dict[str, Any], run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a stage unless ``path/done.json`` holds its result for the same settings; returns the result."""
    done, settings = path / "done.json", _plain(settings)
    if done.is_file():
        saved = json.loads(done.read_text())
        if saved.get("settings") == settings:
            return saved["result"]
    result = run()
    atomic_write_json(done, {"settings": settings, "result": result})
    return result


def real_steps(stores: list[str]) -> int:
    """Env steps recorded in the stores."""
    return sum(EpisodeStore(s).manifest["num_steps"] for s in stores)


def run_loop(args: Args) -> dict[str, Any]:
    """Run the rounds (see the module docstring); returns and writes ``out/summary.json``."""
    name = TASKS[args.task]
    gt_id, learned_id = f"WorldSim/{name}-v0", f"WorldSim/{name}-Learned-v0"
    out = Path(args.out)
    model = str(resolve_checkpoint(args.checkpoint))
    if args.reward == "heads" and WorldModel.load(model).frame_heads is None:
        raise ValueError(f"{model} has no frame heads; train them first (worldsim frame-heads --checkpoint {model}), "
                         "or pay the dream by the task's rule on the frames (--reward frames)")
    start = {"checkpoint": model, "checkpoint_hash": checkpoint_hash(model)}
    stores, policy = list(args.dataset), args.init_policy
    writer = _tensorboard(out / "tb")
    rounds = []
    for r in range(args.rounds):
        here = out / f"round{r}"
        real = real_steps(stores)
        dream = ppo.Args(env_id=learned_id, eval_env_id=gt_id, checkpoint=model, num_envs=args.num_envs,
                         total_timesteps=args.dream_steps, sampling_steps=args.sampling_steps,
                         max_episode_steps=args.max_episode_steps, dataset=tuple(stores), burn_in=args.burn_in,
                         horizon=args.horizon, init_policy=policy, eval_every=0, eval_episodes=args.eval_episodes,
                         eval_seed=args.eval_seed, seed=args.seed + r, out=str(here / "ppo"), device="cpu",
                         progress_bar=True, n_steps=args.n_steps, batch_size=args.batch_size, n_epochs=args.n_epochs,
                         learning_rate=args.learning_rate, reward=args.reward, extractor=args.extractor)
        print(f"round {r}: PPO in the dream, {args.dream_steps} steps, on {real} real steps")
        score = stage(here / "ppo", asdict(dream), lambda d=dream: _scores(ppo.train(d)))
        policy = str(here / "ppo" / "policy.safetensors")
        rounds.append({"round": r, "real_steps": real, "checkpoint": model, "policy": policy, **score})
        print(f"round {r}: MuJoCo return {score['mean_return']:.3f}, success {score['success_rate']}")
        if writer is not None:
            for key in ("mean_return", "success_rate"):
                if score[key] is not None:
                    writer.add_scalar(f"mujoco/{key}", score[key], real)
            writer.flush()
        if r == args.rounds - 1:
            break

        data = CollectConfig(env_id=gt_id, episodes=args.collect_episodes, steps=args.collect_steps, policy=policy,
                             out=str(here / "data"), seed=args.collect_seed + r * args.collect_episodes)
        print(f"round {r}: collecting {args.collect_episodes} MuJoCo episodes with the policy")
        stage(here / "data", {**asdict(data), "policy_sha256": _sha(policy)}, lambda c=data: _collected(collect(c)))
        stores.append(data.out)

        wm = FinetuneConfig(checkpoint=model, data=tuple(stores), out=str(here / "wm"), steps=args.wm_steps,
                            lr=args.wm_lr, ema=args.wm_ema, resume=True, seed=args.seed + r, save_every=100)
        wm = replace(wm, flow=replace(wm.flow, done_weight=1.0))
        print(f"round {r}: fine-tuning the world model on {len(stores)} stores")
        stage(here / "wm", asdict(wm), lambda c=wm, m=model: {"model": str(finetune(c, Path(m)))})
        if args.reward == "frames":  # the dream reads the task's rule off the frames: no heads to train
            model = str(here / "wm" / "model")
            continue

        heads_cfg = _heads_config(model)
        heads = FrameHeadsTrainConfig(checkpoint=str(here / "wm" / "model"), data=tuple(stores),
                                      out=str(here / "heads"), steps=args.heads_steps, lr=args.heads_lr,
                                      init_heads=model, resume=True, seed=args.seed + r, **heads_cfg)
        print(f"round {r}: training the reward and termination heads")
        stage(here / "heads", asdict(heads),
              lambda c=heads: {"val_after": train_frame_heads(c, Path(c.checkpoint))["val_after"]})
        model = str(here / "heads" / "model")

    summary = {"task": args.task, **start, "rounds": rounds, "args": _plain(asdict(args))}
    atomic_write_json(out / "summary.json", summary)
    if args.json:
        atomic_write_json(args.json, summary)
    if writer is not None:
        writer.close()
    return summary


def _scores(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: summary[k] for k in ("mean_return", "std_return", "success_rate", "num_timesteps")}


def _collected(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: summary[k] for k in ("collected", "steps_collected", "store_episodes")}


def _heads_config(checkpoint: str) -> dict[str, bool]:
    """The frame-heads options of ``checkpoint``'s heads, so the next round trains the same kind."""
    cfg = WorldModel.load(checkpoint).frame_heads.cfg
    return {"read_action": cfg.read_action, "potential": cfg.potential, "separable": cfg.separable}


def _sha(path: str) -> str:
    from worldsim.fileio import file_sha256

    return file_sha256(path)


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    """``d`` as JSON gives it back (tuples as lists), so saved settings compare equal to fresh ones."""
    return json.loads(json.dumps(d))


def _tensorboard(path: Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        print("note: no TensorBoard log (install tensorboard for one)")
        return None
    return SummaryWriter(str(path))


def main() -> None:
    summary = run_loop(tyro.cli(Args))
    for row in summary["rounds"]:
        print(f"round {row['round']}: {row['real_steps']} real steps, MuJoCo return {row['mean_return']:.3f}, "
              f"success {row['success_rate']}")


if __name__ == "__main__":
    main()
