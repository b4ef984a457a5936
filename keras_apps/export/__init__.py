"""Exports that serve raw inputs: versioned, atomic SavedModels with explicit signatures."""
