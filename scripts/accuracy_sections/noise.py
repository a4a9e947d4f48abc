"""The noise parts of the section *Phantoms* of docs/ACCURACY.md: the table of the noise over
the marrow of the real scans and the hard suite, then the subsection *The same suite at other
noise levels* (the hard suite rerun with its noise scaled) and what its noiseless runs show
about the phantom's normal bright marrow.
"""
from .common import fmt, median, relative_noise, spread

# The factors of `--noise-scale` in the table; 1 is the suite itself (hard-local).
NOISE_SCALES = ["0", "0.25", "0.5", "1", "2"]


def section(inputs):
    """Both noise parts, in order."""
    real_noise = relative_noise(inputs, "real-local")
    hard_local = inputs.hard_local
    sweep = {f: (hard_local if f == "1" else inputs.load(f"hard-noise-x{f}")) for f in NOISE_SCALES}
    sweep_noise = {f: relative_noise(inputs, "hard-local" if f == "1" else f"hard-noise-x{f}")[1]
                   for f in NOISE_SCALES}
    return (against_real(inputs, real_noise) + levels_table(sweep, sweep_noise, real_noise)
            + noiseless(hard_local, sweep, sweep_noise, real_noise))


def against_real(inputs, real_noise):
    """The noise over the marrow of the real scans and of the hard suite, and their ratio."""
    hard_noise = relative_noise(inputs, "hard-local")
    ratio = median(hard_noise[1]) / median(real_noise[1])
    return [
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


def levels_table(sweep, sweep_noise, real_noise):
    """The subsection's head and its table, a row per noise scale."""
    out = [
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
    return out


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


def noiseless(hard_local, sweep, sweep_noise, real_noise):
    """Where the noiseless suite's false positives lie, and why the phantom's marrow gives them."""
    quiet, default_point = sweep["0"]["summary"], hard_local["summary"]
    nearest_scale = min(NOISE_SCALES, key=lambda f: abs(median(sweep_noise[f]) - median(real_noise[1])))
    return [
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
    ]
