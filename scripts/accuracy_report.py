#!/usr/bin/env python3
"""Writes docs/ACCURACY.md (to stdout) from the runs scripts/accuracy.sh made in WORK.

usage: accuracy_report.py WORK COUNT SEED
Standard library only. Every figure comes from the evaluation.json files of that run and what
scripts/lesion_separability.py (separability-{hard,real}.json) and scripts/ablation.py
(ablation.json) wrote beside them. Each section of the document is written by a module of
scripts/accuracy_sections, imported from this script's folder.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from accuracy_sections import (ablation, carry_over, choices, failures, noise, phantoms, readers,  # noqa: E402
                               separability)
from accuracy_sections.common import Inputs  # noqa: E402


def main(argv):
    if len(argv) != 4:
        sys.exit("usage: accuracy_report.py WORK COUNT SEED")
    inputs = Inputs(*argv[1:])
    out = (readers.section(inputs) + phantoms.section(inputs) + noise.section(inputs)
           + carry_over.section(inputs) + phantoms.basic_suite(inputs) + choices.section(inputs)
           + ablation.section(inputs) + failures.section(inputs) + separability.section(inputs))
    print("\n".join(out).rstrip("\n"))


if __name__ == "__main__":
    main(sys.argv)
