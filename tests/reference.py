"""Where the shared reference material lives: ``shared/`` beside the repository's folder."""

from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
REFERENCE = SHARED / "reference"
RULES_MD = SHARED / "rules.md"
