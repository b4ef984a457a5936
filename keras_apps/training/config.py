"""The runtime configuration every task's training shares (the task's own choices live in the task)."""

from dataclasses import asdict, dataclass

from keras_apps.settings import (
    SettingError, non_negative_float, non_negative_int, positive_float, positive_int, probability, setting,
)
from keras_apps.settings import seed as seed_type

LR_SCHEDULES = ("constant", "cosine")
STRATEGIES = ("auto", "cpu", "gpu", "mirrored", "multi_worker", "tpu")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


@dataclass(frozen=True)
class TrainingConfig:
    """How to train, independent of what is trained. Every field but `monitor` is also a flag.

    Attributes:
        epochs: passes over the training split.
        batch_size: the global batch, divided among replicas by the strategy.
        learning_rate: peak learning rate of AdamW.
        weight_decay: AdamW's decoupled weight decay.
        lr_schedule: `constant`, or `cosine` (linear warm-up over `warmup_fraction` of the steps, then
            cosine decay to `min_lr_fraction` of the peak).
        warmup_fraction: share of all steps spent warming up under `cosine`.
        min_lr_fraction: where `cosine` ends, as a fraction of the peak learning rate (nanoGPT: 0.1).
        adam_beta_2: AdamW's second-moment decay (0.999; small-batch language models prefer 0.99).
        gradient_clip_norm: clip the global gradient norm to this (0: no clipping).
        jit_compile: compile the training step with XLA (often twice as fast on CPU for Transformers).
        precision: a Keras dtype policy: `float32`, or `mixed_bfloat16` / `mixed_float16` (variables in
            float32, computation in 16 bits; float16 adds loss scaling, which Keras's `compile` applies).
        early_stopping_patience: stop after this many epochs without a better validation loss (0: never).
        monitor: the validation metric that picks the best checkpoint and drives early stopping.
        seed: seeds Python, NumPy, TensorFlow and Keras.
        deterministic: also make TensorFlow's ops deterministic (slower).
        steps_per_execution: training steps run per call into the compiled graph; more than 1 saves
            Python overhead per step for small models (callbacks then see every N-th batch).
        strategy: one of `STRATEGIES` (see `keras_apps.training.strategy.select_strategy`).
    """

    epochs: int = setting(10, help="passes over the training data", type=positive_int)
    batch_size: int = setting(128, help="global batch size", type=positive_int)
    learning_rate: float = setting(1e-3, help="peak learning rate", type=positive_float)
    weight_decay: float = setting(1e-4, help="AdamW's decoupled weight decay on weight matrices",
                                  type=non_negative_float)
    lr_schedule: str = setting("cosine", help="learning-rate schedule", choices=LR_SCHEDULES)
    warmup_fraction: float = setting(0.05, help="share of the steps spent warming up (cosine schedule)",
                                     type=probability)
    min_lr_fraction: float = setting(0.0, help="where the cosine decay ends, as a fraction of the peak",
                                     type=non_negative_float)
    adam_beta_2: float = setting(0.999, help="AdamW's beta 2", type=probability, flag="--beta2")
    gradient_clip_norm: float = setting(0.0, help="clip the global gradient norm to this (0: off)",
                                        type=non_negative_float, flag="--gradient-clip")
    jit_compile: bool = setting(False, help="compile the training step with XLA")
    precision: str = setting("float32", help="float32, or mixed precision: 16-bit computation, float32 "
                             "variables", choices=PRECISIONS)
    early_stopping_patience: int = setting(0, help="stop after PATIENCE epochs without a better validation loss "
                                           "(0: off)", type=non_negative_int, flag="--early-stopping",
                                           metavar="PATIENCE")
    monitor: str = "val_loss"
    seed: int = setting(0, help="random seed", type=seed_type)
    deterministic: bool = setting(False, help="make TensorFlow ops deterministic (slower)")
    steps_per_execution: int = setting(1, help="training steps per call into the compiled graph", type=positive_int,
                                       metavar="N")
    strategy: str = setting(
        "auto", choices=STRATEGIES,
        help="where to train: auto (a TPU, else all GPUs, else the CPU), cpu, gpu, mirrored (all GPUs, or two "
        "logical CPU devices), multi_worker (the cluster in $TF_CONFIG or a SLURM job; needs --run-dir), "
        "tpu ($TPU_NAME or this TPU VM's)",
    )

    # The settings that only the cosine schedule uses.
    COSINE_ONLY = ("warmup_fraction", "min_lr_fraction")

    def __post_init__(self):
        checks = [
            ("epochs", self.epochs >= 1, "must be at least 1"),
            ("batch_size", self.batch_size >= 1, "must be at least 1"),
            ("learning_rate", self.learning_rate > 0, "must be positive"),
            ("weight_decay", self.weight_decay >= 0, "must be 0 or more"),
            ("lr_schedule", self.lr_schedule in LR_SCHEDULES, f"must be one of {', '.join(LR_SCHEDULES)}"),
            ("warmup_fraction", 0 <= self.warmup_fraction < 1, "must be in [0, 1)"),
            ("min_lr_fraction", 0 <= self.min_lr_fraction <= 1, "must be in [0, 1]"),
            ("adam_beta_2", 0 <= self.adam_beta_2 < 1, "must be in [0, 1)"),
            ("gradient_clip_norm", self.gradient_clip_norm >= 0, "must be 0 (off) or positive"),
            ("precision", self.precision in PRECISIONS, f"must be one of {', '.join(PRECISIONS)}"),
            ("early_stopping_patience", self.early_stopping_patience >= 0, "must be 0 or more"),
            ("steps_per_execution", self.steps_per_execution >= 1, "must be at least 1"),
            ("strategy", self.strategy in STRATEGIES, f"must be one of {', '.join(STRATEGIES)}"),
        ]
        for name, holds, requirement in checks:
            if not holds:
                raise SettingError(TrainingConfig, name, f"{requirement}, got {getattr(self, name)!r}")

    def to_dict(self):
        return asdict(self)
