"""Assemble the build contexts of docker-compose.yml's images under deploy/build/ (git-ignored).

    python3 deploy/contexts.py            # then: docker compose --profile build build

Same contexts as ``everest-elearn images build`` (which also builds them, keyed by hash); needs the
package importable (the project's venv, or ``pip install -e .``).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from everest_elearn.images import IMAGES, assemble_context
from everest_elearn.settings import ImagesSettings

ROOT = Path(__file__).resolve().parents[1]


def main(dest: Path = ROOT / "deploy" / "build") -> int:
    settings = ImagesSettings(project_dir=ROOT)
    for name, spec in IMAGES.items():
        target = dest / name
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        assemble_context(spec, settings, target)
        print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "deploy" / "build"))
