"""Growing a line view without laying out the whole screen.

Assigning ``ScrollView.virtual_size`` asks Textual for a layout pass of the screen, and
a view that grows every frame (the event table, the token pane) then pays ~20 ms a frame
at 5,000 parts a second: most of the frame. The scrollbars are all that depends on the
virtual size, so they are updated directly, and a real layout is asked for only when a
scrollbar appears or goes (that changes the content width).

Uses two private Textual methods (``_refresh_scrollbars``, ``_scroll_update``); the
project pins ``textual<9``.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.widget import Widget

__all__ = ["set_virtual_size"]


def set_virtual_size(view: ScrollView, size: Size) -> None:
    if size == view.virtual_size:
        return
    bars = (view.show_vertical_scrollbar, view.show_horizontal_scrollbar)
    view.set_reactive(Widget.virtual_size, size)
    view._refresh_scrollbars()
    if (view.show_vertical_scrollbar, view.show_horizontal_scrollbar) != bars:
        view.refresh(layout=True)
        return
    view._scroll_update(size)
    view.refresh()
