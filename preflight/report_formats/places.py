"""Where a finding is, as a CI system wants it: relative to the repository."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CONFIG_NAME = "workflow.env"  # what lint names a config finding when it was not told the config's path


@dataclass(frozen=True)
class Places:
    repo_root: Path  # GITHUB_WORKSPACE in GitHub Actions; paths in reports are relative to it
    project_dir: Path | None = None  # the project root lint paths start from (None: the repository root)
    config_file: Path | None = None  # what a finding in "workflow.env" is about

    @classmethod
    def make(cls, repo_root: Path, project_dir: Path | None, config_file: Path | None,
             environ: dict[str, str]) -> Places:
        root = Path(environ.get("GITHUB_WORKSPACE") or repo_root)
        return cls(Path(os.path.abspath(root)), Path(os.path.abspath(project_dir)) if project_dir else None,
                   Path(os.path.abspath(config_file)) if config_file else None)

    def absolute(self, file: str) -> Path:
        """Lint names project files relative to the project root, and the config (train-timeout-short)
        by the path the launcher gave, which is relative to where spot_train.sh ran (as is this)."""
        if self.config_file is not None and (file == CONFIG_NAME or os.path.abspath(file) == str(self.config_file)):
            return self.config_file
        return Path(os.path.normpath((self.project_dir or self.repo_root) / file))

    def relative(self, file: str) -> str | None:
        """`file` (as lint names it) relative to the repository, "/"-separated; None when outside it."""
        path = self.absolute(file)
        try:
            return path.relative_to(self.repo_root).as_posix()
        except ValueError:
            return None
