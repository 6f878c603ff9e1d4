"""Route conventions shared by every router: exact answers and stable operation ids.

* ``Route`` serializes answers with ``response_model_exclude_unset``: a key the serializer
  did not put in the answer is not added by the response model (see ``responses.py``).
* ``operation_id`` is the handler's name (``list_datastores``, ``run_operation`` …):
  stable across releases and unique (``tests`` check it), so a generated client gets
  readable method names.
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute


class Route(APIRoute):
    """An ``APIRoute`` that never adds keys the handler's answer does not have."""

    def __init__(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        kwargs["response_model_exclude_unset"] = True
        super().__init__(path, endpoint, **kwargs)


def operation_id(route: APIRoute) -> str:
    """The OpenAPI ``operationId`` of ``route``: its handler's name."""
    return route.name
