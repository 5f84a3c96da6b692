"""``teachgym render ID --batched``: an episode of the batched torch version of a grid id."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from teachgym.cli import main


@pytest.mark.parametrize("env_id", ["teachgym/GridNavigation-v0", "teachgym/NoisyRooms-v0"])
def test_render_batched_writes_a_gif_of_minigrid_frames(
    tmp_path: Path, env_id: str, capsys
) -> None:
    out = tmp_path / "episode.gif"
    assert (
        main(["render", env_id, "--batched", "--steps", "12", "--seed", "1", "--out", str(out)])
        == 0
    )
    printed = capsys.readouterr().out
    steps = int(printed.split(" steps")[0].split()[-1])
    with Image.open(out) as gif:
        width, height = gif.size
        assert width >= 7 * 32 and height >= 7 * 32  # MiniGrid tiles of 32 px, whole grid
        duration = sum(gif.seek(i) or gif.info.get("duration", 0) for i in range(gif.n_frames))
    # One frame per state: the reset and each step that did not end the episode (so steps or
    # steps + 1 frames); Pillow merges equal frames, so count them by the GIF's duration.
    assert 1 <= steps <= 12
    frames = duration / (1000 / 30)
    assert steps - 0.5 <= frames <= steps + 1.5


def test_render_batched_refuses_ids_without_a_batched_version(tmp_path: Path, capsys) -> None:
    code = main(
        ["render", "teachgym/StumpTracks-v0", "--batched", "--out", str(tmp_path / "a.gif")]
    )
    assert code == 2
    assert "no batched version" in capsys.readouterr().err


def test_render_batched_is_gif_only(capsys) -> None:
    assert main(["render", "teachgym/GridNavigation-v0", "--batched", "--human"]) == 2
    assert "--batched" in capsys.readouterr().err
