"""The school's paperwork: rosters in (import), tables and documents out (export).

Each command's handler lives in the module its parser names (careterm/cli.py,
`_paperwork_commands`): `import_cli` (rosters in, the template), `tables_cli` (.xlsx/.csv tables),
`documents_cli` (.docx documents). openpyxl and python-docx are imported inside those modules only,
so no other command pays for them at start-up. No Textual here.
"""
