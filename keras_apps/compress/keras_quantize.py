"""Keras's own `model.quantize`, called the way every compression here calls it."""

import contextlib
import gc
import warnings


def keras_quantize(model, mode, config=None):
    """`model.quantize(mode, config=config)`, in place, without the seconds Keras spends collecting garbage.

    Keras runs a full garbage collection for each float kernel it replaces (`Layer.__delattr__`, to free device
    buffers at once), and a full collection walks every object of a process that has loaded TensorFlow: seconds
    per model. The objects alive before quantization are frozen out of those collections (`gc.freeze`) and one
    collection runs at the end. Keras's warning for each layer it leaves in float (the input, normalizations) is
    dropped: the callers report which layers were quantized.
    """
    with _collections_skip_older_objects(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not have a `quantize` method")
        model.quantize(mode, config=config)


@contextlib.contextmanager
def _collections_skip_older_objects():
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.collect()
