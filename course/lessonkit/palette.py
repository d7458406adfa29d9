"""Colours of the course's figures: readable by colour-blind students and on paper.

The hues are those of Okabe and Ito's palette (distinguishable under the
common forms of colour blindness). Not every one of them is dark enough on a
white page, so the palette has three parts:

- :data:`LINES`: the colour cycle of lines and markers (``C0``, ``C1``, ...), every
  colour at least 3:1 against white (WCAG 2.1, 1.4.11 non-text contrast);
- :data:`TEXT`: colours for words drawn in a figure, at least 4.5:1 against
  white (1.4.3, text contrast); ``TEXT["signal"]`` is the one that marks a
  result as significant (the words say so too: colour never carries meaning alone);
- :data:`FILLS`: the light Okabe-Ito hues, only for areas that have a darker
  outline or label.

:func:`course.lessonkit.display.use_course_style` makes them matplotlib's defaults; :func:`contrast_ratio`
is the WCAG formula the tests check the palette with.
"""

from __future__ import annotations

#: Okabe & Ito's eight colours, by their published names.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}

#: Colour cycle of lines and markers: the Okabe-Ito hues dark enough for 3:1.
#: (Darkened orange and sky blue would reach 3:1 too, but then look like
#: vermillion and blue to a protanope; a figure with more series needs markers
#: or labels, not more colours.)
LINES = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")

#: Colours of text in figures (each at least 4.5:1 on white).
TEXT = {
    "default": "#000000",
    "signal": "#A04000",     # vermillion, darkened: a significant test result
    "muted": "#595959",      # grey for secondary labels
}

#: Light fills (areas with a dark edge or a label of their own).
FILLS = ("#E69F00", "#56B4E9", "#F0E442", "#009E73", "#CC79A7")

#: Sequential colour map for matrices (light to dark; its values are also written in the cells).
SEQUENTIAL_CMAP = "cividis"

WHITE = "#FFFFFF"


def _channels(colour: str) -> tuple[float, float, float]:
    """sRGB channels in [0, 1] of a ``#RRGGBB`` colour."""
    text = colour.lstrip("#")
    if len(text) != 6:
        raise ValueError(f"expected a colour as #RRGGBB, got {colour!r}")
    return tuple(int(text[i:i + 2], 16) / 255 for i in (0, 2, 4))


def relative_luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour (0 black, 1 white)."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _channels(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str = WHITE) -> float:
    """WCAG contrast ratio of two colours, from 1 (same) to 21 (black on white)."""
    light, dark = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def course_rcparams() -> dict:
    """matplotlib settings of every course figure."""
    from cycler import cycler

    return {
        "axes.prop_cycle": cycler(color=list(LINES)),
        "image.cmap": SEQUENTIAL_CMAP,
        "text.color": TEXT["default"],
        "axes.labelcolor": TEXT["default"],
        "xtick.color": TEXT["default"],
        "ytick.color": TEXT["default"],
        "axes.spines.top": False,
        "axes.spines.right": False,
        "figure.dpi": 100,
    }
