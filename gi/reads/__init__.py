"""Read models: what the faces, maps and reports show, gathered by one module per view (never written to)."""
