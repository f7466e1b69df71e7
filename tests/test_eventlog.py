"""The event log: header, parts, footer; gzip; a log cut by a crash (even kill -9) reads
back to its last whole line; the runs directory."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from streamtui import AIMessageChunk
from streamtui.envelope import Part, Redactor, encode_line
from streamtui.eventlog import (
    EventLog,
    EventLogError,
    EventLogWriter,
    list_runs,
    new_run_path,
    replay,
    replay_schedule,
    resolve_log,
)


def sample_parts(n: int = 5) -> list[Part]:
    return [
        Part(
            i + 1,
            i * 0.01,
            "events",
            (),
            {
                "event": "on_chat_model_stream",
                "name": "M",
                "run_id": "r1",
                "parent_ids": [],
                "tags": [],
                "metadata": {},
                "data": {"chunk": AIMessageChunk(f"t{i}", id="run-r1")},
            },
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("name", ["run.jsonl", "run.jsonl.gz"])
def test_written_log_reads_back_with_header_parts_and_footer(tmp_path, name):
    path = tmp_path / "deep" / name
    writer = EventLogWriter(path, {"spec": {"name": "joke"}, "input": {"topic": "x"}})
    parts = sample_parts()
    writer.write(parts[:2])
    writer.write(parts[2:])
    writer.close({"status": "done", "counts": {"parts": 5}})
    writer.close({"status": "ignored"})  # idempotent
    log = EventLog.open(path)
    assert log.header["type"] == "header" and log.header["format"] == 1
    assert log.header["spec"] == {"name": "joke"} and log.header["input"] == {"topic": "x"}
    assert log.footer == {"type": "footer", "status": "done", "counts": {"parts": 5}}
    assert log.parts == parts
    assert log.status == "done" and not log.truncated and log.problems() == []
    if name.endswith(".gz"):
        assert gzip.decompress(path.read_bytes()).count(b"\n") == 7


def test_every_batch_is_on_disk_before_the_next_one_is_written(tmp_path):
    path = tmp_path / "run.jsonl"
    writer = EventLogWriter(path, {})
    writer.write(sample_parts(3))
    # Read by another handle while the writer is still open: nothing is held in a buffer.
    assert path.read_bytes().count(b"\n") == 4
    writer.close({"status": "done"})


def test_a_log_cut_mid_line_replays_to_the_last_whole_line_and_says_so(tmp_path):
    path = tmp_path / "cut.jsonl"
    writer = EventLogWriter(path, {})
    writer.write(sample_parts(4))
    writer.close({"status": "done"})
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    cut = b"\n".join(lines[:4]) + b"\n" + lines[4][:20]  # header, 3 parts, a piece of the 4th
    path.write_bytes(cut)
    log = EventLog.open(path)
    assert [p.seq for p in log.parts] == [1, 2, 3]
    assert log.truncated and log.footer is None and log.status == "incomplete"
    assert "ends inside a line" in log.problems()[0]


def test_a_gzip_log_cut_short_still_reads(tmp_path):
    path = tmp_path / "cut.jsonl.gz"
    writer = EventLogWriter(path, {})
    for part in sample_parts(50):
        writer.write([part])  # a sync flush per batch: every batch is decodable
    size_after_parts = path.stat().st_size
    writer.close({"status": "done"})
    path.write_bytes(path.read_bytes()[: size_after_parts - 3])
    log = EventLog.open(path)
    assert log.truncated and log.footer is None
    assert [p.seq for p in log.parts] == list(range(1, len(log.parts) + 1))
    assert len(log.parts) >= 48


def test_garbage_lines_are_skipped_and_reported(tmp_path):
    path = tmp_path / "odd.jsonl"
    writer = EventLogWriter(path, {})
    writer.write(sample_parts(2))
    writer.close({"status": "done"})
    lines = path.read_bytes().split(b"\n")
    lines.insert(2, b"{not json")
    path.write_bytes(b"\n".join(lines))
    log = EventLog.open(path)
    assert [p.seq for p in log.parts] == [1, 2]
    assert log.bad_lines == [3] and "unreadable" in log.problems()[0]


def test_what_is_not_a_log_is_refused_with_a_reason(tmp_path):
    with pytest.raises(EventLogError, match="no such log"):
        EventLog.open(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_bytes(b"")
    with pytest.raises(EventLogError, match="not a streamtui log"):
        EventLog.open(tmp_path / "empty.jsonl")
    (tmp_path / "other.jsonl").write_text('{"hello": 1}\n')
    with pytest.raises(EventLogError, match="header"):
        EventLog.open(tmp_path / "other.jsonl")
    (tmp_path / "future.jsonl").write_text('{"type":"header","format":99}\n')
    with pytest.raises(EventLogError, match="format 99"):
        EventLog.open(tmp_path / "future.jsonl")
    (tmp_path / "bad.jsonl.gz").write_bytes(b"not gzip at all")
    with pytest.raises(EventLogError, match="not a gzip file"):
        EventLog.open(tmp_path / "bad.jsonl.gz")


def test_secrets_never_reach_the_file(tmp_path):
    secret = "s3cr3t-from-the-environment"
    path = tmp_path / "s.jsonl"
    writer = EventLogWriter(path, {"input": {"q": f"use {secret}"}}, Redactor([secret]))
    writer.write([Part(1, 0.0, "custom", (), {"echo": secret, "api_key": "literal-key-value"})])
    writer.close(
        {"status": "error", "error": {"type": "AuthError", "message": f"bad key {secret}"}}
    )
    text = path.read_text()
    assert secret not in text and "literal-key-value" not in text
    assert text.count("***") == 4


def test_index_finds_modes_events_and_runs_without_parsing(tmp_path):
    path = tmp_path / "i.jsonl"
    writer = EventLogWriter(path, {})
    parts = [*sample_parts(3), Part(4, 0.5, "values", (), {"event": "not an event part"})]
    writer.write(parts)
    writer.close({"status": "done"})
    index = EventLog.open(path).index()
    assert index.by_mode == {"events": [0, 1, 2], "values": [3]}
    assert index.by_event == {"on_chat_model_stream": [0, 1, 2]}
    assert index.by_run == {"r1": [0, 1, 2]}


def test_replay_schedule_follows_recorded_gaps_divided_by_speed():
    parts = [Part(i + 1, ts, "custom", (), i) for i, ts in enumerate([0.0, 0.5, 0.5, 2.0])]
    assert [gap for gap, _ in replay_schedule(parts, 2.0)] == [0.0, 0.25, 0.0, 0.75]
    assert [gap for gap, _ in replay_schedule(parts, None)] == [0.0] * 4
    assert [p.data for p in replay(parts, None)] == [0, 1, 2, 3]


def test_runs_directory_lists_runs_and_last_names_the_newest(tmp_path):
    with pytest.raises(EventLogError, match="no recorded runs"):
        resolve_log("last", tmp_path)
    first = new_run_path("joke chain!", tmp_path)
    second = new_run_path("graph", tmp_path)
    assert first.parent == tmp_path / ".streamtui" / "runs" and first.name.endswith(
        "-joke-chain.jsonl"
    )
    for path, status in ((first, "done"), (second, None)):
        writer = EventLogWriter(
            path, {"spec": {"name": path.stem.split("-")[-1]}, "started_at": "2026-11-23T10:00:00"}
        )
        writer.write(sample_parts(3))
        if status:
            writer.close({"status": status, "duration": 1.5, "counts": {"parts": 3, "tokens": 3}})
    (first.parent / "notes.txt").write_text("not a log")
    (first.parent / "broken.jsonl").write_text("garbage\n")
    runs = list_runs(tmp_path)
    assert [(r.name, r.status, r.parts) for r in runs] == [
        ("chain", "done", 3),
        ("graph", "incomplete", 3),
    ]
    assert runs[0].duration == 1.5 and runs[0].tokens == 3
    assert runs[1].duration == pytest.approx(0.02)  # the last part's time: the footer is missing
    assert resolve_log("last", tmp_path) == second  # not broken.jsonl, which sorts after it
    assert resolve_log("x.jsonl", tmp_path) == Path("x.jsonl")


KILLED_RUN = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from streamtui import ScriptedChatModel, ChatPromptTemplate, StrOutputParser
    from streamtui.session import make_header, run_session

    model = ScriptedChatModel(responses=["word " * 100000], chunk_latency=0.0005)
    chain = ChatPromptTemplate.from_template("{q}") | model | StrOutputParser()
    header = make_header(name="killed", path=None, spec_hash=None, input={"q": "go"}, modes=None)
    asyncio.run(run_session(chain, {"q": "go"}, header=header, record_to=Path(sys.argv[1])))
    """
)


@pytest.mark.parametrize("name", ["killed.jsonl", "killed.jsonl.gz"])
def test_a_run_killed_with_sigkill_replays_to_its_last_whole_line(tmp_path, name):
    path = tmp_path / name
    proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(path)])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if path.exists() and path.stat().st_size > 20000:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the run never wrote its log")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    log = EventLog.open(path)
    assert log.footer is None and log.status == "incomplete"
    assert log.header["spec"]["name"] == "killed"
    seqs = [p.seq for p in log.parts]
    assert len(seqs) > 50 and seqs == list(range(1, len(seqs) + 1))
    assert log.bad_lines == []
    events = [p.data["event"] for p in log.parts]
    assert events[0] == "on_chain_start" and "on_chat_model_stream" in events
    assert all(encode_line(p) for p in log.parts)


def test_hand_edited_logs_never_crash_runs_or_replay(tmp_path):
    folder = tmp_path / ".streamtui" / "runs"
    folder.mkdir(parents=True)
    (folder / "20260101-000000-000000-odd.jsonl").write_text(
        '{"type":"header","format":1,"spec":"oops"}\n'
        '{"seq":1,"ts":"x","mode":"custom","ns":[],"data":1}\n'
        '{"seq":2,"ts":0.5,"mode":"events","ns":[],"data":{"event":"on_chain_start","data":7,"metadata":3}}\n'
        '{"type":"footer","status":"done","counts":"many","duration":"long"}\n'
    )
    [summary] = list_runs(tmp_path)
    assert (summary.name, summary.status, summary.duration, summary.parts) == ("?", "done", 0.5, 2)
    log = EventLog.open(folder / "20260101-000000-000000-odd.jsonl")
    assert [p.seq for p in log.parts] == [2] and log.bad_lines == [2]
