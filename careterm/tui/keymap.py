"""User keymaps: a JSON object of binding id -> keys, e.g. {"record.contact": "ctrl+n"}.

Read from CARETERM_KEYMAP (a file path) or keymap.json in the user config directory.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def keymap_path() -> Path:
    import platformdirs

    return Path(os.environ.get("CARETERM_KEYMAP") or Path(platformdirs.user_config_dir("careterm", appauthor=False)) / "keymap.json")


def load_keymap() -> dict[str, str]:
    path = keymap_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
