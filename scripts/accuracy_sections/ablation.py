"""The subsection *What each test costs and buys* of docs/ACCURACY.md, closing *How the defaults
were chosen*: the real scans and the held-out hard suite evaluated again with one test of the
local detector relaxed at a time (scripts/ablation.py, ablation.json), as a table and what it
shows. relaxed and fp_added also serve the separability section.
"""


def relaxed(rows, name):
    """The row of scripts/ablation.py's `rows` that relaxed the test `name`."""
    return next(r for r in rows if r["relaxed"].split(" (")[0] == name)


def fp_added(rows, name):
    """Phantom false positives per scan that relaxing the test `name` adds."""
    return relaxed(rows, name)["phantoms"]["fp_per_scan"] - rows[0]["phantoms"]["fp_per_scan"]


def section(inputs):
    """The section on what each test costs and buys (scripts/ablation.py)."""
    rows = inputs.ablation_rows
    return table(rows) + findings(rows)


def table(rows):
    """The subsection's head and its table, a row per relaxed test (the defaults first)."""
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
    return lines


def findings(rows):
    """What the two phantom-side tests and the real-side tests cost and buy."""
    noise, plate = relaxed(rows, "seed noise demand"), relaxed(rows, "growth-plate guard")
    return [
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
