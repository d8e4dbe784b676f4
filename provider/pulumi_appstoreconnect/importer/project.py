"""Writing the generated project's files into ``--output DIR``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

PROGRAM = "__main__.py"


class ProjectExists(FileExistsError):
    """``DIR/__main__.py`` holds a program already, and ``force`` was not given."""


def write_project(output: Path, files: Mapping[str, str], *, force: bool = False) -> list[str]:
    """Write ``files`` into ``output`` (created if missing); one line per file saying what
    happened to it.

    A non-empty ``__main__.py`` is never overwritten without ``force`` (:class:`ProjectExists`,
    nothing written). Another file that exists with other contents (your Pulumi.yaml) is kept
    unless ``force``.
    """
    output.mkdir(parents=True, exist_ok=True)
    program = output / PROGRAM
    if not force and program.exists() and program.read_text(encoding="utf-8").strip():
        raise ProjectExists(
            f"{program} already holds a program: nothing was written. Use --force to replace it "
            "(and the project's other files), or choose another --output directory."
        )
    report: list[str] = []
    for name, text in files.items():
        target = output / name
        if target.exists() and target.read_text(encoding="utf-8") == text:
            report.append(f"unchanged {target}")
            continue
        if target.exists() and name != PROGRAM and not force:
            report.append(f"kept      {target} (yours; --force replaces it)")
            continue
        temporary = target.with_name(f".{name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)
        report.append(f"wrote     {target}")
    return report
