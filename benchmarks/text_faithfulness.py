"""Text faithfulness of the first frame generated from a prompt alone.

    .venv/bin/python benchmarks/text_faithfulness.py --prompts 200 --json outputs/text_faithfulness.json

Prompts come from sampled scene specs: half are the captioner's own sentences, half are paraphrases
(synonyms, other region words, other sentence shapes) that the parser maps to the same scene.
For each prompt the model generates frame 0 from the text alone, and the MuJoCo scene built from
the parsed prompt gives the reference layout. The frame is generated twice: from the caption of the
parsed prompt, as the learned envs and ``worldsim rollout`` condition the model
(``worldsim.envs.canonical_prompt``; ``summary``), and from the text as written (``summary_as_written``), the
model's own reading of a paraphrase. From the caption, frame 0 is the best of ``--candidates`` draws
by ``worldsim.envs.layout.layout_agreement`` with the parsed scene, as the learned envs and ``worldsim
rollout`` draw it; the best of the first k candidates is scored for k = 1, 2, 4, ... as well
(``summary_best_of``; k = 1 is what a single draw gives). From the text as written it is one draw. The
selection and the scoring share this detector, so the gain of the best of several draws is an upper
bound for what another detector would see. Scored:

* all named objects present, with the right colour (colour-mask detection), and the same with no
  object colour the prompt does not name (``exact_colors``; ``extra_colors_per_prompt`` counts
  those, so a frame sprayed with every colour does not pass); ``reference_all_present`` scores the
  MuJoCo frame itself (an object under the slab is hidden there too), and
  ``autoencoder_all_present`` that frame after a pass through the model's autoencoder: the ceiling
  a model that draws the exact latent of the scene could reach; ``summary_reference`` scores MuJoCo's
  frame on every figure, as a check of the scoring itself;
* the chance level: the same frame scored against the next prompt's objects
  (``other_prompt_all_present``); text conditioning is working where the first figure beats it;
* mean centroid error in pixels against the ground-truth layout of the parsed prompt;
* the share of objects that land in the region the prompt names;
* the share of frames that show each agent once, in its region, and no other agent (``agents_as_named``).

``--prompts-file benchmarks/prompts_written.txt`` scores prompts phrased freely instead of sampled ones
(the ``text_written`` section of ``benchmarks/results.py``); the prompts the parser refuses are counted
and listed in the report.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np

from worldsim import envs, metrics
from worldsim.collect import make_env
from worldsim.diffusion import SamplerConfig
from worldsim.envs.caption import caption
from worldsim.envs.layout import first_frame_score, layout_batch
from worldsim.envs.prompt import parse_prompt
from worldsim.envs.scene import AGENT_PALETTE_NAMES, SceneSpec, pixel_to_world, region_of
from worldsim.report import write_json
from worldsim.simulator import Simulator, SimulatorConfig
from worldsim.worldmodel import WorldModel, default_checkpoint

FAMILIES = ("playground", "pushbox", "occlusion", "twoagents")
SWAPS = [
    (r"\bball\b", "sphere"), (r"\bbox\b", "cube"), (r"\bcentre\b", "center"),
    (r"\bat the top left\b", "in the upper left"),
    (r"\bat the bottom right\b", "in the lower right"), (r"\bthe white agent is\b", "the agent sits"),
]


def paraphrase(text: str, rng: np.random.Generator) -> str:
    """Rewrite a caption with synonyms and other phrasings the parser accepts."""
    out = text
    for pattern, word in SWAPS:
        if rng.random() < 0.7:
            out = re.sub(pattern, word, out)
    return ("there is " + out) if rng.random() < 0.3 else out


def prompts(n: int, seed: int) -> list[tuple[str, SceneSpec, bool]]:
    """``n`` (prompt, parsed spec, is_paraphrase) triples; paraphrases that fail to parse are redrawn.

    Families take turns, and each family's prompts alternate between captions and paraphrases, so
    the two halves hold the same scenes."""
    rng = np.random.default_rng(seed)
    out: list[tuple[str, SceneSpec, bool]] = []
    while len(out) < n:
        spec = SceneSpec.sample(rng, family=FAMILIES[len(out) % len(FAMILIES)])
        text = caption(spec)
        para = (len(out) // len(FAMILIES)) % 2 == 1
        if para:
            text = paraphrase(text, rng)
        try:
            parsed = parse_prompt(text, seed=int(rng.integers(2**31)))
        except envs.PromptError:
            continue
        out.append((text, parsed, para))
    return out


def prompts_from_file(path: str, seed: int) -> tuple[list[tuple[str, SceneSpec, bool]], list[dict]]:
    """The prompts of a text file (one a line; blank lines and lines starting with '#' skipped), each
    parsed as ``parse_prompt`` parses a user's prompt. Returns the parsed ones as (prompt, spec, True)
    and the refused ones as {"prompt", "error"}: a refusal is reported, never dropped."""
    rng = np.random.default_rng(seed)
    items, refused = [], []
    for line in Path(path).read_text().splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            items.append((text, parse_prompt(text, seed=int(rng.integers(2**31))), True))
        except envs.PromptError as e:
            refused.append({"prompt": text, "error": str(e)})
    if not items:
        raise SystemExit(f"{path}: no prompt parses ({len(refused)} refused); write one prompt a line")
    return items, refused


def _gt_frame(spec: SceneSpec, seed: int) -> np.ndarray:
    env_id = ("WorldSim/TwoAgents-v0" if len(spec.agents) > 1 else
              "WorldSim/PushBox-v0" if spec.task is not None else "WorldSim/Playground-v0")
    env = make_env(env_id)
    obs, _ = env.reset(seed=seed, options={"spec": spec})
    env.close()
    return obs


class Detector:
    """One detection pass over every object colour, so a named colour is only found where it is the
    nearest of them all, and the same pass tells which unnamed colours appear."""

    def __init__(self) -> None:
        palette = envs.render_palette()
        agents = set(AGENT_PALETTE_NAMES.values())
        self.colors = {c: rgb for c, rgb in palette.items() if c not in agents}
        self.background = tuple(envs.render_scenery_colors().values())
        # the agents compete for pixels without being reported, so a pink agent is not read as magenta
        self.object_background = self.background + tuple(palette[a] for a in sorted(agents))

    def __call__(self, frame: np.ndarray) -> dict:
        return metrics.find_objects(frame, self.colors, background=self.object_background)

    def agents(self, frame: np.ndarray) -> dict[str, tuple[tuple[float, float] | None, int]]:
        """Each agent colour's centroid (None if absent) and pixel count, found among all the colours."""
        det = metrics.detect_objects(frame, envs.render_palette(), background=self.background)
        found = {}
        for name in AGENT_PALETTE_NAMES.values():
            k = det.names.index(name)
            found[name] = (None if np.isnan(det.centroids[k, 0]) else tuple(det.centroids[k]), int(det.pixels[k]))
        return found


def agents_as_named(frame: np.ndarray, spec: SceneSpec, gt_agents: dict, detect: Detector) -> bool:
    """The frame shows each agent of ``spec`` once, in its region, and no other agent: each agent's
    colour is found in its region with at most 1.5 times the pixels it has in the MuJoCo frame
    (``gt_agents``; an agent drawn twice has about twice), and no agent colour the scene lacks is found."""
    found = detect.agents(frame)
    wanted = {AGENT_PALETTE_NAMES[a.color]: a for a in spec.agents}
    for name, (centroid, pixels) in found.items():
        if name not in wanted:
            if centroid is not None:
                return False
            continue
        if centroid is None or pixels > 1.5 * gt_agents[name][1]:
            return False
        if region_of(spec, _px_to_world(spec, centroid)) != region_of(spec, wanted[name].pos):
            return False
    return True


def score_frame(frame: np.ndarray, spec: SceneSpec, gt: dict, other: SceneSpec, detect: Detector,
                gt_agents: dict) -> dict:
    """How well a generated frame 0 shows the objects of ``spec`` (``gt``, ``gt_agents``: MuJoCo's detections)."""
    named = {o.color: o for o in spec.objects}
    det = detect(frame)
    present = [det[c] is not None for c in named]
    errors = [float(np.hypot(*np.subtract(det[c], gt[c]))) for c in named if det[c] is not None and gt[c] is not None]
    in_region = [region_of(spec, o.pos) == region_of(spec, _px_to_world(spec, det[c]))
                 for c, o in named.items() if det[c] is not None]
    return {"all_present": all(present), "present_share": float(np.mean(present)),
            "extra_colors": [c for c, centroid in det.items() if centroid is not None and c not in named],
            "other_prompt_all_present": all(det[o.color] is not None for o in other.objects),
            "centroid_error_px": float(np.mean(errors)) if errors else None,
            "region_match": float(np.mean(in_region)) if in_region else 0.0,
            "agents_as_named": agents_as_named(frame, spec, gt_agents, detect)}


class KeepCandidates:
    """A ``first_frame_score`` that keeps every candidate and its score, so the best of the first k
    draws can be scored for each k up to the number drawn (k = 1 is what a single draw gives)."""

    def __init__(self, score):
        self.score, self.frames, self.scores = score, None, None

    def __call__(self, candidates: np.ndarray) -> np.ndarray:
        self.frames, self.scores = candidates.copy(), self.score(candidates)
        return self.scores

    def best_of(self, k: int) -> np.ndarray:
        """``(N, H, W, 3)``: each prompt's best-scoring frame among its first ``k`` candidates."""
        return self.frames[np.arange(len(self.frames)), self.scores[:, :k].argmax(1)]


def summarise(rows: list[dict], form: str) -> dict:
    """Shares and means over ``rows``, as generated from the prompt in ``form``."""
    scores = [r[form] for r in rows]
    errs = [s["centroid_error_px"] for s in scores if s["centroid_error_px"] is not None]
    share = lambda values: float(np.mean(list(values)))
    return {"prompts": len(rows),
            "all_named_objects_present": share(s["all_present"] for s in scores),
            "exact_colors": share(s["all_present"] and not s["extra_colors"] for s in scores),
            "extra_colors_per_prompt": share(len(s["extra_colors"]) for s in scores),
            "reference_all_present": share(r["reference_all_present"] for r in rows),
            "autoencoder_all_present": share(r["autoencoder_all_present"] for r in rows),
            "other_prompt_all_present": share(s["other_prompt_all_present"] for s in scores),
            "objects_present": share(s["present_share"] for s in scores),
            "mean_centroid_error_px": float(np.mean(errs)) if errs else None,
            "region_match": share(s["region_match"] for s in scores),
            "agents_as_named": share(s["agents_as_named"] for s in scores)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--prompts", type=int, default=200, help="prompts sampled from every scene family")
    p.add_argument("--prompts-file", default=None,
                   help="score the prompts of this file (one a line, '#' comments) instead of sampled ones; "
                        "those the parser refuses are listed in the report")
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--json", default="outputs/text_faithfulness.json")
    p.add_argument("--sampling-steps", type=int, default=SimulatorConfig.first_frame_steps,
                   help="denoising moves for frame 0")
    p.add_argument("--guidance", type=float, default=SimulatorConfig.guidance, help="classifier-free guidance scale")
    p.add_argument("--shift", type=float, default=SamplerConfig.shift,
                   help="timestep shift of frame 0's sampler (> 1 spends more moves at high noise)")
    p.add_argument("--candidates", type=int, default=SimulatorConfig.first_frame_candidates,
                   help="first frames drawn per prompt; the one that best shows the parsed scene is kept (1: off)")
    p.add_argument("--solver", choices=("euler", "heun"), default=SamplerConfig.solver, help="frame 0's ODE solver")
    args = p.parse_args()
    items, refused = prompts_from_file(args.prompts_file, args.seed) if args.prompts_file else \
        (prompts(args.prompts, args.seed), [])
    model = WorldModel.load(args.checkpoint or default_checkpoint())
    detect = Detector()
    sim_cfg = SimulatorConfig(sampler=SamplerConfig(shift=args.shift, solver=args.solver),
                              first_frame_steps=args.sampling_steps, guidance=args.guidance,
                              first_frame_candidates=args.candidates)
    rows = []
    draws = [k for k in (1, 2, 4, 8, 16, 32) if k < args.candidates] + [args.candidates]  # best of k, k up to all
    draws = draws if args.candidates > 1 else []  # one draw: the summary is its figure
    for start in range(0, len(items), args.batch):
        chunk = items[start:start + args.batch]
        sim = Simulator(model, len(chunk), sim_cfg)
        # the learned envs and `worldsim rollout` condition on the caption of the parsed prompt
        # (envs.canonical_prompt); the model's own reading of the text as written is scored beside it
        layout = layout_batch([s for _, s, _ in chunk], model.dit.cfg.layout_dim)  # for models that read one
        specs = [s for _, s, _ in chunk]
        kept = KeepCandidates(first_frame_score(specs))
        frames = {"canonical": sim.reset(prompt=[caption(s) for s in specs], seed=args.seed + start, layout=layout,
                                         first_frame_score=kept).frames,
                  "as_written": sim.reset(prompt=[t for t, _, _ in chunk], seed=args.seed + start,
                                          layout=layout).frames}  # one draw
        if kept.frames is not None:  # more than one candidate was drawn
            frames.update({f"canonical_best_of_{k}": kept.best_of(k) for k in draws})
        for j, (text, spec, para) in enumerate(chunk):
            other = items[(start + j + 1) % len(items)][1]  # another prompt's objects: the chance level
            gt_frame = _gt_frame(spec, args.seed)
            gt, ae = detect(gt_frame), detect(model.autoencoder.round_trip(gt_frame))
            gt_agents = detect.agents(gt_frame)
            scored_gt = score_frame(gt_frame, spec, gt, other, detect, gt_agents)  # MuJoCo's own frame
            rows.append({"prompt": text, "canonical_prompt": caption(spec), "paraphrase": para,
                         "reference_all_present": scored_gt["all_present"],
                         "autoencoder_all_present": all(ae[o.color] is not None for o in spec.objects),
                         "reference": scored_gt,
                         **{form: score_frame(f[j], spec, gt, other, detect, gt_agents) for form, f in frames.items()}})
    halves = {"all": rows} if args.prompts_file else {
        "all": rows, "captions": [r for r in rows if not r["paraphrase"]],
        "paraphrases": [r for r in rows if r["paraphrase"]]}
    summary = {name: summarise(sel, "canonical") for name, sel in halves.items()}
    as_written = {name: summarise(sel, "as_written") for name, sel in halves.items()}
    best_of = {str(k): summarise(rows, f"canonical_best_of_{k}") for k in draws}
    reference = summarise(rows, "reference")  # MuJoCo's own frame of the parsed scene: what the scoring allows
    settings = {"sampling_steps": args.sampling_steps, "candidates": args.candidates, "guidance": args.guidance,
                "shift": args.shift, "solver": args.solver, "seed": args.seed}
    if args.prompts_file:
        summary["all"]["refused"] = len(refused)
    write_json(args.json, {"checkpoint": model.checkpoint_hash, "settings": settings, "summary": summary,
                           "summary_as_written": as_written, "summary_best_of": best_of,
                           "summary_reference": reference, "prompts": rows,
                           **({"prompts_file": args.prompts_file, "refused": refused} if args.prompts_file else {})})
    for r in refused:
        print("refused:", r["prompt"], "--", r["error"].split(".")[0])
    for name in halves:
        print(name, "canonical", summary[name])
        print(name, "as written", as_written[name])
    for k, summary_k in best_of.items():
        print("all canonical, best of", k, summary_k)
    print("MuJoCo's frame", reference)


def _px_to_world(spec: SceneSpec, colrow) -> np.ndarray:
    """Metrics centroids count pixel centres at +0.5; the scene's pixel frame puts them at integers."""
    return pixel_to_world(spec, np.asarray(colrow) - 0.5)


if __name__ == "__main__":
    main()
