"""stratcare: a CDS Hooks service for stratified care of musculoskeletal pain."""

__version__ = "0.1.0"
