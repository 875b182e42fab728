"""The page every careterm Word document is printed on, in one place (python-docx).

An old office printer and Word or WPS on an old PC: A4 portrait, plain margins (a wider left one
for the binding of a booklet such as the 帮扶工作手册), the body in 宋体 (SimSun: set as the ascii,
hAnsi and East Asian font, so Latin digits and Chinese print in the same face), headings in 黑体,
everything black on white (no theme colours, no shading), tables with real single-line borders
(not a style a viewer may not know), the school's name and the document's date in the header and
"第 N 页 共 M 页" (PAGE and NUMPAGES fields) in the footer.

    doc = new_document(title, school_name, day, lang)
    heading(doc, "王小明", 1); fields(doc, [("姓名", "王小明"), ...]); table(doc, rows, header)
    page_break(doc); save(doc, path)

python-docx is imported when a document is made, never when careterm starts. Text from the
store goes through `clean`: a control character (an escape code stored before careterm refused
them) cannot be written into XML and is shown as `\\x1b` instead, as on a screen.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

from careterm.i18n import catalog
from careterm.paperwork.place import write_whole
from careterm.shown import printable
from events.errors import Refused

BODY_FONT = "宋体"  # SimSun: on every Chinese Windows, and WPS; Word maps the two names
HEADING_FONT = "黑体"  # SimHei
BODY_SIZE = 12  # pt, 小四
SMALL_SIZE = 10.5  # pt, 五号: tables, header, footer
KEEP_ROW_CHARS = 400  # a table row shorter than this stays whole on one page; a longer one may break
HEADING_SIZES = {0: 18, 1: 16, 2: 14, 3: 12}  # pt: 小二, 三号, 四号, 小四

# A4 in millimetres, and margins that every printer reaches (binding on the left)
PAGE_MM = (210, 297)
MARGINS_MM = {"top": 25, "bottom": 22, "left": 28, "right": 22}

_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(value: Any) -> str:
    """Text as the document holds it: None is empty; control characters shown as escapes
    (XML cannot hold them); a line break stays a line break."""
    if value is None:
        return ""
    text = printable(str(value))
    return _XML_UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def new_document(title: str, school_name: str, day: dt.date | str, lang: str = "zh"):
    """A blank document on the school's page: A4, margins, fonts, the header (school name and
    date) and the footer (page N of M); `title` is printed as the first heading and becomes the
    file's title property."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.header_distance, section.footer_distance = Mm(12), Mm(10)
    _styles(doc, lang)
    day_text = day.isoformat() if isinstance(day, dt.date) else str(day)
    _header(section, clean(school_name), clean(title), day_text)
    _footer(section, lang)
    props = doc.core_properties
    props.title, props.author, props.language = clean(title), clean(school_name), _lang_tag(lang)
    props.comments = ""
    first = heading(doc, title, 0)
    first.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return doc


def heading(doc, text: str, level: int = 1, *, new_page: bool = False):
    """A heading in 黑体, black, kept with what follows it (level 0: the document's title); with
    `new_page`, it starts a new page (a paragraph property: no empty paragraph left behind)."""
    h = doc.add_heading(clean(text), level=level)
    if new_page:
        h.paragraph_format.page_break_before = True
    return h


def paragraph(doc, text: Any = "", *, bold_label: str | None = None, size: float | None = None):
    """A body paragraph; several lines of what someone wrote stay several lines. With
    `bold_label`, "标签：" in bold first (a field of the profile written out in full)."""
    from docx.shared import Pt

    p = doc.add_paragraph()
    if bold_label:
        label = p.add_run(clean(bold_label) + _colon(doc))
        label.bold = True
        if size:
            label.font.size = Pt(size)
    _lines(p, clean(text), size=size)
    return p


def fields(doc, pairs: Sequence[tuple[str, Any]], *, columns: int = 2):
    """A form of labelled values, as a paper form has them: label | value | label | value,
    `columns` pairs a row; an empty value is an empty box to fill in by hand."""
    rows: list[list[Any]] = []
    for start in range(0, len(pairs), columns):
        row: list[Any] = []
        for label, value in pairs[start:start + columns]:
            row += [label, value]
        row += [""] * (2 * columns - len(row))
        rows.append(row)
    return table(doc, rows, bold_columns=range(0, 2 * columns, 2))


def table(doc, rows: Iterable[Sequence[Any]], header: Sequence[str] | None = None, *,
          widths_mm: Sequence[float] | None = None, bold_columns: Sequence[int] = ()):
    """A table with single black borders on every cell (they print on any printer); the header
    row in bold and repeated at the top of each page the table runs onto. Cell text may have
    several lines. Built on the XML itself: a year of contacts is hundreds of rows."""
    from docx.shared import Mm

    rows = [list(r) for r in rows]
    ncols = max([len(header or ())] + [len(r) for r in rows] + [1])
    t = doc.add_table(rows=0, cols=ncols)
    _borders(t)
    if widths_mm:  # before the rows: each new cell takes its column's width
        _widths(t, [Mm(w) for w in widths_mm])
    bold = set(bold_columns)
    if header:
        _row(t, [clean(x) for x in header], set(range(ncols)), keep=True)
        _repeat_header(t.rows[0])
    for r in rows:
        texts = [clean(v) for v in r]
        _row(t, texts, bold, keep=sum(len(x) for x in texts) < KEEP_ROW_CHARS)
    doc.add_paragraph()  # a table followed directly by another would merge into it in Word
    return t


def _row(t, texts: Sequence[str], bold: set[int], *, keep: bool) -> None:
    tr = t.add_row()._tr
    for i, (tc, text) in enumerate(zip(tr.tc_lst, texts)):
        _lines_into(tc.p_lst[0], text, size=SMALL_SIZE, bold=i in bold)
    if keep:
        _keep_tr(tr)


def box(doc, text: Any = "", *, min_height_mm: float = 20):
    """A bordered box of the text's width, at least `min_height_mm` tall: a part of a form,
    written or left empty to be filled in by hand."""
    from docx.enum.table import WD_ROW_HEIGHT_RULE
    from docx.shared import Mm

    t = table(doc, [[text]])
    row = t.rows[0]
    row.height, row.height_rule = Mm(min_height_mm), WD_ROW_HEIGHT_RULE.AT_LEAST
    return t


def page_break(doc) -> None:
    from docx.enum.text import WD_BREAK

    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def require_docx(path: str | Path) -> None:
    """A Word document is written to a .docx file only (the extension chooses the format)."""
    if Path(path).suffix.lower() != ".docx":
        raise Refused("--out", "out_extension", value=str(path), allowed=".docx")


def save(doc, path: str | Path) -> Path:
    """The document written whole or not at all (place.write_whole)."""
    return write_whole(path, doc.save)


# --- the page's parts ---------------------------------------------------------------------------

def _lang_tag(lang: str) -> str:
    return "zh-CN" if lang == "zh" else "en-GB"


def _colon(doc) -> str:
    return "：" if doc.core_properties.language == "zh-CN" else ": "


def _set_fonts(rpr_owner, latin: str, east_asian: str) -> None:
    """rFonts ascii/hAnsi/cs and eastAsia on a style or run (python-docx's font.name sets the
    first three only; Word then draws Chinese in the theme's East Asian font)."""
    from docx.oxml.ns import qn

    rpr = rpr_owner.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr, name in (("w:ascii", latin), ("w:hAnsi", latin), ("w:cs", latin), ("w:eastAsia", east_asian)):
        fonts.set(qn(attr), name)


def _styles(doc, lang: str) -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    normal = doc.styles["Normal"]
    normal.font.size = Pt(BODY_SIZE)
    normal.font.color.rgb = RGBColor(0, 0, 0)
    _set_fonts(normal.element, BODY_FONT, BODY_FONT)
    rpr = normal.element.get_or_add_rPr()
    lang_el = rpr.find(qn("w:lang"))
    if lang_el is None:
        lang_el = rpr.makeelement(qn("w:lang"), {})
        rpr.append(lang_el)
    lang_el.set(qn("w:val"), _lang_tag(lang))
    lang_el.set(qn("w:eastAsia"), "zh-CN")
    normal.paragraph_format.space_after = Pt(3)
    normal.paragraph_format.line_spacing = 1.15
    for level, size in HEADING_SIZES.items():
        style = doc.styles["Title" if level == 0 else f"Heading {level}"]
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.italic = False
        style.font.color.rgb = RGBColor(0, 0, 0)
        _set_fonts(style.element, HEADING_FONT, HEADING_FONT)
        style.paragraph_format.keep_with_next = True
        style.paragraph_format.space_before = Pt(12 if level <= 1 else 8)
        style.paragraph_format.space_after = Pt(6)
        if level == 0:  # the Title style's blue rule under it: not on paper
            ppr = style.element.get_or_add_pPr()
            for border in ppr.findall(qn("w:pBdr")):
                ppr.remove(border)
    for name in ("Header", "Footer"):
        if name not in [s.name for s in doc.styles]:
            doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        doc.styles[name].font.size = Pt(SMALL_SIZE)
        doc.styles[name].paragraph_format.tab_stops.clear_all()  # the template's Letter-width stops


def _header(section, school_name: str, title: str, day_text: str) -> None:
    """「XX小学 …… 帮扶工作手册 …… 2026-12-02」: the school left, the title centred, the date
    right, a rule under it."""
    from docx.enum.text import WD_TAB_ALIGNMENT

    p = section.header.paragraphs[0]
    width = section.page_width - section.left_margin - section.right_margin
    stops = p.paragraph_format.tab_stops
    stops.add_tab_stop(width // 2, WD_TAB_ALIGNMENT.CENTER)
    stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)
    p.add_run(school_name)
    p.add_run("\t" + title)
    p.add_run("\t" + day_text)
    _rule_under(p)


def _footer(section, lang: str) -> None:
    """"第 {page} 页 共 {pages} 页" from the catalog, {page} and {pages} as Word fields."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    p = section.footer.paragraphs[0]
    p.text = ""
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    template = catalog(lang).get("doc.page_of") or catalog("zh")["doc.page_of"]
    for part in re.split(r"(\{page\}|\{pages\})", template):
        if part == "{page}":
            _field(p, "PAGE")
        elif part == "{pages}":
            _field(p, "NUMPAGES")
        elif part:
            p.add_run(part)


def _field(p, code: str) -> None:
    """A simple field (PAGE, NUMPAGES) as Word writes it: begin, instruction, separate, a
    shown value (1, until the viewer updates it), end."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def char(kind: str):
        run = p.add_run()
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        run._r.append(el)

    char("begin")
    run = p.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {code} "
    run._r.append(instr)
    char("separate")
    p.add_run("1")
    char("end")


def _rule_under(p) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    ppr = p._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(k), v)
    border.append(bottom)
    ppr.insert_element_before(border, *_AFTER_PBDR)


# what follows w:pBdr in a paragraph's properties (OOXML's order; Word refuses another)
_AFTER_PBDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
               "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
               "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
               "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
               "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


def _borders(t) -> None:
    """Single 1/2 pt black lines around and inside the table, written on the table itself."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tblpr = t._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        for k, v in (("w:val", "single"), ("w:sz", "4"), ("w:space", "0"), ("w:color", "000000")):
            el.set(qn(k), v)
        borders.append(el)
    tblpr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook")
    for old in tblpr.findall(qn("w:tblW")):
        tblpr.remove(old)
    width = OxmlElement("w:tblW")
    width.set(qn("w:w"), "5000")
    width.set(qn("w:type"), "pct")
    tblpr.insert_element_before(width, "w:jc", "w:tblCellSpacing", "w:tblInd", "w:tblBorders", "w:shd",
                                "w:tblLayout", "w:tblCellMar", "w:tblLook")


def _widths(t, widths) -> None:
    """Column widths that Word, WPS and LibreOffice all keep: the grid, each cell, a fixed layout."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for col, width in zip(t._tbl.tblGrid.findall(qn("w:gridCol")), widths):
        col.set(qn("w:w"), str(int(width.twips)))
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    t._tbl.tblPr.insert_element_before(layout, "w:tblCellMar", "w:tblLook")


def _keep_tr(tr) -> None:
    """The row is not split across two pages (a short row split leaves an empty strip)."""
    from docx.oxml import OxmlElement

    tr.get_or_add_trPr().insert_element_before(OxmlElement("w:cantSplit"), "w:trHeight", "w:tblHeader",
                                                     "w:tblCellSpacing", "w:jc", "w:hidden", "w:ins", "w:del")


def _repeat_header(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)


def _lines(p, text: str, *, size: float | None = None) -> None:
    """Text into a paragraph (python-docx's), a line break for each new line."""
    _lines_into(p._p, text, size=size)


def _lines_into(p, text: str, *, size: float | None = None, bold: bool = False) -> None:
    """Text into a paragraph element: one run, its lines separated by line breaks."""
    from copy import deepcopy

    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    r = p.add_r()
    if size or bold:
        r.insert(0, deepcopy(_run_properties(size, bold)))
    for i, line in enumerate(text.split("\n")):
        if i:
            r.append(OxmlElement("w:br"))
        if line:
            t = OxmlElement("w:t")
            t.set(qn("xml:space"), "preserve")
            t.text = line
            r.append(t)


_RPR: dict[tuple[float | None, bool], Any] = {}


def _run_properties(size: float | None, bold: bool):
    """A run's w:rPr (bold, size), made once and copied into each run."""
    key = (size, bold)
    if key not in _RPR:
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        rpr = OxmlElement("w:rPr")
        if bold:
            rpr.append(OxmlElement("w:b"))
        if size:
            for tag in ("w:sz", "w:szCs"):
                el = OxmlElement(tag)
                el.set(qn("w:val"), str(round(size * 2)))
                rpr.append(el)
        _RPR[key] = rpr
    return _RPR[key]
