import pytest

from keras_apps.errors import UserError
from keras_apps.training.config import TrainingConfig


@pytest.mark.parametrize("field, value", [("epochs", 0), ("batch_size", -3), ("learning_rate", 0.0),
                                          ("lr_schedule", "step"), ("warmup_fraction", 1.0),
                                          ("early_stopping_patience", -1), ("strategy", "quantum"),
                                          ("min_lr_fraction", 1.5), ("adam_beta_2", 1.0),
                                          ("gradient_clip_norm", -1.0), ("precision", "int4"),
                                          ("steps_per_execution", 0), ("weight_decay", -1e-4)])
def test_invalid_settings_are_user_errors(field, value):
    with pytest.raises(UserError):
        TrainingConfig(**{field: value})


def test_to_dict_holds_every_setting():
    config = TrainingConfig(epochs=3)
    assert config.to_dict()["epochs"] == 3 and set(config.to_dict()) == set(TrainingConfig.__dataclass_fields__)
