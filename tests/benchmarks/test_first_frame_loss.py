"""benchmarks/first_frame_loss.py: the scene turned half a turn, and its loss beside the caption's own."""

from __future__ import annotations

import numpy as np
import torch

from tests.benchmarks import load_script


def test_a_caption_is_mirrored_word_for_word_and_twice_is_itself():
    mirror = load_script("first_frame_loss").mirror_caption
    caption = "a red ball at the top left and a cyan box on the right; the white agent is in the centre; " \
              "the red ball moves down-right"
    assert mirror(caption) == ("a red ball at the bottom right and a cyan box on the left; the white agent is in "
                               "the centre; the red ball moves up-left")
    assert mirror(mirror(caption)) == caption
    assert mirror("a bright toplevel") == "a bright toplevel"  # whole words only


def test_mirrored_layout_tokens_are_those_of_the_scene_turned_half_a_turn():
    from worldsim.envs import parse_prompt
    from worldsim.envs.layout import layout_features, mirror_layout

    spec = parse_prompt("a red ball in the top left corner and a blue box at the bottom right", seed=0).to_dict()
    turned = {**spec,
              "agents": [{**a, "pos": [-a["pos"][0], -a["pos"][1]]} for a in spec["agents"]],
              "objects": [{**o, "pos": [-o["pos"][0], -o["pos"][1]]} for o in spec["objects"]]}
    np.testing.assert_allclose(mirror_layout(layout_features(spec)), layout_features(turned), atol=1e-6)


def test_the_loss_of_the_mirrored_scene_is_scored_on_the_same_noise(tmp_path):
    from worldsim.autoencoder import Autoencoder, AutoencoderConfig
    from worldsim.collect import CollectConfig, collect
    from worldsim.envs.layout import LAYOUT_DIM
    from worldsim.model import DiT, DiTConfig
    from worldsim.worldmodel import WorldModel

    store = tmp_path / "pushbox"
    collect(CollectConfig(env_id="WorldSim/PushBox-v0", episodes=3, steps=1, policy="scripted", out=str(store),
                          progress=False))
    torch.manual_seed(0)
    ae = Autoencoder(AutoencoderConfig(channels=(8, 8, 8), decoder_channels=(8, 8, 8), latent_channels=4))
    dit = DiT(DiTConfig(latent_channels=4, latent_size=16, patch=(1, 4, 4), width=32, depth=1, heads=2,
                        action_dim=4, window=3, layout_dim=LAYOUT_DIM))
    for p in dit.parameters():  # every input reaches the output, the layout's attention included
        torch.nn.init.normal_(p, std=0.05)
    model = WorldModel(ae, dit.eval())
    (tmp_path / "cache").mkdir()
    ffl = load_script("first_frame_loss")
    row = ffl.store_loss(model, store, batches=2, batch=3, cache=tmp_path / "cache", mirror=True)
    assert set(row) == {"loss", "stderr", "mirrored", "rise", "rise_stderr"}
    assert np.isfinite(list(row.values())).all()
    assert row["rise"] != 0 and abs(row["mirrored"] - row["loss"] - row["rise"]) < 1e-6
