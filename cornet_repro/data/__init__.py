"""Data: published numbers, real Brain-Score files (BrainIO), and the simulated experiment."""
