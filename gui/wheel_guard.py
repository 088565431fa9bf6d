"""Placeholder until the wheel guard lands (see branch guifix)."""


def guard_wheel(widget) -> None:
    return None
