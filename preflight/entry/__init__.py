"""The training entry point as the source of truth: which file or module TRAIN_CMD / SMOKE_CMD start
(command.py), and the project code that entry reaches by its imports (closure.py), read statically:
the entry script is never executed."""
