"""Compression for deployment: LiteRT post-training quantization, Keras int8, magnitude pruning, distillation.

`suite` applies them to an exported classifier and measures every variant alike; `python -m tasks.<task>
compress` runs it.
"""
