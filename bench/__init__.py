"""Throughput, latency and billed-request figures for vegskriv, measured on this machine
(``make bench``, or ``python -m bench`` from the project root).

One module per section (run in this order; pick some with ``--only``; docs/benchmarks.md explains
each figure): ``validation``, ``imports``, ``e2e``, ``e2e-mixed``, ``latency``, ``locks`` and the opt-in
``e2e10k``. Shared: ``cli`` (arguments, main), ``output`` (tables), ``stack`` (the local stack and
its client), ``objects`` (changesets shaped like the real excerpts, from the test suite's
fixtures) and ``billing`` (what AWS bills, counted from botocore's events).

Every figure is measured; nothing is estimated. Adding a section: write
``def section_x(bench: Bench) -> dict`` in ``bench/x.py`` (return the figures, print a table with
``bench.output.print_table``) and append ``Section("x", ...)`` to ``bench.cli.SECTIONS``.
"""

import os

# Importing the test suite's fixtures runs tests/conftest.py, which sets test defaults in
# os.environ (tracing off, fake credentials); the import probes must see the real environment.
ENV_AT_START = dict(os.environ)
