"""Text into model inputs: cleaning raw strings, WordPiece vocabularies and tokenizers."""
