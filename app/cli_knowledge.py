"""`ask`, `knowledge list`, `knowledge check`: the knowledge base from the command line (INTERFACE.md).

`ask [--top K] [--json] [QUESTION]`: with no QUESTION, one question per line is read from stdin and
answered in order, one JSON line (or one text block) each; blank lines are skipped.
`knowledge list [--json] [--file NAME]`: every clause read, so an office sees exactly what the bot has.
`knowledge check FILE`: one file's load report without adding it (title, clauses, furniture dropped
and why, the tasks it would propose); exit 2 when the file cannot be read, with what to do.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from knowledge import texts

if TYPE_CHECKING:
    from bot.config import Settings
    from knowledge.retriever import Hit, SearchResult


def register(subparsers: Any) -> None:
    """Add the `ask` verb to run.py's sub-commands."""
    ask = subparsers.add_parser("ask", help="answer a question from the knowledge base")
    ask.add_argument("--top", type=int, default=None, help="at most K hits (default from config, 3)")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.add_argument("question", nargs="*", help="the question; none = one per line from stdin")
    ask.set_defaults(func=cmd_ask)
    parser_class = subparsers._parser_class  # the lead's parser: bad usage -> exit 2
    kb = subparsers.add_parser("knowledge", help="what the knowledge base read from the plan files")
    ksub = kb.add_subparsers(dest="knowledge_verb", required=True, parser_class=parser_class)
    kl = ksub.add_parser("list", help="every clause the knowledge base read")
    kl.add_argument("--json", action="store_true")
    kl.add_argument("--file", metavar="NAME", help="only the clauses of this plan file")
    kl.set_defaults(func=cmd_knowledge_list)
    kc = ksub.add_parser("check", help="read one plan file without adding it: its load report")
    kc.add_argument("file")
    kc.add_argument("--json", action="store_true")
    kc.set_defaults(func=cmd_knowledge_check)


def result_json(result: SearchResult) -> dict[str, Any]:
    """The INTERFACE.md shape of one answer."""
    return {
        "question": result.question,
        "answered": result.answered,
        "hits": [_hit_json(h) for h in result.hits],
        "did_you_mean": [_hit_json(h) for h in result.did_you_mean],
    }


def _hit_json(hit: Hit) -> dict[str, Any]:
    return {"text": hit.text, "doc": hit.doc, "section": hit.section, "score": hit.score}


def result_text(result: SearchResult) -> str:
    """A readable Chinese block for the terminal."""
    lines = [texts.ASK_QUESTION.format(question=result.question)]
    if not result.answered and result.did_you_mean:
        lines.append(texts.ASK_DID_YOU_MEAN)
    elif not result.answered:
        topics = texts.TOPIC_SEPARATOR.join(result.suggestions)
        lines.append(texts.NOT_FOUND_SUGGEST.format(topics=topics) if topics else texts.NOT_FOUND)
    for n, hit in enumerate(result.hits or result.did_you_mean, 1):
        section = f" {hit.section}" if hit.section else ""
        lines.append(texts.ASK_HIT.format(n=n, text=hit.text, doc=hit.doc, section=section, score=hit.score))
    return "\n".join(lines) + "\n"


def _emit(result: SearchResult, as_json: bool, out: TextIO) -> None:
    """Write one answer; on a terminal that cannot show Chinese, JSON falls back to \\u escapes."""
    if as_json:
        try:
            out.write(json.dumps(result_json(result), ensure_ascii=False) + "\n")
        except UnicodeEncodeError:
            out.write(json.dumps(result_json(result), ensure_ascii=True) + "\n")
    else:
        text = result_text(result) + "\n"
        encoding = getattr(out, "encoding", None) or "utf-8"
        out.write(text.encode(encoding, "backslashreplace").decode(encoding))
    out.flush()


def _attach_learning(retriever: Any, settings: Settings) -> None:
    """Answer from what liaisons and the office taught, when the database is there (a missing SQLite
    file is not created just to ask; an unreachable database is skipped, quietly)."""
    url = settings.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return
    from bot.db.database import Database
    from knowledge.learning import LinkStore

    try:
        retriever.attach_learning(LinkStore(Database(url)))
    except Exception:  # noqa: BLE001 - learning is a bonus; ask answers from the plans alone
        logging.getLogger(__name__).debug("ask: no learning store", exc_info=True)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.retriever import Retriever

    top = settings.knowledge.top if args.top is None else args.top
    if top < 1:
        print("ask: --top must be at least 1", file=sys.stderr)
        return 2
    question = " ".join(args.question).strip()
    if args.question and not question:
        print("ask: the question is empty", file=sys.stderr)
        return 2
    logging.getLogger("knowledge").setLevel(logging.ERROR)  # problems are printed below, once
    retriever = Retriever.load(settings.knowledge)
    for problem in retriever.report.errors:
        print(f"ask: cannot read {problem.file}: {problem.reason}", file=sys.stderr)
    _attach_learning(retriever, settings)
    if question:
        _emit(retriever.search(question, top=top), args.json, sys.stdout)
        return 0
    for line in sys.stdin:
        line = line.strip()
        if line:
            _emit(retriever.search(line, top=top), args.json, sys.stdout)
    return 0


def _write(out: TextIO, text: str) -> None:
    encoding = getattr(out, "encoding", None) or "utf-8"
    out.write(text.encode(encoding, "backslashreplace").decode(encoding))


def cmd_knowledge_list(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.ingest import load_corpus

    logging.getLogger("knowledge").setLevel(logging.ERROR)
    loaded = load_corpus(settings.knowledge.corpus_dir)
    for problem in loaded.report.errors + loaded.report.skipped:
        print(texts.CHECK_PROBLEM.format(file=problem.file, reason=problem.reason), file=sys.stderr)
    if args.file and args.file not in loaded.readings:
        print(f"knowledge list: {texts.LIST_NO_FILE.format(file=args.file)}", file=sys.stderr)
        return 2
    for clause in loaded.clauses:
        if args.file and clause.file != args.file:
            continue
        row = {"file": clause.file, "doc": clause.doc, "section": clause.section, "text": clause.text}
        if args.json:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            _write(sys.stdout, texts.LIST_ROW.format(**row) + "\n")
    return 0


def cmd_knowledge_check(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from app.plans import check_plan

    logging.getLogger("knowledge").setLevel(logging.ERROR)
    check = check_plan(Path(args.file))
    if check.problem is not None or check.reading is None:
        print(texts.CHECK_PROBLEM.format(file=check.file, reason=check.problem), file=sys.stderr)
        return 2
    reading = check.reading
    if args.json:
        doc = {"file": reading.file, "title": reading.title, "title_found": reading.title_found,
               "clauses": [{"section": c.section, "text": c.text} for c in reading.clauses],
               "dropped": [{"text": d.text, "reason": d.reason} for d in reading.dropped],
               "tasks": [t.row() for t in check.tasks]}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
        return 0
    lines = [texts.CHECK_TITLE.format(file=reading.file, title=reading.title)
             + ("" if reading.title_found else texts.CHECK_TITLE_FALLBACK),
             texts.CHECK_CLAUSES.format(n=len(reading.clauses))]
    lines += [texts.CHECK_CLAUSE.format(section=c.section or "-", text=c.text) for c in reading.clauses]
    lines.append(texts.CHECK_DROPPED.format(n=len(reading.dropped)))
    lines += [texts.CHECK_DROP.format(reason=d.reason, text=d.text) for d in reading.dropped]
    lines.append(texts.CHECK_TASKS.format(n=len(check.tasks)))
    lines += [texts.CHECK_TASK.format(title=t.title, cadence=texts.CADENCE_WORDS.get(t.cadence, t.cadence),
                                      target=t.target,
                                      deadline=texts.CHECK_DEADLINE.format(day=t.deadline_day) if t.deadline_day
                                      else (texts.CHECK_DUE.format(due=t.due_date) if t.due_date else ""),
                                      audience=texts.AUDIENCE_WORDS.get(t.audience, t.audience),
                                      clause=t.source_text) for t in check.tasks]
    _write(sys.stdout, "\n".join(lines) + "\n")
    return 0
