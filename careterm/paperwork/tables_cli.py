"""The tables' commands (cli.md "Export"): `export stats|notice|compliance … --out FILE`.

Each handler reads its options, calls the table's `write_…` (the app calls the same one) and
says where the file is; with --json it prints {"out": path, "rows": N, …}. Where each is made:
stats_table.py (弱势群体情况统计表), notice.py (公示), compliance_table.py (帮扶工作考核表), written by
tables.py (.xlsx, .csv) or on documents.py's page (.docx).
"""

from __future__ import annotations

from careterm.paperwork.exported import said as _said
from careterm.paperwork.exported import when as _when
from careterm.values import parse_date


def export_stats(s) -> int:
    from careterm.paperwork.stats_table import write_stats

    return _said(s, write_stats(s, s.args.out, **_when(s)), "table.stats.done")


def export_notice(s) -> int:
    from careterm.paperwork.notice import write_notice

    return _said(s, write_notice(s, s.args.out, s.args.semester, **_when(s)), "table.notice.done")


def export_compliance(s) -> int:
    from careterm.paperwork.compliance_table import write_compliance

    start, end = parse_date(s.args.range_from, "--from"), parse_date(s.args.range_to, "--to")
    return _said(s, write_compliance(s, s.args.out, start=start, end=end, **_when(s)), "table.compliance.done")
