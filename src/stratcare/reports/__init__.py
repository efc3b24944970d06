"""Audit-and-feedback reports: measure definitions, report queries, clinician support (pure)."""
