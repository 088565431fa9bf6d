"""The playground's state, free of Qt: experiment settings, data, history, the session and its run
book, timeline, lessons, and what the inside views compute."""
