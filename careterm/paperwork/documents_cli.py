"""The Word documents' commands (cli.md "Export"): `export handbook|report|archive … --out FILE.docx`.

Each handler reads its options, calls the document's `write_…` (the app calls the same one) and
says where the file is; with --json it prints {"out": path, …counts}. Where each is made:
handbook.py (帮扶工作手册), semester_sheet.py (学期信息表), pupil_archive.py (专项个人档案), on the page of
documents.py.
"""

from __future__ import annotations

from careterm.paperwork.exported import said as _said
from careterm.paperwork.exported import when as _when
from careterm.values import parse_date


def export_handbook(s) -> int:
    from careterm.paperwork.handbook import write_handbook

    start, end = parse_date(s.args.range_from, "--from"), parse_date(s.args.range_to, "--to")
    result = write_handbook(s, s.args.out, s.args.staff_id, start=start, end=end, **_when(s))
    return _said(s, result, "doc.handbook.done")


def export_report(s) -> int:
    from careterm.paperwork.semester_sheet import write_report

    result = write_report(s, s.args.out, s.args.pupil_id, s.args.semester, **_when(s))
    return _said(s, result, "doc.report.done")


def export_archive(s) -> int:
    from careterm.paperwork.pupil_archive import write_archive

    result = write_archive(s, s.args.out, s.args.pupil_id, **_when(s))
    return _said(s, result, "doc.archive.done")
