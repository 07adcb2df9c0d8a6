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
import math
import os
import tempfile
import threading
from pathlib import Path

import jieba

log = logging.getLogger(__name__)

MIN_FREQ = 20
DOMAIN_WORDS = Path(__file__).resolve().parent / "lexicon" / "domain_words.txt"
DOMAIN_FREQ = 2000

_ENGLISH = jieba.re_eng  # one ASCII letter or digit
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
    """Words of `text`, without the HMM guesser (unknown words stay as single characters).

    Exactly jieba's `cut(text, HMM=False)`, blank words dropped, in about half the time: the same
    blocks, word graph and best route (same floating-point sums, ties to the longer word), without
    jieba's generators and intermediate dictionaries.
    """
    tokenizer = get_tokenizer()
    freq, log_total = tokenizer.FREQ, math.log(tokenizer.total)
    words: list[str] = []
    for block in jieba.re_han_default.split(text):
        if not block:
            continue
        if jieba.re_han_default.match(block):
            _cut_block(block, freq, log_total, words)
        else:
            for piece in jieba.re_skip_default.split(block):
                if jieba.re_skip_default.match(piece):
                    words.append(piece)
                else:
                    words.extend(piece)
    return [w for w in words if w.strip()]


def _cut_block(sentence: str, freq: dict[str, int], log_total: float, words: list[str]) -> None:
    """jieba's __cut_DAG_NO_HMM: the most probable split by dictionary frequency, computed from the
    end (score[i]: best log probability of sentence[i:]); single letters and digits are joined again."""
    ln = math.log
    size = len(sentence)
    score = [0.0] * (size + 1)
    end = [0] * size
    for start in range(size - 1, -1, -1):
        best_score, best_end = 0.0, -1
        i = start
        frag = sentence[start]
        while i < size:
            count = freq.get(frag)
            if count is None:  # no dictionary word starts with frag
                break
            if count:
                value = ln(count) - log_total + score[i + 1]
                if best_end < 0 or value >= best_score:  # jieba's max((value, i)): ties go to the larger i
                    best_score, best_end = value, i
            i += 1
            frag = sentence[start:i + 1]
        if best_end < 0:  # not a dictionary word: the character alone
            best_score, best_end = ln(freq.get(sentence[start]) or 1) - log_total + score[start + 1], start
        score[start] = best_score
        end[start] = best_end
    at = 0
    letters = ""
    while at < size:
        nxt = end[at] + 1
        word = sentence[at:nxt]
        if len(word) == 1 and _ENGLISH.match(word):
            letters += word
        else:
            if letters:
                words.append(letters)
                letters = ""
            words.append(word)
        at = nxt
    if letters:
        words.append(letters)
