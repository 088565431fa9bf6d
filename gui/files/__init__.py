"""What the playground reads and writes, free of Qt: experiment files, their runs section, points as
CSV, and exported scripts."""
