"""Word segmentation of questions with jieba, on a trimmed dictionary so a cold `ask` starts fast.

jieba's full dictionary (349k words) takes about 0.9 s to load even from its cache; questions only need
the common words plus the vocabulary of the plans. The trimmed dictionary (jieba's words of frequency
>= MIN_FREQ, about 80k, plus knowledge/lexicon/domain_words.txt) is written once to the temp folder,
keyed by a hash of its inputs, and loads in about 0.1 s. Clauses are not segmented at all: they are
matched by substring and character n-grams, so segmentation only decides how a question is weighed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path

import jieba

log = logging.getLogger(__name__)

MIN_FREQ = 20
DOMAIN_WORDS = Path(__file__).resolve().parent / "lexicon" / "domain_words.txt"
DOMAIN_FREQ = 2000

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def _domain_words() -> list[tuple[str, int]]:
    words: list[tuple[str, int]] = []
    for line in DOMAIN_WORDS.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else DOMAIN_FREQ
        words.append((parts[0], freq))
    return words


def _trimmed_dictionary() -> Path:
    """Path of the trimmed dictionary, writing it first when it is not in the temp folder yet."""
    full = Path(jieba.__file__).resolve().parent / "dict.txt"
    domain = DOMAIN_WORDS.read_bytes()
    key = hashlib.sha1(
        f"{jieba.__version__}|{full.stat().st_size}|{MIN_FREQ}".encode() + domain
    ).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"tongzhan_jieba_{key}.txt"
    if path.exists():
        return path
    lines: list[str] = []
    with full.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 2 and int(parts[1]) >= MIN_FREQ:
                lines.append(f"{parts[0]} {parts[1]}\n")
    lines.extend(f"{word} {freq}\n" for word, freq in _domain_words())
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        tmp.write_text("".join(lines), encoding="utf-8")
        os.replace(tmp, path)  # atomic: concurrent first starts never read half a file
    except OSError as exc:  # a read-only temp folder: slower start on the full dictionary, still correct
        log.warning("knowledge: cannot write %s (%s); using jieba's full dictionary", path, exc)
        return full
    return path


def get_tokenizer() -> jieba.Tokenizer:
    """The shared jieba tokenizer (read-only after initialisation, so safe across threads)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                jieba.setLogLevel(logging.WARNING)
                path = _trimmed_dictionary()
                tokenizer = jieba.Tokenizer(dictionary=str(path))
                tokenizer.initialize()
                if not path.name.startswith("tongzhan_jieba_"):  # the full-dictionary fallback
                    for word, freq in _domain_words():
                        tokenizer.add_word(word, freq)
                _tokenizer = tokenizer  # published only when complete: readers never see it change
    return _tokenizer


def cut(text: str) -> list[str]:
    """Words of `text`, without the HMM guesser (unknown words stay as single characters)."""
    return [w for w in get_tokenizer().cut(text, HMM=False) if w.strip()]
