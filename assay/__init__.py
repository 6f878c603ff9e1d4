"""Assay: an open-source data-quality platform with a Qualytics-compatible REST API."""

__version__ = "0.1.0"
