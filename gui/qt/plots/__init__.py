"""The plots: decision boundary, loss curves, the display that feeds them, overlays, colours, labels."""
