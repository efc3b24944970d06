"""Peers measured in the same run: the bare-FastAPI ceiling and HealthChain's trivial card."""
