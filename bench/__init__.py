"""The benchmark harness: stratcare under load on loopback, beside its peers, with the budgets of issue 11.

Run it with ``bench/run`` (``--quick`` for a short pass); see ``bench/RESULTS.md``.
"""
