"""The office's own synonyms added on the console (未答问题 / 命中测试 → 添加同义词), kept in
data_dir/synonyms.yaml beside config.yaml's `knowledge.synonyms` and merged over them when the
retriever is built. One small YAML mapping, word -> [equivalents], written atomically."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import yaml

log = logging.getLogger(__name__)

FILE_NAME = "synonyms.yaml"
MAX_WORD = 20
_WORD = re.compile(r"^[\w\u3400-\u9fff·]{1,20}$")


class SynonymError(ValueError):
    """A word or an equivalent that cannot be a synonym entry (empty, too long, punctuation)."""


def path_for(data_dir: Path | str) -> Path:
    return Path(data_dir) / FILE_NAME


def load(path: Path) -> dict[str, list[str]]:
    """The file's entries; a missing file is empty, an unreadable one is logged and empty."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return {}
    except (OSError, yaml.YAMLError):
        log.warning("office synonyms: cannot read %s; ignored", path, exc_info=True)
        return {}
    if not isinstance(raw, dict):
        return {}
    return {str(k): [str(v) for v in (vs if isinstance(vs, list) else [vs])] for k, vs in raw.items()}


def merged(base: dict[str, list[str]], path: Path) -> dict[str, list[str]]:
    """config.yaml's synonyms with the office's file over them (a word's equivalents joined)."""
    out = {k: list(v) for k, v in base.items()}
    for word, values in load(path).items():
        out[word] = list(dict.fromkeys([*out.get(word, []), *values]))
    return out


def add(path: Path, word: str, equivalents: list[str]) -> dict[str, list[str]]:
    """Add `word` ≈ each of `equivalents` to the file; returns the file's entries."""
    word = word.strip()
    values = [v.strip() for v in equivalents if v.strip() and v.strip() != word]
    for item in [word, *values]:
        if not _WORD.match(item):
            raise SynonymError(item[:MAX_WORD])
    if not values:
        raise SynonymError(word)
    entries = load(path)
    entries[word] = list(dict.fromkeys([*entries.get(word, []), *values]))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".yaml.part")
    tmp.write_text(yaml.safe_dump(entries, allow_unicode=True, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
    return entries
