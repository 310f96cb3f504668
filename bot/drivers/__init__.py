"""Drivers: how an action reaches the real system, one module per target system."""
