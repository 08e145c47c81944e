"""Benchmarks behind ``kubeds bench SCENARIO`` (and ``make bench``).

Machines are shared and noisy, so every scenario repeats its measurements, reports medians, and
states results as ratios against a floor measured in the same run, never as pass/fail timings.
"""
