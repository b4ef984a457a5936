from keras_apps.evaluate.language_model import prompts_from


def test_the_prompts_of_a_text_are_a_new_line_and_the_opening_of_a_whole_line_of_it():
    cut_mid_line = "the middle of a review.\nI saw this film twice and loved it.\nAnother review.\n"
    assert prompts_from(cut_mid_line) == ("\n", "I saw this")
    assert prompts_from("one line only, no break") == ("\n", "one line only,")
    assert prompts_from(" \n\n") == ("\n",)
