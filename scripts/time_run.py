#!/usr/bin/env python3
"""Wall time and peak memory of `crmo-map run` on a phantom (standard library only).

usage: python3 scripts/time_run.py [--repeat N] [--spacing X Y Z] [--case seed|random]
Builds the release binary, generates the phantom once into target/time-run/input, runs the
pipeline N times and prints the median, min and max wall time and the peak resident memory
of one run. Timings on shared machines are noisy: compare ratios measured in one session.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--spacing", nargs=3, default=None)
    ap.add_argument("--case", default="seed")
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target", "release", "crmo-map")
    work = os.path.join(ROOT, "target", "time-run")
    inp = os.path.join(work, "input")
    cmd = [exe, "phantom", "--quiet", "--case", a.case, "--out", inp]
    if a.spacing:
        cmd += ["--spacing", *a.spacing]
    subprocess.run(cmd, check=True)
    run = [exe, "run", "--quiet", "--scan", os.path.join(inp, "scan.nii.gz"),
           "--atlas", os.path.join(inp, "atlas.nii.gz"), "--labels", os.path.join(inp, "labels.tsv"),
           "--out", os.path.join(work, "out")]
    times, peaks = [], []
    for _ in range(a.repeat):
        t = time.perf_counter()
        proc = subprocess.Popen(run)
        _, status, usage = os.wait4(proc.pid, 0)  # this run's own resource usage
        times.append(time.perf_counter() - t)
        if status != 0:
            sys.exit(f"crmo-map run failed with status {status}")
        peaks.append(usage.ru_maxrss / 1024)
    peak_mib = max(peaks)
    size = os.path.getsize(os.path.join(inp, "scan.nii.gz")) / 2**20
    print(f"crmo-map run on the {a.case} phantom ({size:.1f} MiB scan.nii.gz), {a.repeat} runs:")
    print(f"  wall median {statistics.median(times):.3f} s  (min {min(times):.3f}, max {max(times):.3f})")
    print(f"  peak resident memory of a run {peak_mib:.0f} MiB")


if __name__ == "__main__":
    sys.exit(main())
