"""Trains the tiny model through the runner; with `--kill-at-epoch E` the process SIGKILLs itself in the
middle of epoch E (0-based), as a crash or a pre-empted machine would. Used by the resume test."""

import argparse
import os
import signal

import keras

from keras_apps import files
from keras_apps.training.config import TrainingConfig
from keras_apps.training.run_directory import RunDirectory
from keras_apps.training.runner import fit, seed_everything
from keras_apps.training.strategy import select_strategy
from tests.training.helpers import InterruptMidEpoch, tiny_datasets, tiny_model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir")
    parser.add_argument("--kill-at-epoch", type=int)
    args = parser.parse_args()
    config = TrainingConfig(epochs=3, batch_size=32, learning_rate=3e-3, strategy="cpu")
    seed_everything(config.seed)
    train, validation = tiny_datasets(config.batch_size)
    killer = [] if args.kill_at_epoch is None else [
        InterruptMidEpoch(args.kill_at_epoch, lambda: os.kill(os.getpid(), signal.SIGKILL))
    ]
    result = fit(tiny_model, train, validation, config=config, run_directory=RunDirectory.create("tiny", args.run_dir),
                 strategy=select_strategy("cpu"), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                 metrics=["accuracy"], callbacks=killer)
    files.write_json(os.path.join(args.run_dir, "result.json"), {
        "initial_epoch": result.initial_epoch, "epochs_completed": result.epochs_completed,
        "optimizer_iterations": int(result.model.optimizer.iterations.numpy()),
    })


if __name__ == "__main__":
    main()
