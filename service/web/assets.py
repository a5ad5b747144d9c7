"""Where the page's static files and the vendored plotting library live.

Plotly is the plotting library because its Python package ships the complete ``plotly.min.js``: the page
serves it from the app itself (no CDN, which users behind a firewall cannot reach) and a report can inline
it to open offline. Vega-Lite would need three separate npm bundles fetched outside the Python toolchain.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"


@lru_cache(maxsize=1)
def plotly_js_path() -> Path:
    """Path of ``plotly.min.js`` inside the installed plotly package."""
    path = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))
    if not path.is_file():  # pragma: no cover - a broken plotly install
        raise FileNotFoundError("plotly.min.js not found in the plotly package")
    return path


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The plotly.js bundle as text (about 4.6 MB), for self-contained reports."""
    return plotly_js_path().read_text(encoding="utf-8")
