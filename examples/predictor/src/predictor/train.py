"""Training entrypoint. Importing this module must never start training."""

import os
from pathlib import Path

from predictor_shared.features import build_features  # noqa: F401  (the import the probe guards)


def marker(name: str) -> Path:
    root = Path(os.environ.get("PREDICTOR_MARKER_DIR") or Path.home() / "predictor-markers")
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{name}.ran"
    path.write_text(f"{name} ran in {os.getcwd()}\n", encoding="utf-8")
    return path


def main(kind: str = "train") -> int:
    path = marker(kind)
    print(f"{kind}: wrote {path}")
    return 0


def save(model: object, path: str = "model.pkl") -> None:
    """Deliberately left for the `lint` check (rule ephemeral-save): the model stays on the spot disk."""
    import pickle

    with open(path, "wb") as out:
        pickle.dump(model, out)
