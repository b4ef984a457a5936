"""The settings of the suite's trained techniques, pruning and distillation; their fields are flags
(`keras_apps.settings`). Light to import: a task's command line reads them."""

from dataclasses import dataclass

from keras_apps.settings import positive_float, positive_int, probability, setting


@dataclass(frozen=True)
class Pruning:
    """How the export's model is fine-tuned while its smallest weights are zeroed."""

    sparsity: float = setting(0.8, help="share of each dense and convolution kernel set to zero, in [0, 1)",
                              type=probability)
    epochs: int = setting(2, help="epochs of fine-tuning while pruning", type=positive_int, flag="--prune-epochs")
    learning_rate: float = setting(3e-4, help="Adam learning rate of the fine-tuning", type=positive_float,
                                   flag="--prune-learning-rate")


@dataclass(frozen=True)
class Distillation:
    """How the students are trained, alone and from the teacher's soft outputs, for seeds 1 to `seeds`."""

    seeds: int = setting(3, help="train the student alone and distilled with seeds 1..N", type=positive_int,
                         flag="--distill-seeds")
    epochs: int = setting(20, help="epochs of training for each student", type=positive_int,
                          flag="--student-epochs")
    learning_rate: float = setting(3e-3, help="peak Adam learning rate of the students, cosine-decayed",
                                   type=positive_float, flag="--student-learning-rate")
    temperature: float = setting(4.0, help="softmax temperature of the distillation loss", type=positive_float)
    alpha: float = setting(0.1, help="weight of the true-label loss; 1 - alpha weighs the teacher's",
                           type=probability)
