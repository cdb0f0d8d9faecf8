"""Spatial input/output, coordinate systems, and the bundled real GI register; imports no other package of ours."""
