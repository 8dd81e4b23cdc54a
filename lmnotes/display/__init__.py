"""Tables and figures that show a batch: token tables, MLM masks, the CLM shift, masks.

:func:`token_table` rebuilds the "general principle" table of the original notes
from a real batch (one row per position: the token the model sees, its id, the
label and the token the label stands for); :func:`next_token_table` shows what
a causal LM is scored on at each position (the next token, its probability and
its loss). Both render as HTML in a notebook and as plain text in a terminal
or a doctest.

The plotting helpers build :class:`DescribedFigure` objects (a
:class:`matplotlib.figure.Figure` that knows what it shows, in words: ``alt_text``)
directly, without ``pyplot``: no global figure registry, no window, nothing to close;
``fig.savefig(...)`` renders with Agg. Figures are about 6 x 3 inches at 100 dpi.
In a notebook a bare figure shows as inline SVG (:func:`figure_svg`): real text
(selectable, found by search, translated on the French site), ``role="img"`` with its
``alt_text`` as ``aria-label``, and colours through CSS variables (``--lmnotes-fig-*``)
and ``currentColor``, so that the site's light and dark themes restyle it. Cells are
told apart by a hatch pattern as well as by colour.

Importing this package registers nothing in IPython, nor does it need to: a described figure
shows as its SVG alone (``text/html``) as long as no matplotlib backend is loaded, and the
pages never load one (they draw without ``pyplot``). ``%matplotlib inline``, or the first
figure ``pyplot`` draws, loads the inline backend, which gives every figure a PNG as well,
a described one too. A notebook that mixes ``pyplot`` with these figures loads the
extension, ``%load_ext lmnotes.display`` (:func:`load_ipython_extension`): a described
figure then shows only as its SVG, whatever is loaded after, and a plain figure (made
without ``pyplot``) as PNG.

The names documented here come from the package's modules:

- ``lmnotes.display.tables``: :class:`TokenTable`, :func:`token_table`,
  :class:`NextTokenTable`, :func:`next_token_table`: one sequence of a batch, position
  by position;
- ``lmnotes.display.figures``: :class:`DescribedFigure`, :func:`figure_svg`, the
  ``plot_*`` functions, their size and legibility constants (``DPI``, ``FIGSIZE``,
  ``LEGIBLE_PX``), and the IPython extension (:func:`load_ipython_extension`).
"""

from __future__ import annotations

from lmnotes.display import figures
from lmnotes.display.figures import (
    DescribedFigure,
    figure_svg,
    plot_label_shift,
    plot_mask,
    plot_masks,
    plot_mlm_masks,
)

# The IPython hooks that %load_ext / %unload_ext lmnotes.display call: attributes of the
# package, not names to import (they stay out of __all__).
from lmnotes.display.figures import load_ipython_extension as load_ipython_extension
from lmnotes.display.figures import unload_ipython_extension as unload_ipython_extension
from lmnotes.display.tables import (
    NextTokenTable,
    TokenTable,
    next_token_table,
    token_table,
)

__all__ = [
    "DescribedFigure",
    "NextTokenTable",
    "figure_svg",
    "TokenTable",
    "plot_label_shift",
    "plot_mask",
    "plot_masks",
    "plot_mlm_masks",
    "next_token_table",
    "token_table",
]

# Assigned here (the same objects) so that their comments document them as lmnotes.display.*.
#: Resolution of the figures, in dots per inch.
DPI = figures.DPI
#: Size of a one-panel figure, in inches (width, height).
FIGSIZE = figures.FIGSIZE
#: Smallest text a reader is given, in CSS pixels: on a narrow screen a figure keeps at least
#: the width at which its smallest text is this size (and scrolls inside its output block).
LEGIBLE_PX = figures.LEGIBLE_PX
