"""Checks that a report page parses and that every image embedded in it is a PNG that decodes."""

import base64
import io
from html.parser import HTMLParser

from PIL import Image

VOID = {"meta", "img", "br", "hr", "link", "input"}


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.open, self.images, self.text = [], [], []

    def handle_starttag(self, tag, attributes):
        if tag == "img":
            self.images.append(dict(attributes)["src"])
        elif tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


def check_page(text):
    """Returns `(visible text, decoded PIL images)`; fails on unbalanced tags or an image that is not a PNG."""
    page = _Page()
    page.feed(text)
    page.close()
    assert page.open == [], f"unclosed tags: {page.open}"
    images = []
    for source in page.images:
        assert source.startswith("data:image/png;base64,"), "images must be embedded, for a page that opens offline"
        image = Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1])))
        image.load()
        images.append(image)
    return " ".join(page.text), images
