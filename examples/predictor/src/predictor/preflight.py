"""The project's own preflight; spot-preflight runs it as the check project:TrainingPreflight."""
import os

REQUIRED_ENV = ("AWS_REGION",)


class TrainingPreflight:
    def run(self) -> list[str]:
        """The problems found; an empty list means ready. Read only: never write or train here."""
        return [f"{name} is not set" for name in REQUIRED_ENV if not os.environ.get(name)]
