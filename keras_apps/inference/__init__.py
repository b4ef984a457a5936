"""Running trained models outside `fit`: cached autoregressive decoding and text generation."""
