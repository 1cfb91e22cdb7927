"""Shared storage helpers of the platform's own state."""
