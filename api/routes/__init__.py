"""Routers of the HTTP service, one module per topic."""
