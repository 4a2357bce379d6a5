"""Reading packets of the realistic set: each text as a reader sees it, without anything of its brief.

One Markdown file per group of writer files (texts/w1.yaml + w2.yaml -> g1.md, ...), with every text's
id, city, title, header fields and description (labelled sections or free prose), in a shuffled order.

With `--tune N`, the tune half's texts only, shuffled together and dealt into N packets (q1.md, ...): the
packets of the process-step quotes (data/eval/realistic/quotes), which no test text may reach.

With `--test N`, the test half's texts only, dealt into N packets (t1.md, ...): the packets of the third reading
of the test half (data/eval/realistic/third_reading), whose levels are compared, never trained on.

Usage: python scripts/realistic_packets.py OUT_DIR [--tune N | --test N]
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ROOT / "data" / "eval" / "realistic" / "texts"
GROUPS = {"g1": ["w1", "w2"], "g2": ["w3", "w4"], "g3": ["w5", "w6"], "g4": ["w7", "w8"], "g5": ["w9", "w10", "w11"],
          "g6": ["w12", "w13", "w14"], "g7": ["w15", "w16", "w17"], "g8": ["w18", "w19", "w20"],
          "g9": ["w21", "w22", "w23"], "g10": ["w24", "w25", "w26"], "g11": ["w27", "w28", "w29"]}
LABELS = {"purpose": "Purpose", "starting_point": "Starting point", "process": "Process", "impact": "Impact",
          "references": "References"}


def render(item: dict) -> str:
    lines = [f"## {item['id']}", "", f"City: {item['city']} ({item.get('country', '')})", f"Title: {item['title']}"]
    for key, value in (item.get("header") or {}).items():
        lines.append(f"{key.replace('_', ' ').capitalize()}: {value}")
    lines.append("")
    if item.get("sections"):
        for key, value in item["sections"].items():
            if value:
                lines += [f"{LABELS.get(key, key)}:", str(value).strip(), ""]
    else:
        lines += [str(item.get("text") or "").strip(), ""]
    return "\n".join(lines)


def half_packets(out_dir: Path, n_packets: int, half: str = "tune") -> None:
    split = yaml.safe_load((TEXTS.parent / "split.yaml").read_text(encoding="utf-8"))["units"]
    items = [item for path in sorted(TEXTS.glob("w*.yaml"), key=lambda p: int(p.stem[1:]))
             for item in yaml.safe_load(path.read_text(encoding="utf-8")) or [] if split[item["unit"]] == half]
    random.Random("quotes" if half == "tune" else f"third-{half}").shuffle(items)
    prefix = "q" if half == "tune" else "t"
    out_dir.mkdir(parents=True, exist_ok=True)
    for k in range(n_packets):
        part = items[k::n_packets]
        (out_dir / f"{prefix}{k + 1}.md").write_text("\n".join(render(i) for i in part), encoding="utf-8")
        print(f"{prefix}{k + 1}", len(part))


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for group, writers in GROUPS.items():
        items = []
        for w in writers:
            path = TEXTS / f"{w}.yaml"
            if path.exists():
                items += yaml.safe_load(path.read_text(encoding="utf-8")) or []
        random.Random(group).shuffle(items)
        (out_dir / f"{group}.md").write_text("\n".join(render(i) for i in items), encoding="utf-8")
        print(group, len(items))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[2] in ("--tune", "--test"):
        half_packets(Path(sys.argv[1]), int(sys.argv[3]), sys.argv[2][2:])
    else:
        main(Path(sys.argv[1]))
