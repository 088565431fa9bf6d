"""Everything that imports Qt (PySide6, pyqtgraph): the window and its views, grouped by place, and the
Qt runner."""
