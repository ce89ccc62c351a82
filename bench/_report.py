"""Summaries, Markdown, JSON and charts of bench.compare's runs.

Everything here is computed from the raw run records alone, so a report can be
checked against (or rebuilt from) the ``runs`` list of its JSON file.
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path

TOOL_NAMES = {"fastw2v": "fastw2v", "fastw2v-batch": "fastw2v batch_window", "fastw2v-base": "fastw2v baseline",
              "gensim-file": "gensim corpus_file", "gensim-iter": "gensim iterable", "pword2vec": "pWord2Vec"}
GENSIM = ("gensim-file", "gensim-iter")
FASTW2V = ("fastw2v", "fastw2v-batch", "fastw2v-base")
# what a fastw2v variant's speed is divided by, in the order of the report's columns
REFERENCES = ("best gensim", "gensim-file", "gensim-iter", "pword2vec", "fastw2v")
REFERENCE_NAMES = dict(TOOL_NAMES, **{"best gensim": "best gensim"})


def rate(words_per_second: float) -> str:
    """1234567 -> '1.23M', 45678 -> '45.7k'."""
    if words_per_second >= 1e6:
        return f"{words_per_second / 1e6:.2f}M"
    return f"{words_per_second / 1e3:.1f}k"


def _spread(values: list) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def _mean(values: list):
    values = [v for v in values if v is not None]
    return statistics.fmean(values) if values else None


def _configs(meta: dict):
    s = meta["settings"]
    return [(m, e, t) for m in s["modes"] for e in s["epochs"] for t in s["threads"]]


def round_ratios(by_tool: dict, variant: str) -> dict:
    """A fastw2v variant's words/s in one round divided by each reference
    that ran in that round ('best gensim': the faster gensim mode)."""
    mine = by_tool[variant]
    ratios = {}
    gensim = [by_tool[g] for g in GENSIM if g in by_tool]
    if gensim:
        ratios["best gensim"] = mine / max(gensim)
    for reference in REFERENCES[1:]:
        if reference in by_tool and reference != variant:
            ratios[reference] = mine / by_tool[reference]
    return ratios


def summarize(meta: dict, runs: list) -> dict:
    """Per configuration (mode, epochs, threads): each tool's medians, each
    fastw2v variant's per-round speed ratios and quality means; per mode and
    fastw2v code: the JIT times."""
    timed = [r for r in runs if not r["cold"]]
    speed, quality = [], []
    for mode, epochs, threads in _configs(meta):
        group = [r for r in timed if (r["mode"], r["epochs"], r["threads"]) == (mode, epochs, threads)]
        if not group:
            continue
        row = {"mode": mode, "epochs": epochs, "threads": threads, "tools": {}, "ratios": {}}
        for tool in meta["settings"]["tools"]:
            mine = [r for r in group if r["tool"] == tool]
            if not mine:
                continue
            row["tools"][tool] = {
                "runs": len(mine),
                "words_per_second": _spread([r["words_per_second"] for r in mine]),
                "train_seconds": statistics.median(r["train_seconds"] for r in mine),
                "vocab_seconds": statistics.median(r["vocab_seconds"] for r in mine),
                "peak_rss_mib": statistics.median(r["peak_rss_bytes"] for r in mine) / 2 ** 20,
                "start_to_train_seconds": statistics.median(r["start_to_train_seconds"] for r in mine),
                "raw_words": mine[0]["raw_words"], "vocab_size": mine[0]["vocab_size"],
            }
            if meta["settings"]["quality"]:
                q = [r["quality"] for r in mine]
                quality.append({
                    "mode": mode, "epochs": epochs, "threads": threads, "tool": tool, "runs": len(q),
                    "seeds": sorted({r["seed"] for r in mine}),
                    "analogy": _mean([x["analogy"] for x in q]),
                    "analogy_values": [x["analogy"] for x in q],
                    "analogy_covered": q[0]["analogy_covered"], "analogy_questions": q[0]["analogy_questions"],
                    "simlex": _mean([x["simlex"] for x in q]), "wordsim": _mean([x["wordsim"] for x in q]),
                    "end_lr": _mean([r["end_lr"] for r in mine]),
                })
        rounds = {}
        for r in group:
            rounds.setdefault(r["round"], {})[r["tool"]] = r["words_per_second"]
        per_round = {}  # variant -> reference -> one ratio a round
        for by_tool in rounds.values():
            for variant in FASTW2V:
                if variant in by_tool:
                    for reference, ratio in round_ratios(by_tool, variant).items():
                        per_round.setdefault(variant, {}).setdefault(reference, []).append(ratio)
        row["ratios"] = {variant: {k: dict(_spread(v), per_round=v) for k, v in references.items()}
                         for variant, references in per_round.items()}
        speed.append(row)
    jit = []
    fields = ("compile_seconds", "vocab_seconds", "start_to_train_seconds")
    for cold in (r for r in runs if r["cold"]):
        cached = [r for r in timed if (r["tool"], r["mode"]) == (cold["tool"], cold["mode"])]
        jit.append({"mode": cold["mode"], "tool": cold["tool"], "cold": {f: cold[f] for f in fields},
                    "cached": {f: statistics.median(r[f] for r in cached) for f in fields} if cached else None})
    return {"speed": speed, "jit": jit, "quality": quality}


def write_json(out: Path, meta: dict, runs: list) -> dict:
    """Write <out>.json (meta, every run, summary); called after each run so
    that an interrupted benchmark keeps what it measured."""
    summary = summarize(meta, runs)
    tmp = out.with_name(out.name + ".json.part")
    tmp.write_text(json.dumps({"meta": meta, "runs": runs, "summary": summary}, indent=1) + "\n")
    tmp.rename(out.with_name(out.name + ".json"))
    return summary


# ----- Markdown ----------------------------------------------------------------
def _stamp(meta: dict) -> tuple[str, str]:
    """(machine, versions) lines that every report and chart carries."""
    m, v = meta["machine"], meta["versions"]
    return (f"{m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), {m['memory_gib']} GiB",
            f"Python {v['python']}, numpy {v['numpy']}, numba {v['numba']}, gensim {v['gensim']}, "
            f"fastw2v {v['fastw2v']}")


def _ratio(r: dict | None) -> str:
    if not r:
        return "–"
    return f"{r['median']:.2f}×" + (f" ({r['min']:.2f}–{r['max']:.2f})" if r["n"] > 1 else "")


def _per_tool(row: dict, tools: list, field: str, fmt: str) -> str:
    return " / ".join(format(row["tools"][t][field], fmt) if t in row["tools"] else "–" for t in tools)


def _gensim_file_end_lr(params: dict, epochs: int, threads: int) -> float:
    """Rate gensim's corpus_file workers reach at the end of training: each
    decays by its own words over all words, so 1/threads of the last epoch."""
    return params["alpha"] - (params["alpha"] - params["min_alpha"]) * (epochs - 1 + 1 / threads) / epochs


def _ratio_columns(tools: list) -> list:
    """The references a fastw2v variant is divided by in the report: those
    that ran, 'best gensim' when both gensim modes did, fastw2v when another
    variant did."""
    ran = set(tools)
    shown = {"best gensim": set(GENSIM) <= ran, "fastw2v": "fastw2v" in ran and len(ran & set(FASTW2V)) > 1}
    return [k for k in REFERENCES if shown.get(k, k in ran)]


def _tool_notes(meta: dict) -> list:
    """A sentence on each tool that is not plain fastw2v or gensim, and on the modes left out."""
    s = meta["settings"]
    notes = []
    if "fastw2v-batch" in s["tools"]:
        notes.append("fastw2v batch_window: this fastw2v with `Config(batch_window=True)`, each skip-gram window "
                     "trained as one block with the negatives drawn once per window (HogBatch).")
    if "baseline" in meta:
        notes.append(f"fastw2v baseline: the fastw2v package in `{meta['baseline']['path']}` (sources sha256 "
                     f"{meta['baseline']['sources']}), first on the child's PYTHONPATH, with a numba cache of its own.")
    if "pword2vec" in meta:
        notes.append(f"pWord2Vec: `{meta['pword2vec']['path']}` (sha256 {meta['pword2vec']['sha256']}), "
                     "`-binary 1 -batch-size 2·window+1 -threads T` with OMP_NUM_THREADS=T, OPENBLAS_NUM_THREADS=1. "
                     "It has no seed option (every run uses its built-in seeds), decays alpha to alpha × 1e-4 "
                     "rather than min_alpha, and adds `</s>` (one per line) to its vocabulary, left out of the "
                     "count above; its training seconds are the ones it prints, its raw words the corpus's "
                     "whitespace-separated tokens.")
    if meta.get("skipped"):
        notes.append("Not run (a mode the tool cannot train): " + ", ".join(meta["skipped"]) + ".")
    return notes


def markdown(meta: dict, runs: list, summary: dict) -> str:
    s = meta["settings"]
    tools = s["tools"]
    first = next(iter(s["params"].values()))
    rounds = len(s["seeds"]) * s["repeats"]
    raw = {r["tool"]: r["raw_words"] for r in runs}
    vocab = {r["tool"]: r["vocab_size"] for r in runs}
    references = _ratio_columns(tools)
    lines = [
        f"# fastw2v vs gensim {meta['versions']['gensim']}{' and pWord2Vec' if 'pword2vec' in tools else ''}: "
        f"training on {meta['corpus']['name']}",
        "",
        f"Corpus `{Path(meta['corpus']['path']).name}`: {meta['corpus']['bytes'] / 2 ** 20:.1f} MiB, "
        f"{next(iter(raw.values())):,} raw tokens per epoch; vocabulary at min_count {first['min_count']}: "
        + ", ".join(f"{TOOL_NAMES[t]} {vocab[t]:,}" for t in tools if t in vocab) + ".",
    ]
    if meta.get("sources_changed"):
        lines += ["", "**fastw2v's sources changed while this benchmark ran**: the runs measured different code "
                  "(and numba recompiled in runs that should have loaded its cache). Run it again."]
    if len(set(raw.values())) > 1 or len(set(vocab.values())) > 1:
        lines += ["", "**The tools did not read the same corpus**: raw tokens "
                  + ", ".join(f"{t} {n:,}" for t, n in raw.items()) + "."]
    lines += [
        "",
        f"Settings: dim {first['dim']}, window {first['window']}, "
        f"negative {max(p['negative'] for p in s['params'].values())} "
        f"(0 in the -hs modes), sample {first['sample']:g}, alpha 0.025 (sg) / 0.05 (cbow) decaying to "
        f"{first['min_alpha']:g} for every tool, workers = threads. Epochs {', '.join(map(str, s['epochs']))}; "
        f"seeds {', '.join(map(str, s['seeds']))}; {s['repeats']} repeat(s) per seed, so {rounds} run(s) per tool "
        f"and configuration. Every run is a fresh process; the tools alternate run by run "
        f"({' → '.join(tools)} → …).",
        "",
        *[line for note in _tool_notes(meta) for line in (note, "")],
        f"Machine: {'; '.join(_stamp(meta))}. Load average {meta['load_average_start'][0]:.2f} at the start, "
        f"{meta.get('load_average_end', [float('nan')])[0]:.2f} at the end; {meta['started']} – "
        f"{meta.get('finished', 'unfinished')}.",
        "",
        f"Command: `{meta['command']}`",
        "",
        "## Training speed",
        "",
        "Raw corpus words × epochs / training seconds (the epochs only: no vocabulary, no compile), "
        "median over the runs.",
        "",
        "| mode | epochs | threads | " + " | ".join(TOOL_NAMES[t] for t in tools) + " |",
        "|---|---|---|" + "---|" * len(tools),
    ]
    for row in summary["speed"]:
        cells = [rate(row["tools"][t]["words_per_second"]["median"]) if t in row["tools"] else "–" for t in tools]
        lines.append(f"| {row['mode']} | {row['epochs']} | {row['threads']} | " + " | ".join(cells) + " |")
    ratio_rows = [(row, variant) for row in summary["speed"] for variant in FASTW2V if row["ratios"].get(variant)]
    if references and ratio_rows:
        lines += [
            "",
            "Speed ratios: each divides a fastw2v variant's run by the other tool's run of the same round; "
            "'best gensim' is the faster of gensim's two modes in that round. Median (min–max) over the rounds.",
            "",
            "| mode | epochs | threads | variant | " + " | ".join("÷ " + REFERENCE_NAMES[k] for k in references)
            + " |",
            "|---|---|---|---|" + "---|" * len(references),
        ]
        for row, variant in ratio_rows:
            cells = [_ratio(row["ratios"][variant].get(k)) for k in references]
            lines.append(f"| {row['mode']} | {row['epochs']} | {row['threads']} | {TOOL_NAMES[variant]} | "
                         + " | ".join(cells) + " |")
    order = " / ".join(TOOL_NAMES[t] for t in tools)
    lines += [
        "",
        "## Vocabulary, memory and start-up",
        "",
        f"Medians, each cell {order}. Vocabulary: fastw2v's `load_training_corpus` (count, select and "
        "encode the corpus to ids) against gensim's `build_vocab` (count, select, then allocate the weights "
        "and the sampling tables). Peak RSS: the process's VmHWM after training. Start → training: wall time "
        "from starting the process to the end of training, less the training seconds (imports, reading the "
        "corpus, tables, JIT load)."
        + (" pWord2Vec: vocabulary is its start to its 'Words in train file' line (count and sort), peak RSS "
           "its ru_maxrss, start → training its start to the line it prints after training, less the training "
           "seconds (vocabulary, noise table, loading the corpus)." if "pword2vec" in tools else ""),
        "",
        "| mode | epochs | threads | vocabulary (s) | peak RSS (MiB) | process start → training (s) |",
        "|---|---|---|---|---|---|",
    ]
    for row in summary["speed"]:
        lines.append(f"| {row['mode']} | {row['epochs']} | {row['threads']} | "
                     f"{_per_tool(row, tools, 'vocab_seconds', '.2f')} | "
                     f"{_per_tool(row, tools, 'peak_rss_mib', '.0f')} | "
                     f"{_per_tool(row, tools, 'start_to_train_seconds', '.2f')} |")
    if summary["jit"]:
        lines += [
            "",
            "## fastw2v JIT compile",
            "",
            "Cold: one run per mode and fastw2v code (this checkout's, the baseline's) with an empty numba "
            "cache (a fresh NUMBA_CACHE_DIR); its vocabulary time includes compiling the corpus scanner. "
            "Cached: the median of that tool's timed runs, which load the kernels that the cold run cached. "
            "Kernel compile is `model.compile_seconds`.",
            "",
            "| mode | tool | cold: kernel compile (s) | cold: vocabulary (s) | cold: start → training (s) "
            "| cached: kernel load (s) | cached: vocabulary (s) | cached: start → training (s) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in summary["jit"]:
            c, w = row["cold"], row["cached"]
            cached = ([f"{w[f]:.2f}" for f in ("compile_seconds", "vocab_seconds", "start_to_train_seconds")]
                      if w else ["–"] * 3)
            lines.append(f"| {row['mode']} | {TOOL_NAMES[row['tool']]} | {c['compile_seconds']:.2f} | "
                         f"{c['vocab_seconds']:.2f} | {c['start_to_train_seconds']:.2f} | " + " | ".join(cached) + " |")
    if summary["quality"]:
        lines += [
            "",
            "## Quality",
            "",
            "gensim's evaluator for every tool: Google analogies restricted to the 30,000 most frequent words "
            "(accuracy over the questions covered; min–max over runs), SimLex-999 and WordSim-353 Spearman ρ. "
            "Means over the runs (seeds × repeats). 'lr at end' is the learning rate the last update used "
            "(gensim corpus_file: computed, see below; pWord2Vec: from the last progress it printed).",
            "",
            "| mode | epochs | threads | tool | analogy | covered | SimLex-999 ρ | WordSim-353 ρ | lr at end |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for q in summary["quality"]:
            values = [v for v in q["analogy_values"] if v is not None]
            analogy = "–" if q["analogy"] is None else f"{100 * q['analogy']:.1f}%" + (
                f" ({100 * min(values):.1f}–{100 * max(values):.1f})" if len(values) > 1 else "")
            rho = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
            lines.append(f"| {q['mode']} | {q['epochs']} | {q['threads']} | {TOOL_NAMES[q['tool']]} | {analogy} | "
                         f"{q['analogy_covered']:,}/{q['analogy_questions']:,} | {rho(q['simlex'])} | "
                         f"{rho(q['wordsim'])} | {q['end_lr']:.2g} |")
    if "gensim-file" in tools:
        examples = sorted({(m, e, t) for m, e, t in _configs(meta) if t > 1})
        lines += [
            "",
            "## gensim corpus_file: the learning rate does not decay to min_alpha",
            "",
            "In corpus_file mode each gensim worker reads its own 1/workers of the file and moves its learning "
            "rate by *its own* words divided by the *total* words of an epoch, so with W workers every worker "
            "gets only 1/W of the way through each epoch's share of the linear decay, then jumps to the next "
            "epoch's starting rate. Its iterable mode (and fastw2v) decay over the global word count, as the "
            "word2vec C tool does. The corpus_file runs above therefore train with a larger rate, which changes "
            "their quality (and does not change their speed); both gensim modes are shown so this can be seen. "
            "With one worker the decay is right.",
        ]
        if examples:
            lines += [""] + [
                f"- {m}, {e} epoch(s), {t} threads: gensim corpus_file ends at lr "
                f"{_gensim_file_end_lr(s['params'][m], e, t):.3g} (alpha {s['params'][m]['alpha']:g}, "
                f"min_alpha {s['params'][m]['min_alpha']:g})" for m, e, t in examples]
    return "\n".join(lines) + "\n"


# ----- charts ----------------------------------------------------------------
def charts(out: Path, meta: dict, summary: dict) -> list[Path]:
    """<out>-speed.png (bars: median words/s per mode and tool, min–max
    whiskers) and, with several thread counts, <out>-scaling.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = meta["settings"]
    tools = s["tools"]
    colors = {"fastw2v": "#d62728", "fastw2v-batch": "#ff7f0e", "fastw2v-base": "#8c564b",
              "gensim-file": "#1f77b4", "gensim-iter": "#7fb2e0", "pword2vec": "#2ca02c"}
    machine, software = _stamp(meta)
    stamp = f"{meta['corpus']['name']} · {machine}\n{software}"
    written = []

    panels = [(e, t) for e in s["epochs"] for t in s["threads"]]
    fig, axes = plt.subplots(1, len(panels), figsize=(max(7.0, 1.6 * len(s["modes"]) * len(panels)), 4.4),
                             squeeze=False, sharey=True)
    width = 0.8 / len(tools)
    for ax, (epochs, threads) in zip(axes[0], panels):
        rows = {r["mode"]: r for r in summary["speed"] if (r["epochs"], r["threads"]) == (epochs, threads)}
        for k, tool in enumerate(tools):
            xs, ys, lo, hi = [], [], [], []
            for i, mode in enumerate(s["modes"]):
                w = rows.get(mode, {}).get("tools", {}).get(tool)
                if w:
                    wps = w["words_per_second"]
                    xs.append(i + (k - (len(tools) - 1) / 2) * width)
                    ys.append(wps["median"] / 1e6)
                    lo.append((wps["median"] - wps["min"]) / 1e6)
                    hi.append((wps["max"] - wps["median"]) / 1e6)
            ax.bar(xs, ys, width, yerr=[lo, hi] if any(lo) or any(hi) else None, capsize=3,
                   color=colors[tool], label=TOOL_NAMES[tool])
        ax.set_xticks(range(len(s["modes"])), s["modes"])
        ax.set_title(f"{threads} thread(s), {epochs} epoch(s)", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    written.append(_finish(plt, fig, axes, stamp, 0.07, out.with_name(out.name + "-speed.png")))

    if len(s["threads"]) > 1:
        fig, axes = plt.subplots(1, len(s["modes"]), figsize=(max(7.0, 3.2 * len(s["modes"]) + 1), 4.0), squeeze=False)
        for ax, mode in zip(axes[0], s["modes"]):
            for tool in tools:
                for epochs in s["epochs"]:
                    pts = [(r["threads"], r["tools"][tool]["words_per_second"]["median"] / 1e6)
                           for r in summary["speed"]
                           if r["mode"] == mode and r["epochs"] == epochs and tool in r["tools"]]
                    if pts:
                        label = TOOL_NAMES[tool] + (f", {epochs} ep" if len(s["epochs"]) > 1 else "")
                        ax.plot(*zip(*pts), marker="o", color=colors[tool], label=label)
            ax.set_xticks(s["threads"])
            ax.set_xlabel("threads")
            ax.set_title(mode, fontsize=10)
            ax.set_ylim(bottom=0)
            ax.grid(alpha=0.3)
        written.append(_finish(plt, fig, axes, stamp, 0.08, out.with_name(out.name + "-scaling.png")))
    return written


def _finish(plt, fig, axes, stamp, bottom, path: Path) -> Path:
    """Label the first panel, stamp the machine and versions, save and close."""
    axes[0][0].set_ylabel("million raw words / second")
    axes[0][0].legend(fontsize=8)
    fig.text(0.5, 0.01, stamp, ha="center", fontsize=6.5, color="0.35")
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_all(out: Path, meta: dict, runs: list) -> None:
    """Write <out>.json, <out>.md and the charts."""
    summary = write_json(out, meta, runs)
    out.with_name(out.name + ".md").write_text(markdown(meta, runs, summary))
    charts(out, meta, summary)
