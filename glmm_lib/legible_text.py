"""How large a figure's text must be to stay legible on a phone.

A page scales a figure down to the width of the screen. On a 390 px phone the
figure is about :data:`PHONE_FIGURE_PX` pixels wide (the page keeps margins), and
the page's body text is :data:`BODY_TEXT_PX` pixels high: text in the figure is
legible when, scaled down, it is at least that high. The ratio of a font's size
to the figure's width is what survives the scaling, so the size in points grows
with the figure's width in inches, whatever its dpi.
"""
from __future__ import annotations

__all__ = ["PHONE_FIGURE_PX", "BODY_TEXT_PX", "legible_fontsize"]

PHONE_FIGURE_PX = 358
BODY_TEXT_PX = 16


def legible_fontsize(fig_width_inches: float) -> float:
    """Font size in points that shows at least as large as body text when a figure
    ``fig_width_inches`` wide is scaled down to a phone's width."""
    return BODY_TEXT_PX / PHONE_FIGURE_PX * 72.0 * float(fig_width_inches)
