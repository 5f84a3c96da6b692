"""Stump Tracks and Hexagon Tracks: walkers, parameters, geometry guards, contracts.

The registry-wide contract tests (tests/envs/test_env_contract.py) cover the default construction of
each id; these tests cover the walker variants, constructor options and what the parameters do.
"""

from __future__ import annotations

import itertools
import math
import pickle
import warnings

import Box2D
import gymnasium as gym
import numpy as np
import pytest
from Box2D.b2 import edgeShape, fixtureDef, polygonShape
from gymnasium.utils.env_checker import check_env as gym_check_env
from hypothesis import given, settings
from hypothesis import strategies as st
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from walker_gait import WalkerGait  # benchmarks/walker_gait.py, on the path by conftest.py

import teachgym  # noqa: F401  (registers the ids)
from teachgym.envs.walkers.geometry import (
    FINISH_X,
    FIRST_OBSTACLE_X,
    TERRAIN_HEIGHT,
    TERRAIN_STEP,
    convex_obstacle,
)
from teachgym.envs.walkers.hexagon_tracks import (
    MIN_THICKNESS,
    MIN_VERTEX_GAP,
    HexagonTracks,
    hexagon_polygon,
)
from teachgym.envs.walkers.stump_tracks import MIN_STUMP_HEIGHT, StumpTracks

WALKER_SHAPES = {"default": (24, 4), "short": (24, 4), "quadruped": (34, 8)}
ENV_CLASSES = (StumpTracks, HexagonTracks)


def _rollout(env: gym.Env, seed: int, params: object, steps: int = 100) -> list:
    obs, _ = env.reset(seed=seed, options={"params": params})
    env.action_space.seed(seed)
    trace = [(obs.tolist(), 0.0, False)]
    for _ in range(steps):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        trace.append((obs.tolist(), float(reward), terminated))
        if terminated or truncated:
            obs, _ = env.reset()
            trace.append((obs.tolist(), 0.0, False))
    return trace


def _stump_heights(env: StumpTracks) -> np.ndarray:
    """Stump heights of the current episode, terrain steps."""
    return np.array(
        [
            (max(y for _, y in poly) - TERRAIN_HEIGHT) / TERRAIN_STEP
            for poly in env.obstacle_polygons
        ]
    )


def _assert_box2d_polygon(polygon: list[tuple[float, float]]) -> None:
    """What Box2D requires of a polygon, checked in Python (Box2D itself would assert)."""
    assert 3 <= len(polygon) <= 8
    for i, a in enumerate(polygon):
        b, c = polygon[(i + 1) % len(polygon)], polygon[(i + 2) % len(polygon)]
        assert math.dist(a, b) >= min(MIN_VERTEX_GAP, MIN_THICKNESS) - 1e-5  # 1e-6 grid
        assert (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]) > 0  # convex, CCW
    area = 0.5 * sum(
        a[0] * b[1] - b[0] * a[1] for a, b in zip(polygon, polygon[1:] + polygon[:1], strict=True)
    )
    assert area > MIN_THICKNESS**2 / 2


# ---------------------------------------------------------------------- walkers and spaces
@pytest.mark.parametrize("env_class", ENV_CLASSES)
@pytest.mark.parametrize("walker", sorted(WALKER_SHAPES))
def test_walker_variants_have_their_spaces_and_stay_inside_them(env_class, walker):
    env = env_class(walker=walker)
    obs_dim, action_dim = WALKER_SHAPES[walker]
    assert env.observation_space.shape == (obs_dim,)
    assert env.action_space.shape == (action_dim,)
    assert env.observation_space.dtype == np.float32 and env.action_space.dtype == np.float32
    np.testing.assert_array_equal(env.action_space.low, -1.0)
    np.testing.assert_array_equal(env.action_space.high, 1.0)
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float32 and env.observation_space.contains(obs)
    env.action_space.seed(0)
    for _ in range(60):
        obs, reward, terminated, _, _ = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs)
        assert type(reward) is float
        if terminated:
            env.reset()
    # Layout: one 5-value block per leg, contact last in each block, lidar fractions at the end.
    contacts = obs[8 : 4 + 5 * (action_dim // 2) : 5]
    assert contacts.shape == (action_dim // 2,) and set(contacts.tolist()) <= {0.0, 1.0}
    assert np.all((obs[-10:] >= 0.0) & (obs[-10:] <= 1.0))


def test_walker_bodies_differ_as_documented():
    legs = {}
    for walker in WALKER_SHAPES:
        env = StumpTracks(walker=walker)
        env.reset(seed=0, options={"params": {"stump_height": 0.0}})
        legs[walker] = env.body.leg_length
        assert len(env.joints) == WALKER_SHAPES[walker][1] and len(env.legs) == len(env.joints)
    assert legs["short"] == pytest.approx(legs["default"] / 2)
    assert legs["quadruped"] > legs["default"]
    assert StumpTracks(walker="quadruped").body.motors_torque > StumpTracks().body.motors_torque


def test_make_passes_constructor_options():
    env = gym.make("teachgym/HexagonTracks-v0", walker="short")
    assert env.unwrapped.walker == "short" and env.action_space.shape == (4,)
    assert gym.make("teachgym/HexagonTracks-v0").unwrapped.walker == "quadruped"
    assert gym.make("teachgym/StumpTracks-v0").unwrapped.walker == "default"
    assert gym.make("teachgym/StumpTracks-v0").spec.max_episode_steps == 2000


def test_return_range_and_mastery_threshold_are_the_papers():
    for env_class in ENV_CLASSES:
        assert env_class.return_range == (-150.0, 350.0)
        assert env_class.mastery_threshold == 230.0


# ---------------------------------------------------------------------- constructor options
def test_ranges_can_be_widened_for_the_unlearnable_ratio_study():
    env = StumpTracks(stump_height_range=(0.0, 5.0), obstacle_spacing_range=(1.0, 8.0))
    np.testing.assert_array_equal(env.param_space.low, [0.0, 1.0])
    np.testing.assert_array_equal(env.param_space.high, [5.0, 8.0])
    env.reset(seed=0, options={"params": {"stump_height": 4.5, "obstacle_spacing": 8.0}})
    assert np.mean(_stump_heights(env)) == pytest.approx(4.5, abs=0.15)
    with pytest.raises(ValueError, match=r"'stump_height' = 4\.5 is outside its range \[0, 3\]"):
        StumpTracks().reset(options={"params": {"stump_height": 4.5}})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"walker": "tall"},
            r"walker must be one of \['default', 'quadruped', 'short'\]; got 'tall'",
        ),
        ({"walker": None}, "walker must be one of"),
        ({"stump_height_range": (3.0, 1.0)}, r"stump_height_range must satisfy 0 <= low < high"),
        ({"stump_height_range": (-1.0, 3.0)}, r"got \(-1\.0, 3\.0\)"),
        ({"stump_height_range": (0.0, math.inf)}, "both finite"),
        ({"stump_height_range": (0.0, 1.0, 2.0)}, r"stump_height_range must be a pair"),
        ({"stump_height_range": "03"}, r"stump_height_range must be a pair .* got '03'"),
        ({"obstacle_spacing_range": 6.0}, r"obstacle_spacing_range must be a pair .* got 6\.0"),
        ({"obstacle_spacing_range": (2.0, 2.0)}, "obstacle_spacing_range must satisfy"),
        ({"render_mode": "rgb"}, r"render_mode must be None or one of .*got 'rgb'"),
    ],
)
def test_invalid_stump_tracks_options_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        StumpTracks(**kwargs)


def test_invalid_hexagon_tracks_options_raise_value_error():
    with pytest.raises(ValueError, match=r"walker must be one of .* got 'biped'"):
        HexagonTracks(walker="biped")
    with pytest.raises(ValueError, match="render_mode"):
        HexagonTracks(render_mode="ascii")


# ---------------------------------------------------------------------- stump track structure
def test_stump_height_zero_is_a_perfectly_flat_track():
    env = StumpTracks()
    env.reset(seed=0, options={"params": {"stump_height": 0.0, "obstacle_spacing": 0.0}})
    assert env.obstacle_polygons == []
    assert set(env.terrain_y) == {TERRAIN_HEIGHT}
    shapes = [fixture.shape for body in env.terrain for fixture in body.fixtures]
    assert shapes and all(isinstance(shape, edgeShape) for shape in shapes)  # no stump bodies
    heights = [vertex[1] for shape in shapes for vertex in shape.vertices]
    np.testing.assert_allclose(heights, TERRAIN_HEIGHT, rtol=1e-7)  # Box2D stores float32
    # Any positive mean gives stumps, floored at the minimum height.
    env.reset(seed=0, options={"params": {"stump_height": 0.01, "obstacle_spacing": 0.0}})
    heights = _stump_heights(env)
    assert len(heights) > 100 and heights.min() == pytest.approx(MIN_STUMP_HEIGHT)


@pytest.mark.parametrize("mean", [0.3, 1.5, 3.0])
def test_stump_heights_are_drawn_around_the_mean_and_never_below_the_floor(mean):
    env = StumpTracks()
    heights = []
    for seed in range(4):
        env.reset(seed=seed, options={"params": {"stump_height": mean, "obstacle_spacing": 0.5}})
        heights.extend(_stump_heights(env))
    heights = np.array(heights)
    assert heights.min() >= MIN_STUMP_HEIGHT
    assert len(heights) > 300
    assert heights.mean() == pytest.approx(mean, abs=0.03)
    assert 0.07 < heights.std() < 0.13  # N(mean, 0.1)
    drawn = heights[heights > MIN_STUMP_HEIGHT + 1e-9]
    assert len(np.unique(drawn)) == len(drawn)  # each stump drawn, not one height for all


def test_stump_heights_come_from_the_seeded_generator():
    env = StumpTracks()
    params = {"stump_height": 2.0, "obstacle_spacing": 2.0}
    env.reset(seed=3, options={"params": params})
    first = _stump_heights(env)
    env.reset(seed=3, options={"params": params})
    np.testing.assert_array_equal(_stump_heights(env), first)
    env.reset(seed=4, options={"params": params})
    assert not np.array_equal(_stump_heights(env), first)


@pytest.mark.parametrize("spacing", [0.0, 1.0, 3.0, 6.0])
def test_obstacle_spacing_is_the_flat_ground_between_stumps(spacing):
    env = StumpTracks()
    env.reset(seed=0, options={"params": {"stump_height": 1.0, "obstacle_spacing": spacing}})
    lefts = np.array([min(x for x, _ in poly) for poly in env.obstacle_polygons])
    rights = np.array([max(x for x, _ in poly) for poly in env.obstacle_polygons])
    np.testing.assert_allclose(rights - lefts, TERRAIN_STEP)
    np.testing.assert_allclose(lefts[1:] - rights[:-1], spacing, atol=1e-9)
    assert lefts[0] == pytest.approx(FIRST_OBSTACLE_X)
    assert lefts[-1] < FINISH_X <= rights[-1] + spacing + 1e-9  # stumps up to the finish line
    assert len(lefts) == math.ceil((FINISH_X - FIRST_OBSTACLE_X) / (TERRAIN_STEP + spacing))


def test_denser_stumps_mean_more_stumps():
    counts = []
    for spacing in (6.0, 3.0, 1.0, 0.0):
        env = StumpTracks()
        env.reset(seed=0, options={"params": {"stump_height": 1.0, "obstacle_spacing": spacing}})
        counts.append(len(env.obstacle_polygons))
    assert counts == sorted(counts) and counts[0] == 13 and counts[-1] >= 170


def test_lidar_sees_stumps():
    env = StumpTracks()
    flat_obs, _ = env.reset(seed=0, options={"params": {"stump_height": 0.0}})
    env.reset(seed=0, options={"params": {"stump_height": 3.0}})
    # Walk the hull up to the first stump: the forward rays now hit it before the ground.
    env.hull.position = (FIRST_OBSTACLE_X - 1.0, env.hull.position[1])
    obs, *_ = env.step(np.zeros(4, dtype=np.float32))
    assert obs[-1] < flat_obs[-1]


def test_scripted_gait_walks_on_flat_ground_but_not_over_the_short_walkers_highest_stumps():
    """The short walker's hips are lower than a 3-step stump: no gait can climb it."""
    distances = {}
    for height in (0.0, 3.0):
        env = gym.make("teachgym/StumpTracks-v0", walker="short")
        obs, _ = env.reset(seed=0, options={"params": {"stump_height": height}})
        start = env.unwrapped.hull.position[0]
        gait = WalkerGait.for_walker("short")
        for _ in range(700):
            obs, _, terminated, truncated, _ = env.step(gait(obs))
            if terminated or truncated:
                break
        distances[height] = env.unwrapped.hull.position[0] - start
    assert distances[0.0] > 10.0  # past the first stump's position and well beyond
    assert distances[3.0] < FIRST_OBSTACLE_X - 4.0  # stopped before the first stump
    assert distances[0.0] > 3 * distances[3.0]


# ---------------------------------------------------------------------- hexagon geometry
def _box2d_accepts(polygons: list[list[tuple[float, float]]]) -> None:
    world = Box2D.b2World()
    fixture = fixtureDef(shape=polygonShape(vertices=[(0, 0), (1, 0), (0, 1)]))
    body = world.CreateStaticBody()
    for polygon in polygons:
        fixture.shape.vertices = polygon
        body.CreateFixture(fixture)  # raises AssertionError on a polygon Box2D rejects


def test_every_corner_of_the_hexagon_space_gives_a_valid_obstacle():
    rng = np.random.default_rng(0)
    polygons = []
    for corner in itertools.product((0.0, 4.0), repeat=12):
        offsets = np.array(corner).reshape(6, 2)
        for noisy in (offsets, offsets + rng.normal(0.0, 0.1, size=(6, 2))):
            polygon = hexagon_polygon(noisy, anchor_x=20.0)
            _assert_box2d_polygon(polygon)
            polygons.append(polygon)
    _box2d_accepts(polygons)


def test_degenerate_hexagons_are_thickened_not_passed_to_box2d():
    # All four upper vertices meet at one point above the two merged ground vertices: the hull
    # is a vertical segment. So are exact copies of one point, and a flat sliver.
    spike = np.array([[1.0, 0.0], [1.0, 0.25], [0.75, 0.0], [0.25, 0.0], [0.0, 0.25], [0.0, 0.0]])
    cases = [
        hexagon_polygon(spike, anchor_x=20.0),
        convex_obstacle([(1.0, 1.0)] * 6, MIN_VERTEX_GAP, MIN_THICKNESS),
        convex_obstacle([(0.0, 0.0), (2.0, 0.0), (1.0, 1e-4)], MIN_VERTEX_GAP, MIN_THICKNESS),
        convex_obstacle([(0.0, 0.0), (1e-3, 0.0), (0.0, 1e-3)], MIN_VERTEX_GAP, MIN_THICKNESS),
    ]
    for polygon in cases:
        _assert_box2d_polygon(polygon)
    _box2d_accepts(cases)


@settings(max_examples=150, deadline=None)
@given(
    offsets=st.lists(st.floats(0.0, 4.0), min_size=12, max_size=12),
    noise_seed=st.integers(0, 2**32 - 1),
)
def test_random_hexagon_params_give_valid_obstacles(offsets, noise_seed):
    noise = np.random.default_rng(noise_seed).normal(0.0, 0.1, size=(6, 2))
    polygon = hexagon_polygon(np.array(offsets).reshape(6, 2) + noise, anchor_x=20.0)
    _assert_box2d_polygon(polygon)
    _box2d_accepts([polygon])


@settings(max_examples=150, deadline=None)
@given(
    points=st.lists(
        st.tuples(st.floats(-3.0, 3.0), st.floats(-3.0, 3.0)) | st.sampled_from([(0.0, 0.0)]),
        min_size=1,
        max_size=8,
    )
)
def test_convex_obstacle_accepts_any_points(points):
    polygon = convex_obstacle(points, MIN_VERTEX_GAP, MIN_THICKNESS)
    _assert_box2d_polygon(polygon)
    _box2d_accepts([polygon])


def test_hexagon_env_resets_at_corners_and_random_points():
    env = HexagonTracks()
    rng = np.random.default_rng(1)
    points = [np.zeros(12), np.full(12, 4.0), np.full(12, 2.0)]
    points += list(rng.integers(0, 2, size=(20, 12)) * 4.0) + list(rng.uniform(0, 4, (10, 12)))
    for seed, params in enumerate(points):
        env.reset(seed=seed, options={"params": params})
        assert len(env.obstacle_polygons) == 9
        for polygon in env.obstacle_polygons:
            _assert_box2d_polygon(polygon)
        env.step(env.action_space.sample())


def test_hexagon_params_move_the_vertices_as_documented():
    env = HexagonTracks()

    def tops(**params: float) -> np.ndarray:
        env.reset(
            seed=0, options={"params": {name: 0.0 for name in env.param_space.names} | params}
        )
        return np.array([max(y for _, y in poly) for poly in env.obstacle_polygons])

    flat = tops()
    assert np.all(flat - TERRAIN_HEIGHT < 1.0 * TERRAIN_STEP)  # the half-step hexagon, plus noise
    np.testing.assert_array_equal(tops(vertex_0_dy=4.0, vertex_5_dy=4.0), flat)  # ground vertices
    raised = tops(vertex_2_dy=4.0, vertex_3_dy=4.0)
    np.testing.assert_allclose(raised - flat, 4.0 * TERRAIN_STEP, atol=0.5 * TERRAIN_STEP)
    zeros = dict.fromkeys(env.param_space.names, 0.0)
    env.reset(seed=0, options={"params": zeros | {"vertex_5_dx": 4.0}})
    widths = [max(x for x, _ in p) - min(x for x, _ in p) for p in env.obstacle_polygons]
    assert min(widths) > 4.0 * TERRAIN_STEP


# ---------------------------------------------------------------------- contracts
@pytest.mark.parametrize(
    ("env_class", "walker"),
    [(StumpTracks, "short"), (StumpTracks, "quadruped"), (HexagonTracks, "default")],
)
def test_same_seed_and_params_give_identical_rollouts(env_class, walker):
    params = env_class().param_space.denormalize(np.full(env_class().param_space.dim, 0.4))
    first = _rollout(env_class(walker=walker), seed=5, params=params)
    second = _rollout(env_class(walker=walker), seed=5, params=params)
    assert first == second
    third = _rollout(env_class(walker=walker), seed=6, params=params)
    assert third != first


def test_pickle_rebuilds_with_the_same_options():
    env = gym.make("teachgym/StumpTracks-v0", walker="quadruped", stump_height_range=(0.5, 5.0))
    params = {"stump_height": 4.0, "obstacle_spacing": 2.0}
    env.reset(seed=0, options={"params": params})
    clone = pickle.loads(pickle.dumps(env))
    assert clone.unwrapped.walker == "quadruped"
    assert clone.unwrapped.param_space == env.unwrapped.param_space
    assert _rollout(clone, 9, params, 50) == _rollout(env, 9, params, 50)
    hexagons = pickle.loads(pickle.dumps(HexagonTracks(walker="short")))
    assert hexagons.walker == "short" and hexagons.action_space.shape == (4,)


@pytest.mark.parametrize("env_class", ENV_CLASSES)
@pytest.mark.parametrize("walker", sorted(WALKER_SHAPES))
def test_gymnasium_and_sb3_env_checkers_pass_without_warnings(env_class, walker):
    env = env_class(walker=walker)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(env, skip_render_check=True)
        sb3_check_env(env, warn=True)


@pytest.mark.parametrize("walker", sorted(WALKER_SHAPES))
def test_rgb_array_frames_are_400_by_600(walker):
    env = HexagonTracks(walker=walker, render_mode="rgb_array")
    env.reset(seed=0)
    for _ in range(3):
        env.step(env.action_space.sample())
    frame = env.render()
    assert frame.shape == (400, 600, 3) and frame.dtype == np.uint8
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 5  # something was drawn
    env.close()


def test_human_window_shows_the_rgb_array_frame_with_the_dummy_video_driver(monkeypatch):
    import pygame

    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    options = {"params": {"stump_height": 2.0}}
    action = np.full(8, 0.5, dtype=np.float32)
    env = StumpTracks(walker="quadruped", render_mode="human")
    reference = StumpTracks(walker="quadruped", render_mode="rgb_array")
    env.reset(seed=0, options=options)
    reference.reset(seed=0, options=options)
    start = pygame.surfarray.array3d(pygame.display.get_surface()).transpose(1, 0, 2)
    for _ in range(20):
        env.step(action)
        reference.step(action)
    window = pygame.surfarray.array3d(pygame.display.get_surface()).transpose(1, 0, 2)
    frame = reference.render()
    assert window.shape == frame.shape == (400, 600, 3)
    # The window is the rgb_array frame but for the lidar ray, which moves on at each render
    # call (the human env renders every step, the reference once).
    assert np.mean(np.all(window == frame, axis=-1)) > 0.99
    assert np.mean(np.all(window == start, axis=-1)) < 0.99, "the steps redrew nothing"
    env.close()
    reference.close()
    assert pygame.display.get_surface() is None
