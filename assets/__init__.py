"""The asset graph, by stage: raw → staged → linked → facts → lists → published. Wiring only."""
