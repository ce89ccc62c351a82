"""Build fastw2v/data/warandpeace.txt.xz, the corpus `fastw2v demo` trains on.

Input: ../shared/corpora/sources/warandpeace.txt.xz (Project Gutenberg #2600,
Tolstoy's War and Peace in the Maude translation, public domain).  The
Gutenberg header and licence are removed, accents are stripped, the text is
lowercased, every character other than a-z becomes a space, and each
paragraph becomes one line (text8 style, one sentence-like unit a line).

Usage: python bench/make_demo_corpus.py [SOURCE.xz] [OUT.xz]
"""
import lzma
import re
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parent.parent / "shared" / "corpora" / "sources" / "warandpeace.txt.xz"
DEFAULT_OUT = HERE.parent / "fastw2v" / "data" / "warandpeace.txt.xz"


def clean(text: str) -> str:
    start = text.index("*** START OF THIS PROJECT GUTENBERG EBOOK")
    end = text.index("*** END OF THIS PROJECT GUTENBERG EBOOK")
    body = text[text.index("\n", start) + 1:end]
    body = unicodedata.normalize("NFKD", body)
    body = "".join(ch for ch in body if not unicodedata.combining(ch)).lower()
    lines = []
    for paragraph in re.split(r"\n\s*\n", body):
        words = re.sub(r"[^a-z]+", " ", paragraph).split()
        if len(words) >= 3:
            lines.append(" ".join(words))
    return "\n".join(lines) + "\n"


def main(argv):
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    out = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUT
    with lzma.open(source, "rt", encoding="utf-8") as f:
        text = clean(f.read())
    with lzma.open(out, "wt", encoding="ascii", preset=9 | lzma.PRESET_EXTREME) as f:
        f.write(text)
    print(f"{out}: {len(text.split())} tokens, {text.count(chr(10))} lines")


if __name__ == "__main__":
    main(sys.argv)
