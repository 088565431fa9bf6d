"""A run, free of Qt: the trainer, the messages it sends, and the training process with its child and
pipes."""
