"""Bureau files for tests: the shipped one (with its sample values) and one fully configured."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import yaml

from actions.bureau import DEFAULT_PATH, SAMPLE_MARKER

# What a county that has filled in its file would write in place of each shipped sample.
CONFIGURED = {
    "name": "青山县信访局",
    "address": "青山县人民路18号县行政服务中心二楼信访接待大厅",
    "directions": "乘坐3路、7路公交到“县行政服务中心”站，下车往北走200米",
    "reception_hours": "周一至周五 上午9:00—12:00，下午13:30—17:00",
    "weekend": "周六上午9:00—12:00有人值班接待，周日和法定节假日不接待来访",
    "phone": "0571-88886666",
    "mail_address": "青山县人民路18号 青山县信访局 群众来信科（邮编311300）",
}


def shipped() -> Dict[str, Any]:
    """The repository's bureau.yml as YAML data, sample markers included."""
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def configured() -> Dict[str, Any]:
    """The shipped file with every sample replaced by the bureau's own value, written plainly."""
    data = shipped()
    data["bureau"].update(CONFIGURED)
    assert not _markers(data), "the shipped file has a sample this helper does not replace"
    return data


def write(path: Path, data: Dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _markers(node: Any) -> bool:
    if isinstance(node, dict):
        return SAMPLE_MARKER in node or any(_markers(v) for v in node.values())
    if isinstance(node, list):
        return any(_markers(v) for v in node)
    return False
