"""keras-apps: real, trained, exported Keras 3 models on real datasets.

The package is organised by stage (see ARCHITECTURE.md): `data` reads and validates datasets, `models` holds
functional builders, `training` runs `fit` under a distribution strategy and writes the run directory, and
`export` writes SavedModels that serve raw inputs.
"""

__version__ = "0.1.0"
