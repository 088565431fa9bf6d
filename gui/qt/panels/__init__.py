"""The side panels: layers, settings, run controls, speed, timeline, and the drawing tool."""
