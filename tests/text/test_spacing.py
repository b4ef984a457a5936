"""A writer's spacing: none inside words joined by a hyphen or an apostrophe, nor inside numbers."""

import tensorflow as tf

from keras_apps.text.spacing import respace


def test_apostrophes_hyphens_and_number_separators_join_what_they_sit_between():
    texts = ["l ’ homme", "don ' t", "e - mail", "at 10 : 30", "3 . 5", "1 , 000", "7 / 10"]
    assert [text.decode() for text in respace(tf.constant(texts)).numpy()] == [
        "l’homme", "don't", "e-mail", "at 10:30", "3.5", "1,000", "7/10"]


def test_punctuation_hugs_the_word_it_closes_or_opens():
    texts = ["¿ Dónde ? ¡ Sí !", "( see above ) .", "« oui » , 50 %"]
    assert [text.decode() for text in respace(tf.constant(texts)).numpy()] == [
        "¿Dónde? ¡Sí!", "(see above).", "«oui», 50%"]
