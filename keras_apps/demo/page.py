"""The demo's page (Gradio): an overview of what each tab serves, then a tab per task.

A tab whose task has an export offers its inputs and the export's answers; a tab without one says which command
makes it. An input the model cannot take shows its one-line reason on the page (Gradio's error toast), never
a stack trace; an unexpected failure shows its type and leaves the traceback in the server's log.
"""

import functools
import logging
import os

from keras_apps.errors import UserError

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before Gradio is imported: a local page reports nothing

import gradio as gr  # noqa: E402
from gradio.components.base import server  # noqa: E402

METHODS = {"integrated gradients": "ig", "LIME": "lime", "SHAP": "shap"}
REVIEW_EXAMPLES = [
    "One of the best films I have seen this year: moving, funny and beautifully acted.",
    "A dull, predictable plot, wooden acting and an ending that made no sense. Avoid it.",
    "The first half is slow, but the last hour is wonderful.",
]
SENTENCE_EXAMPLES = ["Where is the station?", "I like coffee.", "My father bought a new car last week."]


def answering(function):
    """`function` as a page's event handler: a `UserError` becomes the page's error message."""

    @functools.wraps(function)
    def handler(*args):
        try:
            return function(*args)
        except UserError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:
            logging.getLogger(__name__).exception("the demo failed to answer")
            raise gr.Error(f"the model could not answer ({type(exc).__name__}); the server's log has the "
                           "details", print_exception=False) from None

    return handler


def build_page(served, answers):
    """The page: `served` is `catalog.find`'s list, `answers` the loaded answers by task (`keras_apps.demo.answers`)."""
    with gr.Blocks(title="keras-apps: try the models", delete_cache=(3600, 3600)) as page:
        gr.Markdown("# keras-apps: try the models\n" + overview(served, answers), elem_id="overview")
        with gr.Tabs():
            for entry in served:
                if entry.tab.optional and entry.tab.task not in answers:
                    continue
                with gr.Tab(entry.tab.title, id=entry.tab.task, elem_id=f"{entry.tab.task}-tab"):
                    if entry.tab.task in answers:
                        gr.Markdown(f"{entry.tab.offers}. Serving `{entry.path}` ({entry.figures}).")
                        TABS[entry.tab.task](answers[entry.tab.task])
                    else:
                        gr.Markdown(missing(entry), elem_id=f"{entry.tab.task}-missing")
    return page


def overview(served, answers):
    """A Markdown table: each task, the export its tab serves and its figures, or why it serves none (no export,
    or the problem with the one there) and the command that makes one."""
    rows = ["| tab | serves | recorded quality |", "| --- | --- | --- |"]
    for entry in served:
        if entry.tab.task in answers:
            rows.append(f"| {entry.tab.title} | `{entry.path}` | {entry.figures} |")
        else:
            reason = " ".join(entry.problem.split()).replace("|", "\\|") or "no export"  # one line, one cell
            rows.append(f"| {entry.tab.title} | {reason}: `{entry.tab.command}` makes one | |")
    return "\n".join(rows)


def missing(entry):
    reason = entry.problem or "There is no export of this task yet."
    return f"{reason}\n\nMake one with `{entry.tab.command}`, then restart this page."


MOST_LAYERS = 4  # of a drawing the digit tab's editor receives


def with_bounded_layers(editor):
    """`editor` (a `gr.ImageEditor`) whose server function receiving a drawing's layers (`accept_blobs`) refuses a
    layer's index beyond `MOST_LAYERS`: Gradio's own grows a list to any index a request gives (100,000,000: 800 MB
    per request, kept). Set on the instance: a subclass of a Gradio component writes a `.pyi` beside its module."""
    accept_blobs = editor.accept_blobs

    @server
    def bounded(data):
        index = data.data.get("index")
        if data.data.get("type") == "layer" and index not in (None, "", "null") and \
                not 0 <= int(index) < MOST_LAYERS:
            raise ValueError(f"a drawing has at most {MOST_LAYERS} layers, not a layer {index}")
        return accept_blobs(data)

    editor.accept_blobs = bounded
    return editor


def digits_tab(answers):
    with gr.Row():
        picture = with_bounded_layers(gr.ImageEditor(
            label="draw (pick the brush) or upload a digit", type="numpy", image_mode="RGBA", sources=("upload",),
            canvas_size=(280, 280), layers=False, elem_id="digit-picture",
            brush=gr.Brush(colors=["#000000"], color_mode="fixed", default_size=18),
        ))
        with gr.Column():
            method = gr.Dropdown(list(METHODS), value="integrated gradients", label="explained by")
            submit = gr.Button("Classify", variant="primary", elem_id="digit-submit")
            verdict = gr.Markdown(elem_id="digit-answer")
            probabilities = gr.Label(num_top_classes=3, label="class probabilities")
    heat_map = gr.Image(label="the pixels behind the prediction (red raised it, blue lowered it)", type="filepath")

    @answering
    def classify(picture, method):
        editor_picture = picture.get("composite") if isinstance(picture, dict) else picture
        answer = answers.answer(editor_picture, METHODS[method])
        predicted = int(answer.probabilities.argmax())
        return (f"**{predicted}**, probability {answer.probabilities[predicted]:.4f}",
                {str(digit): float(p) for digit, p in enumerate(answer.probabilities)}, str(answer.heat_map))

    submit.click(classify, [picture, method], [verdict, probabilities, heat_map])


def reviews_tab(answers):
    review = gr.Textbox(label="a movie review", lines=5, elem_id="review-text",
                        placeholder="Type or paste a review, then press Score")
    with gr.Row():
        default = next(name for name, code in METHODS.items() if code == answers.default_method)
        method = gr.Dropdown(list(METHODS), value=default, label="explained by")
        submit = gr.Button("Score", variant="primary", elem_id="review-submit")
    probability = gr.Number(label="P(positive)", elem_id="review-probability", interactive=False)
    verdict = gr.Markdown(elem_id="review-answer")
    shaded = gr.HTML(elem_id="review-words")
    gr.Examples(REVIEW_EXAMPLES, review)

    @answering
    def score(review, method):
        from keras_apps.explain.text import SHADING_KEY, shaded_words

        answer = answers.answer(review, METHODS[method])
        words = answer.explanation
        return (answer.probability, words.summary, f"<p>{SHADING_KEY}</p><p style=\"line-height: 2\">"
                f"{shaded_words(words.words, words.explanation.values)}</p>")

    for event in (submit.click, review.submit):
        event(score, [review, method], [probability, verdict, shaded])


def translation_tab(answers):
    sentence = gr.Textbox(label="an English sentence", elem_id="sentence-text")
    submit = gr.Button("Translate", variant="primary", elem_id="sentence-submit")
    translation = gr.Textbox(label="Spanish", elem_id="translation", interactive=False)
    attention = gr.Image(label="where each written token looked (cross-attention, last decoder block)",
                         type="filepath")
    gr.Examples(SENTENCE_EXAMPLES, sentence)

    @answering
    def translate(sentence):
        answer = answers.answer(sentence)
        return answer.translation, str(answer.attention_map)

    for event in (submit.click, sentence.submit):
        event(translate, sentence, [translation, attention])


def generation_tab(answers):
    from keras_apps.demo.answers import MAX_NEW_TOKENS, MAX_TEMPERATURE

    prompt = gr.Textbox(label="prompt (may be empty)", lines=3, elem_id="prompt-text")
    with gr.Row():
        length = gr.Slider(1, MAX_NEW_TOKENS, value=200, step=1, label="new tokens")
        temperature = gr.Slider(0.05, MAX_TEMPERATURE, value=0.8, step=0.05, label="temperature")
        # Not rounded by the page (precision 0 would run 2.5 as seed 2): the answer refuses a fraction.
        seed = gr.Number(value=0, label="seed (same seed, same text)", minimum=0)
    submit = gr.Button("Generate", variant="primary", elem_id="prompt-submit")
    text = gr.Textbox(label="prompt and continuation", lines=14, elem_id="generated", interactive=False)

    submit.click(answering(answers.answer), [prompt, length, temperature, seed], text)


def spoken_digits_tab(answers):
    recording = gr.Audio(sources=["upload", "microphone"], type="filepath", label="a spoken digit (WAV)",
                         elem_id="speech-recording")
    submit = gr.Button("Recognize", variant="primary", elem_id="speech-submit")
    verdict = gr.Markdown(elem_id="speech-answer")
    probabilities = gr.Label(num_top_classes=3, label="class probabilities")

    @answering
    def recognize(recording):
        answer = answers.answer(recording)
        predicted = int(answer.argmax())
        return (f"**{predicted}**, probability {answer[predicted]:.4f}",
                {str(digit): float(p) for digit, p in enumerate(answer)})

    submit.click(recognize, recording, [verdict, probabilities])


TABS = {"mnist": digits_tab, "imdb": reviews_tab, "translate": translation_tab, "gpt": generation_tab,
        "speech": spoken_digits_tab}
