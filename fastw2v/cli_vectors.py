"""Command-line use of vector files: `similar` (the C tool's `distance`),
`analogy` (`word-analogy`) and `evaluate` (`compute-accuracy` and word-pair
correlations).

Every error prints one line "Error: ..." and exits with status 2 for usage
errors (a missing or unreadable file, wrong arguments) or 1 for data errors
(a malformed vector or test file, an unknown word).
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import sys
from pathlib import Path

import click

from .evaluate import RESTRICT_VOCAB, analogy_accuracy, word_pair_correlations
from .files import InputError
from .vectors import KeyedVectors

__all__ = ["similar", "analogy", "evaluate"]


class UsageProblem(click.ClickException):
    """A usage error reported as one "Error: ..." line with exit status 2."""

    exit_code = 2


class DataProblem(click.ClickException):
    """A problem with the data (exit status 1)."""


class OneLineCommand(click.Command):
    """A click command whose own usage errors print one "Error:" line, like ours."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as e:
            raise UsageProblem(e.format_message()) from None


def _readable(path: str, what: str) -> str:
    p = Path(path)
    if not p.exists():
        raise UsageProblem(f"{what} {path!r} does not exist")
    if p.is_dir():
        raise UsageProblem(f"{what} {path!r} is a directory")
    if not os.access(p, os.R_OK):
        raise UsageProblem(f"{what} {path!r} is not readable")
    return path


def _load(path: str) -> KeyedVectors:
    _readable(path, "vectors file")
    try:
        return KeyedVectors.load_word2vec_format(path)
    except (OSError, InputError) as e:
        raise UsageProblem(str(e)) from None
    except ValueError as e:  # VectorFileError and other unreadable content
        raise DataProblem(str(e)) from None


def _unknown(kv: KeyedVectors, words) -> str | None:
    """Message naming the first word not in the vocabulary, or None."""
    for w in words:
        if w not in kv:
            return f"word {w!r} not in vocabulary"
    return None


def _print_neighbours(title: str, neighbours) -> None:
    click.echo(title)
    width = max((len(w) for w, _ in neighbours), default=4)
    for rank, (word, sim) in enumerate(neighbours, 1):
        click.echo(f"{rank:>4}  {word:<{width}}  {sim:.6f}")


def _queries(prompt: str):
    """Lines of words from stdin until EOF or a line "EXIT"; prompts only
    when stdin is a terminal."""
    stdin = sys.stdin
    interactive = stdin.isatty()
    while True:
        if interactive:
            click.echo(prompt, nl=False)
        line = stdin.readline()
        if not line or line.strip() == "EXIT":
            return
        if line.split():
            yield line.split()


topn_option = click.option("-k", "--topn", default=10, show_default=True, type=click.IntRange(min=1),
                           help="Number of nearest words to print.")


@click.command("similar", cls=OneLineCommand)
@click.argument("vectors")
@click.argument("words", nargs=-1)
@topn_option
def similar(vectors, words, topn):
    """Print the words nearest to each WORD by cosine similarity.

    With no WORD, read queries from standard input, one a line, until end of
    input or EXIT, like the word2vec tool's `distance`: several words on a
    line are looked up as the sum of their unit vectors.
    """
    kv = _load(vectors)
    if words:
        problem = _unknown(kv, words)
        if problem:
            raise DataProblem(problem)
        for word, neighbours in zip(words, kv.most_similar_batch(list(words), topn=topn)):
            _print_neighbours(f"Nearest to {word}:", neighbours)
        return
    for query in _queries("Enter word or sentence (EXIT to break): "):
        problem = _unknown(kv, query)
        if problem:
            click.echo(f"Error: {problem}", err=True)
            continue
        _print_neighbours(f"Nearest to {' '.join(query)}:", kv.most_similar(positive=query, topn=topn))


@click.command("analogy", cls=OneLineCommand)
@click.argument("vectors")
@click.argument("words", nargs=-1)
@topn_option
def analogy(vectors, words, topn):
    """Answer "A is to B as C is to ?" with the words nearest to B - A + C.

    With no words, read three words a line from standard input until end of
    input or EXIT, like the word2vec tool's `word-analogy`.
    """
    if len(words) not in (0, 3):
        raise UsageProblem(f"expected three words A B C (or none, to read them from stdin), got {len(words)}")
    kv = _load(vectors)

    def answer(a, b, c):
        return kv.most_similar(positive=[b, c], negative=[a], topn=topn)

    if words:
        problem = _unknown(kv, words)
        if problem:
            raise DataProblem(problem)
        _print_neighbours(f"{words[0]} is to {words[1]} as {words[2]} is to:", answer(*words))
        return
    for query in _queries("Enter three words (EXIT to break): "):
        problem = f"expected three words, got {len(query)}" if len(query) != 3 else _unknown(kv, query)
        if problem:
            click.echo(f"Error: {problem}", err=True)
            continue
        _print_neighbours(f"{query[0]} is to {query[1]} as {query[2]} is to:", answer(*query))


def _json_number(x):
    return None if isinstance(x, float) and math.isnan(x) else x


def _pair_names(paths):
    """Result keys for the pair files: their file names, or their paths when two names clash."""
    names = [Path(p).name for p in paths]
    return [name if names.count(name) == 1 else path for name, path in zip(names, paths)]


STANDARD_SETS = ("questions-words.txt", "simlex999.txt", "wordsim353.tsv")


def standard_sets() -> tuple[str, list[str]]:
    """Google's analogies, SimLex-999 and WordSim-353 from gensim's installed
    test data (found without importing gensim).  fastw2v does not ship them:
    the licences of SimLex-999 and WordSim-353 are not stated by their authors."""
    spec = importlib.util.find_spec("gensim")
    folder = Path(spec.origin).parent / "test" / "test_data" if spec and spec.origin else None
    if folder is None or not all((folder / name).is_file() for name in STANDARD_SETS):
        raise UsageProblem("no test set named, and gensim (whose test data holds the standard sets) is not "
                           "installed: give --analogies FILE and/or --pairs FILE, or pip install gensim")
    analogies, *pairs = (str(folder / name) for name in STANDARD_SETS)
    return analogies, pairs


@click.command("evaluate", cls=OneLineCommand)
@click.argument("vectors")
@click.option("--analogies", metavar="FILE", help="Analogy questions (Google's questions-words.txt format).")
@click.option("--pairs", metavar="FILE", multiple=True,
              help="Word pairs with human similarity scores, tab-separated (SimLex-999, WordSim-353); repeatable.")
@click.option("--restrict-vocab", default=RESTRICT_VOCAB, show_default=True, type=click.IntRange(min=1),
              help="Answer analogies from the first N words only (gensim's default; compute-accuracy uses 30000).")
@click.option("--pairs-restrict-vocab", default=RESTRICT_VOCAB, show_default=True, type=click.IntRange(min=1),
              help="Treat words after the first N as unknown in word pairs.")
@click.option("--case-sensitive", is_flag=True, help="Compare words as written instead of upper-cased.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
def evaluate(vectors, analogies, pairs, restrict_vocab, pairs_restrict_vocab, case_sensitive, as_json):
    """Score vectors on analogy questions and word-pair similarities, as gensim does.

    Analogies count a question right when the nearest word to B - A + C
    (excluding A, B and C) is D; questions with a word outside the first
    --restrict-vocab words are skipped.  Word pairs report the Spearman and
    Pearson correlations of cosine similarity with the human scores, and the
    percentage of pairs skipped for an unknown word.  With no set named,
    Google's analogies, SimLex-999 and WordSim-353 are taken from gensim's
    installed test data.
    """
    if not analogies and not pairs:
        analogies, pairs = standard_sets()
    for path in ([analogies] if analogies else []) + list(pairs):
        _readable(path, "test file")
    kv = _load(vectors)
    try:
        result = {
            "analogies": analogy_accuracy(kv, analogies, restrict_vocab, not case_sensitive)
            if analogies else None,
            "pairs": {
                name: word_pair_correlations(kv, path, pairs_restrict_vocab, not case_sensitive)
                for name, path in zip(_pair_names(pairs), pairs)
            },
        }
    except (OSError, InputError) as e:
        raise UsageProblem(str(e)) from None
    except ValueError as e:
        raise DataProblem(str(e)) from None
    if as_json:
        for scores in result["pairs"].values():
            for key in ("spearman", "pearson"):
                scores[key] = _json_number(scores[key])
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    if analogies:
        _print_analogies(analogies, restrict_vocab, result["analogies"])
    if pairs:
        _print_pairs(result["pairs"])


def _print_analogies(path, restrict_vocab, res):
    click.echo(f"Analogies: {path} (answers from the first {restrict_vocab} words)")
    rows = [(name, s) for name, s in res["sections"].items()]
    rows += [("semantic", res["semantic"]), ("syntactic", res["syntactic"]), ("total", res)]
    width = max(len(name) for name, _ in rows)
    click.echo(f"  {'section':<{width}}  accuracy  correct / covered")
    for i, (name, s) in enumerate(rows):
        if i == len(res["sections"]):
            click.echo(f"  {'-' * (width + 29)}")
        click.echo(f"  {name:<{width}}  {100 * s['accuracy']:7.2f}%  {s['correct']:>7} / {s['covered']}")
    click.echo(f"  {res['skipped']} of {res['total']} questions skipped for words outside the vocabulary")


def _print_pairs(results):
    width = max(len(name) for name in results)
    click.echo(f"Word pairs:\n  {'file':<{width}}  spearman   pearson  unknown")
    for name, r in results.items():
        click.echo(f"  {name:<{width}}  {r['spearman']:8.4f}  {r['pearson']:8.4f}  {r['oov_ratio']:6.2f}%")
