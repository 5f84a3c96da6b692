"""Teacher cost as history grows, and memory after a long run.

Feeds one teacher a long stream of toy-student episodes and reports, for windows of
``--window`` episodes starting at each milestone (10⁴, 10⁵, 10⁶ by default), the teacher's
CPU seconds per 1,000 episodes (``sample`` + ``update`` only, ``time.process_time``), and the
process's resident memory at the end.

With ``--chunk N`` (N > 1) each milestone is also timed through the batch API, on a copy of the
teacher loaded from the same state: ``sample_batch(N)`` then ``update_batch`` of those N episodes,
as a batched trainer hands them over once per rollout. The run-up to each milestone then uses the
batch API too (same teacher state as one call per episode, faster to reach 10⁶).

    python benchmarks/bench_teacher_speed.py --teacher alp-gmm --milestones 10000 100000 1000000
    python benchmarks/bench_teacher_speed.py --chunk 1024 --milestones 10000 100000

The toy student's cells saturate long before 10⁶ episodes; scores stay in [0, 1] and the
teacher keeps refitting every 250 episodes, which is the cost being measured.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import resource
import time
from pathlib import Path

import numpy as np

from teachgym import teachers
from teachgym.bench.toy import ToyStudent
from teachgym.teachers import Teacher


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * resource.getpagesize() / 2**20


def time_batches(teacher: Teacher, student: ToyStudent, episodes: int, chunk: int) -> float:
    """CPU seconds of ``sample_batch`` + ``update_batch`` over ``episodes`` episodes."""
    cpu = 0.0
    done = 0
    while done < episodes:
        size = min(chunk, episodes - done)
        before = time.process_time()
        params = teacher.sample_batch(size)
        middle = time.process_time()
        scores = np.array([student.episode(row) for row in params])
        after_student = time.process_time()
        teacher.update_batch(params, scores)
        cpu += (middle - before) + (time.process_time() - after_student)
        done += size
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teacher", default="alp-gmm")
    parser.add_argument("--milestones", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--window", type=int, default=10_000, help="episodes timed per milestone")
    parser.add_argument(
        "--chunk", type=int, default=1, help="also time the batch API in chunks of this size"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    student = ToyStudent(cells=10)
    teacher = teachers.make(args.teacher, student.param_space, seed=args.seed)
    marks = sorted(args.milestones)
    results = []
    episode = 0
    started = time.perf_counter()
    for mark in marks:
        while episode < mark:  # untimed run-up to the milestone
            if args.chunk > 1:
                size = min(args.chunk, mark - episode)
                batch = teacher.sample_batch(size)
                teacher.update_batch(batch, [student.episode(row) for row in batch])
                episode += size
                continue
            params = teacher.sample()
            teacher.update(params, student.episode(params))
            episode += 1
        if args.chunk > 1:
            batched = teachers.make(args.teacher, student.param_space, seed=args.seed)
            batched.load_state_dict(teacher.state_dict())
            batched_cpu = time_batches(batched, copy.deepcopy(student), args.window, args.chunk)
        cpu = 0.0
        for _ in range(args.window):
            before = time.process_time()
            params = teacher.sample()
            middle = time.process_time()
            score = student.episode(params)
            after_student = time.process_time()
            teacher.update(params, score)
            cpu += (middle - before) + (time.process_time() - after_student)
            episode += 1
        row = {
            "episodes_before_window": mark,
            "teacher_cpu_s_per_1k": 1000 * cpu / args.window,
            "rss_mb": current_rss_mb(),
        }
        message = (
            f"{args.teacher} at {mark:>9,} updates: {row['teacher_cpu_s_per_1k']:.3f} CPU s "
            f"per 1k episodes one at a time"
        )
        if args.chunk > 1:
            row["chunk"] = args.chunk
            row["batched_teacher_cpu_s_per_1k"] = 1000 * batched_cpu / args.window
            message += f", {row['batched_teacher_cpu_s_per_1k']:.3f} in batches of {args.chunk}"
        results.append(row)
        print(f"{message}, RSS {row['rss_mb']:.0f} MB", flush=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"total episodes {episode:,}; peak RSS {peak_mb:.0f} MB; "
        f"wall {time.perf_counter() - started:.0f} s"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "teacher": args.teacher,
                    "window": args.window,
                    "chunk": args.chunk,
                    "results": results,
                    "peak_rss_mb": peak_mb,
                    "total_episodes": episode,
                    "machine": platform.platform(),
                    "python": platform.python_version(),
                    "date": time.strftime("%Y-%m-%d"),
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
