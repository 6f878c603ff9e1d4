"""Quality scores, insights and metrics over time (read-only views of the metadata store)."""
