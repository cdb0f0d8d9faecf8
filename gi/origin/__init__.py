"""Origin control (产地控制): the rule, the in-memory area index, and sample intake (single and batch)."""
