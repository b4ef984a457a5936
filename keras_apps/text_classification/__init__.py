"""Sentiment-style text classification workflows: how a classifier reads text, learns from a teacher's verdicts
on unlabeled text, and starts from a BERT backbone pre-trained here, published, or new.

The IMDB task chooses among them; each takes typed inputs and has tests of its own.
"""
