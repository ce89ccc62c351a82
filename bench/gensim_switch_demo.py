"""A gensim Word2Vec tutorial's steps (train, query, evaluate, watch the
loss, train further, save, load), written for gensim and run unchanged on
fastw2v: only the import line below differs.

    python bench/gensim_switch_demo.py CORPUS QUESTIONS PAIRS
    sed 's/^from fastw2v import/from gensim.models import/' bench/gensim_switch_demo.py | python - CORPUS QUESTIONS PAIRS

CORPUS is a text file (.xz read too), e.g. fastw2v/data/warandpeace.txt.xz;
QUESTIONS and PAIRS are questions-words.txt and wordsim353.tsv, e.g. from
gensim's test data (gensim.test.utils.datapath).  The output of both runs
is in bench/results/gensim-switch-demo.md.
"""
import lzma
import os
import re
import sys
import tempfile
import time

from fastw2v import Word2Vec, KeyedVectors


class Corpus:
    """Lower-cased words of each line of a text file; iterable many times, as both libraries need."""

    def __init__(self, path, part):
        self.path, self.part = path, part

    def __iter__(self):
        with (lzma.open if self.path.endswith(".xz") else open)(self.path, "rt", encoding="utf-8") as f:
            for i, line in enumerate(f):
                words = re.findall(r"[a-z]+", line.lower())
                if words and (i % 5 == 4) == (self.part == "more"):  # every fifth line is kept for later
                    yield words


class EpochLogger:
    """Prints the loss of each epoch (the methods gensim calls on a callback)."""

    def __init__(self):
        self.epoch, self.previous = 0, 0.0

    def on_train_begin(self, model):
        self.epoch, self.previous = 0, 0.0

    def on_epoch_begin(self, model):
        pass

    def on_epoch_end(self, model):
        self.epoch += 1
        running = model.get_latest_training_loss()
        print(f"  epoch {self.epoch}: loss {running - self.previous:.4g}")
        self.previous = running

    def on_train_end(self, model):
        pass


corpus_path, questions, pairs = sys.argv[1:4]
sentences, more = Corpus(corpus_path, "first"), Corpus(corpus_path, "more")

print("== train")
start = time.perf_counter()
model = Word2Vec(sentences=sentences, vector_size=100, window=5, min_count=5, sg=1, epochs=5, compute_loss=True,
                 callbacks=[EpochLogger()])
print(f"{model}: {model.corpus_count} sentences, {model.corpus_total_words} words, "
      f"{time.perf_counter() - start:.1f} s")

print("== query")
wv = model.wv
print("vector of 'prince':", wv["prince"].shape, "row 0 is", repr(wv.index_to_key[0]), wv[0].shape)
print("count of 'prince':", wv.get_vecattr("prince", "count"))
print("most similar to 'moscow':", [w for w, _ in wv.most_similar("moscow", topn=5)])
print("king - man + woman:", [w for w, _ in wv.most_similar(positive=["king", "woman"], negative=["man"], topn=3)])
print(f"similarity(prince, princess) = {wv.similarity('prince', 'princess'):.3f}, "
      f"distance = {wv.distance('prince', 'princess'):.3f}, rank = {wv.rank('prince', 'princess')}")
print(f"n_similarity = {wv.n_similarity(['prince', 'count'], ['princess', 'countess']):.3f}")
print("doesn't match:", wv.doesnt_match(["moscow", "petersburg", "vienna", "horse", "notaword"]))
print("by vector:", [w for w, _ in wv.similar_by_vector(wv.get_mean_vector(["horse", "cart"]), topn=4)])

print("== evaluate")
score, sections = wv.evaluate_word_analogies(questions)
print(f"analogies: {score:.3f} ({len(sections[-1]['correct'])} of "
      f"{len(sections[-1]['correct']) + len(sections[-1]['incorrect'])}; {len(sections) - 1} sections)")
pearson, spearman, oov = wv.evaluate_word_pairs(pairs)
print(f"wordsim353: spearman {spearman[0]:.3f} (p={spearman[1]:.2g}), pearson {pearson[0]:.3f}, oov {oov:.1f}%")

print("== train further")
known = len(wv)
model.build_vocab(more, update=True)
model.train(more, total_examples=model.corpus_count, epochs=model.epochs, compute_loss=True,
            callbacks=[EpochLogger()])
print(f"vocabulary {known} -> {len(model.wv)} words; {model.corpus_count} sentences more")

print("== save and load")
folder = tempfile.mkdtemp()
model.save(os.path.join(folder, "word2vec.model"))
again = Word2Vec.load(os.path.join(folder, "word2vec.model"))
print("model reloaded, same vectors:", bool((again.wv.vectors == model.wv.vectors).all()))
again.train(more, total_examples=again.corpus_count, epochs=1)
model.wv.save(os.path.join(folder, "vectors.kv"))
mapped = KeyedVectors.load(os.path.join(folder, "vectors.kv"), mmap="r")
print("vectors mapped:", len(mapped), "words,", mapped.most_similar("moscow", topn=1)[0][0], "nearest to moscow")
model.wv.save_word2vec_format(os.path.join(folder, "vectors.txt"))
text = KeyedVectors.load_word2vec_format(os.path.join(folder, "vectors.txt"), binary=False)
print("word2vec text file:", len(text), "x", text.vector_size)
