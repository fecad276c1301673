"""周例会 as a PDF (A4): the 通报, the figures against the week before and a year before, and
charts of the sources, the 高发问题 and the 红黑榜 — every page numbered and stamped with the
time it was generated; personal data typed into the 通报 masked.

fpdf2 writes it (pure Python; it embeds the subset of the CJK font the text uses, so every
glyph is in the file and the text can be copied and searched). The font is Noto Sans CJK SC
from Debian's fonts-noto-cjk, or the file REPORT_FONT names (docs/decisions.md)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dashboard.privacy import mask_text
from dashboard.weekly import ALERT_LEVEL_NAMES, HEADLINE_NAMES, POINTS, change

FONT_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc",
)
SC_IN_COLLECTION = 2  # the collection holds JP, KR, SC, TC, HK in that order
ACCENT = (31, 122, 184)
MUTED = (90, 100, 120)


class FontMissing(RuntimeError):
    """No CJK font to write the PDF with (install fonts-noto-cjk, or set REPORT_FONT)."""


def font_path(configured: str = "") -> tuple[str, int]:
    """The font file and, in a collection, the face of Simplified Chinese."""
    for path in ([configured] if configured else []) + list(FONT_PATHS):
        if path and Path(path).exists():
            return path, SC_IN_COLLECTION if path.endswith(".ttc") else 0
    raise FontMissing(
        "no CJK font for the PDF: install the Debian package fonts-noto-cjk "
        "or set REPORT_FONT to a .ttf/.otf/.ttc file"
    )


def _pdf(title: str, stamp: str, font: str):
    from fpdf import FPDF

    path, index = font_path(font)

    class Report(FPDF):
        def header(self):
            self.set_font("cjk", size=8)
            self.set_text_color(*MUTED)
            self.cell(0, 6, title, align="L")
            self.ln(8)

        def footer(self):
            self.set_y(-12)
            self.set_font("cjk", size=8)
            self.set_text_color(*MUTED)
            self.cell(0, 6, f"生成时间 {stamp}", align="L")
            self.cell(0, 6, f"第 {self.page_no()} 页 / 共 {{nb}} 页", align="R")

    pdf = Report(format="A4")
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font("cjk", fname=path, collection_font_number=index)
    pdf.set_title(title)
    pdf.set_creator("市域社会治理综合指挥平台")
    return pdf


def _heading(pdf, text: str) -> None:
    pdf.ln(2)
    pdf.set_font("cjk", size=13)
    pdf.set_text_color(*ACCENT)
    pdf.cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)


def _value(key: str, value) -> str:
    if value is None:
        return "—"
    if key.endswith("_rate"):
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:.1f}"
    return f"{value:,}"


def _table(pdf, header: list[str], rows: list[list[str]], widths: list[float]) -> None:
    pdf.set_font("cjk", size=9)
    pdf.set_fill_color(232, 240, 248)
    for text, w in zip(header, widths, strict=True):
        pdf.cell(w, 7, text, border=1, fill=True, align="C")
    pdf.ln()
    for row in rows:
        for i, (text, w) in enumerate(zip(row, widths, strict=True)):
            pdf.cell(w, 6.5, text, border=1, align="L" if i == 0 else "R")
        pdf.ln()


def _bars(pdf, title: str, labels: list[str], values: list[float], fmt: str = "{:,}") -> None:
    """A horizontal bar chart drawn on the page, its values beside the bars."""
    if not values:
        return
    _heading(pdf, title)
    pdf.set_font("cjk", size=9)
    left, width = pdf.l_margin + 38, pdf.epw - 38 - 22
    top = max(values) or 1
    for label, value in zip(labels, values, strict=True):
        if pdf.get_y() > pdf.h - 24:
            pdf.add_page()
        y = pdf.get_y()
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(36, 6, label, align="R")
        pdf.set_fill_color(*ACCENT)
        pdf.rect(left, y + 1, max(width * value / top, 0.3), 4, style="F")
        pdf.set_xy(left + width * value / top + 1.5, y)
        pdf.cell(20, 6, fmt.format(value))
        pdf.set_y(y + 7)


def weekly_pdf(
    f: dict, text: str, city: str, generated: datetime, zone: ZoneInfo, font: str = ""
) -> bytes:
    """The week's report. `text`: the 通报 as issued (edited or generated); `generated`: now,
    naive UTC; `font`: REPORT_FONT (else Debian's Noto Sans CJK)."""
    local = generated.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
    year, number = f["week"].split("-W")
    title = f"{city}市域社会治理综合指挥中心 {year}年第{int(number)}周工作通报"
    pdf = _pdf(title, f"{local:%Y-%m-%d %H:%M}", font)
    pdf.alias_nb_pages()
    pdf.add_page()
    lines = mask_text(text).split("\n")
    pdf.set_font("cjk", size=16)
    pdf.multi_cell(0, 9, lines[0], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10.5)
    for line in lines[1:]:
        if line.strip() and len(line) < 12 and line[0] in "一二三四五六七八九十":
            pdf.set_font("cjk", size=11.5)
            pdf.multi_cell(0, 7.5, line, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("cjk", size=10.5)
        else:
            pdf.multi_cell(0, 6.5, line or " ", new_x="LMARGIN", new_y="NEXT")

    pdf.add_page()
    here, before, year_ago = f["here"], f["previous"], f["year_ago"]
    _heading(pdf, "主要指标")
    rows = []
    for key, name in HEADLINE_NAMES.items():
        kind = {"rate": key.endswith("_rate"), "points": key in POINTS}
        rows.append(
            [
                name,
                _value(key, here[key]),
                _value(key, before[key]),
                change(here[key], before[key], **kind),
                change(here[key], year_ago[key], **kind) if year_ago else "无去年同期数据",
            ]
        )
    _table(pdf, ["指标", f["week"], before["week"], "环比", "同比"], rows, [40, 30, 30, 40, 40])
    _bars(pdf, "案件来源", [s["name"] for s in f["sources"]], [s["n"] for s in f["sources"]])
    _bars(
        pdf,
        "高发问题（前三位）",
        [c["name"] for c in f["top_subcategories"]],
        [c["n"] for c in f["top_subcategories"]],
    )
    for title_, rows_ in (
        ("职能部门综合指标值", f["departments"]),
        ("区县综合指标值", f["districts"]),
    ):
        _bars(pdf, title_, [r["name"] for r in rows_], [r["score"] for r in rows_], "{:.1f}")
    _heading(pdf, "风险预警、工作提示单与队伍建设")
    a, n, s = f["alerts"], f["notices"], f["staff"]
    facts = [
        ["风险预警", f"{a['raised']}"],
        *[[f"其中{ALERT_LEVEL_NAMES[k]}", f"{v}"] for k, v in a["by_level"].items()],
        ["已处置", f"{a['handled']}"],
        ["工作提示单", f"{n['issued']}"],
        ["已办结（按期）", f"{n['closed']}（{n['closed_on_time']}）"],
        ["在编 / 应配 / 缺编", f"{s['in_post']} / {s['required']} / {s['shortfall']}"],
        ["本周培训学时", f"{s['training_hours']:g}"],
    ]
    _table(pdf, ["项目", "数量"], facts, [60, 40])
    carried = f["carried_over"]
    if carried["cases"]:
        _heading(pdf, f"超期未办结（共 {carried['total']} 件，最久的 {len(carried['cases'])} 件）")
        _table(
            pdf,
            ["案件", "问题", "部门", "超期天数"],
            [
                [c["case"], c["category"], c["department"], f"{c['overdue_days']:.1f}"]
                for c in carried["cases"]
            ],
            [60, 40, 50, 30],
        )
    _heading(pdf, "三调联动与五治融合")
    _table(
        pdf,
        ["调解类型", "件数", "成功率"],
        [
            [m["name"], f"{m['n']}", _value("success_rate", m["success_rate"])]
            for m in f["mediation"]
        ],
        [60, 30, 30],
    )
    pdf.ln(3)
    _table(
        pdf,
        ["五治维度", f["week"], before["week"]],
        [
            [d["name"], _value("index", d["here"]), _value("index", d["previous"])]
            for d in f["wuzhi"]
        ],
        [60, 30, 30],
    )
    return bytes(pdf.output())
