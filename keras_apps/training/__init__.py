"""The shared runner: strategy selection, configuration, callbacks, `fit`, and the run directory."""
