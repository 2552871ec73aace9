"""Audio to segment table: index a music library, run the auto-tagging networks, store parquet.

Nothing here imports Essentia or TensorFlow at import time (see :mod:`extraction.essentia_env`).
"""
