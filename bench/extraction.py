"""Body-text quality on the article-extraction benchmark (AEB), beside trafilatura, one run.

Parses each page of ``AEB_DIR/html/*.html.gz`` as ingest would (:class:`~crawler.pages.
listings.ArticlePage` under the page's own URL, no source profile) and scores the body
against ``AEB_DIR/ground-truth.json`` with the benchmark's metric (``../shared/eval/
README.md``: ``\\w+`` tokens, 4-token shingles with multiplicity, per-page tp/fp/fn
normalized, precision and recall averaged over pages, F1 of the means). trafilatura runs on
the same pages in its default and ``favor_precision`` modes. A page mediawatch refuses
("not an article") scores an empty prediction.

    python bench/extraction.py [AEB_DIR] [--show-worst 5] [--dump out.json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "eval" / "aeb"
if not DEFAULT.is_dir():
    DEFAULT = Path("/work/shared/eval/aeb")
_TOKEN = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    """4-token shingles with multiplicity (a shorter text gives one shorter shingle)."""
    tokens = _TOKEN.findall(text or "")
    if not tokens:
        return Counter()
    if len(tokens) < n:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def page_score(truth: str, predicted: str) -> tuple[float, float, float]:
    """Normalized (tp, fp, fn) of one page."""
    t, p = shingles(truth), shingles(predicted)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def score(pairs: list[tuple[str, str]]) -> dict[str, float]:
    """Precision, recall, F1 and accuracy over ``(truth, predicted)`` pages."""
    scores = [page_score(t, p) for t, p in pairs]
    precisions = [tp / (tp + fp) for tp, fp, _ in scores if tp + fp > 0]
    recalls = [tp / (tp + fn) for tp, _, fn in scores if tp + fn > 0]
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = sum(_TOKEN.findall(t) == _TOKEN.findall(p) for t, p in pairs) / len(pairs)
    return {"f1": round(f1, 4), "precision": round(precision, 4), "recall": round(recall, 4),
            "accuracy": round(accuracy, 4)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("aeb_dir", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--show-worst", type=int, default=0, help="print the N worst pages")
    ap.add_argument("--dump", type=Path, help="write every system's output per page as JSON")
    args = ap.parse_args()
    truth_file = args.aeb_dir / "ground-truth.json"
    if not truth_file.is_file():
        print(f"{truth_file}: not found", file=sys.stderr)
        return 2
    truth: dict[str, dict[str, str]] = json.loads(truth_file.read_text())

    import trafilatura

    from archive.models import CapturedResponse
    from crawler.pages.listings import ArticlePage, NotAnArticle

    def mediawatch(html: bytes, url: str) -> str:
        captured = CapturedResponse(url=url, status=200, body=html,
                                    headers=(("Content-Type", "text/html"),),
                                    fetched_at=datetime(2026, 1, 1, tzinfo=UTC))
        try:
            return ArticlePage(captured).to_article().body or ""
        except NotAnArticle:
            return ""

    def traf(precision: bool) -> Callable[[bytes, str], str]:
        def run(html: bytes, url: str) -> str:
            return trafilatura.extract(html.decode("utf-8", "replace"), url=url,
                                       favor_precision=precision) or ""
        return run

    systems = {"mediawatch": mediawatch, "trafilatura": traf(False),
               "trafilatura_precision": traf(True)}
    pairs: dict[str, list[tuple[str, str]]] = {name: [] for name in systems}
    ours: list[tuple[float, str]] = []
    dumped: dict[str, dict[str, str]] = {}
    for key, expected in sorted(truth.items()):
        path = args.aeb_dir / "html" / f"{key}.html.gz"
        html = gzip.decompress(path.read_bytes())
        for name, system in systems.items():
            predicted = system(html, expected["url"])
            pairs[name].append((expected["articleBody"], predicted))
            dumped.setdefault(key, {"url": expected["url"]})[name] = predicted
            if name == "mediawatch":
                tp = page_score(expected["articleBody"], predicted)[0]
                ours.append((tp, expected["url"]))
    figures = {name: score(p) for name, p in pairs.items()}
    print(f"AEB, {len(truth)} pages ({args.aeb_dir})")
    print(f"{'system':24} {'F1':>7} {'prec':>7} {'recall':>7} {'acc':>7}")
    for name, f in figures.items():
        print(f"{name:24} {f['f1']:7.4f} {f['precision']:7.4f} {f['recall']:7.4f} "
              f"{f['accuracy']:7.4f}")
    for tp, url in sorted(ours)[:args.show_worst]:
        print(f"  worst: {tp:.3f} {url}")
    if args.dump:
        args.dump.write_text(json.dumps(dumped, ensure_ascii=False, indent=1))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
