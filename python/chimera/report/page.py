"""report.html: the summary as a table, every canary verdict, and the plots with captions."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from .read import Run

_STYLE = (
    "body{font:15px/1.45 system-ui,sans-serif;max-width:52em;margin:2em auto;padding:0 1em;"
    "color:#222}table{border-collapse:collapse;margin:1em 0}th,td{padding:.2em .9em .2em 0;"
    "text-align:left;vertical-align:top}tbody th{white-space:nowrap;color:#555;font-weight:600}"
    "td{font-family:ui-monospace,monospace;font-size:13px}figure{margin:2em 0}"
    "img{max-width:100%}figcaption{color:#555;font-size:14px}"
)


def render(run: Run, rows: list[tuple[str, str]], plots: list[tuple[Path, str]]) -> str:
    """The page: ``rows`` of the summary, then the verdicts, then each plot and its caption."""
    e = html.escape
    summary = "\n".join(f"<tr><th>{e(label)}</th><td>{e(text)}</td></tr>" for label, text in rows)
    figures = "\n".join(
        f'<figure><img src="{e(path.name)}" alt="{e(path.stem)}">'
        f"<figcaption>{e(caption)}</figcaption></figure>"
        for path, caption in plots
    )
    title = e(f"Chimera run {run.spec.name}")
    return (
        f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n"
        f"<table><tbody>\n{summary}\n</tbody></table>\n{_verdict_table(run.verdicts())}"
        f"{figures}\n</body>\n</html>\n"
    )


def _verdict_table(verdicts: list[dict[str, Any]]) -> str:
    if not verdicts:
        return ""
    e = html.escape
    cells = ("generation", "canary", "version", "event", "why")
    body = "\n".join(
        "<tr>" + "".join(f"<td>{e(str(v.get(c, '')))}</td>" for c in cells[:2])
        + f"<td>{e(str(v.get('version', ''))[:12])}</td>"
        + "".join(f"<td>{e(str(v.get(c, '')))}</td>" for c in cells[3:]) + "</tr>"
        for v in verdicts
    )  # fmt: skip
    head = "".join(f"<th>{c}</th>" for c in cells)
    return f"<h2>Canary verdicts</h2>\n<table><thead><tr>{head}</tr></thead>\n{body}\n</table>\n"
