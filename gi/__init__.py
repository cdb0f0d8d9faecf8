"""Domain core of the GI origin and quality supervision system."""
