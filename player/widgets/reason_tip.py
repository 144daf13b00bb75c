"""A recommendation's tooltip: its reason in full, then the measured details, in words a listener
reads ("Tempo: 118 → 81 BPM"), then the file."""

from __future__ import annotations

import html

#: How to show the details the recommender stores (``core.similarity.reasons``); other keys are
#: shown as they come.
FORMATS = {"timbre_cosine": ("Timbre similarity", "{:.0%}"), "shared_sounds": ("Shared sounds", "{:.0%}"),
           "tempo_bpm": ("Tempo", "{:.0f} BPM"), "brightness_hz": ("Brightness", "{:.0f} Hz"),
           "energy": ("Energy", "{:.2f}"), "key": ("Key centre", "{}"),
           "loudness_lufs": ("Loudness", "{:.1f} LUFS"),
           "stereo_width_db": ("Stereo width (side to mid)", "{:.1f} dB"),
           "skip_penalty": ("Skip penalty", "{:.2f}")}


def _value(template: str, value) -> str:
    if isinstance(value, list | tuple) and len(value) == 2:  # (the track it is like, this one)
        return " → ".join(_value(template, v) for v in value)
    if value is None:  # not measured for that track (analysed by an older Encore)
        return "–"
    try:
        return template.format(value)
    except (TypeError, ValueError):
        return str(value)


def detail_lines(details) -> list[str]:
    """Readable lines for a ``details`` mapping (or a list, or a text)."""
    if isinstance(details, list | tuple):
        return [str(d) for d in details]
    if not isinstance(details, dict):
        return [str(details)] if details else []
    lines = []
    like = details.get("like")
    if isinstance(like, dict) and like.get("title"):
        lines.append(f"Compared with “{like['title']}” → this track")
    for key, value in details.items():
        if key == "like" or value is None or value == [None, None]:  # nothing measured
            continue
        label, template = FORMATS.get(key, (key.replace("_", " ").capitalize(), "{}"))
        lines.append(f"{label}: {_value(template, value)}")
    return lines


def tooltip(rec: dict) -> str:
    """Rich text for one recommendation dict."""
    lines = [f"<b>{html.escape(rec.get('title') or rec['id'])}</b>",
             f"{rec.get('score', 0):.0%} match: {html.escape(rec.get('why', ''))}"]
    lines += [html.escape(line) for line in detail_lines(rec.get("details"))]
    lines.append(f"<span style='color:#7c7794'>{html.escape(rec.get('path', ''))}</span>")
    return "<br>".join(lines)
