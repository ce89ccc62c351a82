"""One benchmark run in a fresh process: train one tool once, print one JSON line.

``bench.compare`` starts this file as ``python bench/_runner.py SPEC_JSON`` so
that every run pays its own imports, reads the corpus itself and has its own
peak resident memory.  Only the tool being measured is imported.  SPEC holds
the tool ('fastw2v', 'fastw2v-batch', 'fastw2v-base', 'gensim-file',
'gensim-iter', 'pword2vec'), the corpus path, the hyper-parameters, the seed,
whether to evaluate quality, and ``spawned_at`` (the parent's wall clock just
before it started this process), from which the time from process start to
the first training word is measured.  'fastw2v-base' is the fastw2v code
itself, found first on the PYTHONPATH the parent gives this process.

'pword2vec' runs Intel's pWord2Vec binary (SPEC's ``pword2vec``) as a child
of this process, built by shared/anchors/pword2vec/build.sh, whose patch
prints ``ANCHOR train_seconds S ...`` on stderr when the training loop ends:
those are its training seconds (OpenMP wall clock from after the corpus is
loaded to the end of the last epoch).  Its stdout is made line-buffered
(``stdbuf -oL``) and merged with stderr so that each line can be stamped when
it arrives: the vocabulary step ends with its "Words in train file" line, and
start -> training ends with the ANCHOR line.  It prints only its
in-vocabulary word count, so the raw word count is SPEC's ``corpus_tokens``
(counted once by the parent).  Its peak memory is the binary's ru_maxrss.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def memory_status(field: str = "VmHWM") -> int:
    """A memory figure of this process in bytes from /proc/self/status (Linux):
    VmHWM (the peak resident set so far), VmRSS (now), RssAnon and RssFile
    (its anonymous and file-backed parts now)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def peak_rss_bytes() -> int:
    return memory_status("VmHWM")


def memory_now() -> dict:
    return {"rss": memory_status("VmRSS"), "peak": memory_status("VmHWM")}


def run_fastw2v(spec: dict) -> tuple[dict, list, object]:
    """Train fastw2v; returns (measurements, vocabulary words, vectors)."""
    import fastw2v
    from fastw2v.config import Config
    from fastw2v.train import Word2Vec, load_training_corpus

    p = spec["params"]
    memory = {"imports": memory_now()}
    # only fastw2v-batch names the field: an older fastw2v (fastw2v-base) has none
    batched = {"batch_window": True} if spec["tool"] == "fastw2v-batch" else {}
    config = Config(sg=p["sg"], hs=p["hs"], negative=p["negative"], dim=p["dim"], window=p["window"],
                    sample=p["sample"], min_count=p["min_count"], epochs=spec["epochs"], alpha=p["alpha"],
                    min_alpha=p["min_alpha"], threads=spec["threads"], seed=spec["seed"], **batched)
    where = {"work_dir": spec["work_dir"]} if spec.get("work_dir") else {}  # older fastw2v (bench.memory) has none
    t0 = time.perf_counter()
    vocab, encoded, _ = load_training_corpus(spec["corpus"], config, **where)
    t1 = time.perf_counter()
    memory["corpus_loaded"] = memory_now()
    model = Word2Vec.initialize(config, vocab)
    t2 = time.perf_counter()
    memory["weights_made"] = memory_now()
    stats = model.train_encoded(encoded)
    t3 = time.perf_counter()
    memory["trained"] = memory_now()
    getattr(encoded, "close", lambda: None)()
    return {
        "raw_words": int(encoded.raw_word_count),
        "vocab_size": len(vocab),
        "vocab_seconds": t1 - t0,
        "init_seconds": t2 - t1,
        "train_seconds": sum(s.seconds for s in stats),
        "train_wall_seconds": t3 - t2,
        "compile_seconds": model.compile_seconds,
        "end_lr": stats[-1].lr,
        "loss": stats[-1].loss,
        "memory_stages": memory,
        "fastw2v_package": str(Path(fastw2v.__file__).parent),  # which code ran (fastw2v-base: the baseline's)
    }, list(vocab.words), model.syn0


def run_gensim(spec: dict) -> tuple[dict, list, object]:
    """Train gensim 4 in corpus_file mode ('gensim-file') or on a LineSentence
    iterable ('gensim-iter'); the vocabulary build and the training are timed
    apart, as fastw2v's are."""
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence

    p = spec["params"]
    model = Word2Vec(vector_size=p["dim"], window=p["window"], min_count=p["min_count"], sample=p["sample"],
                     sg=int(p["sg"]), hs=int(p["hs"]), negative=p["negative"], alpha=p["alpha"],
                     min_alpha=p["min_alpha"], workers=spec["threads"], seed=spec["seed"], epochs=spec["epochs"])
    path = spec["corpus"]
    file_mode = spec["tool"] == "gensim-file"
    t0 = time.perf_counter()
    if file_mode:
        model.build_vocab(corpus_file=path)
    else:
        model.build_vocab(corpus_iterable=LineSentence(path))
    t1 = time.perf_counter()
    if file_mode:
        model.train(corpus_file=path, total_words=model.corpus_total_words, epochs=spec["epochs"])
        # each worker decays along its own words / ALL words: it ends its
        # last epoch 1/workers of the way through that epoch's schedule
        progress = (spec["epochs"] - 1 + 1 / spec["threads"]) / spec["epochs"]
        end_lr = p["alpha"] - (p["alpha"] - p["min_alpha"]) * progress
    else:
        model.train(corpus_iterable=LineSentence(path), total_examples=model.corpus_count, epochs=spec["epochs"])
        end_lr = model.min_alpha_yet_reached
    t2 = time.perf_counter()
    return {
        "raw_words": int(model.corpus_total_words),
        "vocab_size": len(model.wv),
        "vocab_seconds": t1 - t0,
        "train_seconds": model.total_train_time,
        "train_wall_seconds": t2 - t1,
        "end_lr": float(end_lr),
    }, list(model.wv.index_to_key), model.wv.vectors


def pword2vec_command(spec: dict, vectors: Path) -> list[str]:
    """pWord2Vec's command line for SPEC, writing binary vectors to `vectors`:
    the same settings as the other tools, one batch per window (-batch-size
    2 window + 1, the most context words a window has, plus one, as its help
    suggests).  It has no seed and no min_alpha option (it decays to alpha
    x 1e-4).  stdbuf -oL line-buffers its stdout (see the module docstring)."""
    p = spec["params"]
    return ["stdbuf", "-oL", spec["pword2vec"], "-train", spec["corpus"], "-output", str(vectors), "-binary", "1",
            "-size", str(p["dim"]), "-window", str(p["window"]), "-negative", str(p["negative"]),
            "-sample", repr(float(p["sample"])), "-min-count", str(p["min_count"]),
            "-alpha", repr(float(p["alpha"])), "-iter", str(spec["epochs"]), "-threads", str(spec["threads"]),
            "-batch-size", str(2 * p["window"] + 1)]


def pword2vec_env(threads: int) -> dict:
    """Its OpenMP threads; OpenBLAS single-threaded inside each (its README's setting)."""
    return dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS="1")


def parse_pword2vec_output(text: str, alpha: float) -> dict:
    """Training seconds, vocabulary size and final learning rate from
    pWord2Vec's merged stdout and stderr.  Its vocabulary holds the sentence
    end `</s>` (every newline is one) besides the words, hence the - 1.  Its
    rate is set every 10,000 words a thread from the progress it prints on
    the same occasion, alpha (1 - progress) but at least alpha x 1e-4; the
    last progress it printed gives the rate its last words used (alpha when
    it printed none)."""
    anchor = re.search(r"^ANCHOR train_seconds ([0-9.]+)", text, re.M)
    vocab = re.search(r"Vocab size: (\d+)", text)
    if not (anchor and vocab):
        raise RuntimeError(f"pWord2Vec printed no ANCHOR or vocabulary line:\n{text[-3000:]}")
    progress = re.findall(r"Progress: ([0-9.]+)%", text)
    end_lr = alpha * max(1 - float(progress[-1]) / 100, 1e-4) if progress else alpha
    return {"train_seconds": float(anchor.group(1)), "vocab_size": int(vocab.group(1)) - 1, "end_lr": end_lr}


def run_pword2vec(spec: dict) -> tuple[dict, list, object]:
    """Run the pWord2Vec binary once; returns (measurements, vocabulary
    words, vectors), the words and vectors (read back from its binary
    output with gensim) only when SPEC asks for quality."""
    stamps = {}
    lines = []
    with tempfile.TemporaryDirectory(prefix="pword2vec-") as tmp:
        vectors = Path(tmp) / "vectors.bin"
        start = time.perf_counter()
        proc = subprocess.Popen(pword2vec_command(spec, vectors), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=pword2vec_env(spec["threads"]))
        for line in proc.stdout:  # each line as soon as its newline arrives
            now = time.perf_counter() - start
            if b"Words in train file:" in line:
                stamps.setdefault("vocabulary", now)
            elif line.startswith(b"ANCHOR "):
                stamps.setdefault("trained", now)
            lines.append(line)
        proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)  # reaps it: Popen must not wait again
        proc.returncode = os.waitstatus_to_exitcode(status)
        text = b"".join(lines).decode(errors="replace")
        if proc.returncode or len(stamps) < 2:
            raise RuntimeError(f"pWord2Vec failed (exit {proc.returncode}):\n{text[-3000:]}")
        result = parse_pword2vec_output(text, spec["params"]["alpha"])
        words, weights = [], None
        if spec["quality"]:
            from gensim.models import KeyedVectors

            kv = KeyedVectors.load_word2vec_format(str(vectors), binary=True)
            # row 0 is its sentence end </s>, not a word: no candidate answer of an analogy
            words, weights = list(kv.index_to_key[1:]), kv.vectors[1:]
    return dict(result, raw_words=spec["corpus_tokens"], vocab_seconds=stamps["vocabulary"],
                start_to_train_seconds=stamps["trained"] - result["train_seconds"],
                peak_rss_bytes=usage.ru_maxrss * 1024), words, weights


def quality(words: list, vectors, eval_dir: str) -> dict:
    """Google analogies (30k most frequent words), SimLex-999 and WordSim-353,
    all with gensim's evaluator whichever tool trained the vectors."""
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vectors.shape[1], dtype=vectors.dtype)
    kv.add_vectors(words, vectors)
    eval_dir = Path(eval_dir)
    questions = eval_dir / "questions-words.txt"
    with open(questions) as f:
        n_questions = sum(1 for line in f if line.strip() and not line.startswith(":"))
    _, sections = kv.evaluate_word_analogies(str(questions), restrict_vocab=30000)
    total = sections[-1]
    correct, answered = len(total["correct"]), len(total["correct"]) + len(total["incorrect"])
    result = {"analogy": correct / answered if answered else None,
              "analogy_covered": answered, "analogy_questions": n_questions}
    for name, file in (("simlex", "simlex999.txt"), ("wordsim", "wordsim353.tsv")):
        _, spearman, oov_percent = kv.evaluate_word_pairs(str(eval_dir / file))
        rho = float(spearman[0])
        result[name] = rho if rho == rho else None  # NaN when too few pairs are covered
        result[name + "_oov_percent"] = float(oov_percent)
    return result


def main(spec: dict) -> dict:
    run = {"gensim-file": run_gensim, "gensim-iter": run_gensim, "pword2vec": run_pword2vec}.get(spec["tool"],
                                                                                              run_fastw2v)
    result, words, vectors = run(spec)
    if spec["tool"] != "pword2vec":  # its process is the binary, not this one
        result["resident_split"] = {"anon": memory_status("RssAnon"), "file": memory_status("RssFile")}
    result["words_per_second"] = result["raw_words"] * spec["epochs"] / result["train_seconds"]
    # wall time from process start to the end of training, less the training itself; pWord2Vec measures
    # its own binary's start and peak, not this process's
    result.setdefault("start_to_train_seconds", time.time() - spec["spawned_at"] - result["train_seconds"])
    result.setdefault("peak_rss_bytes", peak_rss_bytes())
    if spec["quality"]:
        result["quality"] = quality(words, vectors, spec["eval_dir"])
    return result


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
