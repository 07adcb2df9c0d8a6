"""The office approves what the bot read: extracted tasks are proposals until approved.

`merge_proposals` folds a fresh extraction into the tasks the office already has:

* a task already in tasks.yaml (same key) is kept exactly as the office left it, whatever the new
  extraction says: the office's edits are never overwritten;
* a newly found task is added with `status: proposed` and its source clause; it is not reminded;
* a proposal whose plan file is gone, or which its (changed) file no longer yields, is retired
  (dropped from the file); approved tasks (`active`, `inactive`) stay even when their file is gone.

`refresh_proposals` and `approve_tasks` do that on the tasks file itself; the CLI (`tasks extract`,
`tasks approve KEY…|all`) and the admin pages call them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from tracking.tasks import TasksFileError, load_tasks_file, tasks_file_lock, write_tasks_file
from tracking.taskspec import TaskSpec


@dataclass(frozen=True)
class MergeResult:
    """The merged task list and what changed."""

    tasks: list[TaskSpec] = field(default_factory=list)
    added: list[str] = field(default_factory=list)  # keys newly proposed
    retired: list[str] = field(default_factory=list)  # keys of proposals dropped
    kept: list[str] = field(default_factory=list)  # keys the office already had
    extracted: list[TaskSpec] = field(default_factory=list)  # what the plans yield, as read

    @property
    def changed(self) -> bool:
        return bool(self.added or self.retired)


def merge_proposals(current: Sequence[TaskSpec], extracted: Iterable[TaskSpec],
                    unreadable_files: Iterable[str] = ()) -> MergeResult:
    """The office's tasks with the new extraction folded in (see the module doc).

    Proposals from a file that is there but could not be read this time are kept: a broken upload
    must not lose what the previous version of the file gave.
    """
    extracted = list(extracted)
    found = {s.key: s for s in extracted}
    unreadable = set(unreadable_files)
    out: list[TaskSpec] = []
    added: list[str] = []
    retired: list[str] = []
    kept: list[str] = []
    for spec in current:
        if spec.status == "proposed" and spec.key not in found and spec.source_file not in unreadable:
            retired.append(spec.key)  # its file is gone, or no longer says this
            continue
        out.append(spec)
        kept.append(spec.key)
    have = {s.key for s in out}
    for key, spec in found.items():
        if key not in have:
            out.append(replace(spec, status="proposed"))
            added.append(key)
    return MergeResult(out, added, retired, kept, extracted)


def refresh_proposals(tasks_file: Path, extracted: Iterable[TaskSpec], unreadable_files: Iterable[str] = (),
                      write: bool = True) -> MergeResult:
    """Merge a fresh extraction into the tasks file (created when missing); writes only on a change."""
    extracted = list(extracted)
    with tasks_file_lock(Path(tasks_file)):
        current = load_tasks_file(tasks_file) if Path(tasks_file).exists() else []
        result = merge_proposals(current, extracted, unreadable_files)
        if write and (result.changed or not Path(tasks_file).exists()):
            write_tasks_file(result.tasks, Path(tasks_file))
    return result


def approve_tasks(tasks_file: Path, keys: Sequence[str]) -> list[str]:
    """Make proposed tasks active (`keys` or ["all"]); returns the keys approved.

    Raises TasksFileError naming a key that is not in the file. Tasks already active or inactive
    are left as they are (approving twice changes nothing).
    """
    with tasks_file_lock(Path(tasks_file)):
        specs = load_tasks_file(tasks_file)
        by_key = {s.key: s for s in specs}
        wanted = [s.key for s in specs if s.status == "proposed"] if list(keys) == ["all"] else list(keys)
        unknown = [k for k in wanted if k not in by_key]
        if unknown:
            raise TasksFileError(f"no such task: {', '.join(unknown)}")
        approved = [k for k in wanted if by_key[k].status == "proposed"]
        if approved:
            chosen = set(approved)
            write_tasks_file([replace(s, status="active") if s.key in chosen else s for s in specs], Path(tasks_file))
    return approved
