"""The register of GI products: products, their versioned protected areas, and the loader of register files."""
