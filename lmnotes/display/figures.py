"""Figures of a batch: MLM masks, the CLM shift, attention masks, drawn as themed inline SVG.

The plotting functions build :class:`DescribedFigure` objects (a
:class:`matplotlib.figure.Figure` that knows what it shows, in words: ``alt_text``)
directly, without ``pyplot``: no global figure registry, no window, nothing to close;
``fig.savefig(...)`` renders with Agg. Figures are about 6 x 3 inches at 100 dpi
(``FIGSIZE``, ``DPI``). In a notebook a described figure shows as inline SVG
(:func:`figure_svg`, its ``_repr_html_``).

Importing this module registers nothing in IPython. :func:`load_ipython_extension`
(``%load_ext lmnotes.display``) is the explicit registration: a described figure then
shows only as that SVG even once a matplotlib backend gives every figure a PNG, and a
plain figure shows as PNG; :func:`unload_ipython_extension` undoes it.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from collections.abc import Sequence

import matplotlib
import numpy as np
import torch
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Patch, PathPatch
from matplotlib.path import Path as MplPath

from lmnotes import messages
from lmnotes._tables import marker_label, visible_token
from lmnotes.mlm import MASK_OUTCOMES, mask_outcomes

__all__ = [
    "DPI",
    "FIGSIZE",
    "LEGIBLE_PX",
    "DescribedFigure",
    "figure_svg",
    "load_ipython_extension",
    "plot_label_shift",
    "plot_mask",
    "plot_masks",
    "plot_mlm_masks",
    "unload_ipython_extension",
]

#: Resolution of the figures, in dots per inch.
DPI = 100
#: Size of a one-panel figure, in inches (width, height).
FIGSIZE = (6.0, 3.0)

# Colour-blind safe (Okabe-Ito) colours; the green is darkened for 4.5:1 against white text.
_GREY, _BLUE, _ORANGE, _GREEN, _WHITE = "#e6e6e6", "#0072b2", "#e69f00", "#007a5a", "#ffffff"
#: Share of the width added on the right of an SVG figure, for longer translated labels.
_ROOM = 0.2
#: Smallest text a reader is given, in CSS pixels: on a narrow screen a figure keeps at least
#: the width at which its smallest text is this size (and scrolls inside its output block).
LEGIBLE_PX = 12.0
#: Marks drawn on coloured cells in both themes (not restyled).
_INK = "#111111"
#: How the SVG's colours are restyled by the page's theme (docs/_static/lmnotes-figures.css).
_THEMED = {
    "#000000": "currentColor",
    "#333333": "currentColor",
    "#444444": "currentColor",
    "#555555": "currentColor",
    "#666666": "currentColor",
    "#999999": "currentColor",
    _WHITE: "var(--lmnotes-fig-bg, #ffffff)",
    _GREY: "var(--lmnotes-fig-muted, #e6e6e6)",
    _BLUE: "var(--lmnotes-fig-blue, #0072b2)",
    _GREEN: "var(--lmnotes-fig-green, #007a5a)",
}


class DescribedFigure(Figure):
    """A matplotlib figure with a description of what it shows, shown as inline SVG.

    Attributes
    ----------
    alt_text : str
        What the figure shows, in words generated from its data (the figure's
        ``aria-label``).
    """

    alt_text: str = ""

    def _repr_html_(self) -> str:
        return figure_svg(self)


def figure_svg(fig: Figure, alt_text: str | None = None) -> str:
    r"""The figure as an inline ``<svg>`` element for a web page.

    Text stays text (``svg.fonttype: none``); the root carries ``role="img"``, the
    class ``lmnotes-figure`` and ``aria-label`` (``alt_text``, or the figure's own, or
    its titles); element ids are made unique to the figure; black and the greys become
    ``currentColor`` and the palette CSS variables with fallbacks, so the page's theme
    restyles the figure; the background is transparent; a fifth of the width is added on
    the right, so that translated labels (longer in French) fit. Token labels (drawn with the
    gid ``lmnotes-code``) sit in ``<g class="lmnotes-code">``: code, never translated.
    The root's ``style`` sets ``--lmnotes-fig-legible``: the width (CSS px) at which the
    smallest text of the figure is ``LEGIBLE_PX`` (12) px high; on a narrow screen the figure
    keeps that width and scrolls sideways in its block (docs/_static/lmnotes-figures.css).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Any figure.
    alt_text : str, optional
        The description; defaults to ``fig.alt_text`` or to the axes titles.

    Returns
    -------
    str
        The ``<svg ...>...</svg>`` markup, without XML declaration or metadata.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.display import figure_svg, plot_mask
    >>> svg = figure_svg(plot_mask(torch.ones(2, 2, dtype=torch.bool).tril(), title="causal"))
    >>> svg.startswith("<svg") and 'role="img"' in svg and ">causal</text>" in svg
    True
    >>> import re
    >>> width = float(re.search(r"--lmnotes-fig-legible: ([\d.]+)px", svg).group(1))
    >>> view = float(re.search(r'viewBox="0 0 ([\d.]+)', svg).group(1))
    >>> smallest = min(map(float, re.findall(r"font-size: ([\d.]+)px", svg)))
    >>> round(smallest * width / view, 1)  # the smallest text at that width, in CSS px
    12.0
    """
    if alt_text is None:
        alt_text = (
            getattr(fig, "alt_text", "")
            or "; ".join(ax.get_title() for ax in fig.axes if ax.get_title())
            or "Figure"
        )
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "lmnotes"}):
        fig.savefig(
            buffer, format="svg", facecolor="none", edgecolor="none", metadata={"Date": None}
        )
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)
    svg = svg.replace('<g id="lmnotes-code">', '<g class="lmnotes-code">')
    # Shorter: coordinates to 0.01 pt, one font list, no indentation.
    svg = re.sub(
        r'\b(d|x|y|transform)="[^"]*"',
        lambda m: re.sub(r"(?<=\d)\.(\d\d)\d+", r".\1", m.group(0)),
        svg,
    )
    svg = re.sub(
        r"font-family: 'DejaVu Sans', [^;\"]*", "font-family: 'DejaVu Sans', sans-serif", svg
    )
    svg = re.sub(
        r"font-family: 'DejaVu Sans Mono', [^;\"]*",
        "font-family: 'DejaVu Sans Mono', monospace",
        svg,
    )
    svg = re.sub(r"\n\s+", "\n", svg)
    # Room on the right for translations longer than the English (legends sit there).
    size = re.search(r'width="([\d.]+)pt" height="([\d.]+)pt" viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
    if size:
        width, height = float(size.group(1)) * (1 + _ROOM), float(size.group(2))
        svg = svg.replace(
            size.group(0),
            f'width="{width:.2f}pt" height="{height:.2f}pt" viewBox="0 0 {width:.2f} {height:.2f}"',
            1,
        )
    prefix = "f" + hashlib.sha1(svg.encode()).hexdigest()[:8] + "-"
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r'(href="#|url\(#)([^")]+)', lambda m: f"{m.group(1)}{prefix}{m.group(2)}", svg)
    svg = re.sub(r"#[0-9a-f]{6}\b", lambda m: _THEMED.get(m.group(0), m.group(0)), svg)
    svg = _mark_words(svg)
    label = messages.words(alt_text)
    label = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    legible = ""
    view = re.search(r'viewBox="0 0 ([\d.]+) ', svg)
    sizes = [float(size) for size in re.findall(r"<text [^>]*font-size: ([\d.]+)px", svg)]
    if view and sizes and min(sizes) > 0:
        width = float(view.group(1)) * LEGIBLE_PX / min(sizes)
        legible = f'style="--lmnotes-fig-legible: {width:.0f}px" '
    root = f'<svg role="img" aria-label="{label}" class="lmnotes-figure" {legible}'
    return svg.replace("<svg ", root + 'fill="currentColor" ', 1).rstrip()


#: A text of an SVG figure, or a group of token labels (code, never a message).
_SVG_TEXT = re.compile(
    r'<g class="lmnotes-code">.*?</g>|(<text\b[^>]*>)([^<]+)(</text>)', re.DOTALL
)


def _mark_words(svg: str) -> str:
    """In a docs kernel, each text of the figure that is not a token is a message
    (:func:`lmnotes.messages.words`); elsewhere the SVG is returned as it is."""
    if not messages.marking():
        return svg

    def mark(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)
        text = html.unescape(match.group(2))
        return match.group(1) + html.escape(messages.words(text), quote=False) + match.group(3)

    return _SVG_TEXT.sub(mark, svg)


# --- IPython ---------------------------------------------------------------------------------

#: IPython's formatters of the image types a matplotlib backend can give a figure
#: (:func:`IPython.core.pylabtools.select_figure_formats`).
_IMAGE_FORMATS = ("image/png", "image/jpeg", "image/svg+xml", "application/pdf")


def _no_image(fig: Figure) -> None:
    """No image of a described figure: its SVG (``text/html``) is all it shows."""
    return None


def _plain_png(fig: Figure) -> bytes:
    """A plain figure as PNG, cropped to its drawing (as the inline backend shows it)."""
    from IPython.core.pylabtools import print_figure

    return print_figure(fig, "png", bbox_inches="tight")


def load_ipython_extension(ipython) -> None:
    """Show figures in IPython: a described figure only as its SVG, a plain one as PNG.

    ``%load_ext lmnotes.display`` calls it (or call it with ``get_ipython()``). It
    registers, in the shell's display formatters:

    - for :class:`DescribedFigure`, no image (PNG, JPEG, SVG or PDF image): the cell shows
      the inline SVG of :func:`figure_svg` alone. The entry is the class's own, so it holds
      whatever is loaded after: ``%matplotlib inline``, or ``pyplot``'s first figure, which
      load the inline backend and give every :class:`~matplotlib.figure.Figure` a PNG;
    - for a plain :class:`~matplotlib.figure.Figure` (one made without ``pyplot``, which
      IPython otherwise shows as its ``repr``), a PNG cropped to its drawing, unless a
      backend already gives figures an image.

    Nothing calls it on import: without it a described figure also shows as its SVG alone,
    until a matplotlib backend is loaded (the notes' pages never load one).

    Parameters
    ----------
    ipython : IPython.core.interactiveshell.InteractiveShell
        The shell (``get_ipython()``).
    """
    formatters = ipython.display_formatter.formatters
    for mime in _IMAGE_FORMATS:
        formatters[mime].for_type(DescribedFigure, _no_image)
    if not any(Figure in formatters[mime].type_printers for mime in _IMAGE_FORMATS):
        formatters["image/png"].for_type(Figure, _plain_png)


def unload_ipython_extension(ipython) -> None:
    """Undo :func:`load_ipython_extension` (``%unload_ext lmnotes.display``).

    A PNG printer that a matplotlib backend registered for figures since is kept.

    Parameters
    ----------
    ipython : IPython.core.interactiveshell.InteractiveShell
        The shell (``get_ipython()``).
    """
    formatters = ipython.display_formatter.formatters
    for mime in _IMAGE_FORMATS:
        if formatters[mime].type_printers.get(DescribedFigure) is _no_image:
            formatters[mime].pop(DescribedFigure)
    png = formatters["image/png"]
    if png.type_printers.get(Figure) is _plain_png:
        png.pop(Figure)


# --- figures --------------------------------------------------------------------------------


def _new_figure(figsize=FIGSIZE) -> DescribedFigure:
    return DescribedFigure(figsize=figsize, dpi=DPI, layout="constrained")


def _cells(
    ax, where: np.ndarray, facecolor: str, hatch: str | None = None, hatchcolor: str = _INK
) -> None:
    """Fill the cells of ``ax`` where ``where`` is true: one path (a rectangle per run of
    cells in a row), one colour, one hatch."""
    vertices, codes = [], []
    for r, row in enumerate(np.asarray(where, dtype=bool)):
        edges = np.flatnonzero(np.diff(np.concatenate(([0], row.astype(np.int8), [0]))))
        for start, stop in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
            vertices += [
                (start - 0.5, r - 0.5),
                (stop - 0.5, r - 0.5),
                (stop - 0.5, r + 0.5),
                (start - 0.5, r + 0.5),
                (start - 0.5, r - 0.5),
            ]
            codes += [
                MplPath.MOVETO,
                MplPath.LINETO,
                MplPath.LINETO,
                MplPath.LINETO,
                MplPath.CLOSEPOLY,
            ]
    if not vertices:
        return
    ax.add_patch(
        _hatched(
            PathPatch(MplPath(vertices, codes), facecolor=facecolor, linewidth=0), hatch, hatchcolor
        )
    )


def _hatched(patch, hatch: str | None, hatchcolor: str):
    """Give ``patch`` a hatch pattern of ``hatchcolor`` (the mark that is not a colour)."""
    if hatch:
        patch.set_hatch(hatch)
        patch.set_hatchcolor(hatchcolor)
        patch.set_hatch_linewidth(0.8)
    return patch


def _to_numpy_2d(value, name: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    elif not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a torch.Tensor or numpy array, got {type(value).__name__}")
    if value.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D, got shape {value.shape}"
            + (
                " (select one, e.g. mask[0, 0] for a (batch, 1, q, k) mask)"
                if value.ndim > 2
                else ""
            )
        )
    return value


def _check_labels(labels, size: int, name: str) -> list[str] | None:
    if labels is None:
        return None
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise TypeError(f"{name} must be a sequence of strings, got {type(labels).__name__}")
    if len(labels) != size:
        raise ValueError(f"{name} must have {size} entries, got {len(labels)}")
    return [str(label) for label in labels]


def plot_mlm_masks(
    inputs: torch.Tensor,
    labels: torch.Tensor,
    *,
    mask_token_id: int,
    attention_mask: torch.Tensor | None = None,
    title: str | None = "Where MLM masking fell",
) -> Figure:
    """Heatmap of a masked batch: unchosen, [MASK], random, unchanged (and padding).

    Parameters
    ----------
    inputs : (batch, seq_len) integer tensor
        Masked input ids (from :func:`lmnotes.mlm.mask_tokens` or the collator).
    labels : (batch, seq_len) integer tensor
        The matching labels.
    mask_token_id : int
        ``tokenizer.mask_token_id``.
    attention_mask : (batch, seq_len) tensor, optional
        If given, positions where it is 0 are drawn as padding (white).
    title : str or None
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: sequences on rows, positions on columns, a legend with the
        count of each outcome. ``ax.images[0].get_array()`` holds the codes of
        :func:`lmnotes.mlm.mask_outcomes` (4 for padding).

    Raises
    ------
    ValueError, TypeError
        As :func:`lmnotes.mlm.mask_outcomes`; ``attention_mask`` of another shape.

    Examples
    --------
    >>> from lmnotes.display import plot_mlm_masks
    >>> import torch
    >>> inputs = torch.tensor([[2, 4, 9, 7, 3], [2, 6, 4, 3, 0]])
    >>> labels = torch.tensor([[-100, 5, 6, 7, -100], [-100, -100, 8, -100, -100]])
    >>> fig = plot_mlm_masks(inputs, labels, mask_token_id=4,
    ...                      attention_mask=torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]]))
    >>> fig.axes[0].images[0].get_array().tolist()
    [[0, 1, 2, 3, 0], [0, 0, 1, 0, 4]]
    """
    codes = mask_outcomes(inputs, labels, mask_token_id).numpy()
    names = [*MASK_OUTCOMES]
    colours = [_GREY, _BLUE, _ORANGE, _GREEN]
    # The mark of each outcome besides its colour: a hatch (none for unchosen positions).
    hatches = [None, "////", "xxx", "\\\\\\\\"]
    marks = [_INK, _WHITE, _INK, _INK]
    if attention_mask is not None:
        pad = _to_numpy_2d(attention_mask, "attention_mask")
        if pad.shape != codes.shape:
            raise ValueError(
                f"attention_mask must have the shape of inputs {codes.shape}, got {pad.shape}"
            )
        codes = np.where(pad == 0, 4, codes)
        names.append("padding")
        colours.append(_WHITE)
        hatches.append("---")
        marks.append("#000000")
    cmap = ListedColormap(colours)
    norm = BoundaryNorm(np.arange(len(colours) + 1) - 0.5, len(colours))

    fig = _new_figure()
    ax = fig.add_subplot()
    # The image holds the codes (and sets the axes); the cells are drawn as patches, so
    # that their colours follow the page's theme in SVG and each outcome has a hatch.
    ax.imshow(codes, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest").set_visible(
        False
    )
    ax.patch.set_facecolor(_GREY)  # unchosen positions: the background
    for code, (colour, hatch, mark) in enumerate(zip(colours, hatches, marks, strict=True)):
        if code:
            _cells(ax, codes == code, colour, hatch, mark)
    batch, length = codes.shape
    ax.set_xlabel("position")
    ax.set_ylabel("sequence")
    if length <= 40:
        ax.set_xticks(np.arange(-0.5, length), minor=True)
    if batch <= 40:
        ax.set_yticks(np.arange(-0.5, batch), minor=True)
    ax.grid(which="minor", color=_WHITE, linewidth=0.5)
    ax.tick_params(which="minor", length=0)
    if title:
        ax.set_title(title)
    counts = [int((codes == code).sum()) for code in range(len(names))]
    handles = [
        _hatched(Patch(facecolor=c, edgecolor="#999999", label=f"{name} ({n})"), h, m)
        for c, name, n, h, m in zip(colours, names, counts, hatches, marks, strict=True)
    ]
    fig.legend(handles=handles, loc="outside right center", fontsize="small", frameon=False)
    words = [f"{n} {name}" for name, n in zip(names, counts, strict=True)]
    fig.alt_text = (
        (f"{title}. " if title else "")
        + f"MLM masking of {batch} sequences of {length} positions (rows: sequences, columns: "
        f"positions): {', '.join(words)}."
    )
    return fig


def plot_label_shift(
    tokens: Sequence[str],
    *,
    ignored: Sequence[bool] | None = None,
    title: str | None = "Causal LM: the logits at position i are scored against token i + 1",
) -> Figure:
    """Draw the CLM shift: each input position ``i`` predicts the token at ``i + 1``.

    Bottom row: the input tokens, where the model produces logits. Top row: the
    labels as the collator returns them (not shifted: equal to the inputs).
    An arrow goes from input ``i`` to label ``i + 1``: the pair the loss scores.
    The first label is never a target, and the logits of the last position, or
    of a position whose next label is ignored, are never scored; all are greyed.

    Parameters
    ----------
    tokens : sequence of str
        The tokens of one sequence (2 to 32 of them). Spaces are drawn as ``␣``,
        newlines as ``\\n`` (``Ġ`` and ``Ċ`` too); a token too long for its box is cut
        with ``…``, except a special token (``<|endoftext|>``), drawn whole in a smaller font.
    ignored : sequence of bool, optional
        True where the label is ``-100`` (e.g. padding): drawn greyed, with no arrow.
    title : str or None
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; one arrow (an annotation with ``arrowprops``) per scored pair.

    Raises
    ------
    ValueError
        If there are fewer than 2 or more than 32 tokens, or ``ignored`` has another length.
    TypeError
        If ``tokens`` is a string or not a sequence.

    Examples
    --------
    >>> from lmnotes.display import plot_label_shift
    >>> from matplotlib.text import Annotation
    >>> fig = plot_label_shift(["def", " hello", "_", "world", "():"])
    >>> arrows = [t for t in fig.axes[0].texts if isinstance(t, Annotation)]
    >>> len(arrows)                     # 5 tokens: 4 scored pairs
    4
    """
    if isinstance(tokens, str) or not isinstance(tokens, Sequence):
        raise TypeError(f"tokens must be a sequence of strings, got {type(tokens).__name__}")
    n = len(tokens)
    if not 2 <= n <= 32:
        raise ValueError(f"tokens must hold 2 to 32 tokens to be drawn, got {n}")
    tokens = [str(t) for t in tokens]
    if ignored is None:
        ignored = [False] * n
    elif isinstance(ignored, str) or not isinstance(ignored, Sequence):
        raise TypeError(f"ignored must be a sequence of bool, got {type(ignored).__name__}")
    elif len(ignored) != n:
        raise ValueError(f"ignored must have {n} entries like tokens, got {len(ignored)}")
    ignored = [bool(flag) for flag in ignored]

    fig = _new_figure()
    ax = fig.add_subplot()
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylim(-0.7, 1.75)
    ax.set_axis_off()
    fontsize = max(5.0, min(10.0, 90.0 / n))
    # Characters that fit in a box (0.84 of a column; a monospace glyph is ~0.6 em wide).
    box_inches = 0.84 * FIGSIZE[0] * 0.95 / (n + 0.2)
    max_chars = max(2, int(box_inches * 72 / (0.6 * fontsize)))
    y_in, y_out, half = 0.0, 1.0, 0.18

    def box(x, y, text, active, colour):
        size = fontsize * min(1.0, max_chars / len(text)) if text else fontsize
        face = colour if active else _GREY
        ax.add_patch(
            FancyBboxPatch(
                (x - 0.42, y - half),
                0.84,
                2 * half,
                boxstyle="round,pad=0.02",
                facecolor=face,
                edgecolor="#555555",
                linewidth=0.6 if active else 0.9,
                linestyle="solid" if active else (0, (2, 2)),  # not scored: dashed, not only grey
            )
        )
        ax.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            fontsize=size,
            color=_WHITE if active else "#666666",
            family="monospace",
            gid="lmnotes-code",
        )

    for i, token in enumerate(tokens):
        shown = visible_token(token, max_chars)
        box(i, y_in, shown, active=i < n - 1 and not ignored[i + 1], colour=_BLUE)
        box(i, y_out, shown, active=i > 0 and not ignored[i], colour=_GREEN)
        ax.text(
            i, y_in - 0.38, str(i), ha="center", va="center", fontsize=fontsize, color="#444444"
        )
    for i in range(n - 1):
        if ignored[i + 1]:
            continue
        ax.annotate(
            "",
            xy=(i + 1 - 0.25, y_out - half),
            xytext=(i + 0.1, y_in + half),
            arrowprops={"arrowstyle": "->", "color": "#333333", "linewidth": 0.9},
        )
    ax.text(
        -0.55,
        y_in + 0.3,
        "inputs (logits at i)",
        ha="left",
        va="bottom",
        fontsize="small",
        color=_BLUE,
    )
    ax.text(
        -0.55,
        y_out + 0.3,
        "labels (not shifted)",
        ha="left",
        va="bottom",
        fontsize="small",
        color=_GREEN,
    )
    if title:
        ax.set_title(title, fontsize="medium")
    scored = sum(not ignored[i + 1] for i in range(n - 1))
    fig.alt_text = (
        (f"{title}. " if title else "")
        + f"Diagram of {n} tokens in two rows, inputs below and labels (not shifted) above; "
        f"{scored} arrows go from the input at each position i to the label at position "
        f"i + 1, the pairs the loss scores; the {2 * n - 2 * scored} greyed, dashed boxes "
        "are never scored."
    )
    return fig


def plot_mask(
    mask,
    *,
    title: str | None = None,
    xlabels: Sequence[str] | None = None,
    ylabels: Sequence[str] | None = None,
) -> Figure:
    """Heatmap of a boolean attention mask: queries on rows, keys on columns.

    Parameters
    ----------
    mask : (q_len, k_len) bool or 0/1 tensor or array
        True where the query (row) may attend to the key (column). Take one
        slice of a 4-D mask first, e.g. ``mask[0, 0]``.
    title : str, optional
        Axes title.
    xlabels : sequence of str, optional
        One label per key (column), e.g. the key tokens.
    ylabels : sequence of str, optional
        One label per query (row).

    Returns
    -------
    matplotlib.figure.Figure
        One axes; ``ax.images[0].get_array()`` is the mask as 0/1.

    Raises
    ------
    ValueError
        If ``mask`` is not 2-D, holds values other than 0/1, or a label list
        has the wrong length.
    TypeError
        If ``mask`` is not a tensor or array, or labels are not a sequence.

    Examples
    --------
    >>> from lmnotes.display import plot_mask
    >>> import torch
    >>> causal = torch.ones(4, 4, dtype=torch.bool).tril()
    >>> fig = plot_mask(causal, title="causal", xlabels=list("abcd"), ylabels=list("abcd"))
    >>> fig.axes[0].images[0].get_array().tolist()
    [[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['a', 'b', 'c', 'd']
    """
    values = _mask_values(mask, "mask")
    q_len, k_len = values.shape
    xlabels = _check_labels(xlabels, k_len, "xlabels")
    ylabels = _check_labels(ylabels, q_len, "ylabels")

    fig = _new_figure()
    _draw_mask(fig.add_subplot(), values, title, xlabels, ylabels)
    _mask_legend(fig)
    fig.alt_text = _describe_mask(values, title) + "."
    return fig


def plot_masks(
    masks: Sequence,
    *,
    titles: Sequence[str] | None = None,
    xlabels: Sequence[Sequence[str] | None] | None = None,
    ylabels: Sequence[Sequence[str] | None] | None = None,
) -> Figure:
    """Several boolean attention masks side by side, one axes each, with one legend.

    For comparisons that a single mask cannot make: a decoder's square causal
    self-attention mask beside its rectangular cross-attention mask, or a packed
    row's block-diagonal mask beside a plain causal one. Each panel is drawn as
    :func:`plot_mask` draws it (queries on rows, keys on columns).

    Parameters
    ----------
    masks : sequence of (q_len, k_len) bool or 0/1 tensors or arrays
        1 to 4 masks (a list or tuple); their shapes may differ.
    titles : sequence of str, optional
        One title per mask.
    xlabels : sequence, optional
        One entry per mask: a sequence of str (one per key) or None.
    ylabels : sequence, optional
        One entry per mask: a sequence of str (one per query) or None.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per mask, left to right; ``fig.axes[i].images[0].get_array()`` is
        ``masks[i]`` as 0/1.

    Raises
    ------
    TypeError
        If ``masks`` is not a list or tuple, a mask is not a tensor or array, or a
        label argument is not a sequence.
    ValueError
        If there are no masks or more than 4, a mask is not 2-D or holds values other
        than 0/1, or a label argument has the wrong length.

    Examples
    --------
    >>> import torch
    >>> from lmnotes.display import plot_masks
    >>> causal = torch.ones(3, 3, dtype=torch.bool).tril()
    >>> cross = torch.tensor([[1, 1, 0, 0]] * 3)
    >>> fig = plot_masks([causal, cross], titles=["self", "cross"])
    >>> [ax.get_title() for ax in fig.axes]
    ['self', 'cross']
    >>> fig.axes[1].images[0].get_array().tolist()
    [[1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0]]
    """
    if not isinstance(masks, (list, tuple)):
        raise TypeError(f"masks must be a list or tuple of 2-D masks, got {type(masks).__name__}")
    if not 1 <= len(masks) <= 4:
        raise ValueError(f"masks must hold 1 to 4 masks, got {len(masks)}")
    n = len(masks)

    def per_mask(value, name: str) -> list:
        if value is None:
            return [None] * n
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise TypeError(f"{name} must be a sequence with one entry per mask")
        if len(value) != n:
            raise ValueError(f"{name} must have one entry per mask ({n}), got {len(value)}")
        return list(value)

    titles = per_mask(titles, "titles")
    xlabels = per_mask(xlabels, "xlabels")
    ylabels = per_mask(ylabels, "ylabels")
    panels = []
    for i, mask in enumerate(masks):
        values = _mask_values(mask, f"masks[{i}]")
        q_len, k_len = values.shape
        panels.append(
            (
                values,
                titles[i],
                _check_labels(xlabels[i], k_len, f"xlabels[{i}]"),
                _check_labels(ylabels[i], q_len, f"ylabels[{i}]"),
            )
        )

    fig = _new_figure(figsize=(3.0 * n + 1.5, FIGSIZE[1] + 0.3))
    for k, (values, title, xs, ys) in enumerate(panels):
        _draw_mask(fig.add_subplot(1, n, k + 1), values, title, xs, ys)
    _mask_legend(fig)
    fig.alt_text = f"{n} attention masks side by side. " + " ".join(
        f"{_describe_mask(values, title)}." for values, title, _, _ in panels
    )
    return fig


def _describe_mask(values: np.ndarray, title: str | None) -> str:
    """One mask in words: its size, how many pairs may attend, its shape if it has a name."""
    q_len, k_len = values.shape
    allowed = int(values.sum())
    named = f" \u201c{title}\u201d" if title else ""
    text = (
        f"Attention mask{named}: {q_len} queries (rows) by "
        f"{k_len} keys (columns), {allowed} of {q_len * k_len} pairs may attend "
        "(blue, plain), the others are masked (grey, crossed)"
    )
    if q_len == k_len and np.array_equal(values, np.tril(np.ones_like(values))):
        text += "; lower triangle: each query sees itself and the keys before it"
    empty = int((values.sum(axis=1) == 0).sum())
    if empty == 1:
        text += "; 1 row has no key at all"
    elif empty:
        text += f"; {empty} rows have no key at all"
    return text


def _mask_values(mask, name: str) -> np.ndarray:
    """Check a 2-D boolean or 0/1 mask and return it as int64 0/1."""
    values = _to_numpy_2d(mask, name)
    if values.dtype != np.bool_:
        if not np.issubdtype(values.dtype, np.integer):
            raise ValueError(f"{name} must be boolean or integer 0/1, got dtype {values.dtype}")
        if not np.isin(values, (0, 1)).all():
            raise ValueError(f"{name} must hold only 0 and 1 (True where attending is allowed)")
    return values.astype(np.int64)


def _draw_mask(ax, values: np.ndarray, title, xlabels, ylabels) -> None:
    """Draw one 0/1 mask on ``ax``: queries on rows, keys on columns, key axis on top."""
    q_len, k_len = values.shape
    cmap = ListedColormap([_GREY, _BLUE])
    # The image holds the values (and sets the axes); the cells are drawn as patches that
    # follow the page's theme in SVG, masked ones crossed by a hatch.
    ax.imshow(values, cmap=cmap, vmin=0, vmax=1, interpolation="nearest").set_visible(False)
    _hatched(ax.patch, "xx", "#666666").set_facecolor(_GREY)  # masked: the background
    _cells(ax, values == 1, _BLUE)
    ax.set_xlabel("key position")
    ax.set_ylabel("query position")
    if k_len <= 40:
        ax.set_xticks(np.arange(-0.5, k_len), minor=True)
    if q_len <= 40:
        ax.set_yticks(np.arange(-0.5, q_len), minor=True)
    ax.grid(which="minor", color=_WHITE, linewidth=0.8)
    ax.tick_params(which="minor", length=0)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    if xlabels is not None:
        xlabels = [marker_label(label) for label in xlabels]
        ax.set_xticks(
            range(k_len),
            xlabels,
            rotation=90 if max(map(len, xlabels), default=0) > 3 else 0,
            fontsize="small",
        )
        for label in ax.get_xticklabels():
            label.set_gid("lmnotes-code")  # tokens: code, not translated
    if ylabels is not None:
        ax.set_yticks(range(q_len), [marker_label(label) for label in ylabels], fontsize="small")
        for label in ax.get_yticklabels():
            label.set_gid("lmnotes-code")
    if title:
        ax.set_title(title)


def _mask_legend(fig: Figure) -> None:
    """One legend for all the mask panels of ``fig``, outside on the right."""
    fig.legend(
        handles=[
            Patch(facecolor=_BLUE, label="may attend (True)"),
            _hatched(Patch(facecolor=_GREY, label="masked (False)"), "xx", "#666666"),
        ],
        loc="outside right center",
        fontsize="small",
        frameon=False,
    )
