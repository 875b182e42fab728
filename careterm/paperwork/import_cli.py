"""The roster commands (cli.md "Import"): `import pupils|staff FILE [--dry-run] [--sheet NAME]`
and `export template pupils|staff --out FILE.xlsx`.

The handlers read the options, call careterm.paperwork.importing (the app's import screen calls
the same `run`) or roster_template, and print the report: in words, or with --json
{"rows","added","amended","unchanged","ignored","errors":[{"row","column","value","reason"}]}.
A roster with a bad row writes nothing and exits 1, its report on stdout and one line on stderr
saying so.
"""

from __future__ import annotations

import sys

from careterm.values import parse_date

EXIT_OK, EXIT_REFUSED = 0, 1


def import_pupils(s) -> int:
    return _import(s, "pupils")


def import_staff(s) -> int:
    return _import(s, "staff")


def _import(s, kind: str) -> int:
    from careterm.paperwork import importing

    a = s.args
    s.require_actor()
    day = parse_date(getattr(a, "date", None), "--date")
    if day is None and not a.dry_run:
        s.check_clock_day()  # as every write dated by the clock alone (careterm/cli.py Session.write)
    report = importing.run(s, kind, a.file, sheet=a.sheet, dry_run=a.dry_run, date=day, note=getattr(a, "note", None) or "")
    if s.json:
        from careterm.cli import print_json

        print_json(importing.as_json(report, s.t))
    else:
        print_report(s.t, report)
    if report.errors:
        print(f"{s.t('error')}: " + s.t("import.refused", count=len(report.errors)), file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_OK


def print_report(t, report) -> None:
    """The report in words (importing.report_lines), then what was written, or that nothing was."""
    from careterm.paperwork.importing import report_lines

    for line in report_lines(t, report):
        print(line)
    if report.errors:
        return
    if not report.rows:
        print(t("import.no_rows"))
    elif report.dry_run:
        print(t("import.dry_run"))
    elif report.written:
        print(t("import.written", events=len(report.events)))
    else:
        print(t("import.nothing"))


def export_template(s) -> int:
    """The empty roster with its headers, and a sheet of the values allowed."""
    from careterm.paperwork.roster_template import write_template

    written = write_template(s.args.out, s.args.what, s.t)
    if s.json:
        from careterm.cli import print_json

        print_json({"out": str(written), "what": s.args.what})
    else:
        print(s.t("export.written", path=str(written)))
    return EXIT_OK
