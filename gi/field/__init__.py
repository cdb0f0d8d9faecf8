"""Field collection: the ODK sample form, OpenRosa submissions turned into samples, and sample seal codes."""
