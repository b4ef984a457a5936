"""Low-rank adaptation (LoRA, Hu et al. 2021): fine-tune a large model by training, beside each frozen Dense
and EinsumDense kernel and Embedding table W, two small matrices A (inputs x r) and B (r x outputs) whose
product, scaled by alpha / r, is added to W. B starts at zero, so the adapted model starts as the model it
adapts; Keras's `enable_lora` makes the pair. Merged back (W + alpha / r · A B, `merged`), the model is a
plain one again, so its export serves as any other does.
"""

import math

import keras
from keras import ops

from keras_apps.errors import UserError

KINDS = (keras.layers.Dense, keras.layers.EinsumDense, keras.layers.Embedding)


def enable(model, rank, *, train=()):
    """Freezes every weight of `model` (in place) and adds rank-`rank` adapters to its Dense and EinsumDense
    kernels and Embedding tables, except in the layers named in `train` (a new classification head, say, or a
    layer inside a nested backbone), which train whole. Returns `model`."""
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        raise UserError(f"a LoRA rank is a whole number of at least 1, not {rank!r}")
    named = [layer for layer in model._flatten_layers(include_self=False) if layer.name in train]
    if missing := set(train) - {layer.name for layer in named}:
        raise ValueError(f"{model.name} has no layer named {', '.join(sorted(missing))}")
    trained_whole = {id(sublayer) for layer in named for sublayer in layer._flatten_layers()}
    # The layers not trained whole; one made of others is left out, its parts are in the list themselves.
    frozen = [layer for layer in model._flatten_layers(include_self=False)
              if id(layer) not in trained_whole and not list(layer._flatten_layers(include_self=False))]
    _check_rank(rank, [layer for layer in frozen if isinstance(layer, KINDS)])
    for layer in frozen:
        if isinstance(layer, KINDS):
            layer.enable_lora(rank)
            if getattr(layer, "bias", None) is not None:
                layer.bias.trainable = False
        else:
            layer.trainable = False
    return model


def _check_rank(rank, layers):
    """Refuses, before any adapter is made, a rank above the full rank of every weight it would adapt: there A B
    cannot use it, and adapters of such a rank (a typo) can take the machine's memory. A layer whose weight has
    a lower full rank than `rank` (BERT's two-row segment embedding) simply gets a full-rank update."""
    def full_rank(layer):
        shape = (layer.embeddings if isinstance(layer, keras.layers.Embedding) else layer.kernel).shape
        return min(math.prod(shape[:-1]), shape[-1])  # A is (inputs..., r), B is (r, outputs)

    largest = max(layers, key=full_rank, default=None)
    if largest is not None and rank > full_rank(largest):
        raise UserError(f"--lora-rank {rank} is above the full rank of every weight it adapts (at most "
                        f"{full_rank(largest)}, layer {largest.name!r}); choose at most {full_rank(largest)}")


def merged(model):
    """A copy of `model` without adapters whose kernels are `model`'s with their adapters added (in float32):
    the same outputs, as a plain model."""
    def without_lora(node):
        if isinstance(node, dict):
            return {key: without_lora(value) for key, value in node.items() if key not in ("lora_rank", "lora_alpha")}
        if isinstance(node, list):
            return [without_lora(value) for value in node]
        return node

    values = {weight.path: weight for weight in model.weights}
    for layer in model._flatten_layers():
        if isinstance(layer, KINDS) and layer.lora_enabled:
            weight, a, b = adapted(layer)
            update = ops.matmul(a, b) * (layer.lora_alpha / layer.lora_rank)
            values[weight.path] = ops.add(ops.cast(weight, "float32"), update)
    copy = keras.Model.from_config(without_lora(model.get_config()))
    for weight in copy.weights:
        weight.assign(ops.cast(values[weight.path], weight.dtype))
    return copy


def adapted(layer):
    """An adapted layer's frozen weight and its adapter's two matrices."""
    if isinstance(layer, keras.layers.Embedding):
        return layer._embeddings, layer.lora_embeddings_a, layer.lora_embeddings_b
    return layer._kernel, layer.lora_kernel_a, layer.lora_kernel_b
