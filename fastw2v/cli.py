"""Command line: `fastw2v train`, `fastw2v encode`, `fastw2v demo`, and the
vector commands.

Every option of `train` is a Config field of the same name.  Errors print
one line and exit 2 for usage errors (bad options, missing or unwritable
paths, an output that is also an input), 1 for data errors (empty corpus,
divergence, a damaged file); --debug shows the traceback instead.

Ctrl-C and SIGTERM stop at any stage (reading, compiling, training, writing)
with exit status 130 or 143 and no new output: outputs are written to
temporary files and renamed into place together only once everything is
written.  Messages go to stderr through write_safely, so a closed or broken
stderr or stdout silences them and nothing else.
"""
from __future__ import annotations

import os
import sys
import time
from importlib import resources

import click

from . import cli_vectors
from .config import Config, ConfigError
from .corpus import CorpusFileError, encode_to_file
from .distributed import current, guard, join, launched_size
from .files import STDIN, InputError, OutputSet, check_distinct_paths, check_writable, expand_inputs
from .modelfile import ModelFileError, load_model
from .progress import CompileWatch, Progress, own_warnings_as_lines, write_safely
from .train import (StopOnSignal, TrainingError, TrainingInterrupted, TrainingState, Word2Vec,
                    adopt_corpus_settings, check_device, load_training_corpus, warn_about_input)
from .vocab import VocabularyError

USAGE_ERRORS = (ConfigError, InputError)
DATA_ERRORS = (VocabularyError, TrainingError, ModelFileError, CorpusFileError)


def say(text: str, err: bool = True) -> None:
    """One line on stderr (or stdout); silently nothing when the stream is gone."""
    write_safely(sys.stderr if err else sys.stdout, text + "\n")


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
            with own_warnings_as_lines(lambda message: say(f"warning: {message}")):
                code = super().main(args=args, prog_name=prog_name, standalone_mode=False, **extra)
        except click.exceptions.Abort:
            say("Aborted.")
            code = 130
        except _Interrupted as e:  # in a distributed run, a stop all ranks agreed on
            if current() is None or current().rank == 0:
                say(f"Interrupted: {e.format_message()}")
            code = e.exit_code
        except click.ClickException as e:
            say(f"Error: {e.format_message()}")
            code = e.exit_code
        except click.exceptions.Exit as e:
            code = e.exit_code
        except KeyboardInterrupt:
            say("Interrupted.")
            code = 130
        except (*USAGE_ERRORS, *DATA_ERRORS) as e:
            if debug:
                raise
            say(f"Error: {e}")
            code = 2 if isinstance(e, USAGE_ERRORS) else 1
        except (OSError, MemoryError) as e:
            if debug:
                raise
            say(f"Error: {e}")
            code = 1
        _quiet_exit_on_broken_stdout()
        if current() is not None:  # every rank ends here together (errors abort the job before)
            current().finish()
        sys.exit(code or 0)


def _quiet_exit_on_broken_stdout() -> None:
    """Flush stdout now; if its reader has gone (`| head`), point it at
    /dev/null so that the interpreter's own flush at exit stays quiet."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except (OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        finally:
            os.close(devnull)


@click.group(cls=FastW2VGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fastw2v")
def main():
    """fastw2v: fast, faithful word2vec (skip-gram/CBOW with negative sampling or hierarchical softmax)."""


def _vocabulary_options():
    return [
        click.option("--min-count", type=int, default=5, show_default=True, help="Drop rarer words."),
        click.option("--max-vocab-size", type=int, default=None,
                     help="Prune rare words while counting when more are seen (C tool/gensim semantics; "
                          "counts serially)."),
        click.option("--max-final-vocab", type=int, default=None,
                     help="Keep at most this many words (raising min-count as needed)."),
        click.option("--max-sentence-length", type=int, default=10000, show_default=True,
                     help="Longer lines are cut into pieces of this many words (never truncated)."),
    ]


def _apply(options, f):
    for option in reversed(options):
        f = option(f)
    return f


def _with_vocabulary_options(f):
    return _apply(_vocabulary_options(), f)


def _training_options(f):
    """The Config fields as click options (names and defaults shared with the Python API)."""
    return _apply([
        click.option("--sg/--cbow", "sg", default=True, show_default=True, help="Skip-gram or CBOW."),
        click.option("--dim", type=int, default=100, show_default=True, help="Vector dimension."),
        click.option("--window", type=int, default=5, show_default=True, help="Maximum context half-width."),
        click.option("--fixed-window/--dynamic-window", "fixed_window", default=False,
                     help="Use the full window for every word instead of the C tool's random reduction."),
        click.option("--negative", type=int, default=5, show_default=True,
                     help="Negative samples per example (0 disables negative sampling)."),
        click.option("--batch-window", is_flag=True, default=False,
                     help="Skip-gram: train each window as one block, the negatives drawn once per window "
                          "(HogBatch; faster, CPU only). Default: the C tool's one pair at a time."),
        click.option("--ns-exponent", type=float, default=0.75, show_default=True,
                     help="Exponent of the unigram noise distribution."),
        click.option("--hs/--no-hs", default=False, show_default=True, help="Hierarchical softmax."),
        click.option("--softmax", is_flag=True, default=False,
                     help="Exact full softmax (small vocabularies only; needs --negative 0)."),
        click.option("--cbow-mean/--cbow-sum", default=True, show_default=True,
                     help="CBOW input: mean or sum of the context vectors."),
        click.option("--sample", type=float, default=1e-3, show_default=True,
                     help="Subsampling threshold (0 disables)."),
        *_vocabulary_options(),
        click.option("--epochs", "--iter", type=int, default=5, show_default=True, help="Passes over the corpus."),
        click.option("--alpha", type=float, default=None,
                     help="Initial learning rate [default: 0.025 skip-gram, 0.05 CBOW]."),
        click.option("--min-alpha", type=float, default=None,
                     help="Final learning rate [default: alpha * 1e-4]."),
        click.option("--threads", type=int, default=None, help="Worker threads [default: all cores]."),
        click.option("--seed", type=int, default=1, show_default=True, help="Random seed."),
        click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]), default="cpu", show_default=True,
                     help="Where to train."),
        click.option("--sync-every", type=int, default=None,
                     help="Distributed runs (mpiexec): words all processes train between syncs of the rows "
                          "they trained on [default: 200,000 for CBOW; skip-gram 100,000 training examples: "
                          "100,000 / (window + 1) words, 16,667 with window 5]."),
        click.option("--sync-rows", type=int, default=4096, show_default=True,
                     help="Distributed runs: the output rows of this many most frequent words, which negative "
                          "sampling updates as noise everywhere, are synced with the rows trained on."),
        click.option("--full-sync-every", type=int, default=0, show_default=True,
                     help="Distributed runs: words all processes train between syncs of the whole model "
                          "(0: at each epoch's end only)."),
        click.option("--sync-saturation", type=float, default=0.005, show_default=True,
                     help="Distributed runs: how far one update moves a row toward where its updates lead; "
                          "the ranks' changes of rows updated that much more often are averaged, not summed "
                          "(0: always summed)."),
    ], f)


work_dir_option = click.option(
    "--work-dir", type=click.Path(file_okay=False), default=None,
    help="Folder for the temporary files of the scan and the encoded corpus (unnamed: they vanish with the "
         "process) [default: the output's folder].")


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


def _option_name(field: str) -> str:
    return "--" + field.replace("_", "-")


def _work_dir(work_dir, output) -> str:
    """The folder for temporary files: --work-dir, else the output's folder."""
    folder = work_dir or os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        raise InputError(f"{folder}: work directory does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{folder}: work directory is not writable")
    return folder


def _workers(threads: int, processes: int = 1) -> str:
    """'1 thread', '4 threads', '2 processes x 1 thread'."""
    text = f"{threads} thread{'s' if threads != 1 else ''}"
    return f"{processes} processes x {text}" if processes > 1 else text


def _print_summary(model: Word2Vec, seconds_total: float, load_seconds: float, compile_seconds: float):
    trained = model.history[-model.config.epochs:] if model.history else []
    raw = sum(s.raw_words for s in trained)
    train_seconds = sum(s.seconds for s in trained)
    loss = f"; final loss {trained[-1].loss:.4f}" if trained else ""
    compiled = f"; compiled kernels in {compile_seconds:.1f} s" if compile_seconds >= 0.05 else ""
    say(f"vocabulary {len(model.vocab)} words; read and encoded in {load_seconds:.2f} s{compiled}; "
        f"trained {raw} words in {train_seconds:.2f} s ({raw / max(train_seconds, 1e-9):,.0f} words/s, "
        f"{_workers(model.config.threads, current().size if current() else 1)}){loss}; total {seconds_total:.1f} s"
        + (f"; {current().report()}" if current() else ""))


def run_training(corpus, config: Config, quiet: bool, checkpoint=None, checkpoint_every=None,
                 model: Word2Vec | None = None, state: TrainingState | None = None, given=(),
                 work_dir=None, keep=None, outputs: OutputSet | None = None, cluster=None):
    """Load, encode and train with progress on stderr; returns (model, read
    seconds, compile seconds).

    A fresh model is made from `config`; a given `model` is trained further
    (its vocabulary grows) or, with `state`, resumed from a checkpoint.
    With `cluster`, this is one rank of a distributed run; rank 0 alone
    reports.
    """
    device = check_device(config, cluster)
    first = cluster is None or cluster.rank == 0
    progress = Progress(config.epochs, quiet=quiet or not first)
    base = model.vocab if model is not None else None
    with CompileWatch(progress.message) as watch:
        start = time.perf_counter()
        vocab, encoded, report = load_training_corpus(corpus, config, base=base, fixed=state is not None,
                                                      work_dir=work_dir, keep=keep, outputs=outputs, cluster=cluster)
        try:
            read_seconds = time.perf_counter() - start - watch.seconds
            config = adopt_corpus_settings(config, encoded, given)
            if first:
                warn_about_input(report)
            grown = f", {len(vocab) - len(base)} new" if base is not None and state is None else ""
            source = " from the encoded corpus" if report.encoded_file else ""
            progress.message(f"{encoded.raw_word_count} words read{source}, vocabulary {len(vocab)} words{grown} "
                             f"({encoded.n_tokens} tokens kept), {read_seconds:.2f} s; training on {device}")
            if model is None:
                model = Word2Vec.initialize(config, vocab)
            else:
                model.config = config
                model.grow_vocabulary(vocab)
            model.invalid_utf8_tokens = report.invalid_utf8_tokens
            model.train_encoded(encoded, progress, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                                state=state, cluster=cluster)
        finally:
            encoded.close()
    return model, read_seconds, watch.seconds


def _resume_config(checkpoint_config: Config, given: dict) -> Config:
    """The checkpoint's configuration; options given again must have its
    values, except --threads (which changes the slices, and so the result,
    from the checkpoint on)."""
    conflicts = []
    for name, value in given.items():
        if name == "threads":
            continue
        if Config(**{**checkpoint_config.to_dict(), name: value}) != checkpoint_config:
            conflicts.append(f"{_option_name(name)} {value!r} (the checkpoint has {getattr(checkpoint_config, name)!r})")
    if conflicts:
        raise ConfigError("--resume continues with the checkpoint's settings, which differ: " + "; ".join(conflicts)
                          + ". Leave these options out or give the checkpoint's values; only --threads may change")
    return checkpoint_config.replace(threads=given["threads"]) if "threads" in given else checkpoint_config


@main.command(cls=TrainCommand)
@click.argument("corpus", nargs=-1, required=True, type=click.Path(dir_okay=True, allow_dash=True, path_type=str))
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
@click.option("--keep-encoded", type=click.Path(dir_okay=False), default=None,
              help="Also keep the encoded corpus in this file, to train on again without scanning "
                   "(as `fastw2v encode` writes it).")
@work_dir_option
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def train(corpus, output, binary, save_vocab, output_vectors, save_model, checkpoint, checkpoint_every,
          resume, init_model, keep_encoded, work_dir, quiet, debug, **options):
    """Train word vectors on CORPUS: text files, directories of files, - (standard
    input) or one encoded corpus file (fastw2v encode).  .gz/.bz2/.xz data is
    read directly."""
    start = time.perf_counter()
    cluster = join()
    first = cluster is None or cluster.rank == 0
    with StopOnSignal(), guard(cluster):
        model = state = None
        given = _given_on_command_line(options)
        if resume and init_model:
            raise ConfigError("--resume and --init-model exclude each other")
        if resume:
            model, saved_state = load_model(resume)
            if saved_state is None:
                raise ConfigError(f"{resume}: a saved model, not a checkpoint; use --init-model to train it further")
            state = TrainingState.from_checkpoint(saved_state, resume)
            config = model.config = _resume_config(model.config, given)
            checkpoint = checkpoint or resume
        elif init_model:
            model = Word2Vec.load(init_model)
            config = model.config.replace(**given)
        else:
            config = Config(**_config_fields(options))
        if output_vectors and config.negative == 0 and not config.softmax:
            raise ConfigError("--output-vectors needs negative sampling or --softmax "
                              "(hierarchical softmax has no per-word output vectors)")
        if checkpoint_every and not checkpoint:
            raise ConfigError("--checkpoint-every needs --checkpoint PATH")
        inputs = expand_inputs(list(corpus))
        written = {"--output": output, "--save-vocab": save_vocab, "--output-vectors": output_vectors,
                   "--save-model": save_model, "--checkpoint": checkpoint, "--keep-encoded": keep_encoded}
        for path in filter(None, written.values()):
            check_writable(path)
        read = [*inputs, *(expand_inputs([p]) if p else [] for p in (init_model, resume))]
        read = [i for group in read for i in (group if isinstance(group, list) else [group])]
        # the model may be trained further into its own file, a checkpoint continued in its own
        check_distinct_paths(read if not resume else inputs + [i for i in read if i.path != resume],
                             {k: v for k, v in written.items()
                              if not (k == "--save-model" and v == init_model)
                              and not (k == "--checkpoint" and v == resume)})
        if init_model:
            model.check_changes(config)
        folder = _work_dir(work_dir, output)
        with OutputSet() as outputs:
            if state is not None and state.epoch > config.epochs:
                if first:
                    say(f"the checkpoint's run had finished ({config.epochs} epochs): writing its outputs")
                read_seconds = compile_seconds = 0.0
            else:
                model, read_seconds, compile_seconds = run_training(
                    list(corpus), config, quiet, checkpoint, checkpoint_every, model, state, given, folder,
                    keep_encoded, outputs, cluster)
            if first:  # the ranks of a distributed run end with the same weights: rank 0 writes
                model.save_word2vec_format(output, binary=binary, outputs=outputs)
                if save_vocab:
                    model.vocab.save(save_vocab, outputs=outputs)
                if output_vectors:
                    model.save_output_vectors(output_vectors, binary=binary, outputs=outputs)
                if save_model:
                    model.save(save_model, outputs=outputs)
    if not quiet and first and model.history:
        _print_summary(model, time.perf_counter() - start, read_seconds, compile_seconds)


@main.command()
@click.argument("corpus", nargs=-1, required=True, type=click.Path(dir_okay=True, allow_dash=True, path_type=str))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Encoded corpus file to write (.fw2v).")
@_with_vocabulary_options
@click.option("--threads", type=int, default=None, help="Threads scanning the text [default: all cores].")
@work_dir_option
@click.option("--quiet", "-q", is_flag=True, help="No summary on stderr.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def encode(corpus, output, threads, work_dir, quiet, debug, **vocabulary):
    """Scan and encode CORPUS once into a corpus file (word ids, sentence
    offsets, the vocabulary) that `fastw2v train` reads without scanning."""
    start = time.perf_counter()
    config = Config(threads=threads, **vocabulary)  # names every invalid value
    if launched_size() > 1:
        raise ConfigError("fastw2v encode runs as one process (its threads scan in parallel): "
                          "run it without mpiexec, then train the processes on its file")
    with StopOnSignal():
        inputs = expand_inputs(list(corpus))
        check_writable(output)
        check_distinct_paths(inputs, {"--output": output})
        with CompileWatch(None if quiet else say) as watch:
            vocab, encoded, report = encode_to_file(
                list(corpus), output, config.min_count, config.max_vocab_size, config.max_final_vocab,
                config.max_sentence_length, config.threads, _work_dir(work_dir, output))
        encoded.close()
    warn_about_input(report)
    if not quiet:
        size = os.path.getsize(output)
        say(f"{encoded.raw_word_count} words read, {encoded.n_tokens} kept in {encoded.n_sentences} sentences, "
            f"vocabulary {len(vocab)} words; wrote {output} ({size:,} bytes, "
            f"{size / max(encoded.n_tokens, 1):.2f} bytes a token) in {time.perf_counter() - start:.2f} s"
            + (f" (compiling {watch.seconds:.1f} s)" if watch.seconds >= 0.05 else ""))


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
    with StopOnSignal(), resources.as_file(resources.files("fastw2v") / "data" / "warandpeace.txt.xz") as path:
        model, read_seconds, compile_seconds = run_training(path, config, quiet)
    train_seconds = sum(s.seconds for s in model.history)
    raw = sum(s.raw_words for s in model.history)
    say(f"War and Peace: {model.history[0].raw_words} words, vocabulary {len(model.vocab)}; "
        f"skip-gram, negative sampling, dim {config.dim}, {epochs} epochs", err=False)
    for word in DEMO_WORDS:
        neighbours = ", ".join(f"{w} {s:.2f}" for w, s in model.most_similar(word, topn=topn))
        say(f"  {word:>8}: {neighbours}", err=False)
    say(f"speed: {raw / max(train_seconds, 1e-9):,.0f} words/s on {config.threads} threads "
        f"(training {train_seconds:.1f} s, reading {read_seconds:.2f} s, compiling {compile_seconds:.1f} s, "
        f"total {time.perf_counter() - start:.1f} s)", err=False)


DEMO_WORDS = ("prince", "moscow", "war", "horse", "love", "emperor")

for _command in (cli_vectors.similar, cli_vectors.analogy, cli_vectors.evaluate):
    main.add_command(_command)


if __name__ == "__main__":
    main()
