"""Related threads and articles: what pages read of the lists the worker precomputes."""
