"""The yardstick for our runner's speed: the classic convnet trained the plain keras.io way.

NumPy arrays straight into `model.fit`, no callbacks of ours but the passive clock, the same network,
optimizer, batch, validation split and epochs as the runner gets in `bench.mnist`. Writes its figures as
JSON to `--output`.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from keras_apps import files  # noqa: E402
from keras_apps.data import mnist  # noqa: E402
from keras_apps.data.labeled_images import split_validation  # noqa: E402
from keras_apps.models.convnet import build_convnet  # noqa: E402
from keras_apps.training.callbacks import TrainingClock  # noqa: E402
from keras_apps.training.metrics import peak_memory_mb  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--learning-rate", type=float, required=True)
    parser.add_argument("--train-examples", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", required=True, help="JSON file for the figures")
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    data = mnist.load()
    train, validation = split_validation(data.train.take(args.train_examples), 0.1)
    usable = len(train) // args.batch_size * args.batch_size  # whole batches, as the runner trains
    model = build_convnet()
    model.compile(
        optimizer=keras.optimizers.AdamW(args.learning_rate, weight_decay=1e-4),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    clock = TrainingClock(args.batch_size)
    start = time.perf_counter()
    model.fit(
        train.images[:usable], train.labels[:usable], batch_size=args.batch_size, epochs=args.epochs,
        validation_data=(validation.images, validation.labels), callbacks=[clock], verbose=2,
    )
    seconds = time.perf_counter() - start
    test = model.evaluate(data.test.images, data.test.labels, return_dict=True, verbose=0)
    files.write_json(args.output, {
        "train_seconds": seconds, "train_examples": clock.examples,
        "train_examples_per_second": clock.examples_per_second, "peak_memory_mb": peak_memory_mb(),
        "test": test,
    })


if __name__ == "__main__":
    main()
