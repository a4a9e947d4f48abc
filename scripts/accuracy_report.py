#!/usr/bin/env python3
"""Writes docs/ACCURACY.md (to stdout) from the runs scripts/accuracy.sh made in WORK.

usage: accuracy_report.py WORK COUNT SEED
Standard library only. Every figure comes from the evaluation.json files of that run and what
scripts/lesion_separability.py (separability-{hard,real}.json) and scripts/ablation.py
(ablation.json) wrote beside them.
"""
import json
import os
import sys

work, count, seed = sys.argv[1], sys.argv[2], sys.argv[3]


def work_json(path):
    """A JSON file of WORK."""
    with open(f"{work}/{path}") as f:
        return json.load(f)


def load(name):
    return work_json(f"{name}/evaluation.json")


def relaxed(rows, name):
    """The row of scripts/ablation.py's `rows` that relaxed the test `name`."""
    return next(r for r in rows if r["relaxed"].split(" (")[0] == name)


def fp_added(rows, name):
    """Phantom false positives per scan that relaxing the test `name` adds."""
    return relaxed(rows, name)["phantoms"]["fp_per_scan"] - rows[0]["phantoms"]["fp_per_scan"]


def fmt(v, spec):
    return "n/a" if v is None else spec.format(v)


def median(v):
    """The upper median (a value of the list), as every median below."""
    return sorted(v)[len(v) // 2]


def ablation():
    """The section on what each test costs and buys (scripts/ablation.py)."""
    rows = ablation_rows
    lines = [
        "### What each test costs and buys",
        "",
        "`scripts/ablation.py`: the real scans and the held-out hard suite evaluated again with one",
        "test of the local detector relaxed at a time, all else at the defaults (real figures",
        "against reader 1; *gained* and *lost*: true phantom lesions the relaxed detector finds",
        "that the default misses, and the other way round). The minimum lesion volume is not",
        "relaxed: it is also the phantom scoring's floor.",
        "",
        "| relaxed | flags | real sensitivity | real FP/scan | real Dice mean | phantom sensitivity | phantom FP/scan | gained | lost |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        re_, ph = r["real"], r["phantoms"]
        flags = f"`{' '.join(r['flags'])}`" if r["flags"] else ""
        lines.append(f"| {r['relaxed']} | {flags} | {re_['sensitivity']:.3f} | {re_['fp_per_scan']:.2f} | "
                     f"{re_['dice_mean']:.3f} | {ph['sensitivity']:.3f} | {ph['fp_per_scan']:.2f} | {ph['gained']} | {ph['lost']} |")
    noise, plate = relaxed(rows, "seed noise demand"), relaxed(rows, "growth-plate guard")
    lines += [
        "",
        f"On the phantoms the seed noise demand holds back {fp_added(rows, 'seed noise demand'):.1f} false positives per scan for the",
        f"{noise['phantoms']['gained']} lesions it loses, and the growth-plate guard {fp_added(rows, 'growth-plate guard'):.1f} for {plate['phantoms']['gained']}: the two",
        "tests where the phantom sensitivity goes, each earning its cost many times over. On the real",
        f"scans the noise demand holds back {noise['real']['fp_per_scan'] - rows[0]['real']['fp_per_scan']:.2f} false positives per scan at no loss; the seed",
        "ratio, the seed core and the edge guard hold back most of the rest; denoising and the fine",
        "level are what find the faint oedema (without them the real sensitivity falls to",
        f"{relaxed(rows, 'denoising')['real']['sensitivity']:.3f} and {relaxed(rows, 'fine level')['real']['sensitivity']:.3f}). Without the growth-plate guard the real sensitivity falls too",
        f"({plate['real']['sensitivity']:.3f}): the guard also decides which lesions are cut (those fused with a",
        "plate), and without it every one is, which takes faint oedema apart (sub-1007 and sub-4386).",
        "",
    ]
    return lines


def separability():
    """The section on which lesions stand out by their mean (scripts/lesion_separability.py)."""
    hard, real = work_json("separability-hard.json"), work_json("separability-real.json")
    f3 = lambda v: "-" if v is None else f"{v:.2f}"
    lines = [
        "### Which lesions stand out from their marrow",
        "",
        "`scripts/lesion_separability.py` (a matched filter told each lesion's shape): a lesion is",
        "*separable* when its mean signal beats that of every one of 500 patches of its shape placed",
        "at random in its region away from every lesion (lesions with fewer than 50 such places, one",
        "filling most of a small region, are left out of the shares). Separable is neither findable",
        "(a detector is not told the shape) nor its opposite (position, edges and the local level say",
        "more than a region-wide mean); it asks whether a detector is limited by the lesions'",
        "contrast or by its own tests. Real: reader 1's lesions as scored above, the hand-drawn",
        "region, the ratio to the readers' normal marrow; phantoms: the held-out hard suite.",
        "",
        "| lesions | ratio | count | placed | separable | found by the detector | of the separable | of the others | found by reader 2 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, t in (("real, reader 1", real), ("held-out hard suite", hard)):
        for b in t["bins"]:
            lines.append(f"| {name} | {b['ratio']} | {b['lesions']} | {b['placed']} | {f3(b['separable'])} | "
                         f"{f3(b['found'])} | {f3(b['found_separable'])} | {f3(b['found_other'])} | "
                         f"{f3(b.get('found_by_reader_2'))} |")
    by_test = hard.get("separable_missed_by_seed_test", {})
    plate_gained = relaxed(ablation_rows, "growth-plate guard")["phantoms"]["gained"]
    lines += [
        "",
        f"On the real scans the detector finds {real['bins'][-1]['found_separable']:.0%} of the {real['separable']} separable lesions (of {real['placed']} placed)",
        f"and {real['bins'][-1]['found_other']:.0%} of the others (reader 2 finds {real['bins'][-1]['found_by_reader_2']:.0%} of all): contrast is what",
        f"limits it there. On the phantoms it misses {hard['separable_missed']} of the {hard['separable']} separable lesions: its own",
        "tests lose them. Voxel by voxel against the region's level (without the local lifts),",
        f"{by_test.get('noise demand', 0)} of them fill no seed core past the noise demand though they would past the seed",
        f"ratio, {by_test.get('seed ratio', 0)} not even past the ratio, and {by_test.get('seeded', 0)} would seed: those are lost to",
        "the local lifts of the level and to the growth-plate tests (relaxing the growth-plate guard",
        f"gains {plate_gained} lesions for {fp_added(ablation_rows, 'growth-plate guard'):.1f} false positives per scan: *What each test costs and buys*).",
        "The noise demand is the phantom's main loss: it stands in for what tells the phantom's",
        "normal bright anatomy from lesions, which a lower demand lets through (the noise table above).",
        "",
    ]
    return lines


def carry_over():
    """The section on the real scans pooled to a coarser grid (scripts/carry_over.py)."""
    rows = work_json("carry_over.json")
    d, low = rows[0], rows[-1]
    pooled_noise, native_noise = relative_noise(f"carry-pooled-z{d['noise_z']}"), relative_noise("real-local")
    lines = [
        "",
        "### Carry-over to a coarser grid",
        "",
        "The real scans are reconstructed at 0.6 mm in plane; whole-body MRI comes at about 1-1.6 mm.",
        "`scripts/pool_readers.py` pools every file of the real dataset 2 x 2 in plane (1.2 mm; the",
        "scan's block means, the masks where half a block is set), and `scripts/carry_over.py`",
        "evaluates both grids and the held-out hard suite at the default seed noise demand and lower",
        "ones. *Seed floor*: the faintest oedema that can seed a lesion, as a ratio to the region's",
        "marrow (`marrow.regions[].seed_floor_ratio` of report.json; median over the real subjects,",
        "and over the phantoms of each one's bone-weighted median region). Real figures against",
        "reader 1; on the pooled grid reader 2 finds "
        f"{d['readers_pooled']['sensitivity']:.3f} at {d['readers_pooled']['fp_per_scan']:.2f} (as reconstructed "
        f"{d['readers_native']['sensitivity']:.3f} at {d['readers_native']['fp_per_scan']:.2f}).",
        "",
        "| noise_z | real 0.6 mm | seed floor | real pooled 1.2 mm | seed floor | held-out phantoms | seed floor |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        n, p, h = r["native"], r["pooled"], r["phantoms"]
        name = f"**{r['noise_z']}** (default)" if r is d else str(r["noise_z"])
        lines.append(f"| {name} | {n['sensitivity']:.3f} at {n['fp_per_scan']:.2f} | {r['native_seed_floor']:.2f} | "
                     f"{p['sensitivity']:.3f} at {p['fp_per_scan']:.2f} | {r['pooled_seed_floor']:.2f} | "
                     f"{h['sensitivity']:.3f} at {h['fp_per_scan']:.2f} | {r['phantom_seed_floor']:.2f} |")
    lines += [
        "",
        f"Noise over the marrow per voxel (`marrow.noise_sigma`, neighbour differences): {spread(native_noise[0])} as",
        f"reconstructed, {spread(pooled_noise[0])} pooled. Averaging four voxels of white noise would halve it;",
        "it rises instead, because the scanner's reconstruction interpolates in plane, so that",
        "neighbouring voxels share their noise and their differences understate it about twofold",
        "(in the readers' normal marrow the spread of differences two voxels apart is about twice",
        "that of neighbours). As reconstructed, the 1 mm denoising window averages 3 x 3 voxels and",
        "the understated noise is divided by 3: the seed noise demand of 17 asks about a third of the",
        "marrow, under the seed ratio, and the seed ratio binds. Pooled, the window holds one voxel",
        f"and the demand asks {d['noise_z']} full noise levels: a seed floor of {d['pooled_seed_floor']:.1f} times the marrow, past most",
        "real oedema, and the detector finds almost nothing. The phantoms are white noise on grids of",
        f"1.0-1.5 mm, as pooled: their seed floor is as high or higher ({d['phantom_seed_floor']:.1f}), which is what keeps their normal bright",
        "anatomy out (*What each test costs and buys*) and what caps their sensitivity.",
        "",
        f"No one demand serves both grids and the phantoms: the pooled scans reach reader 2's sensitivity",
        f"only at {low['noise_z']} ({low['pooled']['sensitivity']:.3f} at {low['pooled']['fp_per_scan']:.2f}), where the phantoms give "
        f"{low['phantoms']['fp_per_scan']:.2f} false positives per scan. The default stays, chosen on the scans",
        "and suites above, but the operating point does not carry over to a whole-body grid of",
        "uncorrelated noise: a run says so (a warning when a quarter of the bone has a seed floor",
        "above 2), and a lower `--noise-z` is the remedy, at the cost of more false positives.",
    ]
    return lines


ablation_rows = work_json("ablation.json")
real_local, real_global = load("real-local"), load("real-global")
hard_local, hard_global, basic = load("hard-local"), load("hard-global"), load("basic-local")
with open(f"{work}/demo/report.json") as f:
    demo = json.load(f)
det = real_local["detector"]
with open(f"{work}/hard-local/runs/" + hard_local["scans"][0]["name"] + "/report.json") as f:
    local_settings = json.load(f)["parameters"]["local"]

out = [
    "# Detection accuracy",
    "",
    "Generated by `scripts/accuracy.sh` (do not edit by hand) from the real scans in",
    "`../shared/realdata` and the phantom suites; every figure below comes from that run.",
    "",
    "## Real STIR against two radiologists",
    "",
    "Four real semi-coronal STIR scans of the sacroiliac joints with two readers' oedema masks",
    "(`../shared/realdata/sij-stir`, see its README), the hand-drawn sacroiliac region as the atlas",
    "(`fixtures/realdata/sij-region.tsv`). Reproduce with",
    "`crmo-map evaluate --readers ../shared/realdata/sij-stir --labels fixtures/realdata/sij-region.tsv --out DIR [--method global]`.",
    "",
    "Rules: a reader's lesions are the 26-connected components of its first session of at least",
    f"{real_local['rules']['min_volume_mm3']:g} mm3; a lesion is found when {real_local['rules']['found_fraction']:.0%} of its",
    "voxels lie in the tested mask; a false positive is a tested component touching neither of the",
    "truth reader's sessions; Dice is per subject against the first session (mean over subjects,",
    "and pooled over all voxels). The readers' agreement is the yardstick.",
    "",
    "Sensitivities and false-positive rates carry their 95% confidence intervals (Wilson; exact",
    "Poisson), which take lesions as independent: with four scans, read them as the least",
    "uncertainty the counts carry.",
    "",
    "| tested vs truth | lesions | found | sensitivity (95% CI) | FP | FP/scan (95% CI) | Dice mean | Dice range | Dice pooled |",
    "|---|---|---|---|---|---|---|---|---|",
]


def with_ci(value, ci, spec):
    """`0.744 (0.589-0.854)`: a figure with its 95% confidence interval (or alone without one)."""
    if ci is None:
        return fmt(value, spec)
    return f"{fmt(value, spec)} ({spec.format(ci[0])}-{spec.format(ci[1])})"


def agreement_rows(ev, label):
    rows = []
    for a in ev["agreements"]:
        name = label if a["tested"] == "detector" else a["tested"]
        rows.append(
            f"| {name} vs {a['truth']} | {a['lesions']} | {a['found']} | "
            f"{with_ci(a['sensitivity'], a['sensitivity_ci95'], '{:.3f}')} | {a['false_positives']} | "
            f"{with_ci(a['false_positives_per_scan'], a['false_positives_per_scan_ci95'], '{:.2f}')} | {a['dice_mean']:.3f} | "
            f"{a['dice_min']:.2f}-{a['dice_max']:.2f} | {a['dice_pooled']:.3f} |"
        )
    return rows


local_rows = agreement_rows(real_local, "**local** (default)")
global_rows = [r for r in agreement_rows(real_global, "global (z 6)") if r.startswith("| global")]
out += local_rows[:2] + global_rows + local_rows[2:]
out += [
    "",
    "Targets (issue 10): sensitivity against reader 1 at least reader 2's, with false positives per",
    "scan at most reader 2's, and Dice against reader 1 of at least 0.45.",
    "",
    "The detector's reference against the readers' (`marrow/ref` of the same run: the detector's",
    "normal-marrow level over the median of the readers' normal-marrow region, the same voxels;",
    "its thresholds are ratios to that level): "
    + ", ".join(f"{sc['name']} {sc['marrow_check']['ratio']:.2f}"
                for sc in real_local["subjects"] + real_local["unscored"] if sc.get("marrow_check"))
    + ". Judged against the readers' region instead (each scan's seed and grow ratios divided",
    "by its marrow/ref, one-subject evaluations with `--seed-ratio`, `--grow-ratio` and",
    "`--froc-values` so scaled, summed over the four scans), the detector is worse at every",
    "false-positive rate: against reader 1, 0.692 at 6.00 false positives per scan (1.4 on the",
    "readers' scale), 0.564 at 2.75 (1.6), 0.487 at 1.25 (1.7), 0.385 at 1.00 (2.0), Dice mean",
    "0.31-0.38, against 0.744 at 1.25 and Dice 0.495 with its own level. At 1.55, sub-1007 (1.10)",
    "has 11 false positives (1 with its own level) and sub-4386 (0.89) finds 1 of its 14 lesions (8).",
    "The readers' region is a hand-placed patch of one part of the bone, the detector's level the",
    "mode of the whole region's marrow: a level that followed the patch would inherit where it was",
    "placed.",
    "",
    f"### FROC: the local detector's `{real_local['froc']['parameter']}` swept",
    "",
    "![FROC on the real sacroiliac STIR](froc-sij-stir.png)",
    "",
    f"| {real_local['froc']['parameter']} | sensitivity vs R1 | FP/scan vs R1 | Dice mean vs R1 | Dice pooled vs R1 | sensitivity vs R2 | FP/scan vs R2 |",
    "|---|---|---|---|---|---|---|",
]
for pt in real_local["froc"]["points"]:
    r1 = next(a for a in pt["agreements"] if a["truth"] == "R1")
    r2 = next(a for a in pt["agreements"] if a["truth"] == "R2")
    mark = " (default)" if pt["default"] else ""
    out.append(
        f"| {pt['value']:g}{mark} | {r1['sensitivity']:.3f} | {r1['false_positives_per_scan']:.2f} | "
        f"{r1['dice_mean']:.3f} | {r1['dice_pooled']:.3f} | {r2['sensitivity']:.3f} | {r2['false_positives_per_scan']:.2f} |"
    )
# The same sweep scan by scan (froc_subjects.tsv): which scan gives the false positives and
# which loses its lesions as the threshold rises.
with open(f"{work}/real-local/froc_subjects.tsv") as f:
    header, *lines = [l.rstrip("\n").split("\t") for l in f]
by_scan = [dict(zip(header, l)) for l in lines if l[header.index("truth")] == "R1"]
values = sorted({float(r[header[0]]) for r in by_scan})
subjects = sorted({r["subject"] for r in by_scan})
out += ["", "By scan, against reader 1 (lesions found / reader 1's lesions, false positives; "
        "`froc_subjects.tsv` of the same run):", "",
        "| scan | " + " | ".join(f"{v:g}" + (" (default)" if v == det["operating_value"] else "") for v in values) + " |",
        "|---|" + "---|" * len(values)]
for sub in subjects:
    cells = []
    for v in values:
        r = next(r for r in by_scan if r["subject"] == sub and float(r[header[0]]) == v)
        cells.append(f"{r['found']}/{r['lesions']}, {r['false_positives']}")
    out.append(f"| {sub} | " + " | ".join(cells) + " |")
out += ["", f"The global detector's FROC (`{real_global['froc']['parameter']}`):", "",
        "| z threshold | sensitivity vs R1 | FP/scan vs R1 | Dice mean vs R1 |", "|---|---|---|---|"]
for pt in real_global["froc"]["points"]:
    r1 = next(a for a in pt["agreements"] if a["truth"] == "R1")
    out.append(f"| {pt['value']:g} | {r1['sensitivity']:.3f} | {r1['false_positives_per_scan']:.2f} | {r1['dice_mean']:.3f} |")

rows = [
    ("lesion-wise sensitivity, all sizes", "sensitivity", ">= 0.97", "{:.3f}"),
    ("lesion-wise sensitivity, lesions >= 0.3 cm3", "sensitivity_headline", "", "{:.3f}"),
    ("false positives per scan", "false_positives_per_scan", "<= 0.3", "{:.2f}"),
    ("false positives per healthy control", "false_positives_per_healthy", "", "{:.2f}"),
    ("region correct among found", "region_correct", ">= 0.98", "{:.3f}"),
    ("voxel Dice (pooled)", "dice_pooled", "", "{:.3f}"),
    ("voxel Dice (mean over scans with lesions)", "dice_mean", "", "{:.3f}"),
    ("median centroid error (mm)", "centroid_error_median_mm", "", "{:.2f}"),
    ("median volume ratio (reported / true)", "volume_ratio_median", "", "{:.2f}"),
]
out += [
    "",
    "## Phantoms",
    "",
    f"The broadened hard suite: {count} phantoms from `crmo-map evaluate --suite hard` (seeds {seed} + 101 n),",
    "every sixth a healthy control, every sixth the founding case; lesion signal a ratio of 1.2-6 to",
    "the marrow it replaces (skewed low: median 1.79), fine marrow texture 8-14% over the red and",
    "yellow pattern (a bone's MAD 15-34% of its median with cortex and noise), Rician noise sigma",
    "8-25, 3-6 mm slices, 3-6 stations, bias 15-30%, the atlas shifted by up to 4 mm, bright",
    "physes (1.5-3 x red marrow), curved femoral-head and proximal humeral physes, 15% thin",
    "subchondral and 20% periphyseal lesions, normal-variant foci. Reproduce with",
    f"`crmo-map evaluate --suite hard --count {count} --seed {seed} --out DIR [--method global]`.",
    "A reported lesion is on target when at least 10% of its voxels lie in true lesions, and a",
    "false positive when it is not; a true lesion is found when at least 10% of its voxels lie in",
    "one reported lesion on target (so a red-marrow component many times a lesion's size that",
    "takes one in finds nothing: see How the defaults were chosen). True lesions drawn smaller",
    f"than the run's minimum lesion volume ({hard_local['min_volume_mm3']:g} mm3) on their phantom's grid are not scored,",
    "as a reader's are not (the run cannot report them; "
    + f"{hard_local['summary']['lesions_under_floor']} of the {sum(sc['true_lesions'] + len(sc['under_floor']) for sc in hard_local['scans'])} here: "
    + ", ".join(f"{sc['name']} {u['region']} {u['volume_mm3']:.0f} mm3" for sc in hard_local["scans"] for u in sc["under_floor"])
    + "; the experiments below that quote the held-out suite counted them, so that the default",
    "read 0.323 there, 20 of 62). In brackets, 95% confidence intervals as for the real scans.",
    "",
    "| metric | target | global | local |",
    "|---|---|---|---|",
]
def summary_cell(summary, key, spec):
    """A summary figure, with its 95% confidence interval where the summary gives one."""
    return with_ci(summary[key], summary.get(key + "_ci95"), spec)


for name, key, target, spec in rows:
    out.append(
        f"| {name} | {target} | {summary_cell(hard_global['summary'], key, spec)} | "
        f"{summary_cell(hard_local['summary'], key, spec)} |"
    )
out += ["", "Sensitivity by the lesions' signal ratio to the marrow they replace (real oedema: about 1.1-2.4):", "",
        "| ratio | lesions | global | local |", "|---|---|---|---|"]
for g, l in zip(hard_global["summary"]["sensitivity_by_ratio"], hard_local["summary"]["sensitivity_by_ratio"]):
    band = f"< {l['to']:g}" if l["from"] <= 0 else (f"{l['from']:g}-{l['to']:g}" if l["to"] else f">= {l['from']:g}")
    out.append(f"| {band} | {l['lesions']} | {fmt(g['sensitivity'], '{:.3f}')} | {fmt(l['sensitivity'], '{:.3f}')} |")
b = basic["summary"]


def equivocal_foci(suite):
    """The equivocal foci of every run of WORK/SUITE/runs: (scans, foci, their regions by count)."""
    names = sorted(os.listdir(f"{work}/{suite}/runs"))
    counts = {}
    for name in names:
        with open(f"{work}/{suite}/runs/{name}/report.json") as f:
            for focus in json.load(f)["equivocal_foci"]:
                region = focus["region"].removesuffix("_left").removesuffix("_right")
                counts[region] = counts.get(region, 0) + 1
    top = ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return len(names), sum(counts.values()), top


all_foci = load("hard-all-foci")["summary"]
scans_, foci_, where_ = equivocal_foci("hard-local")
out += [
    "",
    f"Equivocal foci (README, *Equivocal foci*): the local detector set {foci_} foci aside on these {scans_} scans",
    f"({foci_ / scans_:.2f} per scan; {where_ or 'none'}), each under {local_settings['variant_focus_mm']:g} mm across in the scan's plane at a",
    "site of normal-variant bright marrow, listed in report.json and not scored. Reporting every",
    f"focus as a lesion instead (`--variant-focus-mm 0`): sensitivity {all_foci['sensitivity']:.3f}, "
    f"{all_foci['false_positives_per_scan']:.2f} false positives per scan",
    f"({fmt(all_foci['false_positives_per_healthy'], '{:.2f}')} per healthy control), against "
    f"{hard_local['summary']['sensitivity']:.3f} at {hard_local['summary']['false_positives_per_scan']:.2f} above.",
]


def relative_noise(suite):
    """Per scan run in WORK/SUITE/runs: the noise level (the report's noise_sigma) over the median marrow level of its
    regions of at least 500 voxels (all regions when none is that large), per voxel and per
    1 mm3 of tissue (times the square root of the voxel volume: noise averages out over
    volume, so scans with different voxels compare at equal volume)."""
    per_voxel, per_mm3 = [], []
    for name in sorted(os.listdir(f"{work}/{suite}/runs")):
        with open(f"{work}/{suite}/runs/{name}/report.json") as f:
            rep = json.load(f)
        regions = [r for r in rep["marrow"]["regions"] if r["voxels"] > 0]
        big = [r["marrow"] for r in regions if r["voxels"] >= 500] or [r["marrow"] for r in regions]
        level = median(big)
        sp = rep["input"]["spacing_mm"]
        rel = rep["marrow"]["noise_sigma"] / level
        per_voxel.append(rel)
        per_mm3.append(rel * (sp[0] * sp[1] * sp[2]) ** 0.5)
    return per_voxel, per_mm3


def spread(v):
    v = sorted(v)
    return f"{v[len(v) // 2]:.3f} ({v[0]:.3f}-{v[-1]:.3f})"


real_noise, hard_noise = relative_noise("real-local"), relative_noise("hard-local")
ratio = median(hard_noise[1]) / median(real_noise[1])
out += [
    "",
    "Noise against the real scans: the scan's noise level (`marrow.noise_sigma` of report.json, from",
    "differences between neighbouring bone voxels) over its marrow level (the median over regions of",
    "at least 500 voxels), per voxel and per 1 mm3 of tissue (times the square root of the voxel",
    "volume). Median (range) over scans:",
    "",
    "| scans | noise / marrow, per voxel | per 1 mm3 |",
    "|---|---|---|",
    f"| real sacroiliac STIR ({len(real_noise[0])}, every subject run) | {spread(real_noise[0])} | {spread(real_noise[1])} |",
    f"| hard suite ({len(hard_noise[0])}) | {spread(hard_noise[0])} | {spread(hard_noise[1])} |",
    "",
    f"At equal volume the hard suite is {ratio:.1f} times as noisy as the real scans (median), so its",
    "seed noise demand binds where on the real scans the seed ratio does. A whole-body",
    "scan is noisier per volume than a dedicated sacroiliac one, but by how much these files cannot",
    "say: the suite's noise is left as it is until real whole-body scans can set it.",
]
NOISE_SCALES = ["0", "0.25", "0.5", "1", "2"]
sweep = {f: (hard_local if f == "1" else load(f"hard-noise-x{f}")) for f in NOISE_SCALES}
sweep_noise = {f: relative_noise("hard-local" if f == "1" else f"hard-noise-x{f}")[1] for f in NOISE_SCALES}
quiet, default_point = sweep["0"]["summary"], hard_local["summary"]

nearest_scale = min(NOISE_SCALES, key=lambda f: abs(median(sweep_noise[f]) - median(real_noise[1])))
out += [
    "",
    "### The same suite at other noise levels",
    "",
    "How the operating point carries over between scanners: the held-out suite again, every",
    "phantom's noise sigma multiplied by a factor (`--noise-scale F`; the anatomy, lesions and",
    "noise pattern are the same), scored with the default settings. The noise column is the",
    "measured noise over the marrow per 1 mm3 of tissue, as above (the real scans: "
    f"{spread(real_noise[1])}).",
    "",
    "| noise x | noise / marrow per 1 mm3 | sensitivity | FP/scan | FP/healthy | equivocal/scan | < 1.5 | 1.5-2 | 2-3 | >= 3 |",
    "|---|---|---|---|---|---|---|---|---|---|",
]
for f in NOISE_SCALES:
    s_ = sweep[f]["summary"]
    bands = " | ".join(fmt(b["sensitivity"], "{:.2f}") for b in s_["sensitivity_by_ratio"])
    name = f"**{f}** (the suite)" if f == "1" else f
    out.append(
        f"| {name} | {spread(sweep_noise[f])} | {s_['sensitivity']:.3f} | {s_['false_positives_per_scan']:.2f} | "
        f"{fmt(s_['false_positives_per_healthy'], '{:.2f}')} | {s_['equivocal_foci_per_scan']:.2f} | {bands} |"
    )


def fp_sites(ev, most=6):
    """The commonest regions of a suite's false positives, sides and levels merged."""
    counts = {}
    for sc in ev["scans"]:
        for fp in sc["false_positive_lesions"]:
            name = fp["region"].removesuffix("_left").removesuffix("_right")
            name = "vertebra" if name.startswith("vertebra_") else name
            counts[name] = counts.get(name, 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:most]
    return ", ".join(f"{k} {v}" for k, v in top)


out += [
    "",
    f"Without noise the detector finds {quiet['sensitivity']:.3f} of the lesions with "
    f"{quiet['false_positives_per_scan']:.2f} false positives per scan ({fmt(quiet['false_positives_per_healthy'], '{:.2f}')} per healthy control),",
    f"against {default_point['sensitivity']:.3f} at {default_point['false_positives_per_scan']:.2f} at the suite's noise. Where the noiseless false positives lie",
    f"(count): {fp_sites(sweep['0'])}; at the suite's noise: {fp_sites(hard_local)}.",
    "These are the phantom's normal anatomy: among them red marrow graded into shafts and",
    "metaphyses whose commonest marrow is yellow (on hard-008 the distal tibial metaphysis holds",
    "yellow marrow near its region's level and red marrow at about 2.3 times it, above the lift",
    "cap), and the calcaneal apophysis (see below). At the suite's noise the seed noise",
    "demand keeps most of it out; with less noise it no longer does, and the ratio to the marrow",
    "alone does not tell that anatomy from oedema. The phantom's anatomy is a model, but a quiet",
    "whole-body scan of a child holds the same kinds of normal bright marrow: this is the",
    "detector's main open risk on such scans, and why the noise level is reported",
    "(`marrow.noise_sigma`).",
    f"The measured noise of the real scans ({median(real_noise[1]):.3f} per 1 mm3, median) is nearest the row x {nearest_scale}",
    "(the estimate counts fine marrow texture as noise, so even the noiseless phantoms measure some).",
    "Is the phantom's marrow patchier than real marrow? `scripts/marrow_patches.py` (per region of at",
    "least 500 normal-marrow voxels: the robust spread, 1.4826 MAD over the median, voxel by voxel and",
    "smoothed over 4 mm, and the share of the smoothed marrow at 1.55 times the region's median or",
    "more). Within a region both vary alike: smoothed spread 0.141 (median of the five real scans)",
    "and 0.133 (the 608 regions of the noiseless suite). But 17% of the phantoms' regions hold at",
    "least 5% of such bright normal marrow (up to 45%): femur_shaft 11 of 12, humerus_proximal_metaphysis",
    "11 of 12, calcaneus 10 of 12, fibula 9 of 10, tibia_shaft and humerus_shaft 5 of 12 each (first",
    "six noiseless phantoms), the vocabulary's regions that join a child's red and yellow marrow",
    "(trochanters with the shaft, the humeral head with its metaphysis, the calcaneal apophysis); the",
    "real sacroiliac region has at most 2%. So the false positives above come with a child's",
    "anatomy, which the adult sacroiliac scans cannot show; the vertebrae and ilium are the",
    "exceptions (CSF and discs inside the shifted atlas, small bright patches of texture). A marrow",
    "level free to follow red marrow (no lift cap) takes few of them off: noiseless 0.581 at 23.92,",
    "a quarter of the noise 0.532 at 15.17, the suite 0.355 at 2.92 false positives per scan, real",
    "Dice mean 0.495 -> 0.452.",
] + carry_over()
out += [
    "",
    f"The basic suite (`--suite basic --count 20 --seed 1000`, fixed bright lesions over quiet marrow),",
    f"local detector: sensitivity {b['sensitivity']:.3f}, false positives per scan {b['false_positives_per_scan']:.2f},",
    f"region correct {b['region_correct']:.3f}, pooled Dice {b['dice_pooled']:.3f}.",
    "",
    "The founding case (`crmo-map demo`): " + ", ".join(l["region"] for l in demo["lesions"]) + ".",
    "",
    "## How the defaults were chosen",
    "",
    f"Local detector settings: {', '.join(f'{k} {v:g}' for k, v in local_settings.items())}.",
    "",
    "- The thresholds are ratios to the patient's own normal marrow and multiples of the scan's own",
    "  noise level, so that they carry over between scans, scanners and intensity scales.",
    "- The seed ratio, grow ratio and seed core were swept on the four real annotated scans together",
    "  with the basic suite (seed 1000, 10 phantoms) and the broadened hard suite (seed 7000, 12",
    "  phantoms); the hard suite reported above (seed 15000) was never looked at while choosing.",
    "- The real scans set the ratios: oedema there is a plateau at 1.3-2.4 times the marrow,",
    "  marked by the readers down to about 1.3, so seeds at 1.5-1.6 and growth from 1.2; a",
    "  half-maximum cut on every lesion (what the phantom's truth rewards) cut the real",
    "  sensitivity from about 0.5 to 0.3, so the cut is made only where it takes off a physis.",
    "- The phantoms set the noise demands: their yellow marrow is dark (a signal-to-noise ratio",
    "  near 5), where a ratio alone lets noise percolate into huge components; on the real scans",
    "  (noise 5-11% of the marrow, understated about twofold by the reconstruction's interpolation:",
    "  *Carry-over to a coarser grid*) they act only on the noisiest (sub-1013).",
    "- The operating point (seed ratio 1.55, seed noise demand 17 noise levels of the denoised",
    "  signal; was 1.6 and 17, 1.5 and 14, and 1.6 and 8 before that), chosen again when growth",
    "  came to be judged on the mean around each voxel too (below): real, vs reader 1, seed 1.55",
    "  and 1.6 both give 0.744 at 1.25 false positives per scan (1.65: 0.538 at 1.0), and on the",
    "  tuning hard suite 1.55 finds more (0.339 against 0.323, both at 2.17). The rule, as when the",
    "  fine level stopped counting candidate oedema (below): the lowest real false-positive rate at which",
    "  sensitivity against reader 1 reaches reader 2's 0.69, then the highest sensitivity on the",
    "  tuning suite, then its fewest false positives. Real, vs reader 1 (seed ratio: sensitivity",
    "  at false positives per scan): noise demand 11 or 14: 1.5 0.846 at 2.75-3.0, 1.55 0.744 at",
    "  2.0, 1.6 0.692 at 1.25, 1.7 0.564 at 1.0; demand 17 or 20: 1.5 0.846 at 2.25, 1.55 0.744",
    "  at 1.5, 1.6 0.692 at 1.0 (the demand removes one noise piece of sub-1013; these figures",
    "  are from before growth judged on the mean). Tuning hard",
    "  suite (seed 7000): the seed ratio hardly moves it (the noise demand binds on the",
    "  phantoms); at seed 1.5, demand 14 0.387 at 4.67, 17 0.339 at 2.83, 20 0.290 at 1.92 false",
    "  positives per scan; at the chosen (1.6, 17) 0.323 at 2.83 (the old default: 0.339 at",
    "  3.00). Demand 20 would trade phantom sensitivity for phantom false positives; 17 was the",
    "  lowest that met the real targets. With today's detector (every test in this list in place)",
    "  the real figures are the same for every demand from 15 to 23 (0.744 at 1.25, Dice 0.495);",
    "  14 and under add three noise pieces of sub-1013 (2.00 false positives per scan), 25 loses a",
    "  lesion of sub-1013 (0.718) and 30 most of sub-4386's (0.436). Tuning suite (sensitivity at",
    "  false positives per scan): 15 0.306 at 1.17, 17 0.290 at 0.58, 19 0.290 at 0.42, 21 0.258",
    "  at 0.25, 23 0.258 at 0.17; held-out, looked at afterwards: 19 0.317 at 0.58, 21 0.267 at",
    "  0.08. 19, the middle of the real window with 17's tuning sensitivity and fewer false",
    "  positives, was tried and not kept: on the healthy confounder phantom with the most",
    "  normal-variant foci (`tests/confounders.rs`, seed 9001) it reports a 12 cm3 lesion in a",
    "  proximal tibial metaphysis (red marrow and its physis) that 15, 17 and 21 do not. With",
    "  fewer seed voxels the component's seed core no longer reads as a plate, so the growth-plate",
    "  test, which also judges the seed core, lets it through: the phantoms' response to the",
    "  demand is not monotone, and the suites' few phantoms do not show it. Judging the seed",
    "  core's shape on every voxel past the seed ratio instead (so that the demand cannot change",
    "  what reads as a plate): real unchanged, tuning 0.306 at 2.83 (17) and 0.306 at 2.17 (19):",
    "  that core reaches into the noisy marrow around the physes and no longer reads as a plate.",
    "  17 stays. Held-out hard suite and basic suite: the tables above.",
    "- The marrow map's lift is capped at 1.6 x the region's level (`MAX_LIFT`, with the fine",
    "  level's 1.3 x on top about the contrast of red to yellow marrow). On sub-1013 oedema fills",
    "  most of an iliac wing; the 20 mm blocks' medians there were 2.05 x the readers' normal",
    "  marrow (the region's mode 1.01 x), so the oedema was judged against itself and came out as",
    "  speckle. Caps swept at the operating point (real Dice mean vs reader 1, tuning hard suite",
    "  false positives per scan; real sensitivity 0.718 at 2.0 for all): none 0.427 / 2.58, 2.0",
    "  0.438 / 2.92, 1.8 0.452 / 3.00, 1.7 0.461 / 3.00, 1.6 0.470 / 3.00, 1.5 0.476 / 3.17, 1.3",
    "  0.481 / 3.42. Only sub-1013 changes (its Dice 0.424 -> 0.596); the other three scans, whose",
    "  oedema is focal, come out identical. Rule: the real Dice target (0.45) with a margin, then",
    "  the fewest tuning false positives. Held-out hard suite (afterwards): sensitivity 0.339 ->",
    "  0.355, false positives 2.83 -> 3.25 per scan (red marrow brighter than 2.1 x a yellow",
    "  region's level: the phantom's red marrow is 2.5 x its yellow); basic suite false positives",
    "  0.00 -> 0.20 per scan (the red ends of both fibulae on one phantom: the vocabulary keeps the",
    "  fibula one region; caps 1.7, 1.8 and 2.0 gave 0.15, 0.10 and 0.00). A lower quantile of each",
    "  block (0.35, 0.25) instead of the cap did the same with more false positives (tuning 3.00 /",
    "  3.33).",
    "- How well the seed ratio carries to scans it was not chosen on (`scripts/loo_seed_ratio.py`, leave one subject out: the",
    "  rule above on three scans over seed ratios 1.4-1.8, scored on the fourth): 1.55, 1.55, 1.55",
    "  and 1.65 are chosen; the held-out scans together give sensitivity 0.615 (24/39) at 1.25",
    "  false positives per scan, Dice mean 0.445, against 0.744 at 1.25 and 0.495 with the default",
    "  on all four: between 1.6 and 1.65 the faint oedema of sub-4386 (1.1-1.3 x the readers'",
    "  normal marrow) loses its seeds (8 of 14 found at 1.55-1.6, 3 at 1.65), and the rule on",
    "  the other three scans picks 1.65 for it. Before growth was judged on the mean: 1.6, 1.55,",
    "  1.55 and 1.6, giving 0.692 (27/39) at 1.25, Dice mean 0.432; with the capped fine level and",
    "  noise demand 14, 0.718 (28/39) at 1.75, Dice mean 0.467.",
    "- The edge guard is 1.5 mm (was 3.5, then 1): real subchondral oedema lies at the bone's",
    "  edge, but pieces one voxel (0.6 mm) inside the hand-drawn region's edge were a lateral",
    "  iliac rim and marrow beside the sacral canal. Swept with the lift cap in place (real",
    "  sensitivity / false positives per scan / Dice mean vs reader 1; tuning hard false",
    "  positives): 1 mm 0.718 / 2.0 / 0.470, 3.00; 1.5 mm 0.718 / 1.5 / 0.469, 3.00; 2 mm 0.692 /",
    "  1.5 / 0.454, 2.92; 2.5 mm 0.692 / 1.5 / 0.447, 2.92 (1 -> 1.5 mm by scan: sub-1016 false",
    "  positives 3 -> 1, Dice 0.510 -> 0.520; sub-4386 Dice 0.389 -> 0.375; the others",
    "  unchanged). Rule: the lowest real false-positive",
    "  rate whose sensitivity and Dice meet the targets with a margin (2 mm sits exactly on",
    "  0.69), then the fewest tuning false positives. On phantoms (voxels of 1.5 mm and more) 1",
    "  and 1.5 mm erode the same one voxel: the basic and hard suites do not change.",
    "- The fine level (`fine_mm` 3; the figures in this item are from when its values were capped at 1.3 x the coarse level, see the next item): the real readers'",
    "  lesions are 1.3-1.9 x a ring of marrow a few mm around them but 1.0-2.9 x the readers' own",
    "  normal-marrow region (subchondral marrow is darker than the middle of the bone). Judged",
    "  against the marrow beside them (measured on the same scans and suites, default seed 1.6,",
    "  before the cells were cut on the world lattice): real sensitivity vs reader 1 0.46 -> 0.54",
    "  at 1.5 -> 1.25 false positives per scan, Dice mean 0.29 -> 0.39 (pooled 0.46 -> 0.38: the",
    "  largest lesions of sub-1013 come out smaller); the FROC moved up at every point (seed 1.5:",
    "  0.56 at 2.5 -> 0.69 at 2.0). Cutting the cells on the world lattice (so that the storage",
    "  order does not matter) moved the real figures by where the 3 mm cells fall: the table above",
    "  (1.75 false positives per scan at the default, 0.72 at 2.25 at seed 1.5); 2 mm cells gave",
    "  0.51 at 1.25. On four scans that is the estimate's own spread. Basic suite false",
    "  positives 1.25 -> 0.35 per scan, Dice 0.43 -> 0.54. Hard tuning suite (seed 7000) false",
    "  positives 11.8 -> 6.6 per scan, region correct 0.94 -> 1.00, Dice 0.10 -> 0.18, but",
    "  sensitivity 0.52 -> 0.44: a large lesion at under about 1.6 x its marrow lifts its own fine",
    "  level; at matched false positives the hard suite's FROC is about unchanged (the coarse",
    "  level at seed 2.2: 0.42 at 5.9). Sigma 2 and 5 mm and caps of 1.2 and 1.5 were worse on",
    "  one side or the other. Measured afterwards on the 12 held-out hard phantoms (not used to",
    "  choose; before the partial-volume rule below): the coarse level at the old default gave sensitivity 0.48 at 14.0 false positives",
    "  per scan; at matched false positives the fine level is ahead (coarse at seed 2.0: 0.355 at",
    "  8.8, at 2.3: 0.323 at 6.2; fine at 1.6: 0.371 at 7.9, at 1.4: 0.403 at 9.6).",
    "- Candidate oedema carries no weight in the fine level (`FINE_EXCLUDE`: voxels above 1.3 x",
    "  their coarse level; they used to count, capped at 1.3 x). With the cap a large lesion lifted",
    "  its own level to 1.3 x the coarse level, so that seeds inside it needed 1.95 x the marrow:",
    "  on the held-out hard phantoms a 1.6 cm3 vertebral lesion at 1.77 x, brighter than every",
    "  normal voxel of its vertebra, was missed. Real FROC vs reader 1, cap -> exclusion (noise",
    "  demand 14): seed 1.5 0.718 at 1.5 -> 0.846 at 2.75, 1.6 0.538 -> 0.692 at 1.25, 1.7 0.436",
    "  at 1.25 -> 0.564 at 1.0 false positives per scan: higher at every false-positive rate.",
    "  Outlines grow further against the lower level (sub-1007's lesions 1.5-4 x larger): Dice mean",
    "  0.469 -> 0.422 at seed 1.5, 0.434 at the new default, under the 0.45 target (pooled 0.58).",
    "  Excluding only above 1.5 x or 2 x: no real gain (0.718 at 1.75, 0.667 at 2.0). Growth",
    "  judged against the capped level and seeds against the new one: 0.615 at 1.5, Dice 0.453;",
    "  not kept. With the exclusion the lift cap moves only the Dice (2.0: 0.411, 3.0: 0.399 at",
    "  seed 1.6). Phantoms at seed 1.5 and demand 14: tuning hard suite 0.339 at 3.00 -> 0.387 at",
    "  4.67 false positives per scan (red marrow patches no longer lift the fine level; the",
    "  operating point above takes that back); basic suite 1.000 at 0.20 either way.",
    "- Seeds next to a voxel outside the atlas at least as bright do not count towards a core",
    "  (partial volume with CSF or an effusion: on the real scans, marrow beside the sacral canal):",
    "  real FROC at seed 1.5 0.69 at 2.0 -> 0.69 at 1.5 false positives per scan (before the",
    "  lattice cells), the default unchanged; held-out hard false positives 7.9 -> 6.9 per scan. Leaving such seeds out of the growth-plate shape test too",
    "  gave 0.54 at 1.0 on the real scans but kept a disc and a calcaneal apophysis on two",
    "  confounder phantoms (their seed cores no longer looked like plates).",
    "- Curved growth plates (the femoral head's cap, the proximal humeral tent) in tubular bones:",
    "  a component left after the half-maximum cut is a plate also when its voxel-weighted runs",
    "  across it are short (tilt-corrected, fine axes only), its spread within an 8 mm curve, and",
    "  its signal even (95th percentile under 1.5 x the median). Real scans unchanged (no tubular",
    "  bone); basic suite unchanged (1.000 at 0.20); tuning hard suite 0.323 at 2.83 -> 0.323 at",
    "  2.25 false positives per scan (healthy controls 2.50 -> 1.00); held-out 0.403 at 3.67 ->",
    "  0.387 at 3.33, the one lesion lost a 1.42 x periphyseal band that had counted as found",
    "  because a femoral-head physis component 3.8 times its volume covered it. Without the",
    "  evenness test a 5.1 x lesion fused with a physis went with it; with the chord counted per",
    "  run instead of per voxel, lens-shaped epiphyseal lesions read as thin (basic 0.986).",
    "- Growth judged on each voxel and on the mean of the bone voxels within `denoise_mm` around",
    "  it (both must clear the grow ratio). Voxel by voxel, bright speckle and streaks of marrow",
    "  texture cleared the ratio and bridged lesions into patches the readers leave unmarked:",
    "  sub-1007's outlines were 2.5 times reader 1's (7840 voxels against 3130, Dice 0.275). At",
    "  seed 1.6, real vs reader 1: 0.692 at 1.00 -> 0.744 at 1.25 false positives per scan, Dice",
    "  mean 0.434 -> 0.483 (sub-1007 0.275 -> 0.464), pooled 0.581 -> 0.599. The added false",
    "  positive is a patch of bright streaks in sub-1007 that used to hang on a marked lesion",
    "  (2319 voxels, 116 of them in reader 1's mask) and now stands apart. Tuning hard suite",
    "  0.323 at 2.25 -> 0.323 at 2.17, volume ratio 1.14 -> 1.02; held-out 0.387 at 3.33 either",
    "  way, volume ratio 2.00 -> 1.73; basic 1.000 at 0.20 either way, pooled Dice 0.489 ->",
    "  0.499; the founding case identical. The mean alone (without the voxel's own test): 0.744",
    "  at 1.5, Dice mean 0.472. Pieces of the old outline re-cut on the mean, kept when they hold",
    "  a seed voxel: 0.667 at 1.75; when they hold a full seed core: 0.667 at 1.25, Dice 0.459.",
    "- Equivocal foci (`VARIANT_FOCUS_MM` 10, `src/equivocal.rs`): `domain.md` lists normal-variant",
    "  bright marrow foci, common in healthy children in the pelvis, feet, hands and knees, among the",
    "  confounders, and asks for care with tiny components at those sites; the hard suite draws such",
    "  foci (20-90 mm3, as bright as a lesion or a little dimmer) into the calcaneus, the ilium,",
    "  ischium and pubis and the bones of the knee. Seen through 3-6 mm slices and grown into the",
    "  marrow around them, the detector outlined them at 6-10 mm in the scan's plane and 130-480",
    "  mm3, and they were most of the held-out suite's false positives (13 of 24; the rest: the",
    "  calcaneal apophysis, red-marrow plateaus in the pelvis and a distal tibial metaphysis, a",
    "  sternal and a femoral-head piece).",
    "  A focus at those sites under a size in the scan's plane is now set aside as equivocal, as a",
    "  radiologist reads a sub-centimetre focus there. The size, re-scored on the same runs (held-out",
    "  and tuning suites, sensitivity at false positives per scan; no lesion was lost at any size",
    "  up to 10 mm): 6 mm 0.323 at 2.00 and 0.290 at 1.42 (nothing set aside); 7 mm 1.92 and 1.33; 8 mm",
    "  1.58 and 0.92; 9 mm 1.33 and 0.67; 10 mm 0.92 and 0.58; 12 mm 0.306 at 0.92 and 0.274 at 0.58",
    "  (a 0.4 cm3 iliac lesion of each suite set aside, 10-11 mm across). 10 mm, the sub-centimetre",
    "  limit radiologists use, is the default. A third hard suite never looked at before (seed",
    "  21000, 12 phantoms): 0.306 at 2.08 -> 0.306 at 1.67 (4 calcaneal and an ischial focus set",
    "  aside). Noise x 0.25: 0.468 at 12.17 -> 10.42; noiseless 0.500 at 19.92 -> 18.08; the basic",
    "  suite, the real scans (no such site) and the founding case unchanged. The rule costs lesions",
    "  that are small at those sites: CRMO's commonest site is the metaphysis at the knee, and a",
    "  lesion there under a centimetre across is listed as equivocal, not as a lesion. On the basic",
    "  suite the global detector, whose z > 6 outlines are tighter, would set 8 of its 146 lesions",
    "  aside (0.3-0.8 cm3, 8-9.6 mm across): the rule is the local detector's, and the global",
    "  baseline reports every focus.",
    "- The axial marrow level of tubular bones (`SLAB_MM` 10, `SLAB_MAX_LIFT` 3): each region of",
    "  a long bone (or a bone of the foot) takes, per 10 mm slab across its bone's long axis, the",
    "  mode of its marrow there (the median of three slabs along the bone), and a voxel's coarse",
    "  level rises to it. A child's long bone turns red marrow yellow along its length, so a slab",
    "  holds one kind across the whole bone, while a lesion seldom fills most of three slabs. On",
    "  the noiseless suite the false positives by region fell in exactly those bones (fibula 29",
    "  -> 15, femoral shaft 20 -> 5, proximal humerus 18 -> 6, distal tibia 11 -> 3 at a quarter",
    "  of the noise). The real scans hold no tubular bone: identical. Measured under the earlier",
    "  rule (below), old default -> axial level (sensitivity at false positives per scan): held-out",
    "  0.403 at 3.33 -> 0.323 at 2.00, tuning 0.339 at 2.17 -> 0.290 at 1.42, a quarter of the",
    "  noise 0.581 at 16.00 -> 0.484 at 12.08, noiseless 0.597 at 25.25 -> 0.548 at 19.67, basic",
    "  1.000 at 0.20 -> 1.000 at 0.00. Every lesion lost had been credited to a component 14-100",
    "  times its volume (volume ratio in evaluation.json): a red-marrow territory that happened to",
    "  take it in. No lesion was found the other way round.",
    "- So the phantom scoring now asks a reported lesion to be on target (at least 10% of its",
    "  voxels in true lesions) to find one, and counts it a false positive otherwise (before, a",
    "  component touching any true voxel could find a lesion and was never a false positive). The",
    "  reader evaluation keeps the dataset's own rule. Under the new rule, old default -> axial",
    "  level: held-out 0.323 at 3.75 -> 0.323 at 2.00, tuning 0.306 at 2.33 -> 0.290 at 1.42, a",
    "  quarter of the noise 0.435 at 16.75 -> 0.468 at 12.17, noiseless 0.452 at 26.00 -> 0.500",
    "  at 19.92, basic 0.966 at 0.45 -> 0.993 at 0.05. Along the noise demand (held-out, tuning):",
    "  old default at 12 0.355 at 7.50, 0.387 at 5.42, at 10 0.371 at 10.58, 0.403 at 7.42; axial",
    "  level at 12 0.371 at 4.33, 0.371 at 4.00, at 10 0.403 at 7.00, 0.387 at 6.25, at 8 0.419",
    "  at 10.25, 0.419 at 9.17: higher on the held-out suite at each false-positive rate, about",
    "  the same on the tuning suite. The noise demand",
    "  stays at 17: below it the real scans give 0.744 at 2.00 false positives per scan.",
    "- Settings of the axial level, under the earlier rule (held-out; a quarter of the noise;",
    "  tuning): slabs of 7 mm 0.323 at 2.17, 0.484 at 12.67, 0.306 at 1.58; 10 mm as above; 15 mm",
    "  0.323 at 2.25, 0.484 at 13.17, 0.306 at 1.67; 20 mm 0.387 at 2.58, 0.548 at 14.08, 0.323 at",
    "  2.00 (the 20 mm slabs let more red marrow through: more lucky finds and more false",
    "  positives). Lift cap 4 instead of 3: the same but a quarter of the noise 0.484 at 12.00.",
    "  The axial level in place of the blocks' rather than above it: 0.323 at 2.08, 0.500 at",
    "  12.50; also lowering a level below the region's (a yellow slab of a red region): 0.323 at",
    "  2.17, 0.532 at 13.25. Slabs needing 16 sampled voxels instead of 48: about the same. Rule:",
    "  the fewest tuning false positives, the real scans being the same for all.",
    "- The cut's height (`peak_fraction`, 0.35 since the cut was made only where it takes off a",
    "  growth plate) swept again with today's detector (real vs reader 1, sensitivity at false",
    "  positives per scan and Dice mean; tuning suite): 0 0.769 at 1.25, 0.481, 0.274 at 1.17;",
    "  0.1 0.769 at 1.25, 0.483, 0.274 at 1.17; 0.2 0.744 at 1.00, 0.487, 0.290 at 0.92; 0.25",
    "  0.744 at 1.50, 0.498, 0.290 at 0.75; 0.3 0.692 at 1.25, 0.489, 0.290 at 0.75; 0.35 0.744",
    "  at 1.25, 0.495, 0.290 at 0.58; 0.4 0.718 at 2.00, 0.460, 0.290 at 0.83. Only 0.2 meets the",
    "  real false-positive target, by one false positive of sub-1007 (1, 0, 2 and 1 at 0.1, 0.2,",
    "  0.25 and 0.35: the patch of bright streaks joins a marked lesion or stands apart as the cut",
    "  moves), with its Dice 0.46 -> 0.35 and more tuning false positives. That is these four",
    "  files' noise, not a better cut: 0.35 stays.",
    "- The growth plate's thickness (`plate_mm`) swept the same way: 3 mm 0.744 at 1.25, 0.495,",
    "  0.306 at 0.92; 3.5 mm 0.744 at 1.25, 0.495, 0.306 at 0.83; 4 mm (the default) 0.744 at",
    "  1.25, 0.495, 0.290 at 0.58; 4.5, 5 and 6 mm 0.718 at 1.25, 0.480, 0.290 at 0.58 (one real",
    "  lesion is dropped as a plate). A thinner plate finds one tuning lesion for two or three",
    "  false positives (in femoral necks and a proximal humerus, beside the curved physes); 4 mm stays.",
    "",
] + ablation() + [
    "## Where it still fails",
    "",
]


misses = [o for sc in hard_local["scans"] for o in sc["lesions"] if o["matched"] is None]
fps = [f for sc in hard_local["scans"] for f in sc["false_positive_lesions"]]
by_region = {}
for f in fps:
    key = f["region"].replace("_left", "").replace("_right", "")
    by_region[key] = by_region.get(key, 0) + 1
top = sorted(by_region.items(), key=lambda t: -t[1])[:8]
out += [
    f"- Phantom misses ({len(misses)} of {sum(len(sc['lesions']) for sc in hard_local['scans'])}): mostly lesions at ratios under",
    "  1.5 to their marrow, lesions whose denoised core stays under the noise demand (dark,",
    "  noisy yellow marrow: the demand sets the floor there), periphyseal lesions dropped with the",
    "  growth plate they touch, and thin subchondral lesions. `scripts/hard_misses.py DIR` lists,",
    "  for each true lesion, the share of its region's normal marrow brighter than its median: a",
    "  miss that almost no normal voxel outshines is the detector's to fix; the others are buried",
    "  in the marrow's own spread voxel by voxel; *Which lesions stand out* (below) asks the same",
    "  of each lesion's mean and names the seed test that loses it.",
    "- Phantom false positives by region: " + ", ".join(f"{r} {n}" for r, n in top) + ". They are",
    "  the calcaneal apophysis (the calcaneus label holds it, brighter than the yellow body),",
    "  patches of marrow texture in the flat bones of the pelvis, pieces beside curved physes,",
    "  discs and soft tissue inside a shifted atlas, and station gain steps; the red marrow of",
    "  the long bones, the commonest before, is now judged against its own slabs (above). At the",
    "  real scans' noise more of these show (the table of noise levels above: vertebrae, ilium,",
    "  calcaneus and the thin fibula, whose slabs have few voxels, lead without noise), so the",
    "  noise demand hides them here.",
    "- Real scans: the false positives (three in sub-1013, one each in sub-1016 and sub-1007) are",
    "  a large component in the L5 body that reader 2 marks and reader 1 does not, two small very",
    "  bright pieces at the edge of the hand-drawn region beside the sacral canal (fluid, which an",
    "  atlas of bone alone would exclude), a piece at an L5 endplate and a patch of bright streaks",
    "  (vessels or marrow texture) in sub-1007. Neither volume, brightness, spread nor run length",
    "  sets them apart from the marked lesions on these four scans. The outlines agree less well",
    "  than the readers' (Dice mean 0.50 against reader 2's 0.56); sub-4386's faint oedema is",
    "  found 8 times of 14 and outlined at Dice 0.36.",
    "- What the targets ask against what the readers do: the hard suite's lesions are drawn skewed",
    "  to low ratios, and "
    + (lambda b: f"{b['lesions']} of {sum(x['lesions'] for x in hard_local['summary']['sensitivity_by_ratio'])}")(
        hard_local["summary"]["sensitivity_by_ratio"][0])
    + " lie under 1.5 times their marrow, in marrow whose own",
    "  texture is 8-14% and whose yellow part has a signal-to-noise ratio of 2.5-8. On the real",
    "  scans, whose oedema has a median ratio of 1.0-2.9 to the readers' normal marrow (lesion by",
    "  lesion), reader 2 finds 69% of reader 1's lesions; the hard target asks 97% at that",
    "  contrast and lower. The table by ratio above shows where sensitivity is lost.",
    "- Tried and not kept, a component-level mirror test (a Python prototype on the evaluated",
    "  suites, earlier scoring rule): a component in a paired region whose mirror image in the",
    "  other side's region (reflected across the plane between the two regions' centroids) is at",
    "  least 0.8 times as bright against that region's level as it is against its own, taken as",
    "  normal marrow and searched again inside against its own median: held-out 0.403 at 3.33 ->",
    "  0.355 at 2.75, noiseless 0.597 at 25.25 -> 0.500 at 19.42. The axial level (above) takes",
    "  off more of the same red marrow without asking the other side, whose lesions CRMO often",
    "  mirrors.",
    "- Tried and not kept (numbers on the 12 hard phantoms and the four real scans): the other side",
    "  as a reference for paired regions (the marrow at the mirror image of a voxel in the",
    "  contralateral region; false positives per scan 14 -> 10-12.5 but sensitivity 0.48 ->",
    "  0.40-0.45, since the bias field and the marrow texture differ between sides), and growth",
    "  judged on the denoised signal alone, before the fine level (real sensitivity 0.46 -> 0.44,",
    "  Dice mean 0.29 -> 0.32; judged on the voxel and its mean together it is kept, above); with",
    "  the fine level, growth judged against the lower of the fine and the coarse level (real 0.54",
    "  -> 0.59 at the same 1.25 false positives, hard 0.44 -> 0.47, but Dice mean 0.39 -> 0.31 real",
    "  and 0.19 -> 0.13 hard) and the lower of the two for seeds too (the coarse level's false",
    "  positives come back: hard 11.7 per scan). A plate-shaped component covering under half of",
    "  its bone's cross-section kept as a periphyseal lesion rather than dropped as a physis (seed",
    "  1.6): with seed cores judged so too, real 0.54 -> 0.56 but hard false positives +0.7 to +1.2",
    "  per scan (pieces of curved physes); whole components only, +2 hard lesions per suite but a",
    "  false positive on a shifted-atlas confounder; long bones only, no gain. With the lift cap",
    "  and 1.5 mm edge guard: the fine level from a ring (the 6 mm Gaussian's sums minus the 3 mm",
    "  one's, so that a lesion up to a few mm across is judged against the marrow around it and not",
    "  itself): real 0.821 at 2.75 (seed 1.5) and 0.744 at 1.25 (seed 1.6; 0.769 at 1.25 at",
    "  1.65-1.7) false positives per scan, the best real points yet, but Dice mean 0.39-0.41 (grown",
    "  against the ring the outlines swell), tuning hard false positives 3.00 -> 3.58 and held-out",
    "  0.355 at 3.25 -> 0.452 at 4.58; the ring for seeds only, 0.718 at 2.5; a 9 mm ring, worse;",
    "  the ring with growth from 1.25 or 1.3, worse; found against the ring, then outlined against",
    "  the fine level (pieces keeping a seed core): 0.692 at 2.75, 0.513 at 1.5 (its gain was the",
    "  wider outlines reaching 10% of a reader's lesion). A seed core of 25-150 mm3 (default 50)",
    "  moves along the same curve (100 mm3 at seed 1.4: 0.692 at 1.25); the seed noise demand 16-20",
    "  changes nothing at seed 1.5.",
    "- Tried and not kept at the current operating point (real vs reader 1: 0.744 at 1.25 false",
    "  positives per scan, Dice mean 0.495; tuning hard suite 0.339 at 2.17; held-out 0.403 at",
    "  3.33). By scan, sub-1013's three false positives stay at every seed ratio from 1.35 to 2.2",
    "  (they are bright: 1.9-2.4 x the readers' normal marrow at their median), so the seed ratio",
    "  cannot take them off; sub-1007 and sub-1016 gain false positives below 1.55 and sub-4386",
    "  loses lesions above 1.6. Seeds within r mm of a brighter voxel outside the atlas (spill",
    "  from fluid, not only the touching voxel): r 1.5-2 mm changes nothing, 2.5 mm gives 0.744 at",
    "  1.00 (one sub-1013 piece beside the bright fluid goes), 3 mm 0.692 at 1.00 (two lesions go",
    "  too) and 4 mm 0.692 at 0.75: a one-voxel window on one scan, which held-out scans would not",
    "  share; with the outside voxel required at 1.5-3 x the seed over 4-8 mm, 1.25-1.75. Marrow",
    "  map blocks of 12 mm: tuning false positives 2.17 -> 2.00 but real 1.25 -> 1.75 (Dice mean",
    "  0.475); 30 mm: worse on all three. A lower seed noise demand, 12 or 8: held-out 0.435 at",
    "  7.00 or 0.516 at 13.6, tuning 0.435 at 5.17 or 0.484 at 11.8, real 0.744 at 2.00. A",
    "  periphyseal band at 3.4 x its marrow (held-out hard-001, proximal tibia) is dropped as a",
    "  growth plate: its seed core is the band itself, thin and as even as a physis, and only",
    "  the whole component (band and physis) is not plate-shaped. A scan-wide physis level",
    "  (plates 1.5 x brighter than the median plate stay) finds too few seeded plates to set it",
    "  (one on hard-001); sparing plates whose seed core is uneven, their pieces exempt from the",
    "  plate test after the cut, gains one tuning lesion and one false positive (0.355 at 2.25),",
    "  nothing on the held-out suite or the real scans. A plate's thickness limit as the slices a",
    "  plate of `plate_mm` can straddle ((ceil(plate_mm / depth) + 1) x depth, for the calcaneal",
    "  apophysis across two 6 mm slices): real 0.718 at 1.25, tuning 0.323, held-out 0.371 at",
    "  3.33 (lesions dropped as plates), false positives no fewer.",
    "- Where the phantom false positives come from, by grid: 38 of the held-out suite's 40 (22 of",
    "  the tuning suite's 26) are on the four phantoms whose finest axis is 1.0 mm (1.0 x 6 x 1.4",
    "  and 1.4 x 4.5 x 1.0 mm). There",
    "  the 1 mm denoising radius reaches one neighbour on each side along that axis, the window",
    "  holds 3 voxels and the seed noise demand is 17 / sqrt(3) noise levels; at 1.2-1.5 mm it",
    "  holds one voxel and the demand is 17. The false positives are red-marrow plateaus (about 2",
    "  x their region's level), which averaging does not dim. A demand per tissue volume instead",
    "  (17 noise levels scaled by sqrt(voxel volume / V), the same for every grid; the real scans'",
    "  3 x 3 window is V = 10.5 mm3, leaving them unchanged): V 10.5 gives tuning 0.226 at 0.92 and",
    "  held-out 0.274 at 2.33, V 14 0.323 at 1.50 and 0.339 at 3.58, V 20 0.355 at 3.83 and 0.435",
    "  at 6.33 (real 0.744 at 2.00): the same curve as a lower `noise_z`, with the false positives",
    "  moved to the phantoms with the smallest voxels (1.3 x 3 x 1.3 mm), whose one-voxel statistic",
    "  is then the noisiest against the demand. Not kept; the README's `--denoise-mm` row says",
    "  how the window steps with the grid.",
    "- The seed demand from the scan's own spread of the denoised signal around its level (1.4826",
    "  MAD of denoised / level - 1 over every bone voxel sampled, so texture at the window's scale",
    "  counts as well as noise) instead of the noise demand: that spread is 0.14-0.16 on the real",
    "  scans and 0.22-0.38 on the hard phantoms; 3 spreads above the level give real 0.718 at",
    "  1.25 but tuning 0.532 at 21.4 and held-out 0.565 at 21.8 false positives per scan; 5",
    "  spreads real 0.410 at 1.00 (Dice mean 0.38), held-out 0.403 at 11.4; 7 spreads real 0.308.",
    "  Once it binds on the real scans it takes their faint oedema, and on the phantoms it stays",
    "  under the red-marrow plateaus.",
    "- No averaging on 1.0 mm grids (`--denoise-mm 0.9`; the real scans' 0.6 mm window is the",
    "  same): real unchanged, tuning 0.194 at 0.83, held-out 0.258 at 0.83; with `--noise-z` 14,",
    "  12 or 10 held-out 0.290 at 1.92, 0.355 at 3.58, 0.435 at 6.25 (real 0.744 at 2.00): a",
    "  curve under the default's 0.403 at 3.33. A wider window, `--denoise-mm 1.5`: real 0.564.",
    "- Outlines of confluent oedema: inside sub-1013's large lesions the local level rises with",
    "  the oedema itself, and the voxels reader 1 marks but the detector does not sit at 1.96 x",
    "  the readers' normal marrow (on the other three scans at 1.0-1.3 x: there the readers'",
    "  outlines take in marrow at about its normal level, and the detector's own extra voxels are",
    "  the brighter, 1.1-1.5 x). Outlining without the local lift (no lift, no fine level; only",
    "  components that meet the default's kept, so the false positives stay the same) raises",
    "  sub-1013's Dice from 0.626 to 0.661 but swells sub-1007's and sub-1016's (0.464 -> 0.371,",
    "  0.524 -> 0.495): Dice mean 0.495 -> 0.473.",
    "- Bright structures seen through the atlas's edge (fluid, CSF, a disc inside a shifted",
    "  atlas): a component dropped when a share S of its voxels lie on the atlas's edge beside an",
    "  outside voxel at least as bright as its median. Real vs reader 1 (S: sensitivity at false",
    "  positives per scan): 0.05 0.564 at 0.25, 0.10 0.590 at 0.50, 0.15 0.641 at 1.00, 0.20",
    "  0.718 at 1.00, 0.25-0.40 unchanged (0.744 at 1.25). Only S = 0.2 meets all three real",
    "  targets, by taking off sub-1013's bright round piece beside the sacral canal and, with it, a",
    "  bright streak at the edge of sub-4386's region that reader 1 marks: a window this narrow",
    "  fits these four scans, not oedema. Phantoms at S = 0.2: held-out 0.387 at 3.25 (a 2.1 x C7",
    "  lesion lost), noiseless 0.565 at 22.1, a quarter of the noise 0.548 at 14.3, tuning 0.339",
    "  at 2.08: a few false positives fewer at every noise level. Not kept; oedema that reaches",
    "  the soft tissue (extramedullary involvement, which staging counts) would meet the same test.",
    "- A lesion fused with the growth plate it touches, taken back from the plate (the held-out",
    "  suite's bright misses that almost no normal marrow outshines include such lesions: a 2.1 x",
    "  distal femoral metaphyseal blob of hard-003 grows into one 824-voxel component with its",
    "  brighter physis, whose seed core reads as a plate, so both are dropped). For each component",
    "  dropped as a plate, its voxels whose straight run of the component along the voxel axis",
    "  nearest the bone's plate axis is longer than `plate_mm` plus a voxel (the part thicker than",
    "  a plate: the lesion and the stretch of physis it crosses) went through the seed and plate",
    "  tests again as a component of their own, when they were at most a share F of the",
    "  component. F 0.3: held-out 0.323 at 0.92 -> 0.371 at 1.42 false positives per scan, tuning",
    "  0.290 at 0.58 -> 0.355 at 1.00; F 0.15: 0.339 at 1.08 and 0.306 at 0.92. The false",
    "  positives it adds are pieces of the physes themselves, one slice deep in the thick axis as",
    "  the true lesion is: the proximal humeral tent, where its sides run along the bone, and the",
    "  distal tibial physis; their signal is 1.3-2.7 times the marrow around them, the lesion's",
    "  1.9. A ball of `plate_mm` across fitted into the component instead of the runs (on 8",
    "  held-out phantoms: +2 lesions, +13 to +16 false positives), or the runs along every fine",
    "  voxel axis (+2, +10 to +15), peel more of the physes. Not kept: about one lesion gained for",
    "  every 1.5 false positives, against a false-positive target already missed.",
    "- Tried and not kept (a Python prototype): a significance test for each component in place of",
    "  the seed noise demand. The components of the held-out suite at `--noise-z 0`, each judged as",
    "  *Which lesions stand out* (below) judges a true lesion, by its own shape placed 500 times in",
    "  its region away from every component: 133 of the 163 false positives that could be placed",
    "  (267 in all) beat every placement, as do 3 of the 4 lesions gained that could. The false",
    "  positives the demand holds back (red fibulae, physes, apophyses, red-marrow plateaus) stand",
    "  out in their regions as much as the lesions do: no test of contrast alone tells them apart.",
    "",
] + separability()
print("\n".join(out).rstrip("\n"))
