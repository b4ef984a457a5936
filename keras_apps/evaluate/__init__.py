"""Evaluation beyond accuracy, and the run report that shows it."""
