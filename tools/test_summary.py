#!/usr/bin/env python3
"""Run a test command that emits subunit v2 and summarise its results.

Usage:
    test_summary.py -- .venv/bin/stestr run --subunit [stestr args...]
    stestr last --subunit | test_summary.py

Prints one line per finished test, the details of each failure, a line counting
skips, and closes with the line ``N passed, M failed`` counted from this stream
alone (never from an older run kept in .stestr/). Exits non-zero if any test
failed, if the command itself failed, or if no test ran.

Counting follows unittest: an expected failure (xfail) passes, an unexpected
success (uxsuccess) fails, and a test that started but never finished (its
worker died) fails. If the command itself fails (e.g. stestr's test discovery
hit an import error) without any failed test, that counts as one failure.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from typing import BinaryIO

import subunit
import testtools

PASSED = {"success", "xfail"}
FAILED = {"fail", "uxsuccess", "inprogress", "unknown"}
SKIPPED = {"skip"}
LABELS = {
    "success": "ok",
    "xfail": "ok (expected failure)",
    "skip": "SKIP",
    "fail": "FAIL",
    "uxsuccess": "FAIL (unexpected success)",
    "inprogress": "FAIL (never finished)",
    "unknown": "FAIL (no result)",
}


class Tally:
    """Collects finished tests from a testtools.StreamToDict callback."""

    def __init__(self, out) -> None:
        self.out = out
        self.passed = 0
        self.failed: list[dict] = []
        self.skipped: list[dict] = []

    def on_test(self, test: dict) -> None:
        status = test["status"]
        if status == "exists":  # listed, not run
            return
        start, stop = test["timestamps"]
        took = f" [{(stop - start).total_seconds():.3f}s]" if start and stop else ""
        label = LABELS.get(status, f"FAIL ({status})")
        reason = ""
        if status in SKIPPED:
            self.skipped.append(test)
            reason = _skip_reason(test)
            reason = f": {reason}" if reason else ""
        elif status in PASSED:
            self.passed += 1
        else:
            self.failed.append(test)
        self.out.write(f"{label} {test['id']}{took}{reason}\n")
        self.out.flush()


class LooseOutput(testtools.StreamResult):
    """Echoes bytes that were not subunit (runner messages) to our stdout."""

    def __init__(self, out) -> None:
        super().__init__()
        self.out = out

    def status(self, test_id=None, file_name=None, file_bytes=None, **kwargs) -> None:
        if test_id is None and file_bytes:
            self.out.write(bytes(file_bytes).decode("utf-8", "replace"))
            self.out.flush()


def _skip_reason(test: dict) -> str:
    reason = test["details"].get("reason")
    return reason.as_text().strip() if reason is not None else ""


def _print_failure(out, test: dict) -> None:
    out.write("\n" + "=" * 70 + "\n")
    out.write(f"{LABELS.get(test['status'], test['status'])}: {test['id']}\n")
    out.write("-" * 70 + "\n")
    for name, content in test["details"].items():
        if content.content_type.type != "text":
            continue
        text = content.as_text().rstrip()
        if text:
            out.write(f"{name}:\n{text}\n\n")


def summarise(stream: BinaryIO, tally: Tally) -> None:
    result = testtools.CopyStreamResult(
        [testtools.StreamToDict(tally.on_test), LooseOutput(tally.out)]
    )
    result.startTestRun()
    try:
        subunit.ByteStreamToStreamResult(stream, non_subunit_name="stdout").run(result)
    finally:
        result.stopTestRun()  # reports tests that started but never finished


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "command", nargs="*", help="command writing subunit v2 to stdout (default: read stdin)"
    )
    args = parser.parse_args(argv)
    out = sys.stdout
    tally = Tally(out)
    errors: list[str] = []

    started = time.monotonic()
    if args.command:
        try:
            proc = subprocess.Popen(args.command, stdout=subprocess.PIPE)
        except OSError as exc:
            errors.append(f"cannot run {args.command[0]}: {exc}")
        else:
            try:
                summarise(proc.stdout, tally)
            except Exception as exc:  # a broken stream must still end in a summary
                errors.append(f"cannot read the subunit stream: {exc!r}")
                proc.kill()
            rc = proc.wait()
            if rc:
                errors.append(f"{' '.join(args.command)} exited with status {rc}")
    else:
        try:
            summarise(sys.stdin.buffer, tally)
        except Exception as exc:
            errors.append(f"cannot read the subunit stream: {exc!r}")

    for test in tally.failed:
        _print_failure(out, test)

    out.write("\n")
    for error in errors:
        out.write(f"ERROR: {error}\n")
    failed = len(tally.failed)
    if errors and not failed:
        failed = 1  # the runner itself broke (e.g. test discovery failed): not a pass
    ran = tally.passed + len(tally.failed) + len(tally.skipped)
    if ran == 0:
        out.write("ERROR: no test ran\n")
    if tally.skipped:
        out.write(f"{len(tally.skipped)} skipped\n")
    out.write(f"Ran {ran} tests in {time.monotonic() - started:.1f}s\n")
    out.write(f"{tally.passed} passed, {failed} failed\n")
    out.flush()
    return 1 if failed or tally.passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
