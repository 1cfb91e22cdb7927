"""Bring a module's upstream files into a participant's folder without destroying their edits.

Runs inside the participant's container with the image's python3 (standard library only):

    python3 merge.py --module SOURCE TARGET REF COMMIT [--module ...] [--remove STAGING]

For each upstream file: new files appear; files the participant has not touched are updated;
files the participant changed are kept, and the upstream version is offered beside them as
``<name>.upstream<ext>``. Files removed upstream are left alone. Prints a JSON summary.
The state (what was delivered last, by hash) is kept in ``TARGET/.everest-module.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

STATE = ".everest-module.json"


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def offered_name(rel: str) -> str:
    stem, dot, ext = rel.rpartition(".")
    if not dot or "/" in ext:
        return rel + ".upstream"
    return f"{stem}.upstream.{ext}"


def atomic_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=".everest-")
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dst)
    except BaseException:
        os.unlink(tmp)
        raise


def merge(source: Path, target: Path, ref: str, commit: str) -> dict[str, object]:
    state_file = target / STATE
    state = json.loads(state_file.read_text()) if state_file.is_file() else {}
    delivered: dict[str, str] = dict(state.get("files", {}))
    summary: dict[str, list[str]] = {
        "added": [],
        "updated": [],
        "offered": [],
        "kept": [],
        "unchanged": [],
    }
    for src in sorted(p for p in source.rglob("*") if p.is_file()):
        rel = src.relative_to(source).as_posix()
        if rel == STATE:
            continue
        upstream = digest(src)
        dst = target / rel
        if not dst.exists():
            if rel in delivered and delivered[rel] == upstream:
                summary["kept"].append(rel)  # the participant deleted it; respect that
                continue
            atomic_copy(src, dst)
            delivered[rel] = upstream
            summary["added"].append(rel)
            continue
        mine = digest(dst)
        if mine == upstream:
            delivered[rel] = upstream
            summary["unchanged"].append(rel)
        elif rel in delivered and delivered[rel] == mine:
            atomic_copy(src, dst)  # untouched since we delivered it: safe to update
            delivered[rel] = upstream
            summary["updated"].append(rel)
        else:
            offered = target / offered_name(rel)
            if offered.exists() and digest(offered) == upstream:
                summary["unchanged"].append(rel)  # already offered; nothing new to say
                continue
            atomic_copy(src, offered)
            summary["offered"].append(rel)
    new_state = {"ref": ref, "commit": commit, "files": delivered}
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / (STATE + ".tmp")
    tmp.write_text(json.dumps(new_state, indent=1, sort_keys=True))
    os.replace(tmp, state_file)
    return {"target": str(target), "ref": ref, "commit": commit, **summary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--module", nargs=4, action="append", default=[],
        metavar=("SOURCE", "TARGET", "REF", "COMMIT"), help="one module to merge (repeatable)",
    )  # fmt: skip
    parser.add_argument("--remove", type=Path, help="folder to delete afterwards (the staging)")
    args = parser.parse_args(argv)
    try:
        results = [merge(Path(s), Path(t), ref, commit) for s, t, ref, commit in args.module]
    finally:
        if args.remove is not None:
            shutil.rmtree(args.remove, ignore_errors=True)
    sys.stdout.write(json.dumps(results) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
