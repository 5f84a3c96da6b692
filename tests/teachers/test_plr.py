"""Prioritized Level Replay and ACCEL: each test breaks if one of the algorithm's defining rules
is broken (rank prioritisation with temperature, staleness, the buffer's replacement rule, the
replay probability and threshold, score replacement, ACCEL's edits)."""

from __future__ import annotations

import numpy as np
import pytest

from teachgym.spaces import ParamSpace
from teachgym.teachers import check_teacher
from teachgym.teachers.plr import ACCEL, PrioritizedLevelReplay

SPACE = ParamSpace(["a", "b"], [0.0, -2.0], [1.0, 3.0])
PVL = "positive_value_loss"


def fill(teacher: PrioritizedLevelReplay, scores: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Play ``len(scores)`` new levels and report ``scores`` as their value losses."""
    params, seeds = teacher.sample_levels(len(scores))
    values = np.asarray(scores, dtype=np.float64)
    teacher.update_batch(params, np.zeros(len(scores)), level_seeds=seeds, stats={PVL: values})
    return params, seeds


def test_conformance() -> None:
    check_teacher(PrioritizedLevelReplay(SPACE, seed=0, buffer_size=40))
    check_teacher(ACCEL(SPACE, seed=0, buffer_size=40))
    check_teacher(PrioritizedLevelReplay(SPACE, seed=0, score_function="l1_value_loss"))


def test_replays_follow_the_rank_distribution_with_its_temperature() -> None:
    teacher = PrioritizedLevelReplay(
        SPACE, seed=1, buffer_size=4, replay_prob=1.0, temperature=0.5, staleness_coef=0.0
    )
    _, seeds = fill(teacher, [0.1, 0.9, 0.5, 0.3])  # ranks 4, 1, 2, 3
    _, drawn = teacher.sample_levels(20_000)
    counts = np.array([(drawn == s).sum() for s in seeds]) / len(drawn)
    ranks = np.array([4, 1, 2, 3])
    expected = (1 / ranks) ** (1 / 0.5)
    expected /= expected.sum()
    np.testing.assert_allclose(counts, expected, atol=0.015)


def test_staleness_favours_the_levels_not_sampled_for_longest() -> None:
    teacher = PrioritizedLevelReplay(
        SPACE, seed=2, buffer_size=3, replay_prob=1.0, staleness_coef=1.0
    )
    fill(teacher, [0.5, 0.5, 0.5])
    _, first = teacher.sample_levels(1)
    for _ in range(200):  # a level just sampled has staleness 0: never drawn twice in a row
        _, following = teacher.sample_levels(1)
        assert following[0] != first[0]
        first = following


def test_a_full_buffer_keeps_the_higher_scoring_level() -> None:
    teacher = PrioritizedLevelReplay(SPACE, seed=3, buffer_size=3, replay_prob=0.0)
    _, seeds = fill(teacher, [0.2, 0.4, 0.6])
    _, low_seed = fill(teacher, [0.1])  # lower than every buffered score: dropped
    assert low_seed[0] not in teacher.buffer["seeds"]
    _, high_seed = fill(teacher, [0.5])  # replaces the 0.2 level
    assert sorted(teacher.buffer["scores"].tolist()) == [0.4, 0.5, 0.6]
    assert high_seed[0] in teacher.buffer["seeds"] and seeds[0] not in teacher.buffer["seeds"]
    assert teacher.metrics()["dropped"] == 1


def test_a_replayed_levels_score_is_replaced_by_its_new_episodes() -> None:
    teacher = PrioritizedLevelReplay(SPACE, seed=4, buffer_size=2, replay_prob=1.0)
    fill(teacher, [0.3, 0.7])
    params, seeds = teacher.sample_levels(1)
    teacher.update_batch(params, [0.0], level_seeds=seeds, stats={PVL: [0.05]})
    buffer = teacher.buffer
    assert buffer["scores"][buffer["seeds"] == seeds[0]].tolist() == [0.05]
    assert len(buffer["seeds"]) == 2  # the same level, not a new one


def test_no_replay_before_the_threshold_then_at_the_replay_probability() -> None:
    teacher = PrioritizedLevelReplay(SPACE, seed=5, buffer_size=100, replay_after=10)
    fill(teacher, [0.5] * 9)
    _, seeds = teacher.sample_levels(50)
    buffered = set(teacher.buffer["seeds"].tolist())
    assert not buffered & set(seeds.tolist())  # nothing replayed yet
    fill(teacher, [0.5])
    _, seeds = teacher.sample_levels(4000)
    replayed = np.isin(seeds, list(set(teacher.buffer["seeds"].tolist())))
    assert abs(replayed.mean() - 0.5) < 0.03


def test_new_levels_have_fresh_seeds_and_uniform_params() -> None:
    teacher = PrioritizedLevelReplay(SPACE, seed=6)
    params, seeds = teacher.sample_levels(3000)
    assert len(set(seeds.tolist())) == 3000 and (seeds >= 0).all()
    unit = SPACE.normalize(params)
    assert abs(unit.mean() - 0.5) < 0.02 and unit.min() >= 0 and unit.max() <= 1


def test_accel_edits_replayed_levels_near_their_params_with_their_seed() -> None:
    teacher = ACCEL(SPACE, seed=7, buffer_size=5, replay_prob=0.5, mutation_scale=0.01)
    parents, parent_seeds = fill(teacher, [0.9, 0.8, 0.7, 0.6, 0.5])
    params, seeds = teacher.sample_levels(400)
    replayed = np.isin(seeds, parent_seeds)
    exact = [
        bool(np.any(np.all(parents == row, axis=1))) for row in params
    ]  # a replay gives a buffered level exactly; an edit is near it, with its seed
    edits = replayed & ~np.array(exact)
    assert edits.sum() > 50 and teacher.metrics()["edits"] == edits.sum()
    span = SPACE.high - SPACE.low
    for row, seed in zip(params[edits], seeds[edits], strict=True):
        parent = parents[parent_seeds == seed][0]
        assert np.all(np.abs(row - parent) <= 5 * 0.01 * span)
    # Once replays began, a new draw is an edit whenever one is queued: fresh levels only
    # when the queue ran dry (about 1 draw in 20 here; every other draw without edits).
    assert teacher.metrics()["new"] - 5 < 0.1 * len(params)


def test_plr_makes_no_edits() -> None:
    teacher = PrioritizedLevelReplay(SPACE, seed=8, buffer_size=5, replay_prob=0.5)
    fill(teacher, [0.5] * 5)
    teacher.sample_levels(200)
    assert teacher.metrics()["edits"] == 0


def test_updates_without_the_value_loss_fail_and_change_nothing() -> None:
    teacher = PrioritizedLevelReplay(SPACE, seed=9, buffer_size=5)
    fill(teacher, [0.5, 0.6])
    before = teacher.buffer
    params, seeds = teacher.sample_levels(2)
    with pytest.raises(ValueError, match="positive_value_loss"):
        teacher.update_batch(params, [0.1, 0.2], level_seeds=seeds)
    with pytest.raises(ValueError, match="batched backend"):
        teacher.update(params[0], 0.1, level_seed=int(seeds[0]))
    with pytest.raises(ValueError, match="level seeds"):
        teacher.update_batch(params, [0.1, 0.2], level_seeds=[1, -3], stats={PVL: [1.0, 1.0]})
    after = teacher.buffer
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_the_l1_score_reads_its_own_statistic() -> None:
    teacher = PrioritizedLevelReplay(SPACE, seed=10, score_function="l1_value_loss")
    assert teacher.episode_statistics == ("l1_value_loss",)
    params, seeds = teacher.sample_levels(1)
    teacher.update_batch(params, [0.0], level_seeds=seeds, stats={"l1_value_loss": [0.25]})
    assert teacher.buffer["scores"].tolist() == [0.25]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"buffer_size": 0}, "buffer_size"),
        ({"replay_prob": 1.5}, "replay_prob"),
        ({"temperature": 0.0}, "temperature"),
        ({"score_function": "return"}, "score_function"),
        ({"replay_after": 5000}, "replay_after"),
    ],
)
def test_bad_hyperparameters_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PrioritizedLevelReplay(SPACE, seed=0, **kwargs)  # type: ignore[arg-type]
