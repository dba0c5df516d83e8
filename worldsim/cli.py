"""The ``worldsim`` command line: thin verbs that parse a dataclass and call library code.

    worldsim collect --env WorldSim/PushBox-v0 --episodes 200 --steps 30 --policy scripted --out data/pushbox
    worldsim train --data data/pushbox --out runs/main
    worldsim finetune --env WorldSim/PushBox-v0 --data data/pushbox_ft --out runs/ft
    worldsim check --env WorldSim/PushBox-v0 --episodes 8 --horizon 16 --json report.json
    worldsim rollout --prompt "a red box at the top left and a blue ball in the centre"
    worldsim parse --prompt "in the top left corner there is a red ball"
    worldsim demo
    worldsim play --env WorldSim/PushBox-v0
    worldsim convert --checkpoint runs/ft/model --out my_model
    worldsim export --data data/pushbox --dataset-id worldsim/pushbox/scripted-v0

Each verb's work lives in the library (``worldsim.check``, ``worldsim.scenario``, ``worldsim.bench``,
``worldsim.train``, ...); here it is parsed, run and printed. With ``worldsim.check`` and
``worldsim.scenario``, this is the application layer: the modules of ``worldsim`` that import
``worldsim.envs`` (the MuJoCo ground truth), and only inside the functions that need it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import tyro

from .bench import BenchConfig, bench
from .check import CheckConfig, check
from .collect import CollectConfig, collect
from .decoder import DecoderConfig
from .export import ExportConfig
from .finetune import FinetuneConfig
from .report import write_json
from .scenario import DemoConfig, RolloutConfig, demo, scenario_rollout
from .simulator import SimulatorConfig
from .train import TrainConfig, train
from .train_heads import FrameHeadsTrainConfig
from .worldmodel import KIND, WorldModel, resolve_checkpoint


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))


# --------------------------------------------------------------------------------------------
#                                      collect / train
# --------------------------------------------------------------------------------------------


@dataclass
class CollectCommand:
    """worldsim collect: ground-truth episodes from a Gymnasium env into an episode store."""

    collect: Annotated[CollectConfig, tyro.conf.arg(name="")]
    json: str | None = None
    """Also write the summary printed at the end here."""


def run_collect(cmd: CollectCommand) -> None:
    if cmd.collect.env_id.startswith("WorldSim/"):
        from worldsim import envs  # noqa: F401  (registers the WorldSim scenes)
    _report(collect(cmd.collect), cmd.json)


@dataclass
class TrainCommand:
    """worldsim train: the autoencoder, then the DiT, on episodes from worldsim collect."""

    train: Annotated[TrainConfig, tyro.conf.arg(name="")] = field(default_factory=TrainConfig)
    json: str | None = None
    """Also write the summary printed at the end (the checkpoint, its hash and meta) here."""


def run_train(cmd: TrainCommand) -> None:
    from .checkpoint import checkpoint_hash, read_header

    path = train(cmd.train)
    meta = read_header(path, kind=KIND).meta  # the weights were checked when they were saved
    _report({"checkpoint": str(path), "checkpoint_hash": checkpoint_hash(path)[:16], "meta": meta}, cmd.json)


def _report(summary: dict[str, Any], path: str | None) -> None:
    """Print a verb's summary as JSON, and write it to ``path`` when one is given."""
    if path:
        write_json(path, summary)
    _print_json(summary)


# --------------------------------------------------------------------------------------------
#                                          check
# --------------------------------------------------------------------------------------------


def run_check(cfg: CheckConfig) -> None:
    report = check(cfg)
    _print_json(report["summary"])
    print(f"report: {cfg.json or Path(cfg.out) / 'report.json'}; plots and video in {cfg.out}/")


# --------------------------------------------------------------------------------------------
#                                         finetune
# --------------------------------------------------------------------------------------------


@dataclass
class FinetuneCommand:
    """worldsim finetune: adapt a checkpoint to a scene's ground truth, checked before and after."""

    finetune: Annotated[FinetuneConfig, tyro.conf.arg(name="")] = field(default_factory=FinetuneConfig)
    """What to fine-tune on, and how (its flags are at the top level: --env, --data, --out, ...)."""
    check_episodes: int = 32
    """Held-out episodes of the before/after check of --env; 0 skips the check."""
    check_horizon: int = 16
    """Horizon of the before/after check."""
    check_samples: int = 3
    """Rollouts of each held-out episode in that check, each with its own sampling seed; the scores
    pool them."""
    json: str | None = None
    """Write the before/after report here (default: <out>/finetune_report.json)."""


def run_finetune(cmd: FinetuneCommand) -> None:
    from .finetune import finetune

    cfg = cmd.finetune
    if cfg.env.startswith("WorldSim/"):
        from worldsim import envs  # noqa: F401
    from .store import EpisodeStore

    empty = [d for d in cfg.data if len(EpisodeStore(d)) == 0]
    if empty and len(cfg.data) > 1:
        raise FileNotFoundError(f"{empty} hold no episodes; collect them with `worldsim collect --out DIR` first")
    if empty:
        collect(CollectConfig(env_id=cfg.env, episodes=cfg.episodes, steps=cfg.episode_steps, policy=cfg.policy,
                              out=cfg.data[0]))
    before = resolve_checkpoint(cfg.checkpoint)
    after = finetune(cfg, before)
    if int(os.environ.get("RANK", "0")):  # under torchrun, rank 0 checks the result alone
        return
    if cmd.check_episodes < 1:
        print(f"fine-tuned checkpoint: {after}")
        return
    report = check(CheckConfig(checkpoint=str(after), compare=str(before), env=cfg.env, episodes=cmd.check_episodes,
                               horizon=cmd.check_horizon, samples=cmd.check_samples, out=str(Path(cfg.out) / "check")))
    summary = {"after": report["summary"]["model"], "before": report["summary"]["compare"],
               "repeat_last_frame": report["summary"]["baseline"]}
    write_json(cmd.json or Path(cfg.out) / "finetune_report.json", {"summary": summary, "config": asdict(cmd)})
    _print_json(summary)


def run_finetune_decoder(cfg: DecoderConfig) -> None:
    from .decoder import finetune_decoder

    report = finetune_decoder(cfg, resolve_checkpoint(cfg.checkpoint))
    print(f"decoder: held-out PSNR {report['val_psnr_before']} -> {report['val_psnr_after']} dB; "
          f"model in {Path(cfg.out) / 'model'}")


def run_frame_heads(cfg: FrameHeadsTrainConfig) -> None:
    from .train_heads import train_frame_heads

    report = train_frame_heads(cfg, resolve_checkpoint(cfg.checkpoint))
    after = report["val_after"]
    share = lambda x: "n/a" if x is None else f"{x:.2f}"  # noqa: E731
    print(f"frame heads, held-out frames through the autoencoder: reward MAE {after['reward_mae']:.3f} "
          f"(mean baseline {after['reward_mae_mean_baseline']:.3f}), termination precision "
          f"{share(after['termination_precision'])} recall {share(after['termination_recall'])}; "
          f"model in {Path(cfg.out) / 'model'}")


# --------------------------------------------------------------------------------------------
#                                         rollout
# --------------------------------------------------------------------------------------------


def run_rollout(cfg: RolloutConfig) -> None:
    report = scenario_rollout(cfg)
    _print_json({k: report[k] for k in ("prompt", "scene", "frame0", "frame0_over_seeds") if k in report})
    print(f"video and report in {cfg.out}/")


# --------------------------------------------------------------------------------------------
#                                           demo
# --------------------------------------------------------------------------------------------


@dataclass
class ParseConfig:
    """worldsim parse: how a prompt is read, without a model: the scene it describes and the caption the
    model is given, or why it is refused. With --file, every line of a text file (blank lines and lines
    starting with '#' are skipped) and how many of them parse."""

    prompt: str | None = None
    """One prompt."""
    file: str | None = None
    """A text file of prompts, one a line."""
    seed: int = 0
    """Seed for what a prompt leaves out (places inside regions, sizes, unnamed colours and shapes)."""
    json: str | None = None
    """Also write the result here."""


def parse_prompts(cfg: ParseConfig) -> dict[str, Any]:
    """Each prompt's caption and scene, or its refusal; with the counts of both."""
    from worldsim.envs.caption import caption
    from worldsim.envs.prompt import PromptError, parse_prompt

    if (cfg.prompt is None) == (cfg.file is None):
        raise ValueError("give one of --prompt or --file")
    lines = [cfg.prompt] if cfg.prompt is not None else Path(cfg.file).read_text().splitlines()
    prompts = [p.strip() for p in lines if p.strip() and not p.strip().startswith("#")]
    rows = []
    for prompt in prompts:
        try:
            spec = parse_prompt(prompt, seed=cfg.seed)
            rows.append({"prompt": prompt, "caption": caption(spec), "scene": asdict(spec)})
        except PromptError as e:
            rows.append({"prompt": prompt, "refused": str(e)})
    return {"parsed": sum("caption" in r for r in rows), "refused": sum("refused" in r for r in rows),
            "seed": cfg.seed, "prompts": rows}


def run_parse(cfg: ParseConfig) -> None:
    result = parse_prompts(cfg)
    if cfg.json:
        write_json(cfg.json, result)
    if cfg.prompt is not None:
        row = result["prompts"][0]
        if "refused" in row:
            print(f"worldsim parse: refused: {row['refused']}", file=sys.stderr)
            raise SystemExit(2)
        _print_json({k: row[k] for k in ("caption", "scene")})
        return
    for row in result["prompts"]:
        print(f"ok       {row['prompt']}\n         -> {row['caption']}" if "caption" in row else
              f"refused  {row['prompt']}\n         -> {row['refused'].splitlines()[0]}")
    print(f"{result['parsed']} of {len(result['prompts'])} prompts parse ({result['refused']} refused)")


def run_demo(cfg: DemoConfig) -> None:
    summary = demo(cfg)
    if cfg.json:
        write_json(cfg.json, summary)


# --------------------------------------------------------------------------------------------
#                                           bench
# --------------------------------------------------------------------------------------------


def run_bench(cfg: BenchConfig) -> None:
    r = bench(cfg)
    print(f"{'variant':>17}{'batch':>6}{'steps':>7}{'env steps/s':>14}{'ms/step':>10}{'KV bytes/env':>14}")
    for row in r["learned_sim"]:
        print(f"{row['variant']:>17}{row['batch']:>6}{row['sampling_steps']:>7}{row['env_steps_per_s']:>14}{row['step_ms']:>10}"
              f"{row['kv_cache_bytes_per_env']:>14}")
    print(f"MuJoCo {cfg.gt_env} step+render: {r['gt_env']['steps_per_s']:.0f} steps/s")
    cost = r["cost_per_simulated_minute"]
    where = lambda c: f" (batch {c['batch']}, {c['variant']})" if "batch" in c else ""
    print("one simulated minute (600 steps), wall / CPU seconds: "
          + ", ".join(f"{name} {c['wall_s']} / {c['cpu_s']}{where(c)}"
                      for name, c in cost.items() if isinstance(c, dict)))
    print(f"KV cache vs recompute: {json.dumps(r['cache_vs_recompute'])}")
    bf16 = f", bfloat16 {r['training_bfloat16']['frames_per_s']}" if "training_bfloat16" in r else ""
    print(f"training: {r['training']['frames_per_s']} frames/s{bf16}; memory flat after window: "
          f"{r['memory']['flat_after_window']}")
    if cfg.json:
        print(f"recorded in {cfg.json}")


# --------------------------------------------------------------------------------------------
#                                           play
# --------------------------------------------------------------------------------------------


@dataclass
class PlayConfig:
    """worldsim play: drive the learned simulator and MuJoCo side by side from a browser."""

    env: str = "WorldSim/PushBox-v0"
    """Scene to start in (the page can switch; a prompt picks its own)."""
    prompt: str | None = None
    """Scenario to start from, in words the prompt parser reads."""
    checkpoint: str | None = None
    """World-model checkpoint directory (default: the shipped one)."""
    host: str = "127.0.0.1"
    """Address to listen on; only this machine can reach the default."""
    port: int = 8000
    """Port to listen on (0: any free one)."""
    max_sessions: int = 4
    """Browser tabs that may play at once."""
    sampling_steps: Literal[1, 2, 4] = 2
    """Denoising steps per frame at the start (the page switches between 1, 2 and 4)."""
    seed: int = 0
    """Seed of the first episode."""
    out: str = "outputs/play"
    """Where recordings (mp4 plus provenance sidecar) go."""
    threads: int | None = 1
    """Torch CPU threads of the server process (None: PyTorch's default, one per core)."""


def run_play(cfg: PlayConfig) -> None:
    try:
        from .play.server import serve
    except ImportError as e:
        raise SystemExit(f"worldsim play needs Starlette and uvicorn ({e}): pip install -e '.[play]'") from e
    from .play.session import PlaySettings

    settings = PlaySettings(env=cfg.env, prompt=cfg.prompt, seed=cfg.seed, checkpoint=cfg.checkpoint,
                            sampling_steps=cfg.sampling_steps, out=cfg.out)
    serve(settings, host=cfg.host, port=cfg.port, max_sessions=cfg.max_sessions, threads=cfg.threads)


# --------------------------------------------------------------------------------------------
#                                          convert
# --------------------------------------------------------------------------------------------


@dataclass
class ConvertConfig:
    """worldsim convert: write a checkpoint again for shipping, its weights in a smaller precision."""

    checkpoint: str
    """The checkpoint to convert (e.g. a run's model/)."""
    out: str
    """Directory of the converted checkpoint (replaced as a whole if it holds one)."""
    storage: Literal["float16", "bfloat16", "float32"] = "float16"
    """Precision of the stored weights; loading turns them back into float32."""
    latent_hold: float | None = None
    """Record this as the checkpoint's rollout default SimulatorConfig.latent_hold; None keeps its own."""
    latent_hold_moving: float | None = None
    """Record this as the checkpoint's rollout default SimulatorConfig.latent_hold_moving (the narrower
    hold for what moves lately); None keeps its own."""
    latent_hold_memory: int | None = None
    """Record this as the checkpoint's rollout default SimulatorConfig.latent_hold_memory; None keeps its own."""
    latent_grid: float | None = None
    """Record this as the checkpoint's rollout default SimulatorConfig.latent_grid; None keeps its own."""
    sampling_steps: int | None = None
    """Record this as the checkpoint's denoising moves per frame at rollout (as a distilling fine-tune
    does); None keeps its own. A light fine-tune of a distilled model can keep its moves this way."""
    raw_weights: str | None = None
    """Put these DiT weights in place of the checkpoint's: a run's state/raw.safetensors, the trained
    weights behind a checkpoint that holds their average (--dit.ema, --ema); the run's state must be at
    the checkpoint's step."""
    decoder_from: str | None = None
    """Put this checkpoint's decoder, at its own widths, in place of the checkpoint's: one trained by
    worldsim finetune-decoder on a model with the same encoder and latent normalisation (refused
    otherwise), such as a narrower, faster one."""


def convert(cfg: ConvertConfig) -> dict[str, Any]:
    """Save ``cfg.checkpoint`` again in ``cfg.storage``; returns sizes and hashes."""
    from .checkpoint import checkpoint_hash

    SimulatorConfig(latent_hold=cfg.latent_hold, latent_grid=cfg.latent_grid, latent_hold_moving=cfg.latent_hold_moving,
                    latent_hold_memory=cfg.latent_hold_memory)  # refuses values out of range
    if cfg.sampling_steps is not None and cfg.sampling_steps < 1:
        raise ValueError(f"--sampling-steps must be at least 1, got {cfg.sampling_steps}")
    source = Path(cfg.checkpoint)
    model = WorldModel.load(source)
    if cfg.raw_weights:
        _put_raw_weights(model, Path(cfg.raw_weights))
    decoder = {}
    if cfg.decoder_from:
        decoder = {"decoder_from": _put_decoder(model, Path(cfg.decoder_from))}
    given = {"latent_hold": cfg.latent_hold, "latent_grid": cfg.latent_grid, "sampling_steps": cfg.sampling_steps,
             "latent_hold_moving": cfg.latent_hold_moving, "latent_hold_memory": cfg.latent_hold_memory}
    rollout = {**model.meta.get("rollout", {}), **{k: v for k, v in given.items() if v is not None}}
    if rollout.get("latent_hold_moving", 0.0) > rollout.get("latent_hold", 0.0):
        raise ValueError(f"--latent-hold-moving {rollout['latent_hold_moving']} must be at most the latent hold "
                         f"{rollout.get('latent_hold', 0.0)}: give --latent-hold as well")
    meta = {**model.meta, "converted_from": model.checkpoint_hash, "storage": cfg.storage,
            **({"rollout": rollout} if rollout else {}), **({"weights": "raw"} if cfg.raw_weights else {}), **decoder}
    out = model.save(cfg.out, meta=meta, storage=cfg.storage)
    size = lambda d: (Path(d) / "weights.safetensors").stat().st_size
    return {"checkpoint": str(source), "out": str(out), "storage": cfg.storage, "bytes_before": size(source),
            "bytes_after": size(out), "hash_after": checkpoint_hash(out)[:16]}


def _put_raw_weights(model: WorldModel, path: Path) -> None:
    """Load a run's raw DiT weights ``path`` into ``model``, refusing a file from another step or model."""
    from .checkpoint import CheckpointError, load_tensors

    state = path.parent / "state.json"
    if state.is_file():
        meta = model.meta  # a fine-tune records its own step beside its source's
        step, at = json.loads(state.read_text()).get("step"), meta.get("finetune_step", meta.get("step"))
        if at is not None and step != at:
            raise ValueError(f"{path} is the run's state at step {step}, the checkpoint is at step {at}: convert "
                             "the checkpoint saved with that state (the run's model/ beside it)")
    try:
        model.dit.load_state_dict(load_tensors(path))
    except RuntimeError as e:
        raise CheckpointError(f"{path} does not hold this checkpoint's DiT weights ({e}); give the "
                              "state/raw.safetensors of the run that wrote the checkpoint") from e


def _put_decoder(model: WorldModel, path: Path) -> str:
    """Put the decoder of the checkpoint at ``path`` into ``model``; returns that checkpoint's hash."""
    from .decoder import same_latent_space

    donor = WorldModel.load(path)
    if not same_latent_space(donor.autoencoder, model.autoencoder):
        raise ValueError(f"--decoder-from {path}: its encoder or latent normalisation is not this checkpoint's, so "
                         "its decoder would misread the DiT's latents; train one on this model with "
                         "worldsim finetune-decoder")
    model.autoencoder = donor.autoencoder
    return donor.checkpoint_hash


def run_convert(cfg: ConvertConfig) -> None:
    _print_json(convert(cfg))


def run_export(cfg: ExportConfig) -> None:
    from .export import to_minari

    _print_json(to_minari(cfg))


# --------------------------------------------------------------------------------------------
#                                           main
# --------------------------------------------------------------------------------------------

VERBS: dict[str, tuple[type, Callable[[Any], None]]] = {
    "collect": (CollectCommand, run_collect),
    "train": (TrainCommand, run_train),
    "finetune": (FinetuneCommand, run_finetune),
    "finetune-decoder": (DecoderConfig, run_finetune_decoder),
    "frame-heads": (FrameHeadsTrainConfig, run_frame_heads),
    "check": (CheckConfig, run_check),
    "rollout": (RolloutConfig, run_rollout),
    "parse": (ParseConfig, run_parse),
    "demo": (DemoConfig, run_demo),
    "bench": (BenchConfig, run_bench),
    "play": (PlayConfig, run_play),
    "convert": (ConvertConfig, run_convert),
    "export": (ExportConfig, run_export),
}


def _own_errors() -> tuple[type[BaseException], ...]:
    """Errors whose message says what is wrong and what to do: printed as one line, not a traceback."""
    from .checkpoint import CheckpointError
    from .store import StoreError
    from .text import TextEncoderError
    from .trainer import DivergedError

    return (CheckpointError, StoreError, TextEncoderError, DivergedError, ValueError, FileNotFoundError,
            FileExistsError)


def _unprefixed(arg: str) -> str:
    """``--finetune.steps`` as ``--steps``: fine-tuning's flags were once nested under ``finetune.``."""
    return "--" + arg[len("--finetune."):] if arg.startswith("--finetune.") else arg


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``worldsim`` console script.

    ``--version`` prints the version; ``--debug`` (anywhere) shows the full traceback of an error
    that is otherwise printed as one line."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--version" in argv:
        from . import __version__

        print(f"worldsim {__version__}")
        return
    debug = "--debug" in argv
    argv = [_unprefixed(a) for a in argv if a != "--debug"]
    cfg = tyro.extras.subcommand_cli_from_dict({name: cls for name, (cls, _) in VERBS.items()}, args=argv,
                                              prog="worldsim")
    verb = next(name for name, (cls, _) in VERBS.items() if isinstance(cfg, cls))
    try:
        VERBS[verb][1](cfg)
    except _own_errors() as e:
        if debug:
            raise
        print(f"worldsim {verb}: {type(e).__name__}: {e}  (--debug shows the traceback)", file=sys.stderr)
        raise SystemExit(2) from None
