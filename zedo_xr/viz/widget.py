"""The live Jupyter viewer: the :func:`~zedo_xr.viz.plot` traces in a ``FigureWidget`` with
ipywidgets controls (``FigureWidget`` cannot hold animation frames)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import xarray as xr

from zedo_xr.viz.figure import layout, title_text
from zedo_xr.viz.prepare import PARAMS_DOC, prepare
from zedo_xr.viz.traces import first_frame_traces, frame_update, import_plotly, menu_keys, visibility

if TYPE_CHECKING:
    import ipywidgets
    import plotly.graph_objects as go


def _import_widgets() -> tuple[Any, Any]:
    go = import_plotly()
    try:
        import anywidget  # noqa: F401  (plotly's FigureWidget is an anywidget)
        import ipywidgets
    except ImportError as err:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "zedo_xr.viz.widget needs ipywidgets and anywidget; install the viz extra: "
            "pip install 'zedo-xr[viz]'"
        ) from err
    return go, ipywidgets


@dataclass(eq=False)
class ViewerWidget:
    """Live Jupyter viewer: a ``FigureWidget`` driven by a frame slider and a hypothesis menu.

    Display it as the last expression of a cell (it shows :attr:`box`). Setting
    ``frame_slider.value`` or ``hypothesis_dropdown.value`` from Python updates
    :attr:`figure` at once, which is also how the tests drive it.
    """

    figure: go.FigureWidget
    frame_slider: ipywidgets.IntSlider
    hypothesis_dropdown: ipywidgets.Dropdown
    play: ipywidgets.Play
    box: ipywidgets.VBox

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.box._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)


def widget(
    ds: xr.Dataset,
    *,
    frames: int | slice | Sequence[int] | None = None,
    max_frames: int | None = None,
    hypotheses: int | Sequence[int] | None = None,
    show_gt: bool = True,
    show_2d: bool = True,
    root_relative: bool = False,
    title: str | None = None,
    select: Mapping[Hashable, Any] | None = None,
) -> ViewerWidget:
    """Live viewer for Jupyter: the :func:`plot` figure as a ``FigureWidget`` with controls.

    The traces, views and buttons are those of :func:`plot`; a slider (with a play button)
    picks the frame and a dropdown the hypotheses ("all", "best", or one). Nothing is
    serialised per frame, so all frames are kept by default (``max_frames=None``). Needs a
    running kernel: on a static page use :func:`plot`.
    {params}
    Returns
    -------
    ViewerWidget

    Examples
    --------
    >>> viewer = zedo_xr.viz.widget(out)                    # doctest: +SKIP
    >>> viewer.frame_slider.value = 10                      # doctest: +SKIP
    >>> viewer                                              # doctest: +SKIP
    """
    go, W = _import_widgets()
    view = prepare(
        ds,
        frames=frames,
        max_frames=max_frames,
        hypotheses=hypotheses,
        show_gt=show_gt,
        show_2d=show_2d,
        root_relative=root_relative,
        title=title,
        select=select,
    )
    figure = go.FigureWidget(data=first_frame_traces(view), layout=layout(view))

    n_frame = len(view.frame_labels)
    slider = W.IntSlider(
        value=0, min=0, max=n_frame - 1, step=1, description="frame", continuous_update=True, readout=True
    )
    play = W.Play(value=0, min=0, max=n_frame - 1, step=1, interval=int(view.frame_ms), description="play")
    W.jslink((play, "value"), (slider, "value"))
    dropdown = W.Dropdown(options=menu_keys(view), value="all", description="hypothesis")

    def show_frame(change: Any) -> None:
        updates = frame_update(view, int(slider.value))
        with figure.batch_update():
            for trace, update in zip(figure.data, updates, strict=False):
                trace.update({k: v for k, v in update.items() if k != "type"})
            figure.layout.title.text = title_text(view, int(slider.value))

    def show_hypotheses(change: Any) -> None:
        with figure.batch_update():
            for trace, visible in zip(figure.data, visibility(view, dropdown.value), strict=False):
                trace.visible = visible

    slider.observe(show_frame, names="value")
    dropdown.observe(show_hypotheses, names="value")
    box = W.VBox([W.HBox([play, slider, dropdown]), figure])
    return ViewerWidget(figure, slider, dropdown, play, box)


widget.__doc__ = (widget.__doc__ or "").replace("{params}", PARAMS_DOC)
