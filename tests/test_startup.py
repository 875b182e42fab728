"""A command that is not the TUI never imports Textual (start-up on old machines)."""

import subprocess
import sys
import textwrap


def test_cli_commands_do_not_import_textual(tmp_path):
    store = tmp_path / "s.sqlite"
    script = textwrap.dedent(
        f"""
        import datetime as dt, io, os, sys
        from careterm.cli import main

        store = {str(store)!r}

        def token(staff):  # trusted test code: a token of theirs in the store's side records
            from careterm.identity import new_token
            from events.store import Store

            with Store(store) as st:
                return new_token(st, "s1", staff, "t", dt.datetime(2999, 1, 1, tzinfo=dt.timezone.utc))

        def main_as(args):
            staff = args[args.index("--as") + 1] if "--as" in args else "boss"
            if "init" in args:
                sys.stdin = io.StringIO("password-123\\n")
                return main(args + ["--password-stdin"])
            os.environ["CARETERM_TOKEN"] = tokens.setdefault(staff, token(staff))
            return main(args)

        tokens = {{}}
        runs = [
            ["--store", store, "--as", "boss", "init", "--school", "X", "--date", "2025-09-01"],
            ["--store", store, "--as", "boss", "staff", "add", "T1", "--name", "王", "--date", "2025-09-01"],
            ["--store", store, "--as", "boss", "pupil", "add", "P1", "--name", "李", "--gender", "F",
             "--birth", "2016-01-01", "--grade", "3", "--class", "1", "--category", "left_behind",
             "--date", "2025-09-01"],
            ["--store", store, "--as", "boss", "pair", "T1", "P1", "--date", "2025-09-02"],
            ["--store", store, "--as", "T1", "contact", "P1", "--kind", "talk"],
            ["--store", store, "--as", "boss", "contact", "P9", "--kind", "talk"],  # refused
            ["--store", store, "compliance", "--json"],
            ["--store", store, "archive", "--json"],
            ["--store", store, "audit", "--json"],
            ["--store", store, "verify"],
        ]
        codes = [main_as(args) for args in runs]
        loaded = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
        print(codes, loaded)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[0, 0, 0, 0, 0, 1, 0, 0, 0, 0] []", result.stdout


def test_a_view_does_not_import_the_write_side(tmp_path):
    """`queue --json` on a store with a school: neither events.commands (the write side, its
    permissions table) nor careterm.actions (every action's declaration) is imported."""
    store = tmp_path / "s.sqlite"
    script = textwrap.dedent(
        f"""
        import datetime as dt, io, os, sys
        from careterm.cli import main

        store = {str(store)!r}
        sys.stdin = io.StringIO("password-123\\n")
        assert main(["--store", store, "--as", "boss", "init", "--school", "X", "--password-stdin"]) == 0
        from careterm.identity import new_token
        from events.store import Store

        with Store(store) as st:
            os.environ["CARETERM_TOKEN"] = new_token(st, "s1", "boss", "t", dt.datetime(2999, 1, 1, tzinfo=dt.timezone.utc))
        for name in [m for m in sys.modules if m.startswith(("careterm", "events", "projections"))]:
            del sys.modules[name]
        from careterm.cli import main

        code = main(["--store", store, "queue", "--json"])
        print(code, sorted(m for m in ("events.commands", "careterm.actions") if m in sys.modules))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "0 []", result.stdout
