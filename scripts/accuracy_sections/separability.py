"""The last subsection of docs/ACCURACY.md, *Which lesions stand out from their marrow* (inside
*Where it still fails*): whether each real and held-out phantom lesion's mean beats every
placement of its shape in its region (scripts/lesion_separability.py,
separability-{real,hard}.json), as a table by signal ratio and what it says of the detector.
"""
from .ablation import fp_added, relaxed


def section(inputs):
    """The section on which lesions stand out by their mean (scripts/lesion_separability.py)."""
    hard, real = inputs.work_json("separability-hard.json"), inputs.work_json("separability-real.json")
    return table(hard, real) + findings(hard, real, inputs.ablation_rows)


def table(hard, real):
    """The subsection's head and its table, a row per ratio band of each set of lesions."""
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
    return lines


def findings(hard, real, ablation_rows):
    """How many separable lesions the detector finds, and which seed test loses the others."""
    by_test = hard.get("separable_missed_by_seed_test", {})
    plate_gained = relaxed(ablation_rows, "growth-plate guard")["phantoms"]["gained"]
    return [
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
