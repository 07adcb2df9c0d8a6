"""Build the plan-file collection (dev/ and heldout/) from sources/: real public texts in every shape.

`.txt` sources are copied as they are (web copies with their page furniture); `X.docx.src` becomes a
Word file (title, headings, numbered list, table), `X.pdf.src` a PDF with a text layer whose long
lines are wrapped as a typesetter would, `X.trad.src` a traditional-character copy (OpenCC s2t).
Run from the repository root: `.venv/bin/python tests/data/plans/make_plans.py`.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from tests.helpers_plans import write_plan_docx, write_text_pdf  # noqa: E402


def build(split: str) -> list[str]:
    source_dir, target = HERE / "sources" / split, HERE / split
    target.mkdir(exist_ok=True)
    made = []
    for src in sorted(source_dir.iterdir()):
        text = src.read_text(encoding="utf-8")
        name = src.name
        if name.endswith(".docx.src"):
            out = target / name.removesuffix(".src")
            write_plan_docx(out, text)
        elif name.endswith(".pdf.src"):
            out = target / name.removesuffix(".src")
            lines = [line.removeprefix("T: ") for line in text.splitlines()]
            write_text_pdf(out, lines)
        elif name.endswith(".trad.src"):
            import opencc

            out = target / name.replace(".trad.src", ".txt")
            out.write_text(opencc.OpenCC("s2t").convert(text), encoding="utf-8")
        else:
            out = target / name
            shutil.copy(src, out)
        made.append(out.name)
    return made


if __name__ == "__main__":
    for split in ("dev", "heldout"):
        print(split, ", ".join(build(split)))
