"""Ground-truth Gymnasium envs: API checks, seeding, physics seen in pixels, rewards, occlusion."""

from __future__ import annotations

import importlib
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from worldsim import envs
from worldsim.envs.caption import caption
from worldsim.envs.prompt import parse_prompt
from worldsim.envs.scene import PALETTE, AgentSpec, GoalSpec, ObjectSpec, SceneSpec, TaskSpec, render_palette

GT_IDS = list(envs.GT_ENVS)
SINGLE_AGENT_IDS = [i for i in GT_IDS if "TwoAgents" not in i]


@pytest.fixture(scope="module")
def made() -> dict[str, gym.Env]:
    """One env per id, shared by the tests of this module (each holds a renderer)."""
    out = {env_id: gym.make(env_id) for env_id in GT_IDS}
    yield out
    for env in out.values():
        env.close()


def _color_mask(frame: np.ndarray, rgb: tuple[int, int, int], tol: int = 40) -> np.ndarray:
    return np.abs(frame.astype(int) - np.array(rgb)).sum(-1) < tol  # (64, 64)


def _centroid(frame: np.ndarray, rgb: tuple[int, int, int], tol: int = 40) -> np.ndarray:
    rows, cols = np.nonzero(_color_mask(frame, rgb, tol))
    return np.array([cols.mean(), rows.mean()])


@pytest.mark.parametrize("env_id", GT_IDS)
def test_gymnasium_check_env(made: dict[str, gym.Env], env_id: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. "obs is an image but not channel-first" style notes
        check_env(made[env_id].unwrapped, skip_render_check=False)


@pytest.mark.parametrize("env_id", SINGLE_AGENT_IDS)
def test_sb3_check_env(made: dict[str, gym.Env], env_id: str) -> None:
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sb3_check_env(made[env_id].unwrapped, warn=True)


def test_registration_is_idempotent_and_sets_time_limits() -> None:
    importlib.reload(envs)
    envs.register_envs()
    assert gym.spec("WorldSim/Occlusion-v0").max_episode_steps == 60
    assert gym.spec("WorldSim/PushBox-v0").max_episode_steps == 200


@pytest.mark.parametrize("env_id", GT_IDS)
def test_obs_info_and_states(made: dict[str, gym.Env], env_id: str) -> None:
    env = made[env_id]
    obs, info = env.reset(seed=1)
    assert obs.shape == (64, 64, 3) and obs.dtype == np.uint8
    np.testing.assert_array_equal(env.render(), obs)
    scene = env.unwrapped.scene
    assert info["caption"] == caption(scene)
    assert SceneSpec.from_dict(info["spec"]) == scene
    states = env.unwrapped.object_states()
    assert states.dtype == np.float32 and states.shape == (len(scene.agents) + len(scene.objects), 4)
    for k, agent in enumerate(info["agents"]):
        np.testing.assert_allclose(agent["pos"], states[k, :2], atol=1e-6)
    for j, obj in enumerate(info["objects"]):
        np.testing.assert_allclose(obj["pos"], states[len(scene.agents) + j, :2], atol=1e-6)
        assert obj["color"] == scene.objects[j].color and obj["shape"] == scene.objects[j].shape
        if obj["visible_frac"] == 1.0:  # the object's colour is found where info says it is
            col, row = _centroid(obs, PALETTE[obj["color"]])
            assert abs(col - obj["pos_px"][0]) < 1.0 and abs(row - obj["pos_px"][1]) < 1.0
    action = env.action_space.sample()
    obs2, reward, terminated, truncated, info2 = env.step(action)
    assert isinstance(reward, float) and not truncated
    np.testing.assert_array_equal(env.render(), obs2)


def test_seeded_resets_reproduce_frames_and_different_seeds_differ(made: dict[str, gym.Env]) -> None:
    env = made["WorldSim/Playground-v0"]
    rollouts = []
    for seed in (5, 5, 6):
        obs, _ = env.reset(seed=seed)
        frames = [obs]
        env.action_space.seed(0)
        for _ in range(5):
            frames.append(env.step(env.action_space.sample())[0])
        rollouts.append(np.stack(frames))
    np.testing.assert_array_equal(rollouts[0], rollouts[1])
    assert not np.array_equal(rollouts[0][0], rollouts[2][0])


def test_spec_option_replays_the_same_episode(made: dict[str, gym.Env]) -> None:
    env = made["WorldSim/Playground-v0"]
    obs_a, info = env.reset(seed=11)
    a_frames = [env.step(np.array([0.5, -0.5]))[0] for _ in range(5)]
    env.reset(seed=99)  # something else in between
    obs_b, info_b = env.reset(options={"spec": info["spec"]})
    b_frames = [env.step(np.array([0.5, -0.5]))[0] for _ in range(5)]
    np.testing.assert_array_equal(obs_a, obs_b)
    np.testing.assert_array_equal(np.stack(a_frames), np.stack(b_frames))
    assert info_b["caption"] == info["caption"]


def test_prompt_option_builds_the_parsed_scene(made: dict[str, gym.Env]) -> None:
    env = made["WorldSim/Playground-v0"]
    prompt = "a red box at the top left and a blue ball in the centre; the agent is at the bottom right"
    _, info = env.reset(seed=3, options={"prompt": prompt})
    assert info["caption"] == caption(parse_prompt(info["caption"], seed=0))
    assert info["caption"].startswith("a red box at the top left and a blue ball in the centre")
    assert [o["name"] for o in info["objects"]] == ["red_box", "blue_sphere"]
    _, again = env.reset(seed=3, options={"prompt": prompt})
    assert again["spec"] == info["spec"]


def test_bad_calls_get_clear_errors(made: dict[str, gym.Env]) -> None:
    env = made["WorldSim/Playground-v0"]
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"expected \(2,\)"):
        env.step(np.zeros(3))
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"promt": "a red ball"})
    with pytest.raises(ValueError, match="TwoAgents"):
        env.reset(options={"prompt": "two agents and a box"})
    two = made["WorldSim/TwoAgents-v0"]
    two.reset(seed=0)
    with pytest.raises(ValueError, match=r"expected \(4,\)"):
        two.step(np.zeros(2))


def _lone_agent_spec(pos: tuple[float, float] = (0.0, 0.0)) -> SceneSpec:
    return SceneSpec([AgentSpec(pos)], [ObjectSpec("box", "red", 0.1, 1.0, (-0.7, 0.7))])


@pytest.mark.parametrize(("action", "axis", "sign"), [((1, 0), 0, 1), ((-1, 0), 0, -1), ((0, 1), 1, -1)])
def test_force_moves_the_agent_that_way_in_pixels(
    made: dict[str, gym.Env], action: tuple[int, int], axis: int, sign: int
) -> None:
    env = made["WorldSim/Playground-v0"]
    obs, _ = env.reset(options={"spec": _lone_agent_spec()})
    white = render_palette()["agent"]
    before = _centroid(obs, white, tol=60)
    for _ in range(5):
        obs = env.step(np.array(action, dtype=np.float32))[0]
    after = _centroid(obs, white, tol=60)
    moved = (after - before)[axis] * sign  # +x is +col; +y is -row (image up)
    assert moved > 5.0, (before, after)
    assert abs((after - before)[1 - axis]) < 1.0


def test_walls_keep_the_agent_in_view(made: dict[str, gym.Env]) -> None:
    env = made["WorldSim/Playground-v0"]
    env.reset(options={"spec": _lone_agent_spec()})
    for _ in range(40):
        obs, _, _, _, info = env.step(np.array([1.0, 1.0], dtype=np.float32))
    col, row = info["agents"][0]["pos_px"]
    assert 0 < col < 63 and 0 < row < 63
    assert _color_mask(obs, render_palette()["agent"], tol=60).sum() >= 12


def _pushbox_spec(box_xy: tuple[float, float], goal_xy: tuple[float, float] = (0.6, 0.6)) -> SceneSpec:
    return SceneSpec(
        agents=[AgentSpec((-0.6, -0.6))],
        objects=[
            ObjectSpec("box", "red", 0.1, 1.0, box_xy),
            ObjectSpec("sphere", "blue", 0.1, 1.0, (0.6, -0.6)),
        ],
        goal=GoalSpec(goal_xy),
        task=TaskSpec(agent=0, object=0),
    )


def test_pushbox_reward_is_the_sum_of_its_terms(made: dict[str, gym.Env]) -> None:
    env = made["WorldSim/PushBox-v0"]
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(20):
        _, reward, terminated, _, info = env.step(env.unwrapped.scripted_action(rng))
        terms = {k: v for k, v in info.items() if k.startswith("reward_")}
        assert set(terms) == {"reward_dist", "reward_near", "reward_ctrl", "reward_success"}
        assert reward == pytest.approx(sum(terms.values()))
        assert info["reward_dist"] == pytest.approx(-env.unwrapped.dist_weight * info["distance"])
        if terminated:
            break


def test_pushbox_terminates_with_bonus_when_the_box_is_in_the_goal(made: dict[str, gym.Env]) -> None:
    env = made["WorldSim/PushBox-v0"]
    env.reset(options={"spec": _pushbox_spec((0.0, 0.0))})
    _, reward, terminated, _, info = env.step(np.zeros(2, dtype=np.float32))
    assert not terminated and info["reward_success"] == 0.0 and not info["is_success"]
    env.reset(options={"spec": _pushbox_spec((0.62, 0.58))})
    _, reward, terminated, _, info = env.step(np.zeros(2, dtype=np.float32))
    assert terminated and info["is_success"] and info["reward_success"] == env.unwrapped.success_bonus
    assert reward > 9.0


def test_pushbox_fills_a_goal_for_a_prompt_without_one(made: dict[str, gym.Env]) -> None:
    env = made["WorldSim/PushBox-v0"]
    _, info = env.reset(seed=4, options={"prompt": "a green box and a red ball"})
    scene = env.unwrapped.scene
    assert scene.goal is not None and scene.objects[scene.task.object].shape == "box"
    assert info["target"] == "green_box"


def test_scripted_policy_makes_contact_and_solves_pushbox(made: dict[str, gym.Env]) -> None:
    env = made["WorldSim/PushBox-v0"]
    successes = 0
    for seed in range(3):
        env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        box0 = env.unwrapped.object_states()[1, :2].copy()
        for _ in range(200):
            _, _, terminated, _, info = env.step(env.unwrapped.scripted_action(rng))
            if terminated:
                successes += 1
                break
        assert np.linalg.norm(env.unwrapped.object_states()[1, :2] - box0) > 0.2  # the box was pushed
    assert successes >= 2


def test_reach_rewards_progress_and_ends_on_the_goal(made: dict[str, gym.Env]) -> None:
    env = made["WorldSim/Reach-v0"]
    _, info = env.reset(seed=0)
    assert info["caption"].endswith("the white agent goes to the goal")
    rng, steps = np.random.default_rng(0), 0
    distance = env.unwrapped._goal_distance(env.unwrapped.object_states())
    while steps < 100:
        steps += 1
        _, reward, terminated, _, info = env.step(env.unwrapped.scripted_action(rng))
        terms = {k: v for k, v in info.items() if k.startswith("reward_")}
        assert set(terms) == {"reward_progress", "reward_ctrl", "reward_success"}
        assert reward == pytest.approx(sum(terms.values()))
        assert info["reward_progress"] == pytest.approx(env.unwrapped.progress_weight * (distance - info["distance"]))
        distance = info["distance"]
        if terminated:
            break
    assert terminated and info["is_success"] and info["reward_success"] == env.unwrapped.success_bonus
    assert steps < 60  # the scripted driver heads straight there
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step(np.zeros(2, np.float32))
    assert not terminated and abs(info["reward_progress"]) < 1e-6 and not info["is_success"]


def test_reach_and_pushbox_refuse_each_others_tasks(made: dict[str, gym.Env]) -> None:
    with pytest.raises(ValueError, match="Reach-v0"):
        made["WorldSim/PushBox-v0"].reset(options={"prompt": "a red ball; the agent goes to the goal"})
    with pytest.raises(ValueError, match="PushBox-v0"):
        made["WorldSim/Reach-v0"].reset(options={"prompt": "the agent pushes the red box into the goal"})
    _, info = made["WorldSim/Reach-v0"].reset(seed=1, options={"prompt": "a red ball at the top"})
    assert made["WorldSim/Reach-v0"].unwrapped.scene.goal is not None  # a goal is added to reach
    assert envs.scene_env_id(parse_prompt("the agent reaches the goal", seed=0)) == "WorldSim/Reach-v0"


def test_heavy_pushbox_is_the_same_scene_with_heavier_objects(made: dict[str, gym.Env]) -> None:
    light, heavy = made["WorldSim/PushBox-v0"], made["WorldSim/PushBoxHeavy-v0"]
    spec = _pushbox_spec((-0.35, -0.6))  # the box just right of the agent
    moved, captions = {}, {}
    for name, env in (("light", light), ("heavy", heavy)):
        _, info = env.reset(options={"spec": spec})
        captions[name] = info["caption"]
        box0 = env.unwrapped.object_states()[1, :2].copy()
        for _ in range(15):  # the agent starts beside the box and drives through it
            env.step(np.array([1.0, 0.0], np.float32))
        moved[name] = float(np.linalg.norm(env.unwrapped.object_states()[1, :2] - box0))
    masses = [o.mass for o in heavy.unwrapped.scene.objects]
    assert masses == pytest.approx([4.0 * o.mass for o in spec.objects])
    assert captions["light"] == captions["heavy"]  # mass is not in the caption: only physics differs
    assert moved["light"] > 0.05 and moved["heavy"] < 0.8 * moved["light"]


def test_occlusion_object_hides_under_the_slab_and_comes_out(made: dict[str, gym.Env]) -> None:
    env = made["WorldSim/Occlusion-v0"]
    pal = render_palette()
    for seed in range(3):
        obs, info = env.reset(seed=seed)
        color = info["objects"][0]["color"]
        seen = [(info["objects"][0]["visible"], _color_mask(obs, pal[color]).sum())]
        for _ in range(40):
            obs, _, _, _, info = env.step(np.zeros(2, dtype=np.float32))
            seen.append((info["objects"][0]["visible"], _color_mask(obs, pal[color]).sum()))
        flags = [v for v, _ in seen]
        assert flags[0] and flags[-1] and not all(flags)
        first_hidden = flags.index(False)
        assert any(flags[first_hidden:])  # visible again after hiding
        for visible, pixels in seen:
            if not visible:
                assert pixels <= seen[0][1] // 2  # at most a sliver shows while "not visible"
        hidden_fully = [p for v, p in seen if not v]
        assert min(hidden_fully) == 0  # completely hidden for a while
        assert seen[-1][1] >= 0.8 * seen[0][1]  # and whole again afterwards


def test_occlusion_scripted_policy_leaves_the_crossing_alone(made: dict[str, gym.Env]) -> None:
    env = made["WorldSim/Occlusion-v0"].unwrapped
    for seed in range(3):
        env.reset(seed=seed)
        for _ in range(40):
            env.step(np.zeros(2, dtype=np.float32))
        untouched = env.object_states()[1, :2].copy()
        env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        agent0 = env.object_states()[0, :2].copy()
        for _ in range(40):
            env.step(env.scripted_action(rng))
        np.testing.assert_allclose(env.object_states()[1, :2], untouched, atol=1e-6)
        assert np.linalg.norm(env.object_states()[0, :2] - agent0) > 0.05  # the agent did move


def test_twoagents_forces_move_each_agent(made: dict[str, gym.Env]) -> None:
    env = made["WorldSim/TwoAgents-v0"]
    spec = SceneSpec(
        agents=[AgentSpec((-0.5, 0.5)), AgentSpec((0.5, 0.5), color="pink")],
        objects=[ObjectSpec("box", "cyan", 0.1, 1.0, (0.0, -0.7))],
    )
    obs, _ = env.reset(options={"spec": spec})
    assert _color_mask(obs, render_palette()["agent2"], tol=60).sum() >= 12  # the pink agent is drawn
    start = env.unwrapped.object_states()[:2, :2].copy()
    for _ in range(5):
        env.step(np.array([1.0, 0.0, 0.0, -1.0], dtype=np.float32))
    moved = env.unwrapped.object_states()[:2, :2] - start
    assert moved[0, 0] > 0.1 and abs(moved[0, 1]) < 0.05
    assert moved[1, 1] < -0.1 and abs(moved[1, 0]) < 0.05
    assert env.unwrapped.scripted_action(np.random.default_rng(0)).shape == (4,)


def test_close_is_idempotent() -> None:
    env = gym.make("WorldSim/Occlusion-v0")
    env.reset(seed=0)
    env.close()
    env.close()


def test_env_pickles_and_deep_copies_with_the_same_episode():
    import copy
    import pickle

    env = gym.make("WorldSim/PushBox-v0")
    obs, _ = env.reset(seed=3)
    for twin in (pickle.loads(pickle.dumps(env)), copy.deepcopy(env)):
        twin_obs, _ = twin.reset(seed=3)
        np.testing.assert_array_equal(twin_obs, obs)
        a = np.full(2, 0.5, np.float32)
        np.testing.assert_array_equal(twin.step(a)[0], env.step(a)[0])
        env.reset(seed=3)
        twin.close()
    env.close()


def test_async_vector_env_under_fork_steps_without_hanging():
    import subprocess
    import sys

    code = ("import gymnasium as gym, numpy as np, worldsim.envs\n"
            "v = gym.vector.AsyncVectorEnv([lambda: gym.make('WorldSim/PushBox-v0')] * 2, context='fork')\n"
            "o, _ = v.reset(seed=0)\n"
            "o, r, te, tr, info = v.step(np.zeros((2, 2), np.float32))\n"
            "assert o.shape == (2, 64, 64, 3) and o.any()\n"
            "v.close()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_users_own_envs_and_agents_folders_do_not_shadow_the_package(tmp_path):
    import subprocess
    import sys

    for name in ("envs", "agents"):  # the folder names RL projects most often have
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("MINE = True\n")
    code = ("import envs, agents, gymnasium as gym\n"
            "assert envs.MINE and agents.MINE\n"
            "env = gym.make('worldsim.envs:WorldSim/PushBox-v0')\n"  # imports the ids in a fresh process
            "assert env.reset(seed=0)[0].shape == (64, 64, 3)\n"
            "import worldsim.agents.evaluate\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
