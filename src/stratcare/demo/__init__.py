"""The end-to-end demo: bundled sample patients played against the service as an EHR would."""
