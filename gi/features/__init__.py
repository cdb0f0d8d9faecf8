"""Feature collections for OGC API - Features: what each collection is, and paged, filtered queries of it."""
