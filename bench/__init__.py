"""Benchmarks of fastw2v against gensim; run them as modules (``python -m bench.compare``)."""
