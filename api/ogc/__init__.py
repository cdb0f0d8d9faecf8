"""OGC API - Features (Part 1 core, GeoJSON; Part 3 filter on queryables) over the register and samples."""
