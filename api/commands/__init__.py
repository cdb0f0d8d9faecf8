"""One module of CLI commands per resource."""
