"""A user's own teacher from the command line: ``--import`` takes a module in the current
directory or a file path, the run folder records it resolved (so ``--resume`` and the command in
``command.txt`` work from anywhere), and a module that is missing or broken is a usage error."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from teachgym import teachers
from teachgym.cli import main

ENV = "teachgym/GridNavigation-v0"
TINY = [
    "--teacher", "frontier",
    "--env-kwarg", "max_episode_steps=20",
    "--n-envs", "2",
    "--algo-kwarg", "n_steps=32",
    "--algo-kwarg", "batch_size=32",
    "--algo-kwarg", "n_epochs=1",
    "--algo-kwarg", 'policy_kwargs={"net_arch": [16]}',
    "--eval-episodes", "0",
    "--torch-threads", "1",
    "--no-progress",
]  # fmt: skip

MYTEACH = '''\
"""A user's teacher module, as it sits beside their experiments."""
from teachgym import teachers


class Frontier(teachers.Teacher):
    """Always the lower corner of the space."""

    def _sample(self):
        return self.param_space.low.copy()

    def _update(self, params, score):
        pass


teachers.register("frontier", Frontier)
'''


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A current directory holding ``myteach.py``; imports and registrations are undone after."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "myteach.py").write_text(MYTEACH)
    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield work
    forget_modules_in(tmp_path)


def forget_modules_in(folder: Path) -> None:
    """What a new process starts with: no module from ``folder``, no ``frontier`` teacher."""
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None)).startswith(str(folder)):
            del sys.modules[name]  # also the entry under the recorded path
    teachers.registry._REGISTRY.pop("frontier", None)


def test_train_imports_a_module_from_the_current_directory(workdir: Path) -> None:
    assert main(["train", ENV, "--import", "myteach", *TINY, "--steps", "64", "--out", "r1"]) == 0
    stored = json.loads((workdir / "r1" / "config.json").read_text())
    assert stored["config"]["imports"] == [str(workdir / "myteach.py")]
    assert stored["config"]["teacher"] == "frontier"
    command = shlex.split((workdir / "r1" / "command.txt").read_text().splitlines()[0])
    assert command[command.index("--import") + 1] == str(workdir / "myteach.py")


def test_train_imports_a_file_path_and_resumes_without_import_from_elsewhere(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", ENV, "--import", "./myteach.py", *TINY, "--steps", "64"]
    assert main([*argv, "--checkpoint-interval", "64", "--out", "r1"]) == 0
    run_dir = workdir / "r1"
    assert json.loads((run_dir / "config.json").read_text())["config"]["imports"] == [
        str(workdir / "myteach.py")
    ]
    forget_modules_in(workdir)
    elsewhere = workdir.parent / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["train", "--resume", str(run_dir), "--steps", "128", "--no-progress"]) == 0
    assert "Resuming" in capsys.readouterr().out
    assert "frontier" in teachers.available()
    assert json.loads((run_dir / "summary.json").read_text())["num_timesteps"] == 128


def test_subprocess_workers_accept_a_module_of_the_current_directory(workdir: Path) -> None:
    argv = ["train", ENV, "--import", "myteach", *TINY, "--steps", "64", "--vec-env", "subproc"]
    assert main([*argv, "--out", "r1"]) == 0


def test_eval_of_a_custom_teacher_run_does_not_need_the_teacher(workdir: Path) -> None:
    assert main(["train", ENV, "--import", "myteach", *TINY, "--steps", "64", "--out", "r1"]) == 0
    (workdir / "myteach.py").rename(workdir / "moved_away.py")  # evaluation never uses it
    done = subprocess.run(
        [sys.executable, "-m", "teachgym.cli", "eval", str(workdir / "r1"), "--no-progress"],
        cwd=workdir.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "% mastered" in done.stdout


# ---------------------------------------------------------------------------------- list, bench
def test_list_takes_import(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--import", "myteach"]) == 0
    assert "frontier" in capsys.readouterr().out


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_bench_toy_takes_import(
    workdir: Path, jobs: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["bench", "toy", "--import", "./myteach.py", "--teachers", "frontier", "random"]
    argv += ["--seeds", "2", "--episodes", "200", "--checkpoint-every", "100", "--jobs", jobs]
    assert main([*argv, "--json", "toy.json", "--no-progress"]) == 0
    results = json.loads((workdir / "toy.json").read_text())
    assert list(results["results"]) == ["frontier", "random"]
    assert "frontier" in capsys.readouterr().out


# ---------------------------------------------------------------------------------- errors
BROKEN = {
    "boom_raises.py": 'x = 1\nraise RuntimeError("no GPU here")\n',
    "boom_syntax.py": "def broken(:\n",
    "boom_needs.py": "import no_such_dependency_xyz\n",
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("no_such_teacher_module", ["'no_such_teacher_module'", "current directory", "expected"]),
        ("./missing.py", ["missing.py", "does not exist", "expected a path to a .py file"]),
        ("notes.txt", ["notes.txt", "expected a path to a .py file"]),
        ("not a-module", ["'not a-module'", "expected a module name"]),
        ("boom_raises", ["'boom_raises'", "RuntimeError: no GPU here", "line 2"]),
        ("./boom_syntax.py", ["boom_syntax.py", "SyntaxError"]),
        ("boom_needs", ["'boom_needs'", "no_such_dependency_xyz", "line 1"]),
    ],
)
@pytest.mark.parametrize(
    "command",
    [
        ["train", ENV, "--teacher", "frontier", "--steps", "64", "--no-progress"],
        ["bench", "toy", "--teachers", "random", "--episodes", "100", "--no-progress"],
        ["list"],
    ],
    ids=["train", "bench", "list"],
)
def test_a_bad_import_exits_2_naming_it(
    workdir: Path,
    value: str,
    expected: list[str],
    command: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, source in BROKEN.items():
        (workdir / name).write_text(source)
    (workdir / "notes.txt").write_text("not python\n")
    assert main([*command, "--import", value]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for part in expected:
        assert part in err, err
    assert not (workdir / "runs").exists()
