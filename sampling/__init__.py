"""Seasonal double-random (双随机、一公开) inspection planning."""
