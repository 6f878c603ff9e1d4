"""Repository functions, one module per aggregate: every query the API layer needs.

Routers and services call these instead of building ``select()`` / ``update()``
statements themselves, so the persistence of each aggregate lives in one module:

* ``datastores``, ``connections``, ``containers``, ``checks``, ``anomalies``,
  ``operations``, ``schedules``, ``tags``, ``users``; ``scores``, ``metrics``, ``insights``
  (the inputs of quality scores and insights over time).

Each function takes the SQLAlchemy ``Session`` first; lookups by id raise
``assay.errors.NotFound`` (→ 404). Functions flush but never commit: the caller's
unit of work (the request's session) decides when to commit.
"""
