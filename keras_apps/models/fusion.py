"""A digit seen and heard: one model over an image and a recording, fusing the two early, late or by a gate.

    image [batch, 28, 28] uint8       audio [batch, samples] float32, lengths [batch] int32
      │ convnet features                │ spoken-digit features (log-mel spectrogram inside)
      │ Dense(width) → h_image          │ Dense(width) → h_audio
      ▼                                 ▼
    present: which senses each example has (an image with any ink; audio with samples), less those that
    modality dropout hides in training, so the model learns to answer from either sense alone
      │
      ├─ early: [h_image · p_image, h_audio · p_audio, p_image, p_audio] → Dense → logits
      ├─ late:  p_image · log softmax(Dense(h_image)) + p_audio · log softmax(Dense(h_audio)): a product of
      │         the two experts' probabilities, each trained to answer alone too
      └─ gated: a gated multimodal unit (Arevalo et al. 2017): z = σ(W [h_image, h_audio]) decides, per
                feature, how much comes from tanh(W_i h_image) and how much from tanh(W_a h_audio); a missing
                sense's share is 0 → Dense → logits

Beside the fused answer, each sense's own guess (a Dense layer on its features; late fusion's experts) is an
output that training scores too, so that each encoder learns to tell the digit by itself.
`fusion="image"` or `"audio"` builds one sense alone, the baseline each fusion is measured against.
"""

import keras
from keras import layers, ops

from keras_apps.models.convnet import convnet_features
from keras_apps.models.image_input import image_input
from keras_apps.models.speech import spoken_features

FUSIONS = ("early", "late", "gated")
SENSES = ("image", "audio")


def senses(fusion):
    """The senses a model of this `fusion` (or single sense) uses."""
    if fusion in SENSES:
        return (fusion,)
    if fusion in FUSIONS:
        return SENSES
    raise ValueError(f"fusion must be one of {SENSES + FUSIONS}, got {fusion!r}")


def outputs(fusion):
    """The names of the outputs of a model of `fusion`: the answer, and for a fusion each sense's own guess."""
    return ("digit",) if len(senses(fusion)) == 1 else ("digit", *(f"{sense}_digit" for sense in SENSES))


@keras.saving.register_keras_serializable(package="keras_apps")
class Presence(layers.Layer):
    """`(image, lengths)` → float `[batch, 2]`: 1 where the example has an image with any ink, and audio."""

    def call(self, image, lengths):
        has_image = ops.max(ops.reshape(image, (ops.shape(image)[0], -1)), axis=1) > 0
        return ops.cast(ops.stack([has_image, lengths > 0], axis=1), "float32")


@keras.saving.register_keras_serializable(package="keras_apps")
class ModalityDropout(layers.Layer):
    """In training, hides one of the two senses of an example that has both, with probability `rate` (either
    sense equally often): the model meets examples with one sense missing and learns to answer them."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, present, training=False):
        if not training or not self.rate:
            return present
        draws = keras.random.uniform(ops.shape(present), seed=self.generator)
        both = ops.min(present, axis=1, keepdims=True)
        hide = ops.cast(draws[:, :1] < self.rate, "float32") * both
        hidden = ops.concatenate([ops.cast(draws[:, 1:] < 0.5, "float32"), ops.cast(draws[:, 1:] >= 0.5, "float32")],
                                 axis=1)
        return present * (1 - hide * hidden)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@keras.saving.register_keras_serializable(package="keras_apps")
class GatedUnit(layers.Layer):
    """`(h_image, h_audio, present)` → the gated multimodal unit's `[batch, units]` (see the module's diagram)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.image_view = layers.Dense(units, activation="tanh", name="image_view")
        self.audio_view = layers.Dense(units, activation="tanh", name="audio_view")
        self.gate = layers.Dense(units, activation="sigmoid", name="gate")

    def build(self, h_image_shape, h_audio_shape, present_shape):
        self.image_view.build(h_image_shape)
        self.audio_view.build(h_audio_shape)
        self.gate.build((h_image_shape[0], h_image_shape[1] + h_audio_shape[1]))

    def call(self, h_image, h_audio, present):
        p_image, p_audio = present[:, :1], present[:, 1:]
        gate = self.gate(ops.concatenate([h_image * p_image, h_audio * p_audio], axis=1))
        gate = gate * p_image * p_audio + p_image * (1 - p_audio)  # alone, a sense has it all
        return gate * self.image_view(h_image) + (1 - gate) * self.audio_view(h_audio)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="keras_apps")
class ProductOfExperts(layers.Layer):
    """`(image logits, audio logits, present)` → the sum of the present senses' log-probabilities."""

    def call(self, image_logits, audio_logits, present):
        return (ops.log_softmax(image_logits) * present[:, :1] + ops.log_softmax(audio_logits) * present[:, 1:])


def _image_encoder(filters, width):
    inputs, x = image_input((28, 28), name="image")
    x = layers.Dense(width, activation="relu", name="project")(convnet_features(x, filters))
    return keras.Model(inputs, x, name="image_encoder")


def _audio_encoder(sampling_rate, num_mel_bins, filters, width):
    audio = keras.Input(shape=(None,), dtype="float32", name="audio")
    lengths = keras.Input(shape=(), dtype="int32", name="lengths")
    x = spoken_features(audio, lengths, sampling_rate, num_mel_bins, filters)
    x = layers.Dense(width, activation="relu", name="project")(x)
    return keras.Model([audio, lengths], x, name="audio_encoder")


def build_digit_fusion(fusion="gated", num_classes=10, width=128, modality_dropout=0.4, dropout=0.3,
                       image_filters=(32, 64), audio_filters=(16, 32, 32), num_mel_bins=32, sampling_rate=8000,
                       seed=None, name=None):
    """The model of the module's diagram; inputs `{"image", "audio", "lengths"}`; out, the logits of the answer
    (`"digit"`) and, for a fusion, of each sense's own guess (`"image_digit"`, `"audio_digit"`), which training
    scores too and serving leaves out.

    Args:
        fusion: "early", "late" or "gated", or "image" or "audio" for one sense alone.
        width: features per sense, and of the gated unit.
        modality_dropout: the probability that training hides one sense of an example (fusions only).
        dropout: before each output layer.
        image_filters, audio_filters, num_mel_bins: the encoders' (`convnet_features`, `spoken_features`).
        seed: of modality dropout.
    """
    used = senses(fusion)
    image = keras.Input(shape=(28, 28), dtype="uint8", name="image")
    audio = keras.Input(shape=(None,), dtype="float32", name="audio")
    lengths = keras.Input(shape=(), dtype="int32", name="lengths")
    inputs = {"image": image, "audio": audio, "lengths": lengths}
    features = {}
    if "image" in used:
        features["image"] = _image_encoder(image_filters, width)(image)
    if "audio" in used:
        features["audio"] = _audio_encoder(sampling_rate, num_mel_bins, audio_filters, width)([audio, lengths])

    def head(x, label):
        x = layers.Dropout(dropout, name=f"{label}_dropout")(x)
        return layers.Dense(num_classes, dtype="float32", name=f"{label}_logits")(x)

    if len(used) == 1:
        return keras.Model(inputs, {"digit": head(features[fusion], fusion)}, name=name or f"{fusion}_digits")
    # Each sense's own guess, trained beside the fused one: without it the fused loss is met by whichever sense
    # is easier, and the other's encoder learns too little to answer alone (bench/NOTES.md).
    guesses = {sense: head(features[sense], sense) for sense in SENSES}
    present = Presence(name="presence")(image, lengths)
    present = ModalityDropout(modality_dropout, seed, name="modality_dropout")(present)
    if fusion == "early":
        masked = [layers.Multiply(name=f"{sense}_if_present")([features[sense], present[:, i:i + 1]])
                  for i, sense in enumerate(SENSES)]
        x = layers.Concatenate(name="concatenate")([*masked, present])
        logits = head(layers.Dense(width, activation="relu", name="fuse")(x), "fused")
    elif fusion == "late":
        logits = ProductOfExperts(name="product_of_experts")(guesses["image"], guesses["audio"], present)
    else:
        logits = head(GatedUnit(width, name="gated_unit")(features["image"], features["audio"], present), "fused")
    return keras.Model(inputs, dict(zip(outputs(fusion), (logits, guesses["image"], guesses["audio"]))),
                       name=name or f"{fusion}_digits")
