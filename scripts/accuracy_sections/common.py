"""What the sections of docs/ACCURACY.md share: the inputs read from the work folder of
scripts/accuracy.sh (`Inputs`) and how figures are written (fmt, median, with_ci, spread), with
the noise measure that the noise and carry-over sections both quote (relative_noise). Writes no
section of its own.
"""
import json
import os


class Inputs:
    """The runs scripts/accuracy.sh made in WORK, with the COUNT and SEED of its hard suite. The
    files most sections read are loaded here once; the rest by the section that needs them."""

    def __init__(self, work, count, seed):
        self.work, self.count, self.seed = work, count, seed
        self.ablation_rows = self.work_json("ablation.json")
        self.real_local, self.real_global = self.load("real-local"), self.load("real-global")
        self.hard_local, self.hard_global = self.load("hard-local"), self.load("hard-global")
        self.basic = self.load("basic-local")
        self.demo = self.work_json("demo/report.json")
        first = self.hard_local["scans"][0]["name"]
        self.local_settings = self.work_json(f"hard-local/runs/{first}/report.json")["parameters"]["local"]

    def work_json(self, path):
        """A JSON file of WORK."""
        with open(f"{self.work}/{path}") as f:
            return json.load(f)

    def load(self, name):
        """The evaluation.json of the run WORK/NAME."""
        return self.work_json(f"{name}/evaluation.json")

    def run_reports(self, suite):
        """The report.json of every scan run in WORK/SUITE/runs, in the order of their names."""
        names = sorted(os.listdir(f"{self.work}/{suite}/runs"))
        return [self.work_json(f"{suite}/runs/{name}/report.json") for name in names]


def fmt(v, spec):
    """A figure written with `spec`, or `n/a` where there is none."""
    return "n/a" if v is None else spec.format(v)


def median(v):
    """The upper median (a value of the list), as every median below."""
    return sorted(v)[len(v) // 2]


def with_ci(value, ci, spec):
    """`0.744 (0.589-0.854)`: a figure with its 95% confidence interval (or alone without one)."""
    if ci is None:
        return fmt(value, spec)
    return f"{fmt(value, spec)} ({spec.format(ci[0])}-{spec.format(ci[1])})"


def spread(v):
    """`0.052 (0.041-0.077)`: the upper median of a list, with its range."""
    v = sorted(v)
    return f"{v[len(v) // 2]:.3f} ({v[0]:.3f}-{v[-1]:.3f})"


def relative_noise(inputs, suite):
    """Per scan run in WORK/SUITE/runs: the noise level (the report's noise_sigma) over the median marrow level of its
    regions of at least 500 voxels (all regions when none is that large), per voxel and per
    1 mm3 of tissue (times the square root of the voxel volume: noise averages out over
    volume, so scans with different voxels compare at equal volume)."""
    per_voxel, per_mm3 = [], []
    for rep in inputs.run_reports(suite):
        regions = [r for r in rep["marrow"]["regions"] if r["voxels"] > 0]
        big = [r["marrow"] for r in regions if r["voxels"] >= 500] or [r["marrow"] for r in regions]
        level = median(big)
        sp = rep["input"]["spacing_mm"]
        rel = rep["marrow"]["noise_sigma"] / level
        per_voxel.append(rel)
        per_mm3.append(rel * (sp[0] * sp[1] * sp[2]) ** 0.5)
    return per_voxel, per_mm3
