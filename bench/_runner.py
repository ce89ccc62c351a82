"""One benchmark run in a fresh process: train one tool once, print one JSON line.

``bench.compare`` starts this file as ``python bench/_runner.py SPEC_JSON`` so
that every run pays its own imports, reads the corpus itself and has its own
peak resident memory.  Only the tool being measured is imported.  SPEC holds
the tool ('fastw2v', 'gensim-file', 'gensim-iter'), the corpus path, the
hyper-parameters, the seed, whether to evaluate quality, and ``spawned_at``
(the parent's wall clock just before it started this process), from which the
time from process start to the first training word is measured.
"""
import json
import sys
import time
from pathlib import Path


def memory_status(field: str = "VmHWM") -> int:
    """A memory figure of this process in bytes from /proc/self/status (Linux):
    VmHWM (the peak resident set so far), VmRSS (now)."""
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
    from fastw2v.config import Config
    from fastw2v.train import Word2Vec, load_training_corpus

    p = spec["params"]
    memory = {"imports": memory_now()}
    config = Config(sg=p["sg"], hs=p["hs"], negative=p["negative"], dim=p["dim"], window=p["window"],
                    sample=p["sample"], min_count=p["min_count"], epochs=spec["epochs"], alpha=p["alpha"],
                    min_alpha=p["min_alpha"], threads=spec["threads"], seed=spec["seed"])
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
    run = run_fastw2v if spec["tool"].startswith("fastw2v") else run_gensim
    result, words, vectors = run(spec)
    result["words_per_second"] = result["raw_words"] * spec["epochs"] / result["train_seconds"]
    # wall time from process start to the end of training, less the training itself
    result["start_to_train_seconds"] = time.time() - spec["spawned_at"] - result["train_seconds"]
    result["peak_rss_bytes"] = peak_rss_bytes()
    if spec["quality"]:
        result["quality"] = quality(words, vectors, spec["eval_dir"])
    return result


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
