"""The faces of the system: the FastAPI app and the `gi` command line."""
