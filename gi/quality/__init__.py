"""Characteristic-quality control (特色质量控制): decision rules, units, specifications, lab results, origin
fingerprints and the combined origin evidence."""
