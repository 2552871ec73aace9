"""What the tests and the benchmarks share: synthetic audio and collections, test doubles,
browser helpers, the app started for real with a slow extractor, the server load."""
