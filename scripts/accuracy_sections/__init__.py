"""The sections of docs/ACCURACY.md, one module each, in the order scripts/accuracy_report.py
writes them. Every section is a function that takes the loaded inputs (common.Inputs) and
returns its Markdown lines.
"""
