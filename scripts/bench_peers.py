#!/usr/bin/env python3
"""End-to-end timings of `crmo-map run` side by side with the peers a user would script
instead (SimpleITK; nibabel + numpy + cc3d) and with the bare libdeflate inflate of the scan,
on whole-body phantoms of about 25, 50, 100 and 200 M voxels. Writes docs/BENCHMARKS.md.

usage: python3 scripts/bench_peers.py [--repeat N] [--sizes 25 50 100 200] [--out FILE] [--rewrite]

Installs the peers into .venv-bench (from PyPI, once), builds the release binary, generates
the phantoms into target/bench/ (once), then runs every job `--repeat` times in its own
process, round-robin so that machine noise spreads over all tools alike, and records the
median wall time and the peak resident memory of each. Quote ratios, not absolute times:
these machines are shared.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
VENV = os.path.join(ROOT, ".venv-bench")
PEERS = ["SimpleITK>=2.3", "nibabel>=5,<6", "numpy>=1.24", "connected-components-3d>=3.12", "deflate>=0.7"]
# Field of view of the phantom (mm): 360 x 222 x 1420.
FOV_MM3 = 360.0 * 222.0 * 1420.0


def venv_python():
    py = os.path.join(VENV, "bin", "python")
    probe = "import SimpleITK, nibabel, numpy, cc3d, deflate"
    if not os.path.exists(py) or subprocess.run([py, "-c", probe], capture_output=True).returncode != 0:
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PEERS], check=True)
    return py


def measure(cmd):
    """Wall seconds and peak resident MiB of one process."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    out, err = proc.stdout.read(), proc.stderr.read()
    if status != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{err.decode(errors='replace')}")
    return wall, usage.ru_maxrss / 1024.0, out.decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100, 200])
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "BENCHMARKS.md"))
    ap.add_argument("--rewrite", action="store_true",
                    help="only rewrite the Markdown from target/bench/results.json (no timing)")
    a = ap.parse_args()
    if a.rewrite:
        with open(os.path.join(ROOT, "target", "bench", "results.json")) as f:
            results = json.load(f)
        a.repeat = len(next(iter(results["sizes"].values()))["jobs"]["crmo-map (global)"]["runs_s"])
        write_markdown(results, a, a.out)
        print(f"wrote {a.out}")
        return
    py = venv_python()
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "crmo-map", "--example", "ccl_time"],
                   cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target", "release", "crmo-map")
    ccl_time = os.path.join(ROOT, "target", "release", "examples", "ccl_time")
    jobs_py = os.path.join(ROOT, "scripts", "peer_jobs.py")
    work = os.path.join(ROOT, "target", "bench")
    results = {}
    for size in a.sizes:
        spacing = (FOV_MM3 / (size * 1e6)) ** (1.0 / 3.0)
        ph = os.path.join(work, f"phantom-{size}M")
        if not os.path.exists(os.path.join(ph, "truth.json")):
            print(f"generating the {size} M-voxel phantom (spacing {spacing:.3f} mm)", flush=True)
            subprocess.run([exe, "phantom", "--quiet", "--case", "seed", "--spacing", *(3 * [f"{spacing:.4f}"]),
                            "--out", ph], check=True)
        scan, atlas, labels = (os.path.join(ph, f) for f in ("scan.nii.gz", "atlas.nii.gz", "labels.tsv"))
        out = os.path.join(work, f"out-{size}M")
        crmo = lambda method: [exe, "run", "--quiet", "--scan", scan, "--atlas", atlas, "--labels", labels,
                               "--out", os.path.join(out, f"crmo-{method}"), "--method", method]
        jobs = {
            "crmo-map (global)": crmo("global"),
            "crmo-map (local)": crmo("local"),
            "SimpleITK": [py, jobs_py, "sitk", scan, atlas, os.path.join(out, "sitk")],
            "nibabel + cc3d": [py, jobs_py, "cc3d", scan, atlas, os.path.join(out, "cc3d")],
            "libdeflate inflate only": [py, jobs_py, "inflate", scan, atlas, os.path.join(out, "inflate")],
        }
        runs = {name: [] for name in jobs}
        for r in range(a.repeat):
            for name, cmd in jobs.items():
                if name.startswith("crmo-map"):
                    subprocess.run(["rm", "-rf", cmd[cmd.index("--out") + 1]], check=True)
                wall, rss, _ = measure(cmd)
                runs[name].append((wall, rss))
                print(f"{size} M  {name:<26} run {r + 1}: {wall:6.2f} s  {rss:7.0f} MiB", flush=True)
        hdr = subprocess.run([py, "-c", f"import nibabel as n;i=n.load({scan!r});print(i.shape, i.get_data_dtype())"],
                             capture_output=True, text=True, check=True).stdout.strip()
        voxels = 1
        for d in hdr.split(")")[0].strip("(").split(","):
            voxels *= int(d)
        results[size] = {
            "voxels": voxels,
            "header": hdr,
            "file_mib": os.path.getsize(scan) / 2**20,
            "jobs": {n: {"median_s": statistics.median(w for w, _ in v), "peak_mib": max(m for _, m in v),
                         "runs_s": [w for w, _ in v]} for n, v in runs.items()},
        }
    # The CCL kernel alone, on candidate masks of the phantom nearest 100 M voxels: the
    # detector's (z > 6, a handful of lesions) and two noisier ones (z > 2, z > 1).
    size = min(results, key=lambda s: abs(results[s]["voxels"] - 1e8))
    ph = os.path.join(work, f"phantom-{size}M")
    scan, atlas = os.path.join(ph, "scan.nii.gz"), os.path.join(ph, "atlas.nii.gz")
    kernel = []
    for z in ("6", "2", "1"):
        ours = json.loads(subprocess.run([ccl_time, scan, atlas, z, "15"], capture_output=True, text=True,
                                         check=True).stdout)
        peer = json.loads(subprocess.run([py, jobs_py, "cc3d-kernel", scan, atlas, os.path.join(work, "k"), z],
                                         capture_output=True, text=True, check=True).stdout)
        kernel.append({"z": z, "ours": ours, "cc3d": peer})
        print(f"CCL z > {z}: {ours} cc3d {peer}", flush=True)
    results = {"sizes": results, "kernel": kernel}
    os.makedirs(os.path.join(ROOT, "target", "bench"), exist_ok=True)
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    write_markdown(results, a, a.out)
    print(f"wrote {a.out}")


def write_markdown(everything, a, path):
    results, kernel = everything["sizes"], everything.get("kernel", [])
    names = list(next(iter(results.values()))["jobs"])
    cores = os.cpu_count()
    lines = ["# Benchmarks", "",
             "Generated by `python3 scripts/bench_peers.py` (do not edit by hand): every job run "
             f"{a.repeat} times round-robin in its own process on this machine ({cores} cores, "
             f"{platform.machine()}, Python {platform.python_version()}); medians of wall time, and the largest "
             "peak resident memory. Shared machines are noisy: read the ratios.", "",
             "The job: read the scan (int16 `.nii.gz`) and the atlas, median and MAD of the scan inside the atlas, "
             "threshold at z > 6 inside the atlas, 26-connected components, per-component size, centroid, mean "
             "intensity and majority atlas label, write the label map as `.nii.gz`. `crmo-map run` also writes "
             "the JSON and CSV reports, the overview PNG, the region map (`regions.nii.gz`, `.tsv`, `.png`), "
             "both maps' colour tables and the review page (`review.html` with its review copies of the scan "
             "and maps, downsampled above 8 M voxels); its `local` detector (the default) judges each voxel "
             "against its region's own normal marrow with seeds, growth and guards, more work than the naive "
             "`global` threshold the peers reproduce. The phantoms are the founding case "
             "(`crmo-map phantom --case seed`) at isotropic spacings giving about 25-200 M voxels.", ""]
    for size, r in results.items():
        dec_mib = r["voxels"] * 2 / 2**20
        lines += [f"## {r['voxels'] / 1e6:.1f} M voxels (shape and type {r['header']}, file {r['file_mib']:.0f} MiB, "
                  f"decompressed {dec_mib:.0f} MiB)", "",
                  "| job | median s | vs crmo-map (global) | peak MiB | peak / decompressed scan |", "|---|---|---|---|---|"]
        base = r["jobs"]["crmo-map (global)"]["median_s"]
        for n in names:
            j = r["jobs"][n]
            lines.append(f"| {n} | {j['median_s']:.2f} | {j['median_s'] / base:.2f}x | {j['peak_mib']:.0f} | "
                         f"{j['peak_mib'] / dec_mib:.2f} |")
        lines.append("")
    near = min(results.values(), key=lambda r: abs(r["voxels"] - 1e8))
    j = near["jobs"]
    dec = near["voxels"] * 2 / 2**20
    ours = ["crmo-map (local)", "crmo-map (global)"]

    def per_voxel_spread(n):
        per = [r["jobs"][n]["median_s"] / r["voxels"] for r in results.values()]
        return max(per) / min(per)

    def row(label, f):
        return f"| {label} | " + " | ".join(f(n, j[n]["median_s"]) for n in ours) + " |"

    lines += [f"## Against the targets (at {near['voxels'] / 1e6:.0f} M voxels)", "",
              "`crmo-map run` as users run it (the `local` detector, the default) and with `--method global` "
              "(exactly the peers' job).", "",
              "| target | " + " | ".join(f"`{n}`" for n in ours) + " |", "|---|---|---|",
              row("at least 3x faster than SimpleITK", lambda n, t: f"{j['SimpleITK']['median_s'] / t:.2f}x"),
              row("at least 4x faster than nibabel + cc3d", lambda n, t: f"{j['nibabel + cc3d']['median_s'] / t:.2f}x"),
              row("within 1.5x of the libdeflate inflate",
                  lambda n, t: f"{t / j['libdeflate inflate only']['median_s']:.2f}x"),
              row("peak memory at most 3x the decompressed scan", lambda n, t: f"{j[n]['peak_mib'] / dec:.2f}x"),
              row("time per voxel within 15% from 25 to 200 M voxels",
                  lambda n, t: f"largest / smallest {per_voxel_spread(n):.2f}"),
              ""]
    if kernel:
        lines += ["## CCL kernel alone", "",
                  f"26-connected labelling of a candidate mask of the {kernel[0]['ours']['voxels'] / 1e6:.0f} M-voxel "
                  "phantom (inside the atlas, z above the value shown), best of 15, I/O excluded: ours "
                  "(`cargo run --release --example ccl_time -- SCAN ATLAS Z`) on 1 thread and on all threads, cc3d "
                  "(`scripts/peer_jobs.py cc3d-kernel`, one thread). Both find the same number of components.", "",
                  "| mask | components | cc3d s | ours, 1 thread | ours, all threads | cc3d / ours (1 thread) | "
                  "speed-up from threads |", "|---|---|---|---|---|---|---|"]
        for k in kernel:
            secs = k["ours"]["seconds"]
            one, allt = secs["1"], secs[max(secs, key=int)]
            lines.append(f"| z > {k['z']} | {k['ours']['components']} (cc3d {k['cc3d']['components']}) | "
                         f"{k['cc3d']['seconds']:.3f} | {one:.4f} | {allt:.4f} | {k['cc3d']['seconds'] / one:.1f}x | "
                         f"{one / allt:.2f}x |")
        lines.append("")
    lines += ["## Scaling", "", "Seconds per 100 M voxels (median time / voxels), by size:", "",
              "| job | " + " | ".join(f"{r['voxels'] / 1e6:.0f} M" for r in results.values()) + " |",
              "|---|" + "---|" * len(results)]
    for n in names:
        lines.append(f"| {n} | " + " | ".join(f"{r['jobs'][n]['median_s'] / r['voxels'] * 1e8:.2f}"
                                              for r in results.values()) + " |")
    lines.append("")
    open(path, "w").write("\n".join(lines))


if __name__ == "__main__":
    main()
