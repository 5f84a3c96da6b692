"""Teacher cost as history grows, and memory after a long run.

Feeds one teacher a long stream of toy-student episodes and reports, for windows of
``--window`` episodes starting at each milestone (10⁴, 10⁵, 10⁶ by default), the teacher's
CPU seconds per 1,000 episodes (``sample`` + ``update`` only, ``time.process_time``), and the
process's resident memory at the end.

    python benchmarks/bench_teacher_speed.py --teacher alp-gmm --milestones 10000 100000 1000000

The toy student's cells saturate long before 10⁶ episodes; scores stay in [0, 1] and the
teacher keeps refitting every 250 episodes, which is the cost being measured.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path

from teachgym import teachers
from teachgym.bench.toy import ToyStudent


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * resource.getpagesize() / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teacher", default="alp-gmm")
    parser.add_argument("--milestones", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--window", type=int, default=10_000, help="episodes timed per milestone")
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
            params = teacher.sample()
            teacher.update(params, student.episode(params))
            episode += 1
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
        results.append(row)
        print(
            f"{args.teacher} at {mark:>9,} updates: {row['teacher_cpu_s_per_1k']:.3f} CPU s "
            f"per 1k episodes, RSS {row['rss_mb']:.0f} MB",
            flush=True,
        )
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
