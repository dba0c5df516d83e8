"""PPO trained only in the learned simulator, scored in the real MuJoCo scene.

    python -m worldsim.agents.ppo --checkpoint runs/main/model --total-timesteps 100000 --out runs/ppo
    tensorboard --logdir runs/ppo/tb
    python -m worldsim.agents.evaluate --policy runs/ppo/policy.safetensors --episodes 50 --video runs/ppo/video
    python -m worldsim.agents.ppo --help

Each training step is one step of the world model: ``WorldSim/PushBox-Learned-v0`` runs ``num_envs``
rollouts in one batched Simulator behind SB3's ``VecEnv`` (:class:`worldsim.envs.sb3.SB3VecEnv`). With
``--dataset DIR --horizon H`` the imagined episodes start at random steps of recorded episodes, with
the true frames before them as context, and last H steps (the dream protocol of DIAMOND and IRIS):

    python -m worldsim.agents.ppo --env-id WorldSim/Reach-Learned-v0 --eval-env-id WorldSim/Reach-v0 \
        --checkpoint runs/reach_fh/model --dataset data/reach/scripted --horizon 16 --out runs/dream

Every ``eval_every`` steps the policy is scored in ``eval_env_id`` (``WorldSim/PushBox-v0``), the MuJoCo
scene the model imitates; those episodes are only scored, never trained on. A ground-truth ``env_id`` (one without a
batched entry point) trains directly in MuJoCo instead, for the real-steps baselines.

Writes to ``out``: ``policy.safetensors`` (the policy alone, in a file that loads without unpickling:
:mod:`worldsim.agents.policy_file`; share this one), ``policy.zip`` (SB3 format, which can resume
training; loading it unpickles, so open only your own), ``summary.json`` (final score over
``eval_episodes`` seeded ground-truth episodes, the same protocol as ``agents/evaluate.py``),
``eval/evaluations.npz`` (periodic scores) and ``tb/`` (TensorBoard).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import tyro
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import EvalCallback
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecMonitor, VecTransposeImage

from worldsim import envs  # noqa: F401  (registers WorldSim/*)
from worldsim.agents.evaluate import evaluate
from worldsim.agents.extractors import KeypointCNN
from worldsim.agents.policy_file import load_policy_file, save_policy_file
from worldsim.checkpoint import atomic_write_json, checkpoint_hash
from worldsim.diffusion import SamplerConfig
from worldsim.envs.sb3 import SB3VecEnv
from worldsim.simulator import SimulatorConfig
from worldsim.worldmodel import default_checkpoint

#: ``--extractor`` choices: the policy_kwargs each gives SB3's CnnPolicy.
EXTRACTOR_KWARGS: dict[str, dict[str, Any]] = {"nature": {}, "keypoints": {"features_extractor_class": KeypointCNN}}


@dataclass
class Args:
    env_id: str = "WorldSim/PushBox-Learned-v0"
    """Env the agent trains in: a learned-simulator id (or a ground-truth id, for the real-steps baselines)."""
    eval_env_id: str = "WorldSim/PushBox-v0"
    """Ground-truth MuJoCo env the agent is scored in."""
    checkpoint: str | None = None
    """World-model checkpoint directory (e.g. runs/main/model); None uses the shipped one or $WORLDSIM_CHECKPOINT."""
    num_envs: int = 16
    """Parallel rollouts; a learned env batches them all in one simulator."""
    total_timesteps: int = 100_000
    """Training env steps, all envs together."""
    sampling_steps: int = 2
    """Denoising steps per simulated frame (fewer is faster and blurrier)."""
    latent_hold: float | None = None
    """Learned envs only: the dream's latent hold (SimulatorConfig.latent_hold); None keeps the checkpoint's."""
    max_episode_steps: int = 100
    """Episode cap in evaluation, and in training unless horizon is set (10 steps = 1 s)."""
    dataset: tuple[str, ...] = ()
    """Learned envs only: episode stores to start imagined episodes from, at random recorded steps with
    burn_in true frames as context (the dream protocol of world-model RL). None starts each from the
    MuJoCo scene's first frame (empty, the default)."""
    burn_in: int = 4
    """True context frames of a dataset start."""
    first_frames: float = 0.0
    """Chance that a dataset start is a recorded episode's first frame, at rest, as the MuJoCo scene's
    resets are (held still for the burn-in); 0 starts every imagined episode at a random recorded step."""
    horizon: int | None = None
    """Training episode length in the learned env (H of the dream protocol); None uses max_episode_steps."""
    reward: str = "heads"
    """Learned envs only: "heads" pays what the model's reward and termination heads predict; "frames"
    applies the task's own rule to the imagined frames (worldsim.envs.frame_rewards: Reach and PushBox)."""
    extractor: str = "nature"
    """The policy's image encoder: "nature" (SB3's NatureCNN) or "keypoints" (convolutions ending in a
    spatial softmax, worldsim.agents.extractors.KeypointCNN: the policy reads positions on screen)."""
    init_policy: str | None = None
    """A policy file (``policy.safetensors`` of an earlier run, same spaces and network) to start from
    instead of a fresh network: training continues from it, as DIAMOND's loop continues its policy."""
    eval_every: int = 10_000
    """Score in the ground-truth env every this many training steps; 0 turns periodic scoring off."""
    eval_episodes: int = 10
    """Ground-truth episodes per periodic evaluation and for the final score."""
    eval_seed: int = 0
    """Final score: episode i is reset with eval_seed + i (as `worldsim.agents.evaluate` does by default)."""
    seed: int = 0
    """Seed of the policy, the training envs and the periodic-evaluation env."""
    out: str = "runs/ppo"
    """Output directory."""
    device: str = "auto"
    """Torch device for the policy and the simulator ("auto": CUDA when available)."""
    progress_bar: bool = True
    """Show SB3's progress bar (needs tqdm and rich; skipped with a note when either is missing)."""

    # PPO (Schulman et al. 2017, "Proximal Policy Optimization Algorithms")
    n_steps: int = 128
    """Steps per env per rollout; one update sees n_steps * num_envs transitions."""
    batch_size: int = 256
    """Minibatch size."""
    n_epochs: int = 4
    """Passes over each rollout."""
    learning_rate: float = 2.5e-4
    """Adam step size."""
    gamma: float = 0.99
    """Discount factor."""
    gae_lambda: float = 0.95
    """GAE lambda."""
    clip_range: float = 0.2
    """Policy-ratio clip epsilon."""
    ent_coef: float = 0.0
    """Entropy bonus weight."""
    vf_coef: float = 0.5
    """Value-loss weight."""
    max_grad_norm: float = 0.5
    """Gradient-norm clip."""


def check_args(args: Args) -> None:
    """Raise a ValueError that says how to fix ``args`` before anything heavy is built."""
    for name in ("env_id", "eval_env_id"):
        env_id = getattr(args, name)
        if env_id not in gym.registry:
            known = sorted(k for k in gym.registry if k.startswith("WorldSim/"))
            raise ValueError(f"unknown {name} {env_id!r}; registered WorldSim ids: {known}")
    check_sizes(args, ("num_envs", "total_timesteps", "eval_episodes", "max_episode_steps", "sampling_steps",
                       "n_steps"), args.num_envs, "num_envs")
    if args.eval_every < 0:
        raise ValueError(f"eval_every must be >= 0 (0 = no periodic evaluation), got {args.eval_every}")
    if args.horizon is not None and args.horizon < 1:
        raise ValueError(f"horizon must be >= 1 or None, got {args.horizon}")
    if args.init_policy is not None and not Path(args.init_policy).is_file():
        raise ValueError(f"init_policy {args.init_policy} does not exist; give a policy.safetensors of an earlier run")
    if (args.dataset or args.horizon is not None or args.reward != "heads" or args.latent_hold is not None) \
            and not is_learned(args.env_id):
        raise ValueError(f"--dataset, --horizon, --reward and --latent-hold are for learned envs; {args.env_id} is a "
                         "MuJoCo scene")
    if args.extractor not in EXTRACTOR_KWARGS:
        raise ValueError(f"extractor must be one of {sorted(EXTRACTOR_KWARGS)}, got {args.extractor!r}")
    if args.reward not in ("heads", "frames"):
        raise ValueError(f"reward must be 'heads' or 'frames', got {args.reward!r}")
    if args.first_frames and not args.dataset:
        raise ValueError("--first-frames chooses among dataset starts; give --dataset (without it every "
                         "imagined episode starts from the MuJoCo scene's first frame already)")


def check_sizes(args: Any, counts: tuple[str, ...], num_envs: int, envs_text: str) -> None:
    """Raise a ValueError when one of ``counts`` is below 1, or PPO's minibatch does not fit one rollout.

    ``num_envs`` is the number of SB3 envs, ``envs_text`` how the arguments make it (for the message).
    """
    for name in counts:
        if getattr(args, name) < 1:
            raise ValueError(f"{name} must be >= 1, got {getattr(args, name)}")
    if not 1 < args.batch_size <= args.n_steps * num_envs:
        raise ValueError(f"batch_size must be in (1, n_steps * {envs_text} = {args.n_steps * num_envs}], "
                         f"got {args.batch_size}; lower it or raise n_steps")


def is_learned(env_id: str) -> bool:
    """Whether ``env_id`` has a batched entry point (the learned simulator)."""
    return gym.spec(env_id).vector_entry_point is not None


def make_train_env(args: Args) -> VecEnv:
    """The training envs: ``num_envs`` learned rollouts in one simulator, channels first for CnnPolicy."""
    if is_learned(args.env_id):
        sim = SimulatorConfig(sampler=SamplerConfig(steps=args.sampling_steps), latent_hold=args.latent_hold)
        checkpoint = args.checkpoint if args.checkpoint is not None else default_checkpoint()
        start = ({"dataset": list(args.dataset), "burn_in": args.burn_in, "first_frames": args.first_frames}
                 if args.dataset else {})
        venv = gym.make_vec(args.env_id, num_envs=args.num_envs, vectorization_mode="vector_entry_point",
                            checkpoint=checkpoint, sim=sim, max_episode_steps=args.horizon or args.max_episode_steps,
                            device=None if args.device == "auto" else args.device, reward=args.reward, **start)
        env: VecEnv = SB3VecEnv(venv)
    else:  # ground truth: one MuJoCo env per slot
        env = DummyVecEnv([lambda: gym.make(args.env_id, max_episode_steps=args.max_episode_steps)] * args.num_envs)
    # VecMonitor logs episode returns to TensorBoard; the explicit transpose matches make_eval_env's type.
    return VecTransposeImage(VecMonitor(env))


def make_eval_env(args: Args) -> VecEnv:
    """One ground-truth env, Monitor-wrapped, with the same channels-first transpose as training."""
    env = DummyVecEnv([lambda: Monitor(gym.make(args.eval_env_id, max_episode_steps=args.max_episode_steps))])
    env.seed(args.seed)
    return VecTransposeImage(env)


def start_from(model: PPO, path: str) -> None:
    """Put the policy file's weights into ``model``'s policy; a clear error when they do not fit it."""
    start = load_policy_file(path, device="cpu")
    have, want = start.observation_space.shape, model.policy.observation_space.shape
    if have != want or start.action_space.shape != model.policy.action_space.shape:
        raise ValueError(f"{path} observes {have} and acts in {start.action_space.shape}; this run observes {want} "
                         f"and acts in {model.policy.action_space.shape}: start from a policy of the same task")
    try:
        model.policy.load_state_dict(start.state_dict())
    except RuntimeError as e:
        raise ValueError(f"{path} holds another network than this run builds ({e}); start from a policy "
                         "trained with the same architecture (and the same --extractor)") from e


def progress_bar_available() -> bool:
    """SB3's progress bar needs both ``tqdm`` and ``rich``."""
    try:
        import rich  # noqa: F401
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


def train(args: Args) -> dict[str, Any]:
    """Train PPO in ``args.env_id``, save ``out/policy.safetensors`` and ``out/policy.zip``, and return (and
    write) the summary."""
    check_args(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    progress_bar = args.progress_bar and progress_bar_available()
    if args.progress_bar and not progress_bar:
        print("note: no progress bar (install tqdm and rich for one)")
    warnings.filterwarnings("ignore", message="rich is experimental")  # tqdm.rich, behind SB3's progress bar

    train_env = make_train_env(args)
    model = PPO("CnnPolicy", train_env, policy_kwargs=EXTRACTOR_KWARGS[args.extractor], n_steps=args.n_steps,
                batch_size=args.batch_size, n_epochs=args.n_epochs,
                learning_rate=args.learning_rate, gamma=args.gamma, gae_lambda=args.gae_lambda,
                clip_range=args.clip_range, ent_coef=args.ent_coef, vf_coef=args.vf_coef,
                max_grad_norm=args.max_grad_norm, tensorboard_log=str(out / "tb"), seed=args.seed,
                device=args.device, verbose=0)
    if args.init_policy is not None:
        start_from(model, args.init_policy)
    callbacks = []
    if args.eval_every > 0:
        # EvalCallback counts calls, one per vector step of num_envs env steps.
        callbacks.append(EvalCallback(make_eval_env(args), n_eval_episodes=args.eval_episodes,
                                      eval_freq=max(args.eval_every // args.num_envs, 1),
                                      log_path=str(out / "eval"), deterministic=True, verbose=0))
    start = time.perf_counter()
    try:
        model.learn(args.total_timesteps, callback=callbacks, progress_bar=progress_bar, tb_log_name="ppo")
    finally:
        train_env.close()
        for cb in callbacks:
            cb.eval_env.close()
    train_s = time.perf_counter() - start
    model.save(out / "policy.zip")
    learned_from = str(args.checkpoint or default_checkpoint()) if is_learned(args.env_id) else None
    made = {"trainer": "worldsim.agents.ppo", "args": asdict(args), "num_timesteps": int(model.num_timesteps),
            "checkpoint_hash": checkpoint_hash(learned_from) if learned_from else None}
    policy_file = save_policy_file(model, out / "policy.safetensors", provenance=made)

    score = evaluate(model, args.eval_env_id, episodes=args.eval_episodes, seed=args.eval_seed,
                     max_episode_steps=args.max_episode_steps)
    summary = {
        "env_id": args.env_id,
        "eval_env_id": args.eval_env_id,
        "checkpoint": learned_from,
        "num_timesteps": int(model.num_timesteps),
        "train_seconds": round(train_s, 2),
        "policy": str(policy_file),
        "mean_return": score["mean_return"],
        "std_return": score["std_return"],
        "success_rate": score["success_rate"],
        "eval": score,
        "periodic_eval": _periodic_scores(out / "eval" / "evaluations.npz"),
        "args": asdict(args),
    }
    atomic_write_json(out / "summary.json", summary)
    return summary


def _periodic_scores(path: Path) -> list[dict[str, float]]:
    """EvalCallback's log as ``[{timesteps, mean_return, std_return, success_rate}]`` (empty without
    periodic evaluation; ``success_rate`` only for envs that report ``is_success``)."""
    if not path.is_file():
        return []
    with np.load(path) as log:
        successes = log["successes"] if "successes" in log and log["successes"].size else None
        return [{"timesteps": int(t), "mean_return": float(np.mean(r)), "std_return": float(np.std(r)),
                 **({"success_rate": float(np.mean(successes[i]))} if successes is not None else {})}
                for i, (t, r) in enumerate(zip(log["timesteps"], log["results"]))]


def main() -> None:
    args = tyro.cli(Args)
    summary = train(args)
    success = "n/a" if summary["success_rate"] is None else f"{summary['success_rate']:.2f}"
    print(f"{args.eval_env_id}: return {summary['mean_return']:.3f} ± {summary['std_return']:.3f}, "
          f"success {success} over {args.eval_episodes} episodes; policy in {summary['policy']}")


if __name__ == "__main__":
    main()
