"""Knowledge distillation (Hinton et al., 2015): a small student learns from a trained teacher's soft outputs.

The teacher's logits softened by a temperature say which wrong classes look most like the right one (a 7
that could be a 1); matching them teaches the student more per example than the one-hot label alone.
"""

import keras
from keras import ops


class Distiller(keras.Model):
    """Trains `student` on `alpha` x the true-label loss + (1 - alpha) x the distillation loss.

    The distillation loss is the KL divergence between the teacher's and the student's softmax at
    `temperature`, scaled by temperature^2 so that its gradients keep their size as the temperature changes.
    Compile with the student's loss on the true labels (`from_logits=True`) and its metrics; the teacher is
    frozen and only predicts. `call` is the student's: evaluate and predict see the student alone, and
    `distiller.student` is the model to save.
    """

    def __init__(self, student, teacher, *, temperature=4.0, alpha=0.1, **kwargs):
        super().__init__(**kwargs)
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        if not 0 <= alpha <= 1:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        self.student = student
        self.teacher = teacher
        self.teacher.trainable = False
        self.temperature = temperature
        self.alpha = alpha

    def call(self, inputs, training=False):
        return self.student(inputs, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        student_loss = super().compute_loss(x, y, y_pred, sample_weight, training=training)
        teacher_logits = ops.stop_gradient(self.teacher(x, training=False))
        distillation_loss = self.distillation_loss(teacher_logits, y_pred)
        return self.alpha * student_loss + (1 - self.alpha) * distillation_loss

    def distillation_loss(self, teacher_logits, student_logits):
        """KL(teacher || student) of the softened distributions, times temperature^2, averaged over the batch."""
        t = self.temperature
        teacher = ops.softmax(ops.cast(teacher_logits, "float32") / t, axis=-1)
        student_log = ops.log_softmax(ops.cast(student_logits, "float32") / t, axis=-1)
        kl = ops.sum(teacher * (ops.log(ops.maximum(teacher, 1e-12)) - student_log), axis=-1)
        return ops.mean(kl) * t**2
