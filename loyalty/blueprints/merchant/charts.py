"""Server-drawn SVG bar charts: geometry only, the template draws. Readable without colour:
every bar has its number in a tooltip and the chart has a data table beside it."""
from dataclasses import dataclass

from flask_babel import format_date
from flask_babel import gettext as _

WIDTH, HEIGHT, GAP, AXIS = 600, 120, 2, 18


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list
    peak: int
    width: int = WIDTH
    height: int = HEIGHT + AXIS
    baseline: int = HEIGHT

    @property
    def total(self):
        return sum(bar.value for bar in self.bars)

    @property
    def peak_label(self):
        """The day of the highest bar (the first, on a tie)."""
        return next((bar.label for bar in self.bars if bar.value == self.peak), "")


def bar_chart(title, values, labels):
    """Bars for ``values`` (one per day), scaled to the largest."""
    peak = max(values, default=0)
    slot = WIDTH / max(len(values), 1)
    bars = []
    for index, (value, label) in enumerate(zip(values, labels)):
        # A day net of voids made on it may fall below nothing: its bar stays empty.
        height = 0 if peak <= 0 else round(HEIGHT * max(value, 0) / peak, 1)
        bars.append(Bar(x=round(index * slot + GAP / 2, 1), y=HEIGHT - height,
                        width=round(slot - GAP, 1), height=height, value=value, label=label))
    return BarChart(title, bars, peak)


def stats_charts(figures, program):
    """The statistics page's 30-day charts (stamps, points, new members) for ``program``."""
    labels = [format_date(day.date, "d MMM") for day in figures.days]
    charts = []
    if program is None or program.has_stamps:
        charts.append(bar_chart(_("Stamps given per day"), [d.stamps for d in figures.days], labels))
    if program is None or program.has_points:
        charts.append(bar_chart(_("Points given per day"), [d.points for d in figures.days], labels))
    charts.append(bar_chart(_("New members per day"), [d.new_members for d in figures.days],
                            labels))
    return charts
