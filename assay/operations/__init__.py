"""Asynchronous jobs (sync, scan, …) and the runner that executes them."""
