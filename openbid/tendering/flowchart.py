"""The public process flowchart (办事流程图), drawn from the lifecycle definition itself.

Boxes are ``lifecycle.MAIN_LINE`` top to bottom, with ``lifecycle.SIDE_STATES`` beside it; every
arrow is one of ``lifecycle.TRANSITIONS``, labelled with what it does and who or what takes it.
Because the services enforce the same ``TRANSITIONS``, the published chart cannot drift from the
code. The SVG is built on the server (no script) in the active language.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from openbid.tendering import lifecycle
from openbid.tendering.lifecycle import State, Transition

BOX_W = 240
BOX_H = 40
GAP = 56  # between main-line boxes: room for a two-line arrow label
MARGIN = 24
FONT = 13
SMALL = 11
SIDE_GAP = 40  # between the bus (the vertical line gathering a side transition) and its box


def text_width(text: str, size: int = FONT) -> float:
    """A generous estimate of the rendered width of ``text`` (CJK glyphs are about 1 em wide)."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.6 for ch in text)


@dataclass(frozen=True)
class Box:
    state: str
    label: str
    x: float
    y: float
    side: bool

    @property
    def cx(self) -> float:
        return self.x + BOX_W / 2

    @property
    def cy(self) -> float:
        return self.y + BOX_H / 2


@dataclass(frozen=True)
class TransitionRow:
    name: str
    label: str
    sources: list[str]
    target: str
    by: str


def transition_rows(transitions: Sequence[Transition] | None = None) -> list[TransitionRow]:
    """The transitions as table rows, state names translated, sources in main-line order."""
    transitions = lifecycle.TRANSITIONS if transitions is None else transitions
    order: dict[str, int] = {
        str(s): i for i, s in enumerate((*lifecycle.MAIN_LINE, *lifecycle.SIDE_STATES))
    }
    return [
        TransitionRow(
            name=t.name,
            label=str(t.label),
            sources=[
                str(State(s).label) for s in sorted(t.sources, key=lambda s: order.get(s, 99))
            ],
            target=str(State(t.target).label),
            by=str(t.by),
        )
        for t in transitions
    ]


def _text(x: float, y: float, text: str, *, cls: str, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.0f}" y="{y:.0f}" class="{cls}" text-anchor="{anchor}">{escape(text)}</text>'
    )


def svg(
    transitions: Sequence[Transition] | None = None,
    main_line: Sequence[str] | None = None,
    side_states: Sequence[str] | None = None,
    title: str = "",
) -> SafeString:
    """The flowchart as an inline SVG element (by default, of ``lifecycle`` as it is now)."""
    transitions = lifecycle.TRANSITIONS if transitions is None else transitions
    main_line = lifecycle.MAIN_LINE if main_line is None else main_line
    side_states = lifecycle.SIDE_STATES if side_states is None else side_states
    main_labels = [
        f"{t.label}|{t.by}"
        for t in transitions
        if t.target in main_line and any(s in main_line for s in t.sources)
    ]
    label_w = max(
        [
            text_width(part, FONT if i == 0 else SMALL)
            for m in main_labels
            for i, part in enumerate(m.split("|"))
        ]
        or [0]
    )
    side_label_w = max(
        [
            max(text_width(str(t.label)), text_width(str(t.by), SMALL))
            for t in transitions
            if t.target in side_states
        ]
        or [0]
    )
    # Main line in the middle; side states alternate right, left, right... of it.
    right = [s for i, s in enumerate(side_states) if i % 2 == 0]
    left = [s for i, s in enumerate(side_states) if i % 2 == 1]
    # The right bus must clear the labels of the main-line arrows, which sit right of the arrows.
    right_bus_offset = max(BOX_W / 2 + 24, label_w + 24)
    left_bus_offset = BOX_W / 2 + 24
    side_w = max(BOX_W, side_label_w + 8)
    cx = MARGIN + (side_w + SIDE_GAP + left_bus_offset if left else 0) + BOX_W / 2
    width = cx + (right_bus_offset + SIDE_GAP + side_w if right else BOX_W / 2) + MARGIN

    boxes: dict[str, Box] = {}
    top = MARGIN
    for i, state in enumerate(main_line):
        boxes[state] = Box(
            state, str(State(state).label), cx - BOX_W / 2, top + i * (BOX_H + GAP), False
        )
    height: float = top + len(main_line) * (BOX_H + GAP) - GAP + MARGIN

    def side_y(state: str) -> float:
        sources = [
            boxes[s].cy for t in transitions if t.target == state for s in t.sources if s in boxes
        ]
        middle = (min(sources) + max(sources)) / 2 if sources else top + BOX_H / 2
        return middle - BOX_H / 2

    for state in right:
        x = cx + right_bus_offset + SIDE_GAP
        boxes[state] = Box(state, str(State(state).label), x, side_y(state), True)
    for state in left:
        x = cx - left_bus_offset - SIDE_GAP - BOX_W
        boxes[state] = Box(state, str(State(state).label), x, side_y(state), True)

    parts: list[str] = []
    arrows: list[str] = []
    labels: list[str] = []
    main_index = {s: i for i, s in enumerate(main_line)}
    stacked: dict[str, int] = {}
    for t in transitions:
        target = boxes.get(t.target)
        sources = [boxes[s] for s in main_line if s in t.sources] + [
            boxes[s] for s in side_states if s in t.sources and s in boxes
        ]
        if target is None or not sources:
            continue
        data = f'data-transition="{escape(t.name)}"'
        if not target.side and len(sources) == 1 and not sources[0].side:
            src = sources[0]
            if main_index[t.target] == main_index[src.state] + 1:
                x = cx
                y1, y2 = src.y + BOX_H, target.y
                arrows.append(
                    f'<line {data} x1="{x:.0f}" y1="{y1:.0f}" x2="{x:.0f}" y2="{y2 - 2:.0f}" '
                    'class="arrow" marker-end="url(#fc-head)"/>'
                )
                labels.append(_text(x + 10, y1 + GAP / 2 - 2, str(t.label), cls="fc-label"))
                labels.append(_text(x + 10, y1 + GAP / 2 + 12, str(t.by), cls="fc-by"))
                continue
        if target.side:
            on_right = target.x > cx
            bus = cx + right_bus_offset if on_right else cx - left_bus_offset
            entry = target.x if on_right else target.x + BOX_W
            for src in sources:
                start = src.x + BOX_W if on_right else src.x
                arrows.append(
                    f'<polyline {data} points="{start:.0f},{src.cy:.0f} {bus:.0f},{src.cy:.0f} '
                    f'{bus:.0f},{target.cy:.0f}" class="arrow"/>'
                )
            arrows.append(
                f'<line {data} x1="{bus:.0f}" y1="{target.cy:.0f}" x2="{entry - 2 if on_right else entry + 2:.0f}" '
                f'y2="{target.cy:.0f}" class="arrow" marker-end="url(#fc-head)"/>'
            )
            lx = target.x + 4 if on_right else target.x + BOX_W - 4
            anchor = "start" if on_right else "end"
            # Several transitions into one side state: their labels stack upwards.
            above = target.y - 32 * stacked.get(t.target, 0)
            stacked[t.target] = stacked.get(t.target, 0) + 1
            labels.append(_text(lx, above - 20, str(t.label), cls="fc-label", anchor=anchor))
            labels.append(_text(lx, above - 6, str(t.by), cls="fc-by", anchor=anchor))
            continue
        # Anything else (a jump along the main line, or back from a side state): a curve on the
        # left of the main line, labelled at its middle.
        for src in sources:
            x1, y1 = src.x, src.cy
            x2, y2 = target.x, target.cy
            bend = cx - BOX_W / 2 - 60
            arrows.append(
                f'<path {data} d="M{x1:.0f},{y1:.0f} C{bend:.0f},{y1:.0f} {bend:.0f},{y2:.0f} '
                f'{x2 - 2:.0f},{y2:.0f}" class="arrow" fill="none" marker-end="url(#fc-head)"/>'
            )
            labels.append(
                _text(bend - 4, (y1 + y2) / 2, str(t.label), cls="fc-label", anchor="end")
            )
            labels.append(_text(bend - 4, (y1 + y2) / 2 + 14, str(t.by), cls="fc-by", anchor="end"))

    for box in boxes.values():
        cls = "fc-state side" if box.side else "fc-state"
        parts.append(
            f'<g class="{cls}" data-state="{escape(box.state)}">'
            f'<rect x="{box.x:.0f}" y="{box.y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="8"/>'
            + _text(box.cx, box.cy + FONT / 2 - 2, box.label, cls="fc-name", anchor="middle")
            + "</g>"
        )
    height = max([height] + [b.y + BOX_H + MARGIN for b in boxes.values()])
    head = (
        '<defs><marker id="fc-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>'
    )
    style = (
        "<style>"
        ".fc-state rect{fill:#fff;stroke:#1c2430;stroke-width:1.5}"
        ".fc-state.side rect{fill:#fdf1f0;stroke:#b3261e;stroke-dasharray:5 3}"
        f".fc-name{{font-size:{FONT}px;font-weight:600;fill:#1c2430}}"
        f".fc-label{{font-size:{FONT}px;fill:#1c2430}}"
        f".fc-by{{font-size:{SMALL}px;fill:#5b6673}}"
        ".arrow{fill:none;stroke:#5b6673;stroke-width:1.4}"
        "#fc-head path{fill:#5b6673}"
        "</style>"
    )
    title_el = f"<title>{escape(title)}</title>" if title else ""
    return mark_safe(  # noqa: S308 - every piece of text above is escaped
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flowchart" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'font-family="PingFang SC, Noto Sans CJK SC, Microsoft YaHei, sans-serif">'
        f"{title_el}{head}{style}{''.join(arrows)}{''.join(parts)}{''.join(labels)}</svg>"
    )
