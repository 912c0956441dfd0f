"""Headless Chromium for report tests: a screenshot, and layout measured in the page.

Debian's ``chromium`` (``apt-get install chromium``; ``make test`` installs it
where it can) is driven with its own command-line switches only: ``--screenshot``
writes a PNG, ``--dump-dom`` prints the document after its scripts ran. Layout
is measured by a script added to a *copy* of the report (the report itself
carries no script): it writes its findings as JSON into the page, and the
dumped DOM carries them back.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

#: Where report tests keep their screenshots (ignored by git).
OUTPUT = Path(__file__).resolve().parent / "output"
WIDTH = 1280


def chromium() -> str:
    """The browser's path; a missing browser fails the test with what to install."""
    found = os.environ.get("MLMON_CHROMIUM") or shutil.which("chromium")
    if not found:
        raise AssertionError(
            "the HTML report test needs Debian's chromium: `apt-get install -y chromium` "
            "(or set MLMON_CHROMIUM to a Chromium binary); `make test` installs it as root"
        )
    return found


def _run(*switches: str, page: Path) -> str:
    with tempfile.TemporaryDirectory(prefix="mlmon-chromium-") as profile:
        done = subprocess.run(
            [
                chromium(),
                "--headless",
                "--no-sandbox",  # tests run as root in containers
                "--disable-gpu",
                "--no-first-run",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=5000",
                *switches,
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if done.returncode != 0:
        raise AssertionError(f"chromium failed ({done.returncode}): {done.stderr[-800:]}")
    return done.stdout


def measure(page: Path, probe: str) -> dict:
    """Run ``probe`` (JavaScript returning a JSON-able value) in a copy of ``page``."""
    copy = page.with_name(page.stem + ".probe.html")
    script = (
        "<script>document.addEventListener('DOMContentLoaded',()=>{"
        "const out=document.createElement('pre');out.id='mlmon-probe';"
        f"out.textContent=JSON.stringify((()=>{{{probe}}})());"
        "document.body.appendChild(out);});</script>"
    )
    copy.write_text(page.read_text().replace("</body>", script + "</body>"))
    dom = _run(f"--window-size={WIDTH},900", "--dump-dom", page=copy)
    found = re.search(r'<pre id="mlmon-probe">(.*?)</pre>', dom, re.S)
    if not found:
        raise AssertionError("the layout probe wrote nothing into the page")
    return json.loads(_unescape(found.group(1)))


def screenshot(page: Path, png: Path, height: int) -> Path:
    png.parent.mkdir(parents=True, exist_ok=True)
    _run(f"--window-size={WIDTH},{height}", f"--screenshot={png}", page=page)
    if not png.is_file() or png.stat().st_size < 1000:
        raise AssertionError(f"chromium wrote no screenshot at {png}")
    return png


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    )
