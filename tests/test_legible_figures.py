"""Figure text stays at least body-text size when a page shows the figure at phone width."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import glmm_lib as gl  # noqa: E402
from glmm_lib import diagnostic_plots as dp  # noqa: E402
from glmm_lib import diagnostics as dg  # noqa: E402
from glmm_lib.legible_text import BODY_TEXT_PX, PHONE_FIGURE_PX  # noqa: E402
from course.lessonkit import figures  # noqa: E402


def _smallest_text_px_at_phone_width(fig):
    """Height in pixels of the figure's smallest visible text once the figure is scaled
    to a phone's width."""
    fig.canvas.draw()
    texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text()]
    smallest_pt = min(t.get_fontsize() for t in texts)
    return smallest_pt / 72 * PHONE_FIGURE_PX / fig.get_figwidth()


def test_residual_plots_and_maps_are_legible_on_a_phone():
    fit = gl.glmm("y ~ trt + (1|block)", data=gl.datasets.load("beall_webworms"), family="poisson")
    res = dg.simulate_residuals(fit, 50, seed=1)
    drawn = [dp.plot_diagnostics(res), dp.plot_residuals_by(res, "block").figure,
             dp.plot_qq(res).figure,
             figures.plot_correlations({"a": np.eye(4) + 0.5, "b": np.eye(4)}),
             figures.plot_design_hierarchy()]
    for fig in drawn:
        assert _smallest_text_px_at_phone_width(fig) >= BODY_TEXT_PX - 1e-9
    plt.close("all")
