"""Server-side SVG charts for the pages: pure functions, text in, markup out.

Every label is escaped; every chart carries a <title> and <desc> (screen
readers read them) and a table of the same figures sits next to it on the page.
"""
from __future__ import annotations

from html import escape
from typing import Sequence

PALETTE = {"red": "#c62828", "yellow": "#d99a00", "green": "#1e8e4a", "blue": "#1f5fbf", "grey": "#8a94a3",
           "purple": "#7a4fc4"}


def _svg(width: int, height: int, title: str, body: str) -> str:
    t = escape(title)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
            f'role="img" aria-label="{t}" class="chart"><title>{t}</title><desc>{t}</desc>{body}</svg>')


def _nice_max(value: float) -> float:
    """The axis top: 1, 2 or 5 times a power of ten, at least ``value``."""
    if value <= 0:
        return 1
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for m in (1, 2, 5, 10):
        if m * step >= value:
            return m * step
    return 10 * step


def bars(title: str, points: Sequence[tuple[str, float]], color: str = "blue", width: int = 380,
         height: int = 180, colors: Sequence[str] | None = None) -> str:
    """A vertical bar chart of (label, value), one colour or one per bar; an
    empty series draws an empty axis."""
    left, bottom, top = 30, 22, 20 if colors else 10
    top_value = _nice_max(max((v for _, v in points), default=0))
    plot_w, plot_h = width - left - 6, height - bottom - top
    parts = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 6}" y2="{top + plot_h}" stroke="#c9d0da"/>']
    for frac in (0.5, 1.0):
        y = top + plot_h - plot_h * frac
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 6}" y2="{y:.1f}" stroke="#eef1f5"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#5b6675">'
                     f'{_num(top_value * frac)}</text>')
    n = max(len(points), 1)
    slot = plot_w / n
    label_every = max(1, round(n / 8))
    for i, (label, value) in enumerate(points):
        fill = PALETTE.get(colors[i], colors[i]) if colors else PALETTE.get(color, color)
        h = plot_h * (value / top_value)
        x = left + i * slot + slot * 0.15
        parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                     f'rx="2" fill="{fill}"><title>{escape(label)}: {_num(value)}</title></rect>')
        if colors and value:
            parts.append(f'<text x="{x + slot * 0.35:.1f}" y="{top + plot_h - h - 4:.1f}" text-anchor="middle" '
                         f'font-size="12" font-weight="700" fill="#1c2430">{_num(value)}</text>')
        if i % label_every == 0:
            parts.append(f'<text x="{x + slot * 0.35:.1f}" y="{height - 6}" text-anchor="middle" font-size="11" '
                         f'fill="#5b6675">{escape(label)}</text>')
    return _svg(width, height, title, "".join(parts))


def stacked(title: str, rows: Sequence[tuple[str, Sequence[tuple[str, float, str]]]], width: int = 560) -> str:
    """Horizontal stacked bars: one row per group, each segment (name, value, colour)."""
    label_w, row_h, gap = 120, 22, 8
    height = max(len(rows), 1) * (row_h + gap) + 30
    top_value = max((sum(v for _, v, _ in segs) for _, segs in rows), default=0) or 1
    parts = []
    for i, (label, segs) in enumerate(rows):
        y = 6 + i * (row_h + gap)
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12" fill="#1c2430">'
                     f'{escape(label[:18])}</text>')
        x = float(label_w)
        for name, value, color in segs:
            w = (width - label_w - 40) * value / top_value
            if w > 0:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h}" '
                             f'fill="{PALETTE.get(color, color)}"><title>{escape(name)}: {_num(value)}</title></rect>')
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 15}" font-size="12" fill="#1c2430">'
                     f'{_num(sum(v for _, v, _ in segs))}</text>')
    legend, lx = [], float(label_w)
    for name, _, color in (rows[0][1] if rows else ()):
        legend.append(f'<rect x="{lx:.0f}" y="{height - 16}" width="10" height="10" fill="{PALETTE.get(color, color)}"/>'
                      f'<text x="{lx + 14:.0f}" y="{height - 7}" font-size="11" fill="#1c2430">{escape(name)}</text>')
        lx += 24 + 7 * len(name)
    return _svg(width, height, title, "".join(parts + legend))


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
