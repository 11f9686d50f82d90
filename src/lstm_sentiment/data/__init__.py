"""Reading, splitting, preparing and batching review data."""
