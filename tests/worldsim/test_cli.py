"""The command line's own behaviour: version, one-line errors, --debug."""

import os
import subprocess
import sys

import pytest

from worldsim import __version__
from worldsim.checkpoint import CheckpointError
from worldsim.cli import main


def test_version(capsys):
    main(["--version"])
    assert capsys.readouterr().out.strip() == f"worldsim {__version__}"


def test_a_project_error_is_one_line_and_debug_shows_the_traceback(tmp_path, capsys):
    args = ["check", "--checkpoint", str(tmp_path / "missing"), "--episodes", "1", "--horizon", "1",
            "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("worldsim check: CheckpointError:") and "\n" not in err and "--debug" in err
    with pytest.raises(CheckpointError):
        main(args + ["--debug"])


def test_collect_takes_env_kwargs_as_json(tmp_path, capsys):
    from worldsim.store import EpisodeStore

    main(["collect", "--env", "WorldSim/Reach-v0", "--episodes", "1", "--steps", "5", "--policy", "random",
          "--out", str(tmp_path / "s"), "--env-kwargs", '{"max_episode_steps": 2}', "--no-progress"])
    store = EpisodeStore(tmp_path / "s")
    assert store.config["env_kwargs"] == {"max_episode_steps": 2} and len(store.read(0)) == 2
    with pytest.raises(SystemExit):
        main(["collect", "--env", "WorldSim/Reach-v0", "--episodes", "1", "--steps", "5", "--policy", "random",
              "--out", str(tmp_path / "t"), "--env-kwargs", "[1]"])
    assert "takes a JSON object" in capsys.readouterr().err


def test_every_verb_takes_its_flags_at_the_top_level_and_fine_tuning_keeps_its_old_prefix():
    from worldsim.cli import VERBS, _unprefixed

    assert _unprefixed("--finetune.steps") == "--steps" and _unprefixed("--steps") == "--steps"
    for verb in ("collect", "train", "finetune", "demo", "check", "rollout", "bench", "finetune-decoder"):
        text = subprocess.run([sys.executable, "-m", "worldsim", verb, "--help"], capture_output=True, text=True,
                              env={**os.environ, "COLUMNS": "200"}).stdout
        assert "--json" in text, verb
        assert "--finetune." not in text, verb
        assert "``" not in text, verb  # field docstrings are plain text: --help shows them as written
    assert set(VERBS) >= {"collect", "train", "finetune", "finetune-decoder", "check", "rollout", "demo", "bench",
                          "play", "convert", "export"}


def test_parse_prints_the_caption_and_refuses_with_the_reason(tmp_path, capsys):
    import json

    main(["parse", "--prompt", "in the top left corner there is a red ball"])
    assert json.loads(capsys.readouterr().out)["caption"].startswith("a red ball at the top left")
    with pytest.raises(SystemExit) as exit_:
        main(["parse", "--prompt", "seventeen invisible balls"])
    assert exit_.value.code == 2 and "unknown words 'seventeen', 'invisible'" in capsys.readouterr().err
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("# a comment\na red ball\n\na blue box between them\n")
    main(["parse", "--file", str(prompts), "--json", str(tmp_path / "p.json")])
    assert capsys.readouterr().out.strip().endswith("1 of 2 prompts parse (1 refused)")
    report = json.loads((tmp_path / "p.json").read_text())
    assert [("caption" in r, "refused" in r) for r in report["prompts"]] == [(True, False), (False, True)]
