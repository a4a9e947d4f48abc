"""The section *Phantoms* of docs/ACCURACY.md: the broadened hard suite and its scoring rules,
the table of its metrics for the global and the local detector, its sensitivity by the lesions'
signal ratio, and the equivocal foci the local detector set aside; also the closing paragraphs
on the basic suite and the founding case, which the document gives after the noise and
carry-over sections (basic_suite).
"""
from .common import fmt, with_ci

# The metrics table's rows: (name, key of the evaluation's summary, target, format).
METRICS = [
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


def section(inputs):
    """The hard suite's part of the section, in order (the noise tables follow)."""
    return introduction(inputs) + metrics_table(inputs) + ratio_table(inputs) + equivocal(inputs)


def introduction(inputs):
    """The suite, its scoring and its lesions under the volume floor, down to the table's head."""
    count, seed, hard_local = inputs.count, inputs.seed, inputs.hard_local
    return [
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


def metrics_table(inputs):
    """The rows of METRICS, global beside local."""
    hard_local, hard_global = inputs.hard_local, inputs.hard_global
    out = []
    for name, key, target, spec in METRICS:
        out.append(
            f"| {name} | {target} | {summary_cell(hard_global['summary'], key, spec)} | "
            f"{summary_cell(hard_local['summary'], key, spec)} |"
        )
    return out


def ratio_table(inputs):
    """Sensitivity by the lesions' signal ratio to their marrow, global beside local."""
    hard_local, hard_global = inputs.hard_local, inputs.hard_global
    out = ["", "Sensitivity by the lesions' signal ratio to the marrow they replace (real oedema: about 1.1-2.4):", "",
           "| ratio | lesions | global | local |", "|---|---|---|---|"]
    for g, l in zip(hard_global["summary"]["sensitivity_by_ratio"], hard_local["summary"]["sensitivity_by_ratio"]):
        band = f"< {l['to']:g}" if l["from"] <= 0 else (f"{l['from']:g}-{l['to']:g}" if l["to"] else f">= {l['from']:g}")
        out.append(f"| {band} | {l['lesions']} | {fmt(g['sensitivity'], '{:.3f}')} | {fmt(l['sensitivity'], '{:.3f}')} |")
    return out


def equivocal_foci(inputs, suite):
    """The equivocal foci of every run of WORK/SUITE/runs: (scans, foci, their regions by count)."""
    reports = inputs.run_reports(suite)
    counts = {}
    for report in reports:
        for focus in report["equivocal_foci"]:
            region = focus["region"].removesuffix("_left").removesuffix("_right")
            counts[region] = counts.get(region, 0) + 1
    top = ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return len(reports), sum(counts.values()), top


def equivocal(inputs):
    """The foci set aside as equivocal, and the suite scored with every focus as a lesion."""
    hard_local, local_settings = inputs.hard_local, inputs.local_settings
    all_foci = inputs.load("hard-all-foci")["summary"]
    scans_, foci_, where_ = equivocal_foci(inputs, "hard-local")
    return [
        "",
        f"Equivocal foci (README, *Equivocal foci*): the local detector set {foci_} foci aside on these {scans_} scans",
        f"({foci_ / scans_:.2f} per scan; {where_ or 'none'}), each under {local_settings['variant_focus_mm']:g} mm across in the scan's plane at a",
        "site of normal-variant bright marrow, listed in report.json and not scored. Reporting every",
        f"focus as a lesion instead (`--variant-focus-mm 0`): sensitivity {all_foci['sensitivity']:.3f}, "
        f"{all_foci['false_positives_per_scan']:.2f} false positives per scan",
        f"({fmt(all_foci['false_positives_per_healthy'], '{:.2f}')} per healthy control), against "
        f"{hard_local['summary']['sensitivity']:.3f} at {hard_local['summary']['false_positives_per_scan']:.2f} above.",
    ]


def basic_suite(inputs):
    """The basic suite's figures and the founding case's lesions."""
    b, demo = inputs.basic["summary"], inputs.demo
    return [
        "",
        f"The basic suite (`--suite basic --count 20 --seed 1000`, fixed bright lesions over quiet marrow),",
        f"local detector: sensitivity {b['sensitivity']:.3f}, false positives per scan {b['false_positives_per_scan']:.2f},",
        f"region correct {b['region_correct']:.3f}, pooled Dice {b['dice_pooled']:.3f}.",
        "",
        "The founding case (`crmo-map demo`): " + ", ".join(l["region"] for l in demo["lesions"]) + ".",
        "",
    ]
