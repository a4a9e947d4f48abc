#!/usr/bin/env python3
"""Whether the local detector's operating point carries over to a coarser grid: the real
scans as reconstructed (0.6 mm in plane) and pooled 2 x 2 in plane (1.2 mm, about the
in-plane grid of whole-body MRI; scripts/pool_readers.py), beside the held-out hard phantom
suite, at the default seed noise demand and at lower ones.

For every demand: against reader 1, the detector's sensitivity, false positives per scan and
Dice mean on both real grids, and on the phantoms sensitivity and false positives per scan;
reader 2 against reader 1 on each real grid (the yardstick); and the faintest oedema that can
seed a lesion (`marrow.regions[].seed_floor_ratio` of the runs' reports: the median over the
real subjects, and over the phantoms of each phantom's bone-weighted median region).

A last row, `named`, follows each scan's own seed-floor warning: every scan (real subject or
phantom) run alone at the `--noise-z` its default run names (`marrow.noise_z_for_seed_ratio`
of its report, the demand its warning gives), or at the default where that is null; the
counts summed over the scans.

usage: scripts/carry_over.py [--bin target/release/crmo-map] [--work target/accuracy]
                             [--json FILE]
       prints one tab-separated row per demand; --json writes the figures.
       WORK must hold `real-local`, `hard-local` (with its phantoms) and the pooled readers
       `sij-stir-pooled2` (scripts/accuracy.sh makes them); the runs go to WORK/carry-*.
       Standard library only.
"""
import glob
import json
import os
import statistics
import sys

from ablation import agreement, emit, evaluate, parse_work_args, read_evaluation, real_figures

# Seed noise demands (--noise-z) evaluated; the first is the default.
DEMANDS = [17, 11, 8, 5]


def readers_figures(ev):
    a = agreement(ev, "R2", "R1")
    return {"sensitivity": a["sensitivity"], "fp_per_scan": a["false_positives_per_scan"], "dice_mean": a["dice_mean"]}


def phantom_figures(ev):
    s = ev["summary"]
    return {"sensitivity": s["sensitivity"], "fp_per_scan": s["false_positives_per_scan"]}


def weighted_median(pairs):
    """The median of `(value, weight)` pairs, each value counted `weight` times."""
    pairs = sorted(pairs)
    half, seen = sum(w for _, w in pairs) / 2.0, 0
    for v, w in pairs:
        seen += w
        if seen >= half:
            return v
    return float("nan")


def seed_floor(out):
    """Median over the runs in OUT/runs of each run's bone-weighted median seed floor."""
    floors = []
    for path in sorted(glob.glob(os.path.join(out, "runs", "*", "report.json"))):
        with open(path) as f:
            regions = (json.load(f).get("marrow") or {}).get("regions", [])
        pairs = [(r["seed_floor_ratio"], r["voxels"]) for r in regions if r.get("seed_floor_ratio") is not None]
        if pairs:
            floors.append(weighted_median(pairs))
    return statistics.median(floors) if floors else float("nan")


def named_demand(run):
    """The --noise-z that the run in RUN names (`marrow.noise_z_for_seed_ratio` of its
    report.json, as its seed-floor warning does), or None where the seed ratio binds already."""
    with open(os.path.join(run, "report.json")) as f:
        z = json.load(f)["marrow"]["noise_z_for_seed_ratio"]
    return None if z is None else f"{z:g}"


def alone(binary, kind, source, name, default_run, out, root, labels):
    """Evaluates the scan NAME of SOURCE (`--readers` or `--phantoms` as KIND) on its own, at the
    demand its default run's warning names; its evaluation and the demand used."""
    z = named_demand(default_run) or str(DEMANDS[0])
    data = os.path.join(out, "data")
    os.makedirs(data, exist_ok=True)
    link = os.path.join(data, name)
    if not os.path.islink(link):
        os.symlink(os.path.join(source, name), link)
    extra = ["--labels", labels] if kind == "--readers" else []
    return evaluate(binary, [kind, data, "--noise-z", z] + extra, os.path.join(out, "eval"), root), z


def named_runs(binary, work, kind, source, runs, names, tag, root, labels):
    """Each scan NAME of SOURCE (`--readers` or `--phantoms` as KIND) evaluated alone at the
    demand its default run RUNS/NAME names (`alone`), into WORK/carry-named/TAG-NAME:
    {name: (its evaluation, the demand, its seed floor)}."""
    results = {}
    for name in names:
        out = os.path.join(work, "carry-named", f"{tag}-{name}")
        ev, z = alone(binary, kind, source, name, os.path.join(runs, name), out, root, labels)
        results[name] = (ev, z, seed_floor(os.path.join(out, "eval")))
    return results


def reader_counts(ev):
    """Reader 1's lesions, those the detector found and its false positives."""
    a = agreement(ev, "detector", "R1")
    return a["lesions"], a["found"], a["false_positives"]


def phantom_counts(ev):
    """A one-phantom evaluation's true lesions, those found and the false positives."""
    scan = ev["scans"][0]
    return scan["true_lesions"], scan["found"], scan["false_positives"]


def summed(results, counts):
    """Sensitivity and false positives per scan over RESULTS (`named_runs`), from each
    evaluation's COUNTS: (true lesions, found, false positives)."""
    lesions, found, fps = (sum(c) for c in zip(*(counts(ev) for ev, _, _ in results.values())))
    return {"sensitivity": found / lesions, "fp_per_scan": fps / len(results)}


def named_row(binary, work, pooled, root, labels, native):
    """The row `named`: the real scans as reconstructed at the default (they name no demand),
    the pooled scans and the held-out phantoms each at the demand its own default run names."""
    real_runs, hard_runs = os.path.join(work, "carry-pooled-z17", "runs"), os.path.join(work, "hard-local", "runs")
    # A subject without reader masks is run, never scored.
    annotated = [sub for sub in sorted(os.listdir(real_runs)) if glob.glob(os.path.join(pooled, sub, "oedema_R1*"))]
    real = named_runs(binary, work, "--readers", pooled, real_runs, annotated, "pooled", root, labels)
    phantoms = os.path.join(work, "hard-local", "phantoms")
    hard = named_runs(binary, work, "--phantoms", phantoms, hard_runs, sorted(os.listdir(hard_runs)), "hard", root, labels)
    pooled_figures = summed(real, reader_counts)
    pooled_figures["dice_mean"] = statistics.mean(agreement(ev, "detector", "R1")["dice_mean"] for ev, _, _ in real.values())
    return {
        "noise_z": "named", "demands": {name: z for name, (_, z, _) in {**real, **hard}.items()},
        "native": real_figures(native), "native_seed_floor": seed_floor(os.path.join(work, "real-local")),
        "pooled": pooled_figures,
        "pooled_seed_floor": statistics.median(f for _, _, f in real.values()),
        "phantoms": summed(hard, phantom_counts),
        "phantom_seed_floor": statistics.median(f for _, _, f in hard.values()),
    }


def main():
    root, a = parse_work_args(__doc__)
    work, binary, labels = os.path.abspath(a.work), os.path.abspath(a.bin), os.path.abspath(a.labels)
    needed = [os.path.join(work, d, "evaluation.json") for d in ("real-local", "hard-local")]
    pooled = os.path.join(work, "sij-stir-pooled2")
    if not all(map(os.path.exists, needed)) or not os.path.isdir(pooled):
        sys.exit(f"carry_over.py: {work} lacks real-local, hard-local or sij-stir-pooled2: run scripts/accuracy.sh first")
    readers = read_evaluation(os.path.join(work, "real-local"))["dataset"]
    phantoms = os.path.join(work, "hard-local", "phantoms")
    rows = []
    for demand in DEMANDS:
        flags = ["--noise-z", str(demand)]
        if demand == DEMANDS[0]:
            native_dir, hard_dir = os.path.join(work, "real-local"), os.path.join(work, "hard-local")
            native, hard = read_evaluation(native_dir), read_evaluation(hard_dir)
        else:
            native_dir, hard_dir = (os.path.join(work, f"carry-{k}-z{demand}") for k in ("native", "hard"))
            native = evaluate(binary, ["--readers", readers, "--labels", labels] + flags, native_dir, root)
            hard = evaluate(binary, ["--phantoms", phantoms] + flags, hard_dir, root)
        pooled_dir = os.path.join(work, f"carry-pooled-z{demand}")
        coarse = evaluate(binary, ["--readers", pooled, "--labels", labels] + flags, pooled_dir, root)
        rows.append({
            "noise_z": demand,
            "native": real_figures(native), "native_seed_floor": seed_floor(native_dir),
            "pooled": real_figures(coarse), "pooled_seed_floor": seed_floor(pooled_dir),
            "phantoms": phantom_figures(hard), "phantom_seed_floor": seed_floor(hard_dir),
            "readers_native": readers_figures(native), "readers_pooled": readers_figures(coarse),
        })
    rows.append(named_row(binary, work, pooled, root, labels, read_evaluation(os.path.join(work, "real-local"))))
    # Tab-separated here; docs/ACCURACY.md's table is scripts/accuracy_report.py's.
    def line(r):
        n, p, h = r["native"], r["pooled"], r["phantoms"]
        return (f"{r['noise_z']}\t{n['sensitivity']:.3f}\t{n['fp_per_scan']:.2f}\t{r['native_seed_floor']:.2f}\t"
                f"{p['sensitivity']:.3f}\t{p['fp_per_scan']:.2f}\t{r['pooled_seed_floor']:.2f}\t"
                f"{h['sensitivity']:.3f}\t{h['fp_per_scan']:.2f}\t{r['phantom_seed_floor']:.2f}")
    emit("noise_z\tnative_sensitivity\tnative_fp_per_scan\tnative_seed_floor\tpooled_sensitivity\t"
         "pooled_fp_per_scan\tpooled_seed_floor\tphantom_sensitivity\tphantom_fp_per_scan\tphantom_seed_floor",
         line, rows, a.json)


if __name__ == "__main__":
    main()
