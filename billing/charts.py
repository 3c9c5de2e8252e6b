"""Charts drawn on the server as inline SVG: no JavaScript library, nothing fetched, and no
``style`` attribute (the CSP forbids inline styles) — colours and sizes are SVG
presentation attributes. This module computes the geometry; the template draws it."""

from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal("0")

# Colours (the portal's palette): the wholesale cost, the margin above it, a loss below it.
WHOLESALE_FILL = "#adb5bd"
MARGIN_FILL = "#198754"
LOSS_FILL = "#dc3545"


@dataclass
class Segment:
    y: float
    height: float
    fill: str
    title: str


@dataclass
class Bar:
    x: float
    width: float
    label: str
    label_x: float
    segments: list[Segment] = field(default_factory=list)


@dataclass
class Chart:
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    plot_left: int
    plot_right: int
    bars: list[Bar]
    gridlines: list[dict]  # {"y": …, "label": …}
    legend: list[dict]  # {"x": …, "fill": …, "label": …}
    description: str


def _scale(top, plot_top, plot_bottom):
    span = plot_bottom - plot_top

    def y(value):
        if top <= 0:
            return float(plot_bottom)
        return round(plot_bottom - float(value / top) * span, 2)

    return y


def _round_up(value):
    """A tidy top for the axis: 1, 2 or 5 times a power of ten, at least ``value``."""
    if value <= 0:
        return Decimal("1")
    magnitude = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _tick(value):
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value.normalize():,f}"


def _amount(value):
    return f"{value.quantize(Decimal('0.01')):,.2f}"


def margin_chart(months, *, currency="USD", width=720, height=240) -> Chart:
    """Stacked bars per month: the wholesale cost (grey) and the margin above it (green) up
    to the retail figure; where retail fell below wholesale, the loss in red."""
    left, right, top_pad, bottom_pad = 64, 8, 28, 24
    plot_top, plot_bottom = top_pad, height - bottom_pad
    highest = max((max(m["retail"], m["wholesale"]) for m in months), default=ZERO)
    top = _round_up(highest)
    y = _scale(top, plot_top, plot_bottom)
    slot = (width - left - right) / max(len(months), 1)
    bar_width = round(max(slot * 0.6, 2), 2)
    bars = []
    for index, month in enumerate(months):
        x = round(left + index * slot + (slot - bar_width) / 2, 2)
        label = f"{month['month']:%b %Y}"
        retail, wholesale = month["retail"], month["wholesale"]
        bar = Bar(x=x, width=bar_width, label=f"{month['month']:%b}", label_x=x + bar_width / 2)
        cost = min(retail, wholesale)
        if cost > 0:
            bar.segments.append(
                Segment(
                    y=y(cost),
                    height=round(y(ZERO) - y(cost), 2),
                    fill=WHOLESALE_FILL,
                    title=f"{label}: wholesale {_amount(wholesale)} {currency}",
                )
            )
        if retail != wholesale:
            low, high = sorted((retail, wholesale))
            gain = retail > wholesale
            bar.segments.append(
                Segment(
                    y=y(high),
                    height=round(y(low) - y(high), 2),
                    fill=MARGIN_FILL if gain else LOSS_FILL,
                    title=(
                        f"{label}: retail {_amount(retail)}, "
                        f"{'margin' if gain else 'loss'} {_amount(abs(retail - wholesale))} "
                        f"{currency}"
                    ),
                )
            )
        bars.append(bar)
    # Five steps: a top of 1, 2, 5 or 10 (times a power of ten) divides into tidy labels.
    gridlines = [{"y": y(top * step / 5), "label": _tick(top * step / 5)} for step in range(6)]
    legend = [
        {"x": left, "fill": WHOLESALE_FILL, "label": "Wholesale cost"},
        {"x": left + 130, "fill": MARGIN_FILL, "label": "Margin"},
        {"x": left + 220, "fill": LOSS_FILL, "label": "Loss"},
    ]
    first, last = (months[0]["month"], months[-1]["month"]) if months else (None, None)
    description = (
        f"Retail, wholesale and margin per month from {first:%B %Y} to {last:%B %Y} "
        f"in {currency}; the figures are in the table below."
        if first
        else "No months to show."
    )
    return Chart(
        width=width,
        height=height,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        plot_left=left,
        plot_right=width - right,
        bars=bars,
        gridlines=gridlines,
        legend=legend,
        description=description,
    )
