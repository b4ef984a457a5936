"""A local web page over the exports (`python -m tasks.demo`): draw a digit, type a review, translate a sentence,
continue a prompt, and see what the served model answers and why.

    catalog.py   which export each tab serves, its test figures, or the command that makes one
    answers.py   a tab's input turned into its export's answer (or a one-line `UserError`)
    page.py      the Gradio page: a tab per task, an overview of what is served
    browser.py   the page driven in headless Chromium, for the tests and the benchmark
"""
