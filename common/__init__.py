"""Primitives every package may use and that import nothing of ours: the injected clock and
Europe/Stockholm time, the text catalogues (`catalogue`) and Swedish formatting (`swedish`)."""
