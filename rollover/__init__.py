"""Next year's plan."""
