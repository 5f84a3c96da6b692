"""The ``teachgym`` command line: list, bench toy, and its error handling."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from teachgym import teachers
from teachgym.cli import _table_rows, _teacher_setting, main


def test_list_prints_teachers_and_env_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in teachers.available():
        assert name in out
    assert "alp-gmm" in out
    assert "Envs" in out


def test_list_shows_each_env_params_with_their_ranges(capsys: pytest.CaptureFixture[str]) -> None:
    from teachgym.envs import ENV_IDS, param_space

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    sections = out.split("Envs")[1]
    for env_id in ENV_IDS:
        assert f"  {env_id}" in sections
        section = sections.split(f"  {env_id}")[1].split("teachgym/")[0]
        lines = section.splitlines()
        space = param_space(env_id)
        for name, low, high in zip(space.names, space.low, space.high, strict=True):
            (line,) = [line for line in lines if line.split()[:1] == [name]]
            assert f"[{low:g}, {high:g}]" in line, line


def test_bench_toy_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nested" / "dir" / "toy.json"
    argv = ["bench", "toy", "--teachers", "random", "--seeds", "2", "--episodes", "2000"]
    assert main([*argv, "--json", str(path), "--no-progress"]) == 0
    results = json.loads(path.read_text())
    assert set(results) == {"config", "results"}
    assert results["config"]["teachers"] == ["random"]
    assert results["config"]["seeds"] == 2
    entry = results["results"]["random"]
    assert set(entry) == {"checkpoints", "mastered", "teacher_cpu_s_per_1k"}
    assert entry["checkpoints"] == [0, 1000, 2000]
    assert len(entry["mastered"]) == 2
    assert all(len(per_seed) == 3 for per_seed in entry["mastered"])
    assert [p.name for p in path.parent.iterdir()] == ["toy.json"]  # no temporary left
    out = capsys.readouterr().out
    assert "random" in out
    assert "2,000" in out
    assert "CPU s / 1k ep." in out


def test_bench_toy_set_and_repeated_teachers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "toy.json"
    argv = ["bench", "toy", "--teachers", "random", "--teachers", "oracle", "--seeds", "1"]
    argv += ["--episodes", "600", "--checkpoint-every", "200", "--cells", "4", "--no-progress"]
    argv += ["--set", "oracle.mastery_threshold=0.75", "--set", "oracle.check_every=20"]
    assert main([*argv, "--json", str(path)]) == 0
    results = json.loads(path.read_text())
    assert list(results["results"]) == ["random", "oracle"]
    assert results["config"]["teacher_kwargs"] == {
        "oracle": {"mastery_threshold": 0.75, "check_every": 20}
    }
    assert results["config"]["cells"] == 4


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--teachers", "nope"], "unknown teacher 'nope'; available teachers: alp-gmm"),
        (["--seeds", "0"], "--seeds: expected a positive integer; got 0"),
        (["--episodes", "many"], "--episodes: expected a positive integer; got 'many'"),
        (["--set", "oracle"], "expected TEACHER.KEY=VALUE"),
        (["--set", "random.nope=1"], "'random' has no hyperparameter"),
        (["--set", "oracle.check_every=2"], "'oracle', which is not among the benchmarked"),
        (["--teachers", "random", "random"], "more than once"),
    ],
)
def test_bad_input_exits_2_without_traceback(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    default = ["--teachers", "random"] if "--teachers" not in argv else []
    assert main(["bench", "toy", *default, *argv, "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_unknown_teacher_lists_all_available(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "toy", "--teachers", "random", "nope"]) == 2
    err = capsys.readouterr().err
    assert "nope" in err
    for name in teachers.available():
        assert name in err


def test_json_path_that_is_a_directory_fails_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "toy", "--teachers", "random", "--json", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_missing_command_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["bench"]) == 2
    assert main(["--help"]) == 0
    assert "bench" in capsys.readouterr().out


def test_teacher_setting_parses_json_values() -> None:
    assert _teacher_setting("alp-gmm.fit_rate=100") == ("alp-gmm", "fit_rate", 100)
    assert _teacher_setting("oracle.directions=[1,-1]") == ("oracle", "directions", [1, -1])
    assert _teacher_setting("x.flag=true") == ("x", "flag", True)
    assert _teacher_setting("x.name=abc") == ("x", "name", "abc")
    assert _teacher_setting("my.teacher.k=0.5") == ("my.teacher", "k", 0.5)


def test_table_rows_are_bounded() -> None:
    assert _table_rows(21) == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20]
    assert _table_rows(3) == [0, 1, 2]
    assert _table_rows(1) == [0]
    rows = _table_rows(101)
    assert len(rows) <= 12 and rows[0] == 0 and rows[-1] == 100
    assert _table_rows(14)[-1] == 13


def test_console_script_entry_point() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "teachgym.cli", "list"], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0
    assert "alp-gmm" in completed.stdout


def test_list_marks_the_envs_with_a_batched_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    marked = {line.split()[0] for line in lines if "(batched version" in line}
    assert marked == {
        "teachgym/GridNavigation-v0",
        "teachgym/GridKeyDoor-v0",
        "teachgym/NoisyRooms-v0",
        "teachgym/NoisyTVRooms-v0",
    }
