"""socialscore.db: atomic whole-table replace, checksums, round trips, errors — on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest

from socialscore.config import load_settings
from socialscore.errors import DatabaseError
from socialscore.layout import Layout
from socialscore.settings.env import EnvSettings
from socialscore.storage.db.content_hash import frame_hash
from socialscore.storage.db.database import Database
from socialscore.storage.db.url import resolve_url

AWKWARD = [
    "double \"quotes\" and 'single'",
    "tab\there",
    "new\nline and\r\nCRLF",
    "back\\slash \\N \\\\ and a literal \\t",
    "emoji 😀🔥 and CJK 漢字",
    "accents: café naïve Ωmega",
    "",
    "   leading and trailing spaces   ",
    "comma, semicolon; pipe | NULL null None",
    "\\N",
    '"',
    "zero-width\u200bjoiner and RTL \u202etext",
]


def comments(n: int, tag: str = "a") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"{tag}{i}" for i in range(n)],
            "text": [f"comment {tag} number {i}" for i in range(n)],
            "label_toxic": pd.array([i % 2 for i in range(n)], dtype="int16"),
            "label_insult": pd.array([(i // 2) % 2 for i in range(n)], dtype="int16"),
            "split": ["test" if i % 5 == 0 else "train" for i in range(n)],
            "source": ["unit.csv"] * n,
            "loaded_at": pd.Timestamp("2024-05-01 12:00:00.123456"),
        }
    )


def test_round_trip_keeps_awkward_text_and_dtypes(db: Database, table: str) -> None:
    frame = comments(len(AWKWARD))
    frame["text"] = AWKWARD
    frame["source"] = [None, *["s.csv"] * (len(AWKWARD) - 1)]
    frame["score"] = [0.25, None, *[1.5] * (len(AWKWARD) - 2)]
    frame["seen_at"] = pd.to_datetime([None, *["2023-01-02 03:04:05"] * (len(AWKWARD) - 1)]).as_unit("us")
    assert db.replace_table(table, frame) == len(frame)
    back = db.read_table(table)
    assert list(back.columns) == list(frame.columns)
    assert back["text"].tolist() == AWKWARD
    assert back["id"].tolist() == frame["id"].tolist()
    assert pd.isna(back.loc[0, "source"]) and back.loc[1, "source"] == "s.csv"
    assert pd.isna(back.loc[1, "score"]) and back.loc[0, "score"] == 0.25
    assert str(back["label_toxic"].dtype) == "int16"
    assert back["label_toxic"].tolist() == frame["label_toxic"].tolist()
    assert str(back["loaded_at"].dtype) == "datetime64[us]"
    assert (back["loaded_at"] == frame["loaded_at"]).all()
    assert pd.isna(back.loc[0, "seen_at"]) and back.loc[1, "seen_at"] == pd.Timestamp("2023-01-02 03:04:05")


def test_object_columns_with_mixed_values_are_stored_as_text(db: Database, table: str) -> None:
    frame = pd.DataFrame({"id": ["a", "b", "c"], "note": pd.Series(["x", None, 3], dtype=object)})
    db.replace_table(table, frame)
    back = db.read_table(table)
    assert back.loc[0, "note"] == "x" and pd.isna(back.loc[1, "note"]) and back.loc[2, "note"] == "3"


def test_replace_is_idempotent_and_replaces_whole_table(db: Database, table: str) -> None:
    first = comments(50)
    db.replace_table(table, first)
    checksum = db.table_checksum(table)
    assert checksum == frame_hash(first)
    db.replace_table(table, first)
    assert db.table_checksum(table) == checksum
    assert db.read_table(table)["id"].tolist() == first["id"].tolist()

    second = comments(7, tag="b")
    db.replace_table(table, second)
    assert db.table_checksum(table) not in (None, checksum)
    assert db.read_table(table)["id"].tolist() == second["id"].tolist()


def test_checksum_does_not_depend_on_chunking(db: Database, table: str) -> None:
    frame = comments(101)
    db.replace_table_from_chunks(table, (frame.iloc[i : i + 13] for i in range(0, 101, 13)))
    assert db.table_checksum(table) == frame_hash(frame)
    assert db.read_table(table)["text"].tolist() == frame["text"].tolist()


def test_long_texts_round_trip_exactly_across_many_chunks(db: Database, table: str) -> None:
    # Texts past PostgreSQL's TOAST threshold (~2 kB) are compressed (lz4 where the server has it);
    # many chunks exercise the side-thread hashing in chunk order.
    frame = comments(45)
    frame["text"] = [(AWKWARD[i % len(AWKWARD)] + f" {i} ") * (1 + 40 * (i % 9)) for i in range(45)]
    frame.loc[3, "text"] = None
    frame.loc[4, "source"] = None
    db.replace_table_from_chunks(table, (frame.iloc[i : i + 4] for i in range(0, 45, 4)))
    back = db.read_table(table)
    assert back["text"].iloc[:3].tolist() == frame["text"].iloc[:3].tolist()
    assert pd.isna(back.loc[3, "text"]) and pd.isna(back.loc[4, "source"])
    assert back["text"].iloc[4:].tolist() == frame["text"].iloc[4:].tolist()
    assert max(len(t) for t in back["text"].dropna()) > 8000
    assert db.table_checksum(table) == frame_hash(frame)


def test_given_content_hash_is_recorded(db: Database, table: str) -> None:
    db.replace_table(table, comments(3), content_hash="abc123")
    assert db.table_checksum(table) == "abc123"


def test_failing_chunk_iterator_leaves_previous_table(db: Database, table: str) -> None:
    before = comments(40)
    db.replace_table(table, before)
    checksum = db.table_checksum(table)

    def broken():
        yield comments(20, tag="new")
        yield comments(20, tag="newer")
        raise RuntimeError("the producer died mid-load")

    with pytest.raises(RuntimeError, match="mid-load"):
        db.replace_table_from_chunks(table, broken())
    assert db.table_checksum(table) == checksum
    assert db.read_table(table)["id"].tolist() == before["id"].tolist()
    assert not db.table_exists(f"{table}__staging")
    db.replace_table(table, comments(5, tag="c"))  # and the next load completes
    assert len(db.read_table(table)) == 5


def test_duplicate_ids_fail_cleanly_and_keep_previous_table(db: Database, table: str) -> None:
    db.replace_table(table, comments(10))
    checksum = db.table_checksum(table)
    duplicated = pd.concat([comments(3, tag="secret text "), comments(3, tag="secret text ")])
    with pytest.raises(DatabaseError) as info:
        db.replace_table(table, duplicated)
    assert "\n" not in str(info.value)
    assert "secret text" not in str(info.value)
    assert db.table_checksum(table) == checksum


def test_checksum_none_when_table_dropped_or_recreated_by_hand(db: Database, table: str) -> None:
    assert db.table_checksum(table) is None  # never written
    db.replace_table(table, comments(10))
    assert db.table_checksum(table) is not None
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f'DROP TABLE "{table}"')
    assert not db.table_exists(table)
    assert db.table_checksum(table) is None
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE TABLE "{table}" (id TEXT)')
    assert db.table_checksum(table) is None


def test_read_some_columns_and_one_split(db: Database, table: str) -> None:
    frame = comments(20)
    db.replace_table(table, frame)
    test = db.read_table(table, columns=["id", "label_toxic"], where_split="test")
    assert list(test.columns) == ["id", "label_toxic"]
    assert test["id"].tolist() == frame.loc[frame["split"] == "test", "id"].tolist()
    with pytest.raises(DatabaseError, match="no column"):
        db.read_table(table, columns=["nope"])


def test_rows_come_back_in_the_order_written(db: Database, table: str) -> None:
    # long texts make an index-only scan over the primary key (id order) tempting to PostgreSQL;
    # on SQLite the key's index covers a query for ids alone
    frame = comments(3000).sample(frac=1.0, random_state=3)
    frame["text"] = frame["text"] * 20
    db.replace_table(table, frame)
    assert db.read_table(table, columns=["id"])["id"].tolist() == frame["id"].tolist()
    assert db.read_table(table)["id"].tolist() == frame["id"].tolist()
    test = frame.loc[frame["split"] == "test", "id"].tolist()
    assert db.read_table(table, columns=["id"], where_split="test")["id"].tolist() == test


def test_empty_frame_gives_an_empty_table_with_its_columns(db: Database, table: str) -> None:
    empty = comments(0)
    assert db.replace_table(table, empty) == 0
    assert db.table_exists(table)
    back = db.read_table(table)
    assert list(back.columns) == list(empty.columns) and len(back) == 0
    assert db.table_checksum(table) == frame_hash(empty)


def test_two_tables_are_independent(db: Database, table: str) -> None:
    other = f"{table}_b"
    try:
        db.replace_table(table, comments(4))
        db.replace_table(other, comments(6, tag="z"))
        kept = db.table_checksum(other)
        db.replace_table(table, comments(9))
        assert db.table_checksum(other) == kept
        assert len(db.read_table(other)) == 6
    finally:
        db.drop_table(other)


@pytest.mark.parametrize(
    "name", ["bad-name", "1starts_with_digit", 'x"; DROP TABLE y; --', "", "a" * 60]
)
def test_invalid_table_names_are_refused(tmp_path: Path, name: str) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(DatabaseError, match="invalid table name"):
        db.replace_table(name, comments(1))
    with pytest.raises(DatabaseError, match="invalid table name"):
        db.table_checksum(name)


def test_nul_in_text_is_a_clear_error_on_postgres(postgres_url: str) -> None:
    db = Database.from_url(postgres_url)
    name = f"t_{uuid.uuid4().hex[:12]}"
    frame = comments(2)
    frame.loc[1, "text"] = "private words\x00here"
    try:
        with pytest.raises(DatabaseError) as info:
            db.replace_table(name, frame)
        message = str(info.value)
        assert "\n" not in message and "private words" not in message
        assert not db.table_exists(name)
    finally:
        db.drop_table(name)
        db.close()


# --- unreachable database and URLs ----------------------------------------------------------------
def test_unreachable_postgres_names_host_and_port_never_the_password() -> None:
    db = Database.from_url("postgresql://moderator:s3cr3t-Pa55@127.0.0.1:1/comments")
    with pytest.raises(DatabaseError) as info:
        db.table_checksum("comments_dev")
    message = str(info.value)
    assert "PostgreSQL" in message and "127.0.0.1:1" in message
    assert "DATABASE_URL" in message  # says how to fix it
    assert "s3cr3t-Pa55" not in message and "s3cr3t" not in repr(info.value)
    assert "\n" not in message
    assert "s3cr3t" not in db.describe()


def test_unopenable_sqlite_file_is_a_database_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    db = Database.from_url(f"sqlite:///{blocker / 'sub' / 'x.db'}")
    with pytest.raises(DatabaseError, match="SQLite"):
        db.table_exists("comments_dev")


def test_url_precedence_and_normalisation(tmp_path: Path) -> None:
    sqlite_path = tmp_path / "data" / "socialscore.db"
    env = {
        "DATABASE_URL": "postgres://u:pw@envhost:5433/envdb",
        "DB_HOST": "dbhost",
        "DB_PORT": "6543",
        "DB_NAME": "dbname",
        "DB_USER": "dbuser",
        "DB_PASSWORD": "p@ss:/word",
    }
    configured = resolve_url("postgresql://c@confhost/confdb", EnvSettings.model_validate(env), sqlite_path)
    assert (configured.drivername, configured.host) == ("postgresql+psycopg", "confhost")
    from_env = resolve_url(None, EnvSettings.model_validate(env), sqlite_path)
    assert (from_env.drivername, from_env.host, from_env.port) == (
        "postgresql+psycopg",
        "envhost",
        5433,
    )
    del env["DATABASE_URL"]
    from_parts = resolve_url(None, EnvSettings.model_validate(env), sqlite_path)
    assert (from_parts.host, from_parts.port, from_parts.database) == ("dbhost", 6543, "dbname")
    assert from_parts.username == "dbuser" and from_parts.password == "p@ss:/word"
    embedded = resolve_url(None, EnvSettings.model_validate({}), sqlite_path)
    assert embedded.get_backend_name() == "sqlite" and embedded.database == str(sqlite_path)


def test_from_settings_uses_the_environment_and_describe_hides_the_password(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings("dev", project_dir)
    layout = Layout(project_dir, "dev")
    embedded = Database.from_settings(settings, layout)
    assert embedded.dialect == "sqlite" and str(layout.sqlite_path) in embedded.describe()
    monkeypatch.setenv("DB_HOST", "db.internal")
    monkeypatch.setenv("DB_PASSWORD", "hunter2")
    monkeypatch.setenv("DB_NAME", "social")
    remote = Database.from_settings(settings, layout)
    assert remote.describe() == "PostgreSQL db.internal:5432/social"
    monkeypatch.setenv("DATABASE_URL", "postgresql://x:hunter2@other:5439/db2")
    assert Database.from_settings(settings, layout).describe() == "PostgreSQL other:5439/db2"


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"])
def test_unsupported_or_invalid_urls_are_refused(url: str) -> None:
    with pytest.raises(DatabaseError):
        Database.from_url(url)


# --- crash safety: kill -9 during a load ------------------------------------------------------------
CHILD = textwrap.dedent(
    """
    import sys
    import pandas as pd
    from socialscore.storage.db.database import Database

    url, name, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
    frame = pd.DataFrame({
        "id": [f"new{i}" for i in range(rows)],
        "text": [f"replacement comment {i} " * 8 for i in range(rows)],
        "label_toxic": pd.array([i % 2 for i in range(rows)], dtype="int16"),
        "split": ["train"] * rows,
    })

    def chunks():
        for n, start in enumerate(range(0, rows, 10_000)):
            if n == 3:
                print("MIDLOAD", flush=True)
            yield frame.iloc[start : start + 10_000]

    print("START", flush=True)
    Database.from_url(url).replace_table_from_chunks(name, chunks())
    print("DONE", flush=True)
    """
)
CRASH_ROWS = 150_000


def _crash_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'crash.db'}"
    return request.getfixturevalue("postgres_url")


def _start_child(tmp_path: Path, url: str, name: str) -> subprocess.Popen[str]:
    script = tmp_path / "child_load.py"
    script.write_text(CHILD)
    return subprocess.Popen(
        [sys.executable, str(script), url, name, str(CRASH_ROWS)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _wait_for(child: subprocess.Popen[str], marker: str) -> None:
    assert child.stdout is not None
    for line in child.stdout:
        if line.strip() == marker:
            return
    pytest.fail(f"the loader exited (code {child.wait()}) before printing {marker}")


def _kill(child: subprocess.Popen[str]) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_kill_9_mid_load_keeps_previous_table(kind: str, tmp_path: Path, request) -> None:
    url = _crash_url(kind, tmp_path, request)
    db = Database.from_url(url)
    name = f"crash_{uuid.uuid4().hex[:10]}"
    try:
        before = comments(1000)
        db.replace_table(name, before)
        checksum = db.table_checksum(name)
        child = _start_child(tmp_path, url, name)
        _wait_for(child, "MIDLOAD")  # three chunks are already in the staging table
        _kill(child)
        assert child.returncode == -signal.SIGKILL
        assert db.table_checksum(name) == checksum
        assert db.read_table(name)["id"].tolist() == before["id"].tolist()
        assert not db.table_exists(f"{name}__staging")
        # the next load completes, whatever the killed one left behind
        after = comments(CRASH_ROWS // 10, tag="next")
        db.replace_table(name, after)
        assert db.table_checksum(name) == frame_hash(after)
        assert db.read_table(name, columns=["id"])["id"].tolist() == after["id"].tolist()
    finally:
        db.drop_table(name)
        db.close()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_kill_9_at_any_moment_leaves_old_or_new_table_whole(
    kind: str, tmp_path: Path, request
) -> None:
    """Kills at several delays (one late enough to land in or after the swap): the table is always
    either the previous one or the new one, complete, with its own checksum."""
    url = _crash_url(kind, tmp_path, request)
    db = Database.from_url(url)
    name = f"crash_{uuid.uuid4().hex[:10]}"
    try:
        before = comments(1000)
        db.replace_table(name, before)
        old = db.table_checksum(name)
        child = _start_child(tmp_path, url, name)
        _wait_for(child, "START")
        started = time.perf_counter()
        _wait_for(child, "DONE")
        duration = time.perf_counter() - started
        new = db.table_checksum(name)
        assert new not in (None, old)
        db.replace_table(name, before)
        for fraction in (0.5, 0.9, 1.3):
            child = _start_child(tmp_path, url, name)
            _wait_for(child, "START")
            time.sleep(duration * fraction)
            _kill(child)
            checksum = db.table_checksum(name)
            ids = db.read_table(name, columns=["id"])["id"]
            if checksum == old:
                assert ids.tolist() == before["id"].tolist()
            else:
                assert checksum == new
                assert len(ids) == CRASH_ROWS and ids.iloc[-1] == f"new{CRASH_ROWS - 1}"
                db.replace_table(name, before)
            assert not db.table_exists(f"{name}__staging")
    finally:
        db.drop_table(name)
        db.close()
