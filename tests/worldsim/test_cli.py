"""The command line's own behaviour: version, one-line errors, --debug."""

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
