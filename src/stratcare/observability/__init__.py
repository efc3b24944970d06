"""What the service measures about itself, exposed to Prometheus on ``GET /metrics``."""

from stratcare.observability.metrics import ServiceMetrics
from stratcare.observability.transport import MeteredTransport

__all__ = ["MeteredTransport", "ServiceMetrics"]
