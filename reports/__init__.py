"""Results reports."""
