"""The yardstick for our runner's speed: the classic convnet trained the plain keras.io way.

NumPy arrays straight into `model.fit`, no callbacks of ours but the passive clock, the same network,
optimizer, batch, validation split and epochs as the runner gets in `bench.mnist`. Writes its figures as
JSON to `--output`.
"""

import time

from keras_apps import cli, files, settings
from keras_apps.tensorflow_start import import_tensorflow


def main(argv=None):
    parser = cli.ArgumentParser(prog="python -m bench.plain_keras", description=__doc__)
    parser.add_argument("--epochs", type=settings.positive_int, required=True)
    parser.add_argument("--batch-size", type=settings.positive_int, required=True)
    parser.add_argument("--learning-rate", type=settings.positive_float, required=True)
    parser.add_argument("--train-examples", type=settings.positive_int, help="the first N training images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=cli.path, required=True, help="JSON file for the figures")
    args = parser.parse_args(argv)
    files.check_writable_file(args.output, "--output")  # before the training, not after it
    import_tensorflow()
    import keras

    from keras_apps.data import mnist
    from keras_apps.data.labeled_images import split_validation
    from keras_apps.lifecycle import require_data
    from keras_apps.models.convnet import build_convnet
    from keras_apps.training.callbacks import TrainingClock
    from keras_apps.training.metrics import peak_memory_mb

    keras.utils.set_random_seed(args.seed)
    data = mnist.load()
    train_examples = settings.count_within("--train-examples", args.train_examples, len(data.train),
                                           "images in MNIST's training split")
    train, validation = split_validation(data.train.take(train_examples), 0.1)
    require_data(len(train), len(validation), args.batch_size, "images")  # as the runner refuses them
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
    return 0


if __name__ == "__main__":
    cli.exit_process(cli.run(main))
