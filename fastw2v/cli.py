"""Command line: `fastw2v train`, `fastw2v demo`, and the vector commands.

Every option of `train` is a Config field of the same name.  Errors print
one line and exit 2 for usage errors (bad options, missing or unwritable
paths), 1 for data errors (empty corpus, divergence); --debug shows the
traceback instead.
"""
from __future__ import annotations

import sys
import time
from importlib import resources

import click

from . import cli_vectors
from .config import Config, ConfigError
from .files import InputError, check_writable
from .modelfile import ModelFileError, load_model
from .train import (TrainingError, TrainingInterrupted, TrainingState, Word2Vec, check_device,
                    invalid_utf8_message, load_training_corpus)
from .progress import Progress
from .vocab import VocabularyError

USAGE_ERRORS = (ConfigError, InputError)
DATA_ERRORS = (VocabularyError, TrainingError, ModelFileError)


class _Interrupted(click.ClickException):
    """Carries a TrainingInterrupted past click, which would turn it into a bare Abort."""

    def __init__(self, interruption: TrainingInterrupted):
        super().__init__(str(interruption))
        self.exit_code = interruption.exit_code


class FastW2VGroup(click.Group):
    """Turns known errors into one line on stderr and the documented exit status."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except TrainingInterrupted as e:
            raise _Interrupted(e) from None

    def main(self, args=None, prog_name=None, **extra):
        args = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in args
        try:
            return super().main(args=args, prog_name=prog_name, standalone_mode=False, **extra)
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except _Interrupted as e:
            click.echo(f"Interrupted: {e.format_message()}", err=True)
            sys.exit(e.exit_code)
        except click.ClickException as e:
            click.echo(f"Error: {e.format_message()}", err=True)
            sys.exit(e.exit_code)
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        except (*USAGE_ERRORS, *DATA_ERRORS) as e:
            if debug:
                raise
            click.echo(f"Error: {e}", err=True)
            sys.exit(2 if isinstance(e, USAGE_ERRORS) else 1)
        except (OSError, MemoryError) as e:
            if debug:
                raise
            click.echo(f"Error: {e}", err=True)
            sys.exit(1)


@click.group(cls=FastW2VGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fastw2v")
def main():
    """fastw2v: fast, faithful word2vec (skip-gram/CBOW with negative sampling or hierarchical softmax)."""


def _training_options(f):
    """The Config fields as click options (names and defaults shared with the Python API)."""
    options = [
        click.option("--sg/--cbow", "sg", default=True, show_default=True, help="Skip-gram or CBOW."),
        click.option("--dim", type=int, default=100, show_default=True, help="Vector dimension."),
        click.option("--window", type=int, default=5, show_default=True, help="Maximum context half-width."),
        click.option("--fixed-window/--dynamic-window", "fixed_window", default=False,
                     help="Use the full window for every word instead of the C tool's random reduction."),
        click.option("--negative", type=int, default=5, show_default=True,
                     help="Negative samples per example (0 disables negative sampling)."),
        click.option("--ns-exponent", type=float, default=0.75, show_default=True,
                     help="Exponent of the unigram noise distribution."),
        click.option("--hs/--no-hs", default=False, show_default=True, help="Hierarchical softmax."),
        click.option("--softmax", is_flag=True, default=False,
                     help="Exact full softmax (small vocabularies only; needs --negative 0)."),
        click.option("--cbow-mean/--cbow-sum", default=True, show_default=True,
                     help="CBOW input: mean or sum of the context vectors."),
        click.option("--sample", type=float, default=1e-3, show_default=True,
                     help="Subsampling threshold (0 disables)."),
        click.option("--min-count", type=int, default=5, show_default=True, help="Drop rarer words."),
        click.option("--max-vocab-size", type=int, default=None,
                     help="Prune rare words while counting when more are seen (C tool/gensim semantics)."),
        click.option("--max-final-vocab", type=int, default=None,
                     help="Keep at most this many words (raising min-count as needed)."),
        click.option("--max-sentence-length", type=int, default=10000, show_default=True,
                     help="Longer lines are cut into pieces of this many words (never truncated)."),
        click.option("--epochs", "--iter", type=int, default=5, show_default=True, help="Passes over the corpus."),
        click.option("--alpha", type=float, default=None,
                     help="Initial learning rate [default: 0.025 skip-gram, 0.05 CBOW]."),
        click.option("--min-alpha", type=float, default=None,
                     help="Final learning rate [default: alpha * 1e-4]."),
        click.option("--threads", type=int, default=None, help="Worker threads [default: all cores]."),
        click.option("--seed", type=int, default=1, show_default=True, help="Random seed."),
        click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]), default="cpu", show_default=True,
                     help="Where to train."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


# The word2vec C tool's flags, and what to write for them in `fastw2v train`
C_TOOL_FLAGS = {
    "-train": "give the corpus as an argument, fastw2v train CORPUS -o OUTPUT", "-output": "use -o/--output",
    "-size": "use --dim", "-window": "use --window", "-sample": "use --sample", "-negative": "use --negative",
    "-hs": "use --hs", "-threads": "use --threads", "-iter": "use --epochs", "-min-count": "use --min-count",
    "-alpha": "use --alpha", "-cbow": "use --cbow or --sg", "-binary": "use --binary or --text",
    "-save-vocab": "use --save-vocab", "-read-vocab": "fastw2v train has no such option",
    "-classes": "fastw2v train has no such option", "-debug": "use --debug",
}
# other tools' long spellings of `fastw2v train`'s options
OTHER_SPELLINGS = {"--size": "--dim", "--vector-size": "--dim", "--workers": "--threads"}


class TrainCommand(click.Command):
    """`fastw2v train`: C-tool spellings (-size 100, which click would read as
    -s ize) stop with a one-line usage error naming the option to use."""

    def parse_args(self, ctx, args):
        for arg in args:
            if arg == "--":
                break
            name = str(arg).split("=", 1)[0]
            if name in C_TOOL_FLAGS:
                raise click.UsageError(f"{name} is the word2vec C tool's spelling: {C_TOOL_FLAGS[name]} "
                                       f"(fastw2v-word2vec takes the C tool's flags as they are)", ctx)
            if name in OTHER_SPELLINGS:
                raise click.UsageError(f"no such option {name}: use {OTHER_SPELLINGS[name]}", ctx)
        return super().parse_args(ctx, args)


def _config_fields(options: dict) -> dict:
    """Click option values as Config fields (--fixed-window is dynamic_window=False)."""
    options = dict(options)
    if "fixed_window" in options:
        options["dynamic_window"] = not options.pop("fixed_window")
    return options


def _given_on_command_line(options: dict) -> dict:
    """The options the user typed (not defaults), as Config fields."""
    ctx = click.get_current_context()
    sources = (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT)
    return _config_fields({k: v for k, v in options.items() if ctx.get_parameter_source(k) in sources})


def _print_summary(model: Word2Vec, seconds_total: float, load_seconds: float):
    last = model.history[-1]
    raw = sum(s.raw_words for s in model.history)
    train_seconds = sum(s.seconds for s in model.history)
    click.echo(f"vocabulary {len(model.vocab)} words; read and encoded in {load_seconds:.2f} s; "
               f"trained {raw} words in {train_seconds:.2f} s ({raw / max(train_seconds, 1e-9):,.0f} words/s, "
               f"{model.config.threads} threads); final loss {last.loss:.4f}; "
               f"total {seconds_total:.1f} s", err=True)


def run_training(corpus, config: Config, quiet: bool, checkpoint=None, checkpoint_every=None,
                 model: Word2Vec | None = None, state: TrainingState | None = None):
    """Load, encode and train with progress on stderr; returns (model, load seconds).

    A fresh model is made from `config`; a given `model` is trained further
    (its vocabulary grows) or, with `state`, resumed from a checkpoint.
    """
    device = check_device(config)
    progress = Progress(config.epochs, quiet=quiet)
    start = time.perf_counter()
    base = model.vocab if model is not None else None
    vocab, encoded, invalid = load_training_corpus(corpus, config, base=base, fixed=state is not None)
    load_seconds = time.perf_counter() - start
    if invalid:  # shown even with --quiet: it is about the data, not progress
        click.echo(f"warning: {invalid_utf8_message(invalid)}", err=True)
    grown = f", {len(vocab) - len(base)} new" if base is not None and state is None else ""
    progress.message(f"{encoded.raw_word_count} words read, vocabulary {len(vocab)} words{grown} "
                     f"({len(encoded.tokens)} tokens kept), {load_seconds:.2f} s; training on {device}")
    if model is None:
        model = Word2Vec.initialize(config, vocab)
    else:
        model.config = config
        model.grow_vocabulary(vocab)
    model.invalid_utf8_tokens = invalid
    model.train_encoded(encoded, progress, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                        state=state)
    return model, load_seconds


@main.command(cls=TrainCommand)
@click.argument("corpus", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=str))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Word vectors file to write.")
@_training_options
@click.option("--binary/--text", default=True, show_default=True, help="Output file format.")
@click.option("--save-vocab", type=click.Path(dir_okay=False), default=None,
              help="Also write the vocabulary with counts ('word count' lines, as the C tool's -save-vocab).")
@click.option("--output-vectors", type=click.Path(dir_okay=False), default=None,
              help="Also write the output (context) vectors, same format as --output.")
@click.option("--save-model", type=click.Path(dir_okay=False), default=None,
              help="Also write the whole model (.npz: config, vocabulary, all weights) to train further later.")
@click.option("--checkpoint", type=click.Path(dir_okay=False), default=None,
              help="Save the full training state here (at each epoch's end, see --checkpoint-every), "
                   "and before stopping on Ctrl-C or SIGTERM.")
@click.option("--checkpoint-every", type=click.IntRange(min=1), default=None,
              help="Save a checkpoint every N training words.")
@click.option("--resume", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Continue the interrupted run saved in this checkpoint, on the same CORPUS and settings.")
@click.option("--init-model", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Train this saved model (--save-model) further on CORPUS; new words join its vocabulary.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def train(corpus, output, binary, save_vocab, output_vectors, save_model, checkpoint, checkpoint_every,
          resume, init_model, quiet, debug, **options):
    """Train word vectors on CORPUS (text files, directories of files; .gz/.bz2/.xz read directly)."""
    start = time.perf_counter()
    model = state = None
    if resume and init_model:
        raise ConfigError("--resume and --init-model exclude each other")
    if resume:
        given = _given_on_command_line(options)
        if given:
            raise ConfigError("--resume continues with the checkpoint's settings; remove "
                              + ", ".join("--" + k.replace("_", "-") for k in sorted(given)))
        model, saved_state = load_model(resume)
        if saved_state is None:
            raise ConfigError(f"{resume}: a saved model, not a checkpoint; use --init-model to train it further")
        state = TrainingState(**saved_state)
        config = model.config
        checkpoint = checkpoint or resume
    elif init_model:
        model = Word2Vec.load(init_model)
        config = model.config.replace(**_given_on_command_line(options))
    else:
        config = Config(**_config_fields(options))
    if output_vectors and config.negative == 0 and not config.softmax:
        raise ConfigError("--output-vectors needs negative sampling or --softmax "
                          "(hierarchical softmax has no per-word output vectors)")
    if checkpoint_every and not checkpoint:
        raise ConfigError("--checkpoint-every needs --checkpoint PATH")
    for path in filter(None, (output, save_vocab, output_vectors, save_model, checkpoint)):
        check_writable(path)
    if init_model:
        model.check_changes(config)
    model, load_seconds = run_training(list(corpus), config, quiet, checkpoint, checkpoint_every, model, state)
    model.save_word2vec_format(output, binary=binary)
    if save_vocab:
        model.vocab.save(save_vocab)
    if output_vectors:
        model.save_output_vectors(output_vectors, binary=binary)
    if save_model:
        model.save(save_model)
    if not quiet:
        _print_summary(model, time.perf_counter() - start, load_seconds)


DEMO_WORDS = ("prince", "moscow", "war", "horse", "love", "emperor")


@main.command()
@click.option("--epochs", type=int, default=5, show_default=True)
@click.option("--threads", type=int, default=None, help="Worker threads [default: all cores].")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("-k", "--topn", type=int, default=8, show_default=True, help="Neighbours shown per word.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def demo(epochs, threads, seed, topn, quiet, debug):
    """Train skip-gram on the embedded War and Peace and show nearest neighbours."""
    config = Config(epochs=epochs, threads=threads, seed=seed)
    start = time.perf_counter()
    with resources.as_file(resources.files("fastw2v") / "data" / "warandpeace.txt.xz") as path:
        model, load_seconds = run_training(path, config, quiet)
    train_seconds = sum(s.seconds for s in model.history)
    raw = sum(s.raw_words for s in model.history)
    click.echo(f"War and Peace: {model.history[0].raw_words} words, vocabulary {len(model.vocab)}; "
               f"skip-gram, negative sampling, dim {config.dim}, {epochs} epochs")
    for word in DEMO_WORDS:
        neighbours = ", ".join(f"{w} {s:.2f}" for w, s in model.most_similar(word, topn=topn))
        click.echo(f"  {word:>8}: {neighbours}")
    click.echo(f"speed: {raw / max(train_seconds, 1e-9):,.0f} words/s on {config.threads} threads "
               f"(training {train_seconds:.1f} s, reading {load_seconds:.2f} s, "
               f"compile/cache load {model.compile_seconds:.1f} s, total {time.perf_counter() - start:.1f} s)")


for _command in (cli_vectors.similar, cli_vectors.analogy, cli_vectors.evaluate):
    main.add_command(_command)


if __name__ == "__main__":
    main()
