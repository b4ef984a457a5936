"""The runtime configuration every task's training shares (the task's own choices live in the task)."""

from dataclasses import asdict, dataclass

from keras_apps.errors import UserError

LR_SCHEDULES = ("constant", "cosine")
STRATEGIES = ("auto", "cpu", "gpu", "mirrored", "multi_worker", "tpu")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


@dataclass(frozen=True)
class TrainingConfig:
    """How to train, independent of what is trained.

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

    epochs: int = 10
    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    lr_schedule: str = "cosine"
    warmup_fraction: float = 0.05
    min_lr_fraction: float = 0.0
    adam_beta_2: float = 0.999
    gradient_clip_norm: float = 0.0
    jit_compile: bool = False
    precision: str = "float32"
    early_stopping_patience: int = 0
    monitor: str = "val_loss"
    seed: int = 0
    deterministic: bool = False
    steps_per_execution: int = 1
    strategy: str = "auto"

    def __post_init__(self):
        if self.epochs < 1:
            raise UserError(f"epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise UserError(f"the batch size must be at least 1, got {self.batch_size}")
        if not self.learning_rate > 0:
            raise UserError(f"the learning rate must be positive, got {self.learning_rate}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise UserError(f"unknown learning-rate schedule {self.lr_schedule!r}; choose {', '.join(LR_SCHEDULES)}")
        if not 0 <= self.warmup_fraction < 1:
            raise UserError(f"the warm-up fraction must be in [0, 1), got {self.warmup_fraction}")
        if not 0 <= self.min_lr_fraction <= 1:
            raise UserError(f"the final learning-rate fraction must be in [0, 1], got {self.min_lr_fraction}")
        if not 0 <= self.adam_beta_2 < 1:
            raise UserError(f"Adam's beta 2 must be in [0, 1), got {self.adam_beta_2}")
        if self.gradient_clip_norm < 0:
            raise UserError(f"the gradient clipping norm must be 0 (off) or positive, got {self.gradient_clip_norm}")
        if self.steps_per_execution < 1:
            raise UserError(f"steps per execution must be at least 1, got {self.steps_per_execution}")
        if self.precision not in PRECISIONS:
            raise UserError(f"unknown precision {self.precision!r}; choose one of {', '.join(PRECISIONS)}")
        if self.strategy not in STRATEGIES:
            raise UserError(f"unknown strategy {self.strategy!r}; choose one of {', '.join(STRATEGIES)}")
        if self.early_stopping_patience < 0:
            raise UserError(f"early-stopping patience must be 0 or more, got {self.early_stopping_patience}")

    def to_dict(self):
        return asdict(self)
