"""Datasets read from a local data directory (or downloaded once), validated, and turned into tf.data."""
