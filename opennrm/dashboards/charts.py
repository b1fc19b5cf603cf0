"""Server-rendered SVG bar charts for the dashboard: no script, no inline style (the CSP allows neither).

Each chart is an image with a title and a description that names the table holding the same
figures; every bar carries its value as text, and a second series is hatched as well as coloured,
so nothing is told by colour alone (WCAG 1.4.1, 1.4.11).
"""

from dataclasses import dataclass, field
from html import escape

# GOV.UK colours: text, blue and dark blue (each at least 3:1 against white, 4.5:1 for the text).
TEXT, BLUE, DARK_BLUE, GRID = "#0b0c0c", "#1d70b8", "#003078", "#b1b4b6"
WIDTH, LABEL_WIDTH, VALUE_WIDTH, BAR, GAP, TOP = 720, 220, 130, 16, 14, 8  # room beside a bar for "(fewer than 5)"


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]  # one per category; None: no figure (shown as "none")
    # One per category, as the table says it: written instead of a missing value ("[c] withheld"), beside one that is shown.
    notes: list[str] = field(default_factory=list)

    def label(self, c: int, unit: str) -> str:
        note = self.notes[c] if c < len(self.notes) else ""
        if self.values[c] is None:
            return note or "none"
        return f"{_number(self.values[c], unit)} {note}".rstrip()


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "none"
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return f"{text}{unit}"


def bar_chart(
    *,
    chart_id: str,
    title: str,
    table_id: str,
    categories: list[str],
    series: list[Series],
    unit: str = "",
    maximum: float | None = None,
) -> str:
    """A horizontal bar chart, one group of bars per category; returns the <svg> markup."""
    top_value = maximum or max([v for s in series for v in s.values if v is not None] + [0]) or 1
    group = len(series) * BAR + GAP
    legend = 24 if len(series) > 1 else 0
    height = TOP + legend + len(categories) * group + 4
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="opennrm-chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">A bar chart. The same figures are in '
        f"the table “{escape(title)}” below it (#{escape(table_id)}).</desc>",
        f'<defs><pattern id="{chart_id}-hatch" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="{DARK_BLUE}"/><line x1="0" y1="0" '
        'x2="0" y2="6" stroke="#ffffff" stroke-width="2"/></pattern></defs>',
    ]
    fills = [BLUE, f"url(#{chart_id}-hatch)"]
    if legend:
        x = LABEL_WIDTH
        for i, s in enumerate(series):
            parts.append(
                f'<rect x="{x}" y="{TOP}" width="14" height="14" fill="{fills[i % 2]}" stroke="{TEXT}" stroke-width="0.5"/>'
            )
            parts.append(f'<text x="{x + 20}" y="{TOP + 12}" font-size="14" fill="{TEXT}">{escape(s.name)}</text>')
            x += 40 + 8 * len(s.name)
    y0 = TOP + legend
    parts.append(
        f'<line x1="{LABEL_WIDTH}" y1="{y0}" x2="{LABEL_WIDTH}" y2="{height - 4}" stroke="{GRID}" stroke-width="1"/>'
    )
    for c, category in enumerate(categories):
        y = y0 + c * group + GAP / 2
        middle = y + len(series) * BAR / 2
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{middle + 5}" font-size="14" text-anchor="end" fill="{TEXT}">{escape(category)}</text>'
        )
        for i, s in enumerate(series):
            value = s.values[c]
            width = 0 if value is None else max(0.0, min(1.0, value / top_value)) * plot
            by = y + i * BAR
            if width:
                parts.append(
                    f'<rect x="{LABEL_WIDTH}" y="{by + 1}" width="{width:.1f}" height="{BAR - 2}" fill="{fills[i % 2]}">'
                    f"<title>{escape(category)}, {escape(s.name)}: {escape(s.label(c, unit))}</title></rect>"
                )
            parts.append(
                f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{by + BAR - 4}" font-size="12" fill="{TEXT}">{escape(s.label(c, unit))}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
