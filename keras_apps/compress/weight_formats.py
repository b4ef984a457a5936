"""The weight formats that a GPT's and a translator's `compress` make, by name. Light to import: their command
lines offer them (`variants`, `calibrated` and `litert_gpt` make them)."""

from keras_apps.compress import litert

QUANTIZED = ("int8", "int4")  # what `model.quantize` does alone
HALVES = ("bfloat16", "float16")  # casts of the whole model
PLAIN = (*HALVES, *QUANTIZED)  # any model's (`variants`)
CALIBRATED = ("gptq", "awq")  # 4-bit weights chosen on calibration data (`calibrated`)
LITERT = {f"litert-{variant}": variant for variant in litert.VARIANTS}  # a GPT's forward pass (`litert_gpt`)
GPT_MODES = (*PLAIN, *CALIBRATED, *LITERT)
TRANSLATOR_MODES = PLAIN  # GPTQ and AWQ calibrate decoder-only models (`keras_apps.compress.translator`)
