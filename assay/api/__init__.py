"""HTTP only: FastAPI routers per resource, request schemas, serializers, error mapping."""
