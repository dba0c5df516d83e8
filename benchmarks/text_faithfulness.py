"""Text faithfulness of the first frame generated from a prompt alone.

    .venv/bin/python benchmarks/text_faithfulness.py --prompts 200 --json benchmarks/text_faithfulness.json

Prompts come from sampled scene specs: half are the captioner's own sentences, half are paraphrases
(synonyms, other region words, other sentence shapes) that the parser maps to the same scene.
For each prompt the model generates frame 0 from the text alone, and the MuJoCo scene built from
the parsed prompt gives the reference layout. Scored:

* all named objects present, with the right colour (colour-mask detection), and the same with no
  object colour the prompt does not name (``exact_colors``; ``extra_colors_per_prompt`` counts
  those, so a frame sprayed with every colour does not pass); ``reference_all_present`` scores the
  MuJoCo frame itself (an object under the slab is hidden there too), and
  ``autoencoder_all_present`` that frame after a pass through the model's autoencoder: the ceiling
  a model that draws the exact latent of the scene could reach;
* the chance level: the same frame scored against the next prompt's objects
  (``other_prompt_all_present``); text conditioning is working where the first figure beats it;
* mean centroid error in pixels against the ground-truth layout of the parsed prompt;
* the share of objects that land in the region the prompt names.
"""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import argparse
import re

import numpy as np

import envs
from envs.caption import caption, parse_prompt
from envs.learned import default_checkpoint
from envs.scene import SceneSpec, pixel_to_world, region_of
from worldsim import metrics
from worldsim.collect import make_env
from worldsim.report import write_json
from worldsim.simulator import Simulator, SimulatorConfig
from worldsim.worldmodel import WorldModel

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
    """``n`` (prompt, parsed spec, is_paraphrase) triples; paraphrases that fail to parse are redrawn."""
    rng = np.random.default_rng(seed)
    out: list[tuple[str, SceneSpec, bool]] = []
    while len(out) < n:
        spec = SceneSpec.sample(rng, family=FAMILIES[len(out) % len(FAMILIES)])
        text = caption(spec)
        para = len(out) % 2 == 1
        if para:
            text = paraphrase(text, rng)
        try:
            parsed = parse_prompt(text, seed=int(rng.integers(2**31)))
        except envs.PromptError:
            continue
        out.append((text, parsed, para))
    return out


def _gt_frame(spec: SceneSpec, seed: int) -> np.ndarray:
    env_id = ("WorldSim/TwoAgents-v0" if len(spec.agents) > 1 else
              "WorldSim/PushBox-v0" if spec.task is not None else "WorldSim/Playground-v0")
    env = make_env(env_id)
    obs, _ = env.reset(seed=seed, options={"spec": spec})
    env.close()
    return obs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--prompts", type=int, default=200)
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--json", default="benchmarks/text_faithfulness.json")
    p.add_argument("--sampling-steps", type=int, default=SimulatorConfig.first_frame_steps,
                   help="denoising moves for frame 0")
    p.add_argument("--guidance", type=float, default=SimulatorConfig.guidance, help="classifier-free guidance scale")
    args = p.parse_args()
    items = prompts(args.prompts, args.seed)
    model = WorldModel.load(args.checkpoint or default_checkpoint())
    colors = envs.render_palette()
    object_colors = {c: rgb for c, rgb in colors.items() if not c.startswith("agent")}
    background = tuple(envs.render_scenery_colors().values())
    sim_cfg = SimulatorConfig(first_frame_steps=args.sampling_steps, guidance=args.guidance)
    rows = []
    for start in range(0, len(items), args.batch):
        chunk = items[start:start + args.batch]
        sim = Simulator(model, len(chunk), sim_cfg)
        frames = sim.reset(prompt=[t for t, _, _ in chunk], seed=args.seed + start).frames
        for j, ((text, spec, para), frame) in enumerate(zip(chunk, frames)):
            named = {o.color: o for o in spec.objects}
            other = items[(start + j + 1) % len(items)][1]  # another prompt's objects: the chance level
            # one detection per frame over every object colour, so a named colour is only found where
            # it is the nearest of them all, and the same pass tells which unnamed colours appear
            det = metrics.find_objects(frame, object_colors, background=background)
            gt_frame = _gt_frame(spec, args.seed)
            gt = metrics.find_objects(gt_frame, object_colors, background=background)
            ae = metrics.find_objects(model.autoencoder.round_trip(gt_frame), object_colors, background=background)
            present = [det[c] is not None for c in named]
            errors = [float(np.hypot(*np.subtract(det[c], gt[c]))) for c in named
                      if det[c] is not None and gt[c] is not None]
            in_region = [region_of(spec, o.pos) == region_of(spec, _px_to_world(spec, det[c]))
                         for c, o in named.items() if det[c] is not None]
            extra = [c for c, centroid in det.items() if centroid is not None and c not in named]
            rows.append({"prompt": text, "paraphrase": para, "all_present": all(present),
                         "present_share": float(np.mean(present)), "extra_colors": extra,
                         "reference_all_present": all(gt[c] is not None for c in named),
                         "autoencoder_all_present": all(ae[c] is not None for c in named),
                         "other_prompt_all_present": all(det[o.color] is not None for o in other.objects),
                         "centroid_error_px": float(np.mean(errors)) if errors else None,
                         "region_match": float(np.mean(in_region)) if in_region else 0.0})
    summary = {}
    for name, sel in (("all", rows), ("captions", [r for r in rows if not r["paraphrase"]]),
                      ("paraphrases", [r for r in rows if r["paraphrase"]])):
        errs = [r["centroid_error_px"] for r in sel if r["centroid_error_px"] is not None]
        summary[name] = {"prompts": len(sel),
                         "all_named_objects_present": float(np.mean([r["all_present"] for r in sel])),
                         "exact_colors": float(np.mean([r["all_present"] and not r["extra_colors"] for r in sel])),
                         "extra_colors_per_prompt": float(np.mean([len(r["extra_colors"]) for r in sel])),
                         "reference_all_present": float(np.mean([r["reference_all_present"] for r in sel])),
                         "autoencoder_all_present": float(np.mean([r["autoencoder_all_present"] for r in sel])),
                         "other_prompt_all_present": float(np.mean([r["other_prompt_all_present"] for r in sel])),
                         "objects_present": float(np.mean([r["present_share"] for r in sel])),
                         "mean_centroid_error_px": float(np.mean(errs)) if errs else None,
                         "region_match": float(np.mean([r["region_match"] for r in sel]))}
    settings = {"sampling_steps": args.sampling_steps, "guidance": args.guidance, "seed": args.seed}
    write_json(args.json, {"checkpoint": model.checkpoint_hash, "settings": settings, "summary": summary,
                           "prompts": rows})
    for name, s in summary.items():
        print(name, s)


def _px_to_world(spec: SceneSpec, colrow) -> np.ndarray:
    """Metrics centroids count pixel centres at +0.5; the scene's pixel frame puts them at integers."""
    return pixel_to_world(spec, np.asarray(colrow) - 0.5)


if __name__ == "__main__":
    main()
