"""PettingZoo ParallelEnv for TwoAgents: API test, per-agent control, truncation, seeding."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from worldsim.envs.multiagent import TwoAgentsParallelEnv, parallel_env
from worldsim.envs.scene import AgentSpec, ObjectSpec, SceneSpec


@pytest.fixture(scope="module")
def env() -> TwoAgentsParallelEnv:
    e = parallel_env()
    yield e
    e.close()


def test_parallel_api_test(env: TwoAgentsParallelEnv) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the API test passes an unknown reset option on purpose
        parallel_api_test(env, num_cycles=30)


def test_each_agent_controls_its_own_sphere(env: TwoAgentsParallelEnv) -> None:
    env.max_cycles = 200
    spec = SceneSpec(
        agents=[AgentSpec((-0.5, 0.0)), AgentSpec((0.5, 0.0), color="pink")],
        objects=[ObjectSpec("box", "red", 0.1, 1.0, (0.0, -0.7))],
    )
    obs, infos = env.reset(options={"spec": spec})
    assert set(obs) == {"agent_0", "agent_1"} and obs["agent_0"].shape == (64, 64, 3)
    np.testing.assert_array_equal(obs["agent_0"], env.state())
    start = [infos[a]["agent"]["pos_px"] for a in env.possible_agents]
    for _ in range(5):
        obs, rewards, terms, truncs, infos = env.step(
            {"agent_0": np.array([0.0, 1.0]), "agent_1": np.array([1.0, 0])}
        )
    end = [infos[a]["agent"]["pos_px"] for a in env.possible_agents]
    assert end[0][1] < start[0][1] - 5  # white agent moved up (row decreases)
    assert abs(end[0][0] - start[0][0]) < 1
    assert end[1][0] > start[1][0] + 5  # pink agent moved right
    assert rewards == {"agent_0": 0.0, "agent_1": 0.0}
    assert not any(terms.values()) and not any(truncs.values())


def test_truncates_after_max_cycles_and_seeds_reproduce() -> None:
    e = TwoAgentsParallelEnv(max_cycles=3)
    first, _ = e.reset(seed=4)
    for _ in range(3):
        _, _, _, truncs, _ = e.step({a: np.zeros(2, np.float32) for a in e.agents})
    assert all(truncs.values()) and e.agents == []
    again, _ = e.reset(seed=4)
    np.testing.assert_array_equal(first["agent_0"], again["agent_0"])
    with pytest.raises(ValueError, match="agent_1"):
        e.step({"agent_0": np.zeros(2)})
    e.close()


def _push_right_spec() -> SceneSpec:
    """Both agents just left of a red box in the middle, so pushing right moves it right."""
    return SceneSpec(
        agents=[AgentSpec((-0.35, 0.05)), AgentSpec((-0.35, -0.15), color="pink")],
        objects=[ObjectSpec("box", "red", 0.1, 1.0, (-0.15, 0.0))],
    )


def test_team_push_reward_is_the_box_progress_in_pixels() -> None:
    from worldsim.envs.multiagent import TeamPushTask

    task = TeamPushTask(parallel_env(max_cycles=40), px_per_unit=8.0)
    try:
        obs, _ = task.reset(options={"spec": _push_right_spec()})
        first = task.box_column(obs["agent_0"])
        total = 0.0
        while task.agents:
            obs, rewards, *_ = task.step({a: np.array([1.0, 0.0], np.float32) for a in task.agents})
            assert rewards["agent_0"] == rewards["agent_1"]  # one team reward
            total += rewards["agent_0"]
        last = task.box_column(obs["agent_0"])
        assert total == pytest.approx((last - first) / 8.0)
        assert last - first > 10  # the pushed box moved right by more than 10 px
    finally:
        task.close()


def test_box_column_on_a_hand_made_frame() -> None:
    from worldsim.envs.multiagent import TeamPushTask
    from worldsim.envs.scene import render_palette, render_scenery_colors

    task = TeamPushTask(parallel_env())
    frame = np.empty((64, 64, 3), np.uint8)
    frame[:] = render_scenery_colors()["floor"]
    assert task.box_column(frame) is None
    frame[20:26, 40:46] = render_palette()["blue"]  # columns 40..45: centre 43.0 (pixel centres at +0.5)
    frame[10:16, 5:11] = render_palette()["agent"]  # an agent is not the box
    assert task.box_column(frame) == pytest.approx(43.0)
    task.close()


def test_agents_vec_env_shares_one_policy_with_an_indicator_channel() -> None:
    from worldsim.envs.multiagent import TeamPushTask
    from worldsim.envs.sb3 import AgentsVecEnv

    venv = AgentsVecEnv([TeamPushTask(parallel_env(max_cycles=3)) for _ in range(2)], seed=5)
    try:
        assert venv.num_envs == 4 and venv.observation_space.shape == (64, 64, 4)
        obs = venv.reset()
        assert obs.shape == (4, 64, 64, 4)
        assert (obs[0, ..., 3] == 0).all() and (obs[1, ..., 3] == 255).all()  # agent_0, agent_1
        np.testing.assert_array_equal(obs[0, ..., :3], obs[1, ..., :3])  # both see the same frame
        for t in range(3):
            venv.step_async(np.zeros((4, 2), np.float32))
            obs, rewards, dones, infos = venv.step_wait()
            assert rewards.shape == (4,) and dones.shape == (4,)
            assert dones.all() == (t == 2)
        assert all(info["TimeLimit.truncated"] for info in infos)
        assert infos[1]["terminal_observation"].shape == (64, 64, 4)
        assert (obs[..., 3] == np.array([0, 255, 0, 255])[:, None, None]).all()  # reset in the same step
    finally:
        venv.close()


def test_aec_constructor_passes_pettingzoos_api_and_max_cycles_tests():
    from pettingzoo.test import api_test, max_cycles_test

    import worldsim.envs.multiagent as module

    api_test(module.env(max_cycles=5), num_cycles=5)
    max_cycles_test(module)


def test_supersuit_route_to_sb3_ppo():
    """PettingZoo -> SuperSuit -> SB3, the standard route: it pickles the env into its vector env."""
    import supersuit as ss
    from stable_baselines3 import PPO

    venv = ss.pettingzoo_env_to_vec_env_v1(parallel_env(max_cycles=8))
    venv = ss.concat_vec_envs_v1(venv, 2, num_cpus=0, base_class="stable_baselines3")
    # no seed=: SuperSuit's ConcatVecEnv has no seed() for SB3 to call
    model = PPO("CnnPolicy", venv, n_steps=8, batch_size=16, n_epochs=1, verbose=0)
    model.learn(total_timesteps=32)
    obs = venv.reset()
    assert obs.shape[0] == 4  # 2 copies x 2 agents
    venv.close()


def test_human_render_mode_passes_pettingzoos_render_test(monkeypatch):
    """"human" opens a pygame window (here SDL's dummy driver) and render() returns None; rgb_array
    returns the frame. The agents still observe frames, and state() still holds the frame."""
    from pettingzoo.test import render_test

    import worldsim.envs.multiagent as module

    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    render_test(lambda render_mode=None: module.env(render_mode=render_mode, max_cycles=5))
    par = module.parallel_env(render_mode="human", max_cycles=3)
    obs, _ = par.reset(seed=0)
    assert par.render() is None and obs["agent_0"].shape == (64, 64, 3)
    np.testing.assert_array_equal(par.state(), obs["agent_0"])
    par.close()
    with pytest.raises(ValueError, match="render_mode"):
        module.parallel_env(render_mode="ansi")
