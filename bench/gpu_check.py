"""GPU check in one run (a few minutes on one H100/H200 with 16 cores).

1. Kernels: one launch of each mode (warp of 32 lanes) against the CPU
   kernel on the same words and random draws (one CPU thread, one part per
   work unit): largest weight difference, loss and example counts.
2. Training: skip-gram NS and CBOW NS on a synthetic Zipf corpus and on each
   --corpus, on the GPU and on the CPU path with every core: words/second
   per epoch (raw words, end to end from the encoded corpus to vectors back
   on the host), the loss per epoch, and with --eval-dir the analogy,
   SimLex-999 and WordSim-353 scores next to each other.

Writes bench/results/gpu-check-<card>.md and .json.  Nothing is downloaded;
bring the data along, e.g. on the device machine (carry the folder):

    mkdir .gpu-data && cp ../shared/corpora/en-mix.txt.xz ../shared/eval/* .gpu-data/
    python bench/gpu_check.py --corpus .gpu-data/en-mix.txt.xz --eval-dir .gpu-data

Under NUMBA_ENABLE_CUDASIM=1 it runs as well (slowly: use --zipf-tokens 2000
--check-tokens 200 --dim 8 --lanes 4) to check the script itself.
"""
from __future__ import annotations

import argparse
import json
import lzma
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import fastw2v  # noqa: E402
from fastw2v import kernels_cuda  # noqa: E402
from fastw2v.huffman import build_huffman  # noqa: E402
from fastw2v.kernels_cpu import sigmoid_tables, train_parts  # noqa: E402
from fastw2v.sampling import build_alias_table, keep_probabilities, stream_seed  # noqa: E402


def kernel_check(lanes: int, dim: int, n_tokens: int) -> list[dict]:
    """Each mode: a GPU launch against the CPU kernel with the same draws."""
    import numba

    rng = np.random.default_rng(0)
    vocab = 50
    counts = np.sort(rng.integers(1, 1000, vocab))[::-1].astype(np.int64)
    tokens = rng.choice(vocab, size=n_tokens, p=counts / counts.sum()).astype(np.int32)
    offsets = np.unique(np.r_[0, np.sort(rng.integers(1, n_tokens, n_tokens // 75)), n_tokens]).astype(np.int64)
    unit_start, unit_end = kernels_cuda.plan_units(offsets, 100)
    pieces = np.append(unit_start, unit_end[-1])
    keep = keep_probabilities(counts, 0.01)
    alias_prob, alias_index = build_alias_table(counts ** 0.75)
    codes, points, lengths = build_huffman(counts)
    sig, neg_log_sig = sigmoid_tables()
    numba.set_num_threads(1)
    rows = []
    for sg in (True, False):
        for negative, hs in ((5, False), (0, True)):
            syn0 = (rng.random((vocab, dim), dtype=np.float32) - np.float32(0.5)) / np.float32(dim)
            syn1neg = np.zeros((vocab, dim), np.float32) if negative else None
            syn1 = np.zeros((vocab - 1, dim), np.float32) if hs else None
            cpu = [None if a is None else a.copy() for a in (syn0, syn1neg, syn1)]
            n = len(pieces) - 1
            state = np.array([stream_seed(1, t) for t in range(n)], dtype=np.uint64)
            loss, examples = np.zeros(n), np.zeros(n)
            train_parts(*cpu, None, tokens, pieces, np.arange(n + 1, dtype=np.int64), keep,
                        alias_prob if negative else None, alias_index if negative else None,
                        codes if hs else None, points if hs else None, lengths if hs else None, sig, neg_log_sig,
                        sg, True, 5, True, negative, None, 0.025, 0.025, 100, 0, 1, state, loss, examples)
            gpu = [None if a is None else a.copy() for a in (syn0, syn1neg, syn1)]
            trainer = kernels_cuda.DeviceTrainer(*gpu, keep, alias_prob, alias_index, codes, points, lengths, sig,
                                                 neg_log_sig, lanes)
            gpu_loss, gpu_examples = trainer.launch(tokens, unit_start, unit_end, 0.025, 0.025, 1, 0, sg, True, 5,
                                                    True, negative)
            trainer.download()
            diff = max(float(np.abs(g - c).max()) for g, c in zip(gpu, cpu) if g is not None)
            rows.append({"mode": f"{'sg' if sg else 'cbow'}-{'hs' if hs else 'ns'}", "max_weight_diff": diff,
                         "loss_rel_diff": abs(gpu_loss - loss.sum()) / loss.sum(),
                         "examples": [gpu_examples, float(examples.sum())]})
    return rows


def zipf_corpus(path: Path, tokens: int, vocab: int = 100_000) -> Path:
    """Sentences of 5-30 words drawn from a Zipf(1) law over `vocab` words."""
    rng = np.random.default_rng(17)
    p = 1.0 / np.arange(1, vocab + 1)
    ids = rng.choice(vocab, size=tokens, p=p / p.sum())
    ends = np.cumsum(rng.integers(5, 31, tokens // 5 + 1))
    ends = ends[ends < tokens]
    with open(path, "w") as f:
        for sentence in np.split(ids, ends):
            f.write(" ".join(f"w{i}" for i in sentence) + "\n")
    return path


def quality(model, eval_dir: Path | None) -> dict:
    if eval_dir is None:
        return {}
    from fastw2v.evaluate import analogy_accuracy, word_pair_correlations

    kv = model.wv
    # 30,000 words, as bench.compare evaluates every tool
    analogies = analogy_accuracy(kv, eval_dir / "questions-words.txt", restrict_vocab=30000)
    return {"analogy": analogies["accuracy"], "covered": analogies["covered"],
            "simlex": word_pair_correlations(kv, eval_dir / "simlex999.txt")["spearman"],
            "wordsim": word_pair_correlations(kv, eval_dir / "wordsim353.tsv")["spearman"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, action="append", default=[], help="more corpora (.xz read directly)")
    ap.add_argument("--zipf-tokens", type=int, default=17_000_000)
    ap.add_argument("--eval-dir", type=Path, default=None)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--lanes", type=int, default=kernels_cuda.WARP, help="threads per block in the kernel check")
    ap.add_argument("--check-tokens", type=int, default=3000, help="corpus size of the kernel check")
    ap.add_argument("--tmp", type=Path, default=Path("/tmp"))
    args = ap.parse_args()
    from numba import cuda

    card = "simulator" if kernels_cuda.cuda_config.ENABLE_CUDASIM else cuda.get_current_device().name
    card = card.decode() if isinstance(card, bytes) else str(card)
    report = {"card": card, "cpu_cores": os.cpu_count(), "python": platform.python_version(),
              "kernels": kernel_check(args.lanes, min(args.dim, 32 * args.lanes), args.check_tokens), "training": []}
    for row in report["kernels"]:
        print(f"kernel {row['mode']}: max weight diff {row['max_weight_diff']:.2e}, "
              f"loss rel diff {row['loss_rel_diff']:.2e}, examples gpu/cpu {row['examples']}", flush=True)
    synthetic = zipf_corpus(args.tmp / f"zipf-{args.zipf_tokens}.txt", args.zipf_tokens)  # no real words
    corpora = [synthetic] + args.corpus
    for path in corpora:
        if path.suffix == ".xz":
            plain = args.tmp / path.stem
            if not plain.exists():
                with lzma.open(path, "rb") as src, open(plain, "wb") as dst:
                    while chunk := src.read(1 << 24):
                        dst.write(chunk)
            path = plain
        for mode in ("sg-ns", "cbow-ns"):
            for device in ("cuda", "cpu"):
                start = time.perf_counter()
                model = fastw2v.train(str(path), device=device, sg=mode == "sg-ns", dim=args.dim,
                                      epochs=args.epochs, seed=1, quiet=True)
                row = {"corpus": path.name, "mode": mode, "device": device, "total_seconds":
                       time.perf_counter() - start, "compile_seconds": model.compile_seconds,
                       "words_per_second": [h.words_per_second for h in model.history],
                       "loss": [h.loss for h in model.history],
                       **(quality(model, args.eval_dir) if path != synthetic else {})}
                report["training"].append(row)
                print(json.dumps(row), flush=True)
    out = HERE / "results" / f"gpu-check-{card.replace(' ', '-')}"
    out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    lines = [f"# GPU check on {card} ({report['cpu_cores']} CPU cores), {args.epochs} epoch(s), dim {args.dim}", "",
             "| corpus | mode | device | words/s (last epoch) | loss per epoch | analogy | SimLex | WordSim |",
             "|---|---|---|---|---|---|---|---|"]
    for r in report["training"]:
        q = [f"{r[k]:.3f}" if k in r else "" for k in ("analogy", "simlex", "wordsim")]
        lines.append(f"| {r['corpus']} | {r['mode']} | {r['device']} | {r['words_per_second'][-1] / 1e6:.2f}M | "
                     f"{' '.join(f'{x:.3f}' for x in r['loss'])} | " + " | ".join(q) + " |")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out}.md and .json")


if __name__ == "__main__":
    main()
