"""
Write the README's and the guides' examples into a package, one module
each, so that the C{typing} environment checks them as it checks the code:
C{python tests/extract_examples.py DIR} writes C{DIR/doc_examples}.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


#: Examples that continue an earlier one (the text introduces them apart; the
#: tests run them as one module).
CONTINUES = {"state-machine": "hypothesis"}


def blocks(path: Path) -> dict[str, str]:
    """
    The complete examples of C{path} by name: in the README every fenced
    C{python} block; in a guide those marked C{<!-- example: NAME -->}, the
    ones its tests run (other blocks are fragments of the text).
    """
    text = path.read_text("utf-8")
    if path.name == "README.md":
        found = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
        return {f"{index:02d}": block for index, block in enumerate(found, 1)}
    examples: dict[str, str] = {}
    pattern = r"<!-- example: ([^>]*?) -->\s*```python\n(.*?)```"
    for name, block in re.findall(pattern, text, re.DOTALL):
        name = Path(name).stem if name.endswith(".py") else name
        if name in CONTINUES:
            examples[CONTINUES[name]] += "\n\n" + block
        else:
            examples[name] = block
    return examples


def main(directory: str) -> None:
    """
    Write the examples as the package C{doc_examples} in C{directory}.
    """
    out = Path(directory) / "doc_examples"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.py"):
        old.unlink()
    (out / "__init__.py").write_text('"""The examples of the README and guides."""\n')
    for source in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for name, block in blocks(source).items():
            module = f"{source.stem}_{name}".replace("-", "_").lower() + ".py"
            (out / module).write_text(
                f"# From {source.relative_to(ROOT)}, example {name}.\n{block}",
                "utf-8",
            )


if __name__ == "__main__":
    main(sys.argv[1])
