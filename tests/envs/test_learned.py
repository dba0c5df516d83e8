"""The learned-simulator envs: Gymnasium, vector, SB3 and PettingZoo APIs on a small random model."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from worldsim import envs  # noqa: F401
from worldsim.envs.learned import LearnedEnv, LearnedVectorEnv
from worldsim.envs.sb3 import SB3VecEnv

NEVER_DONE = {"done_threshold": 1.0}  # the untrained termination head would end episodes at random


@pytest.fixture(scope="module")
def checkpoint(tiny_checkpoint):
    return tiny_checkpoint


def test_learned_ids_are_registered():
    for scene in ("Playground", "PushBox", "Occlusion", "TwoAgents"):
        assert f"WorldSim/{scene}-Learned-v0" in gym.registry


def test_gymnasium_check_env(checkpoint):
    env = gym.make("WorldSim/PushBox-Learned-v0", checkpoint=checkpoint, sim={"sampler": {"steps": 1}})
    check_env(env.unwrapped, skip_render_check=False)
    obs, info = env.reset(seed=3)
    assert obs.shape == (64, 64, 3) and obs.dtype == np.uint8 and info["caption"]
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert isinstance(reward, float) and obs.shape == (64, 64, 3)
    env.close()


def test_bad_actions_give_clear_errors(checkpoint):
    env = LearnedEnv("WorldSim/PushBox-v0", checkpoint=checkpoint)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(2, np.float32))
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(3,\), expected \(2,\)"):
        env.step(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="NaN"):
        env.step(np.array([np.nan, 0], np.float32))


def test_learned_and_mujoco_envs_accept_and_refuse_the_same_actions(checkpoint):
    learned = LearnedEnv("WorldSim/PushBox-v0", checkpoint=checkpoint, sim={"sampler": {"steps": 1}})
    mujoco_env = gym.make("WorldSim/PushBox-v0").unwrapped
    refused = [np.array([True, False]), np.array([1 + 1j, 0]), np.array(["1", "0"]), np.zeros(2, "datetime64[s]"),
               np.array([np.inf, 0.0]), np.zeros(3), [[0.0, 0.0]], [0.0, [1.0]]]
    accepted = [np.array([1, -1]), np.array([1e300, -2.0]), [0.5, 0.5], np.zeros(2, np.float16)]

    def messages(env) -> list[str]:
        env.reset(seed=0)
        out = []
        for bad in refused:
            with pytest.raises((TypeError, ValueError), match="PushBox") as caught:
                env.step(bad)
            out.append(f"{type(caught.value).__name__}: {caught.value}".replace(" (learned)", ""))
        for good in accepted:
            env.step(good)
        return out

    assert messages(learned) == messages(mujoco_env)
    # out of range is clipped: the same step as the bound itself
    def step(env, action):
        env.reset(seed=0)
        return env.step(action)[0]
    np.testing.assert_array_equal(step(mujoco_env, np.array([5.0, -5.0])), step(mujoco_env, np.array([1.0, -1.0])))
    learned.close()
    mujoco_env.close()


def test_a_prompt_reaches_the_model_in_the_captioners_words(checkpoint):
    env = LearnedEnv("WorldSim/Playground-v0", checkpoint=checkpoint, sim={"first_frame_steps": 1})
    prompt = "there is a red cube in the upper left and a blue sphere in the center"
    obs, info = env.reset(seed=5, options={"prompt": prompt})
    assert obs.shape == (64, 64, 3) and info["prompt"] == prompt and info["source"] == "prompt"
    assert info["caption"].startswith("a red box at the top left and a blue ball in the centre; ")
    assert env.reset(seed=5, options={"prompt": prompt})[1]["caption"] == info["caption"]  # seeded
    with pytest.raises(envs.PromptError, match="unknown shape 'pyramid'"):
        env.reset(seed=5, options={"prompt": "a red pyramid"})


def test_time_limit_truncates(checkpoint):
    env = gym.make("WorldSim/PushBox-Learned-v0", checkpoint=checkpoint, max_episode_steps=3, sim=NEVER_DONE)
    env.reset(seed=0)
    flags = [env.step(np.zeros(2, np.float32))[3] for _ in range(3)]
    assert flags == [False, False, True]


def test_make_vec_uses_one_batched_simulator(checkpoint):
    venv = gym.make_vec("WorldSim/PushBox-Learned-v0", num_envs=3, checkpoint=checkpoint, max_episode_steps=2,
                        sim=NEVER_DONE)
    assert isinstance(venv, LearnedVectorEnv) and venv.sim.batch_size == 3
    obs, info = venv.reset(seed=0)
    assert obs.shape == (3, 64, 64, 3)
    venv.step(np.zeros((3, 2), np.float32))
    obs, rew, term, trunc, info = venv.step(np.zeros((3, 2), np.float32))
    assert trunc.all() and info["_final_obs"].all() and info["final_obs"].shape == (3,)
    assert info["final_obs"][0].shape == (64, 64, 3) and info["final_obs"][0].dtype == np.uint8
    assert info["_final_info"].all() and info["_caption"].all() and info["caption"][0]  # the new episodes'
    venv.close()


def test_next_step_autoreset_and_gymnasiums_vector_wrappers(checkpoint):
    from gymnasium.vector import AutoresetMode
    from gymnasium.wrappers.vector import GrayscaleObservation, NormalizeObservation, ResizeObservation

    venv = gym.make_vec("WorldSim/PushBox-Learned-v0", num_envs=2, checkpoint=checkpoint, max_episode_steps=2,
                        sim=NEVER_DONE, autoreset_mode=AutoresetMode.NEXT_STEP)
    zero = np.zeros((2, 2), np.float32)
    venv.reset(seed=0)
    venv.step(zero)
    last, _, _, trunc, info = venv.step(zero)
    assert trunc.all() and "final_obs" not in info  # the episode's own last frame
    first, reward, term, trunc, info = venv.step(zero)  # the reset step
    assert not (term | trunc).any() and (reward == 0).all() and info["_caption"].all()
    # ResizeObservation needs opencv (the wrappers extra); the dev extra installs it
    wrapped, size = NormalizeObservation(ResizeObservation(GrayscaleObservation(venv), (32, 32))), (32, 32)
    obs, _ = wrapped.reset(seed=1)
    assert obs.shape == (2, *size)
    assert wrapped.step(zero)[0].shape == (2, *size)
    wrapped.close()


def test_sb3_adapter_and_check_env(checkpoint):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    sb3_check_env(LearnedEnv("WorldSim/PushBox-v0", checkpoint=checkpoint), warn=False)
    venv = SB3VecEnv(LearnedVectorEnv("WorldSim/PushBox-v0", 2, checkpoint=checkpoint, max_episode_steps=2,
                                      sim=NEVER_DONE))
    obs = venv.reset()
    assert obs.shape == (2, 64, 64, 3)
    venv.step(np.zeros((2, 2), np.float32))
    obs, rewards, dones, infos = venv.step(np.zeros((2, 2), np.float32))
    assert dones.all()
    assert infos[0]["TimeLimit.truncated"] and infos[0]["terminal_observation"].shape == (64, 64, 3)


@pytest.mark.slow
def test_ppo_runs_on_the_learned_sim(checkpoint):
    from stable_baselines3 import PPO

    venv = SB3VecEnv(
        LearnedVectorEnv(
            "WorldSim/PushBox-v0",
            4,
            checkpoint=checkpoint,
            max_episode_steps=16,
            sim={"sampler": {"steps": 1}},
        )
    )
    model = PPO(
        "CnnPolicy",
        venv,
        n_steps=32,
        batch_size=64,
        n_epochs=1,
        verbose=0,
        seed=0,
        policy_kwargs={"normalize_images": True},
    )
    model.learn(total_timesteps=256)
    assert model.num_timesteps >= 256


def test_pettingzoo_parallel_api_on_the_learned_sim(checkpoint):
    from pettingzoo.test import parallel_api_test

    from worldsim.envs.multiagent import learned_parallel_env

    env = learned_parallel_env(checkpoint=checkpoint, max_cycles=6, sim=NEVER_DONE)
    parallel_api_test(env, num_cycles=10)
    obs, infos = env.reset(seed=1)
    assert set(obs) == {"agent_0", "agent_1"} and obs["agent_0"].shape == (64, 64, 3)


def test_monitor_scores_success_in_the_dream_as_in_mujoco(checkpoint):
    from stable_baselines3.common.monitor import Monitor

    for env_id in ("WorldSim/PushBox-v0", "WorldSim/PushBox-Learned-v0"):
        kwargs = {"checkpoint": checkpoint, "sim": NEVER_DONE} if "Learned" in env_id else {}
        env = Monitor(gym.make(env_id, max_episode_steps=2, **kwargs), info_keywords=("is_success",))
        env.reset(seed=0)
        info = {}
        for _ in range(2):
            *_, info = env.step(np.zeros(2, np.float32))
        assert info["episode"]["is_success"] in (True, False) and info["caption"]
        env.close()


def test_gymnasium_adds_the_standard_render_modes(checkpoint):
    env = gym.make("WorldSim/PushBox-Learned-v0", checkpoint=checkpoint, render_mode="rgb_array_list", sim=NEVER_DONE)
    env.reset(seed=0)
    env.step(np.zeros(2, np.float32))
    frames = env.render()
    assert len(frames) == 2 and frames[0].shape == (64, 64, 3)
    env.close()
    silent = gym.make("WorldSim/PushBox-Learned-v0", checkpoint=checkpoint, render_mode=None, sim=NEVER_DONE)
    silent.reset(seed=0)
    assert silent.render() is None


def test_human_render_mode_shows_frames_in_a_window(checkpoint, monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")  # pygame without a display
    env = gym.make("WorldSim/PushBox-Learned-v0", checkpoint=checkpoint, render_mode="human", sim=NEVER_DONE)
    obs, _ = env.reset(seed=0)
    obs, *_ = env.step(np.zeros(2, np.float32))
    assert obs.shape == (64, 64, 3) and env.render() is None
    env.close()


def test_bad_resets_and_use_after_close_say_what_to_do(checkpoint):
    venv = LearnedVectorEnv("WorldSim/PushBox-v0", 2, checkpoint=checkpoint)
    for seed in ([1], [], 1.5, True, ["a", "b"]):
        with pytest.raises(ValueError, match="seed must be None, an int, or a list of 2"):
            venv.reset(seed=seed)
    with pytest.raises(TypeError, match="options must be a dict"):
        venv.reset(options=42)
    venv.reset(seed=[3, None])
    venv.close()
    env = LearnedEnv("WorldSim/PushBox-v0", checkpoint=checkpoint)
    with pytest.raises(TypeError, match="options must be a dict"):
        env.reset(options=42)
    env.reset(seed=0)
    env.close()
    with pytest.raises(RuntimeError, match="closed"):
        env.step(np.zeros(2, np.float32))


def test_learned_env_pickles_by_its_constructor_arguments(checkpoint):
    import copy
    import pickle

    env = LearnedEnv("WorldSim/PushBox-v0", checkpoint=checkpoint, sim=NEVER_DONE)
    env.reset(seed=0)
    for twin in (pickle.loads(pickle.dumps(env)), copy.deepcopy(env)):
        assert isinstance(twin, LearnedEnv) and twin.scene_id == env.scene_id
        with pytest.raises(RuntimeError, match="reset"):
            twin.step(np.zeros(2, np.float32))  # a fresh env
        obs, _ = twin.reset(seed=0)
        np.testing.assert_array_equal(obs, env.reset(seed=0)[0])
        twin.close()
    env.close()


@pytest.fixture(scope="module")
def reach_store(tmp_path_factory) -> str:
    from worldsim.collect import CollectConfig, collect

    out = tmp_path_factory.mktemp("reach") / "scripted"
    collect(CollectConfig(env_id="WorldSim/Reach-v0", episodes=3, steps=12, policy="scripted", out=str(out),
                          progress=False))
    return str(out)


@pytest.fixture
def reset_args(monkeypatch) -> dict:
    """The keyword arguments of the last ``Simulator.reset`` call."""
    from worldsim.simulator import Simulator

    seen = {}
    reset = Simulator.reset

    def spy(self, **kw):
        seen.update(kw)
        return reset(self, **kw)

    monkeypatch.setattr(Simulator, "reset", spy)
    return seen


def test_dataset_starts_continue_recorded_episodes_with_their_true_context(checkpoint, reach_store, reset_args):
    from worldsim.store import EpisodeStore

    seen = reset_args
    env = gym.make("WorldSim/Reach-Learned-v0", checkpoint=checkpoint, dataset=reach_store, burn_in=3,
                   max_episode_steps=4, sim=NEVER_DONE)
    obs, info = env.reset(seed=0)
    ep = EpisodeStore(reach_store).read(info["episode"])
    t = info["step"]
    assert info["source"] == "dataset" and info["caption"] == ep.caption and 2 <= t <= len(ep)
    np.testing.assert_array_equal(seen["context_frames"][0], ep.frames[t - 2:t + 1])  # burn-in 3 true frames
    np.testing.assert_array_equal(seen["context_actions"][0, :, :2], ep.actions[t - 2:t])
    assert [env.step(np.zeros(2, np.float32))[3] for _ in range(4)] == [False, False, False, True]  # H = 4
    assert env.reset(seed=0)[1]["step"] == t  # seeded
    assert env.reset(options={"start": "scene"})[1]["source"] == "ground_truth"
    with pytest.raises(ValueError, match="scene', 'dataset"):
        env.reset(options={"start": "middle"})
    env.close()
    plain = gym.make("WorldSim/Reach-Learned-v0", checkpoint=checkpoint)
    with pytest.raises(ValueError, match="dataset=DIR"):
        plain.reset(options={"start": "dataset"})
    with pytest.raises(ValueError, match="at least 40 frames"):
        gym.make("WorldSim/Reach-Learned-v0", checkpoint=checkpoint, dataset=reach_store, burn_in=40)
    with pytest.raises(ValueError, match="2-D actions but .* takes 4-D"):
        gym.make("WorldSim/TwoAgents-Learned-v0", checkpoint=checkpoint, dataset=reach_store)


def test_first_frame_starts_begin_at_rest_as_a_reset_does(checkpoint, reach_store, reset_args):
    from worldsim.store import EpisodeStore

    seen = reset_args
    env = gym.make("WorldSim/Reach-Learned-v0", checkpoint=checkpoint, dataset=reach_store, burn_in=3,
                   first_frames=1.0, sim=NEVER_DONE)
    steps = set()
    for seed in range(4):
        info = env.reset(seed=seed)[1]
        ep = EpisodeStore(reach_store).read(info["episode"])
        steps.add(info["step"])
        for frame in seen["context_frames"][0]:  # the recorded first frame, still for the whole burn-in
            np.testing.assert_array_equal(frame, ep.frames[0])
        assert not np.any(seen["context_actions"])
    assert steps == {0}
    env.close()
    mixed = gym.make("WorldSim/Reach-Learned-v0", checkpoint=checkpoint, dataset=reach_store, burn_in=3,
                     first_frames=0.5, sim=NEVER_DONE)
    steps = [mixed.reset(seed=seed)[1]["step"] for seed in range(16)]
    assert 0 < steps.count(0) < 16
    mixed.close()
    for bad in (-0.1, 1.5, float("nan"), "half", True):
        with pytest.raises(ValueError, match="first_frames is the chance"):
            gym.make("WorldSim/Reach-Learned-v0", checkpoint=checkpoint, dataset=reach_store, first_frames=bad)


def test_vector_env_restarts_from_the_dataset(checkpoint, reach_store):
    venv = gym.make_vec("WorldSim/Reach-Learned-v0", num_envs=2, checkpoint=checkpoint, dataset=[reach_store],
                        max_episode_steps=2, sim=NEVER_DONE)
    venv.reset(seed=0)
    venv.step(np.zeros((2, 2), np.float32))
    obs, _, _, trunc, info = venv.step(np.zeros((2, 2), np.float32))
    assert trunc.all() and info["_caption"].all() and info["caption"][0].endswith("goes to the goal")
    venv.close()


@pytest.mark.parametrize(("env_id", "rule_name", "seed"), [("WorldSim/Reach-v0", "ReachFromFrames", 5000),
                                                         ("WorldSim/PushBox-v0", "PushBoxFromFrames", 6000)])
def test_a_reward_read_off_true_frames_follows_mujocos_reward(env_id, rule_name, seed):
    from worldsim.envs import frame_rewards

    rule, rng = getattr(frame_rewards, rule_name)(1), np.random.default_rng(0)
    true, read, ends_true, ends_read = [], [], [], []
    env = gym.make(env_id)
    for episode in range(8):
        obs, info = env.reset(seed=seed + episode)
        rule.reset(np.arange(1), obs[None], [info["spec"]])
        for _ in range(80):
            act = env.unwrapped.scripted_action(rng) if episode % 2 == 0 else env.action_space.sample()
            obs, r, term, trunc, _ = env.step(act)
            got, done = rule.step(obs[None], act[None])
            true.append(r), read.append(got[0]), ends_true.append(term), ends_read.append(done[0])
            if term or trunc:
                break
    env.close()
    true, read, ends_true, ends_read = map(np.asarray, (true, read, ends_true, ends_read))
    on_the_way = ~ends_true & ~ends_read
    assert np.corrcoef(true[on_the_way], read[on_the_way])[0, 1] > 0.9
    assert np.abs(true[on_the_way] - read[on_the_way]).mean() < 0.1
    assert ends_true.sum() >= 2 and (ends_read == ends_true).mean() > 0.95


def test_pushbox_frame_reward_needs_the_scene_spec():
    from worldsim.envs.frame_rewards import PushBoxFromFrames

    with pytest.raises(ValueError, match="needs each episode's scene spec"):
        PushBoxFromFrames(1).reset(np.arange(1), np.zeros((1, 64, 64, 3), np.uint8), [None])


def test_a_frame_reward_rule_pays_and_ends_the_dreamed_episodes(checkpoint, reach_store):
    class EndRowZeroAtStepTwo:
        def __init__(self):
            self.resets, self.steps = [], 0

        def reset(self, rows, frames, specs):
            assert frames.shape == (len(rows), 64, 64, 3) and len(specs) == len(rows)
            assert all(spec["task"]["object"] is None for spec in specs)  # the recorded Reach scenes
            self.resets.append(list(rows))

        def step(self, frames, actions):
            self.steps += 1
            return np.full(len(frames), 7.0), np.array([self.steps == 2, False])

    rule = EndRowZeroAtStepTwo()
    venv = gym.make_vec("WorldSim/Reach-Learned-v0", num_envs=2, checkpoint=checkpoint, dataset=[reach_store],
                        sim=NEVER_DONE, reward=rule)
    venv.reset(seed=0)
    _, r, term, _, _ = venv.step(np.zeros((2, 2), np.float32))
    assert r.tolist() == [7.0, 7.0] and not term.any()
    _, r, term, _, info = venv.step(np.zeros((2, 2), np.float32))
    assert term.tolist() == [True, False] and info["_final_obs"].tolist() == [True, False]
    assert rule.resets == [[0, 1], [0]]  # the restarted row starts over
    venv.close()
    with pytest.raises(ValueError, match="no reward read off the frames"):
        gym.make("WorldSim/Playground-Learned-v0", checkpoint=checkpoint, reward="frames")
    with pytest.raises(ValueError, match="'heads', 'frames'"):
        gym.make("WorldSim/Reach-Learned-v0", checkpoint=checkpoint, reward="pixels")
    env = gym.make("WorldSim/Reach-Learned-v0", checkpoint=checkpoint, reward="frames", sim=NEVER_DONE)
    env.reset(seed=0)
    _, r, term, _, info = env.step(np.zeros(2, np.float32))
    assert np.isfinite(r) and info["is_success"] == term
    env.close()
