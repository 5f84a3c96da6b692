"""`teachgym render` / `teachgym play` and the functions behind them."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from teachgym.cli import main
from teachgym.envs.viewing import GridPlayer, record_episode, save_gif

GRID = "teachgym/GridNavigation-v0"


@pytest.fixture(autouse=True)
def _headless(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")


def test_record_episode_follows_the_given_actions():
    # MiniGrid-Empty: the agent starts facing the goal's row; forward twice then turn.
    frames, _ = record_episode("MiniGrid-Empty-5x5-v0", actions=[2, 2, 1], seed=0)
    assert len(frames) == 4
    assert all(frame.shape == frames[0].shape and frame.dtype == np.uint8 for frame in frames)
    assert not np.array_equal(frames[0], frames[1])


def test_record_episode_with_params_and_random_actions_is_seeded():
    first, _ = record_episode("teachgym/StumpTracks-v0", {"stump_height": 1.0}, max_steps=20)
    second, _ = record_episode("teachgym/StumpTracks-v0", {"stump_height": 1.0}, max_steps=20)
    assert len(first) == 21
    np.testing.assert_array_equal(first[-1], second[-1])


def test_record_episode_rejects_bad_params_and_actions():
    with pytest.raises(ValueError, match="stump_height"):
        record_episode("teachgym/StumpTracks-v0", {"stump_height": 99.0}, max_steps=2)
    with pytest.raises(ValueError, match="action 1"):
        record_episode("MiniGrid-Empty-5x5-v0", actions=[2, 17])
    with pytest.raises(ValueError, match="not a parameterized env"):
        record_episode("MiniGrid-Empty-5x5-v0", {"size": 3.0})


def test_save_gif_writes_an_animation(tmp_path):
    frames = [np.full((8, 8, 3), value, dtype=np.uint8) for value in (0, 128, 255)]
    path = save_gif(frames, tmp_path / "clip.gif", fps=10)
    with Image.open(path) as image:
        assert image.n_frames == 3
    with pytest.raises(ValueError, match=r"\.gif"):
        save_gif(frames, tmp_path / "clip.mp4")


def test_render_command_writes_a_gif(tmp_path, capsys):
    out = tmp_path / "episode.gif"
    code = main(
        [
            "render",
            "teachgym/StumpTracks-v0",
            "--param",
            "stump_height=0.5",
            "--env-kwarg",
            "walker=short",
            "--steps",
            "5",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    with Image.open(out) as image:
        assert image.n_frames == 6
    assert "5 steps" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["render", "teachgym/Nope-v0", "--out", "x.gif"], "unknown env"),
        (["render", "teachgym/StumpTracks-v0", "--out", "x.png"], ".gif"),
        (
            ["render", "teachgym/StumpTracks-v0", "--param", "stump_height=9", "--out", "x.gif"],
            "stump_height",
        ),
        (["render", "teachgym/StumpTracks-v0", "--param", "bogus=1", "--out", "x.gif"], "bogus"),
        (
            ["render", "teachgym/StumpTracks-v0", "--param", "stump_height=tall", "--out", "x.gif"],
            "expected a number",
        ),
        (["render", "MiniGrid-Empty-5x5-v0", "--actions", "[2, 99]", "--out", "x.gif"], "action 1"),
        (["render", "MiniGrid-Empty-5x5-v0", "--actions", "{", "--out", "x.gif"], "--actions"),
        (["play", "teachgym/StumpTracks-v0"], "grid envs only"),
    ],
)
def test_bad_input_is_a_usage_error(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.gif").exists()


def test_grid_player_steps_restarts_and_quits():
    player = GridPlayer("MiniGrid-Empty-5x5-v0", seed=3)
    player.reset()
    env = player.env.unwrapped
    start = tuple(env.agent_pos)
    player.press("up")
    assert env.step_count == 1 and tuple(env.agent_pos) != start
    player.press("backspace")
    assert env.step_count == 0 and player.episodes == 2
    player.press("escape")
    assert player.closed


def test_grid_player_keeps_the_params_on_every_episode():
    pytest.importorskip("teachgym.envs.grids.grid_navigation")
    from teachgym.envs import param_space

    space = param_space(GRID)
    params = space.to_dict(space.low)
    player = GridPlayer(GRID, params, seed=1)
    for _ in range(2):
        player.reset()
        np.testing.assert_array_equal(player.env.unwrapped.params, space.low)
    player.press("escape")


def test_grid_player_event_loop_reads_the_pygame_queue():
    import pygame

    player = GridPlayer("MiniGrid-Empty-5x5-v0", seed=0)
    player.reset()
    for key in (pygame.K_UP, pygame.K_ESCAPE):
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key))
    player.start()  # returns once escape is read
    assert player.closed
