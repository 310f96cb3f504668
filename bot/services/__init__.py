"""Use cases as functions over ports. Each one writes the timeline for what it did."""
