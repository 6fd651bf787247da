"""Charts drawn on the server as inline SVG: they work without JavaScript, need no CDN, and are
read by screen readers through their <title> and the table printed beside each one."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 640  # viewBox units; the SVG scales to its container


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    # What the bar's tooltip says (defaults to the value).
    note: str = ""


def hbars(title: str, bars: list[Bar], unit: str = "", lo: float | None = None,
          hi: float | None = None) -> Markup:
    """Horizontal bars, one per label: distributions and averages by domain. Values may be
    negative (sentiment): bars then grow left or right of a zero line."""
    if not bars:
        return Markup("")
    row, pad = 26, 6
    # Room for the longest label (about 7 units a character at the chart's 12px), within reason.
    label_w = min(max(len(b.label) for b in bars) * 7 + 12, WIDTH // 2)
    height = row * len(bars) + pad * 2
    lo = min(0.0, *(b.value for b in bars)) if lo is None else lo
    hi = max(0.0, *(b.value for b in bars)) if hi is None else hi
    span = (hi - lo) or 1.0
    plot = WIDTH - label_w - 70

    def x(v: float) -> float:
        return label_w + (v - lo) / span * plot

    parts = [_open(title, height)]
    zero = x(0.0)
    for i, b in enumerate(bars):
        y = pad + i * row
        left, right = sorted((zero, x(b.value)))
        tip = b.note or f"{_num(b.value)}{unit}"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row * 0.65:.1f}" text-anchor="end" '
            f'class="label">{escape(b.label)}</text>'
            f'<rect x="{left:.1f}" y="{y + 4}" width="{max(right - left, 1):.1f}" '
            f'height="{row - 8}" class="bar{" neg" if b.value < 0 else ""}">'
            f"<title>{escape(b.label)}: {escape(tip)}</title></rect>"
            f'<text x="{max(right, zero) + 6:.1f}" y="{y + row * 0.65:.1f}" class="value">'
            f"{escape(_num(b.value))}{escape(unit)}</text>")
    if lo < 0:
        parts.append(f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="0" y2="{height}" class="axis"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(title: str, bars: list[Bar]) -> Markup:
    """Vertical bars over time (calls per day), labelled at the first, last and every few."""
    if not bars:
        return Markup("")
    height, base, top = 220, 190, 16
    hi = max(b.value for b in bars) or 1.0
    step = (WIDTH - 40) / len(bars)
    width = min(max(step * 0.7, 1.0), 48.0)  # a few days must not look like a wall
    every = max(1, len(bars) // 6)
    parts = [_open(title, height)]
    for i, b in enumerate(bars):
        h = (base - top) * b.value / hi
        x = 20 + i * step + (step - width) / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{width:.1f}" height="{max(h, 0.5):.1f}"'
            f' class="bar"><title>{escape(b.label)}: {escape(_num(b.value))}</title></rect>')
        if i % every == 0 or i == len(bars) - 1:
            parts.append(f'<text x="{x + width / 2:.1f}" y="{base + 18}" text-anchor="middle" '
                         f'class="label">{escape(b.label[5:] if len(b.label) == 10 else b.label)}'
                         "</text>")
    parts.append(f'<line x1="16" x2="{WIDTH - 16}" y1="{base}" y2="{base}" class="axis"/>'
                 f'<text x="18" y="{top - 4}" class="value">{escape(_num(hi))}</text></svg>')
    return Markup("".join(parts))


def timeline(title: str, points: list[tuple[float, float, float]], duration: float) -> Markup:
    """A value in [-1, 1] over a call's time: (start_s, end_s, value) steps, e.g. sentiment per
    segment. Each step is a link target for the player (data-seek)."""
    if not points or duration <= 0:
        return Markup("")
    height, mid, amp, left = 160, 80, 64, 30
    plot = WIDTH - left - 10

    def x(t: float) -> float:
        return left + min(max(t / duration, 0.0), 1.0) * plot

    parts = [_open(title, height),
             f'<line x1="{left}" x2="{WIDTH - 10}" y1="{mid}" y2="{mid}" class="axis"/>',
             f'<text x="2" y="{mid - amp + 4}" class="label">+1</text>'
             f'<text x="2" y="{mid + amp + 4}" class="label">&#8722;1</text>']
    path = []
    for start, end, value in points:
        y = mid - value * amp
        path.append(f"M{x(start):.1f},{y:.1f}H{x(end):.1f}")
        parts.append(
            f'<rect x="{x(start):.1f}" y="{min(y, mid):.1f}" '
            f'width="{max(x(end) - x(start), 1):.1f}" height="{max(abs(y - mid), 1):.1f}" '
            f'class="bar{" neg" if value < 0 else ""}" '
            f'data-seek="{start:.2f}"><title>{_clock(start)}: {value:+.2f}</title></rect>')
    parts.append(f'<path d="{"".join(path)}" class="line"/>')
    parts.append(f'<text x="{left}" y="{height - 4}" class="label">0:00</text>'
                 f'<text x="{WIDTH - 10}" y="{height - 4}" text-anchor="end" class="label">'
                 f"{_clock(duration)}</text></svg>")
    return Markup("".join(parts))


def _open(title: str, height: int) -> str:
    return (f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
            f'aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet">'
            f"<title>{escape(title)}</title>")


def _num(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}"


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d}"
