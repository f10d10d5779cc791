#!/usr/bin/python3
"""Make small BERT-architecture ONNX models that transformers.js loads offline.

No model weights can be downloaded where Sift is built and tested, so the tests use models this
script makes. Each folder has the layout transformers.js expects (config.json, tokenizer.json,
tokenizer_config.json, onnx/model.onnx, onnx/model_quantized.onnx).

Weights (`--weights`):
  lexical  (default for tiny) hand-set, deterministic weights that make the outputs mean
           something a test can predict. Both models see a word through a random code that
           `word` and `##word` share (so `user` matches the `##user` of `getUserName`), and both
           ignore stop words, punctuation and special tokens where they can.
           embedder: every token's output is mostly the mean code of the text's content words,
             so mean- (or CLS-) pooled vectors have higher cosine the more content words two
             texts share.
           cross-encoder: layer 0 lets each token attend to its own copies and records whether
             they sit in the other segment; layer 1 averages that over the question's content
             tokens; the logit grows with the share of question words the passage contains
             (saturating with repeats), plus a small deterministic tie-breaker.
  random   (default for minilm) BERT's initialisation, all weights distinct: file size and
           memory like the real model; outputs mean nothing.

Kinds:
  embedder       output `last_hidden_state` [B, T, H]        -> <shape>-embedder/
  cross-encoder  output `logits` [B, 1], one label LABEL_0   -> <shape>-reranker/

Shapes:
  tiny    2 layers, hidden 64, 4 heads, intermediate 128, vocab 2048 (committed test fixtures)
  minilm  6 layers, hidden 384, 12 heads, intermediate 1536, vocab 30522 (same FLOPs as
          all-MiniLM-L6-v2 / ms-marco-MiniLM-L-6-v2; for benchmarks, not committed)

The int8 `model_quantized.onnx` is made here without onnxruntime (Debian has no package for it):
the same rewrite onnxruntime's `quantize_dynamic` does — each MatMul with a constant weight becomes
DynamicQuantizeLinear + MatMulInteger (int8 weight, per-tensor scale) + Cast + Mul, and each
embedding Gather reads an int8 table followed by DequantizeLinear.

Usage (Debian's python; `apt-get install -y --no-install-recommends python3-torch python3-onnx
python3-numpy`):
  /usr/bin/python3 scripts/make-tiny-models.py --shape tiny test/fixtures/models
  /usr/bin/python3 scripts/make-tiny-models.py --shape minilm .tmp/bench-models

The output is byte-for-byte the same on every run (fixed seeds, no timestamps).
"""

import argparse
import json
import math
import os
import string
import sys
import warnings

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

SHAPES = {
    "tiny": dict(layers=2, hidden=64, heads=4, intermediate=128, vocab=2048),
    "minilm": dict(layers=6, hidden=384, heads=12, intermediate=1536, vocab=30522),
}
MAX_POSITIONS = 512
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
OPSET = 14

# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

ENGLISH = """
a about above after again against all also always an and another any are around as ask at
away back be because been before being below best better between both but by call can case
change check could data day different do does done down during each early easy else end enough
even every example fail fast few find first for found from full get give go good great had has
have he help her here high his how however i if important in inside instead into is it its just
keep kind know large last later least less let like line little long look low made make many may
me mean might more most much must my name need never new next no none not now number of off often
old on once one only open or order other our out over own part past people place point possible
put quick rather read real reason right run same say second see seem several she should show
side simple since size small so some something sometimes start state still such sure take than
that the their them then there these they thing think this those though three through time to
together too top true two under until up upon us use used using usually very want was way we
well were what when where whether which while who whole why will with within without work would
write wrong yes yet you your question answer explain happen happens work works working why
where which means handle handled handles support supported supports called calls caller
""".split()

PROGRAMMING = """
abstract and as assert async await bool boolean break byte case catch char class const continue
def default defer del delete do double elif else enum except export extends extern false final
finally float fn for foreach from func function go goto if impl implements import in include
instanceof int interface is lambda let long loop match mod module mut namespace native new nil
none not null object of operator or override package pass private protected pub public raise
readonly ref return self short signed sizeof static str struct super switch synchronized this
throw throws trait true try type typedef typeof uint union unsafe unsigned use using var virtual
void volatile where while with yield
""".split()

IDENTIFIER_PIECES = """
get set add remove delete update create read write load save open close init start stop run
exec execute call apply bind parse format render build make fetch send receive post put patch
retry upload download user users file files path dir folder index error errors err config conf
settings option options opt args arg param params value values key keys map list array dict
hash table queue stack tree node nodes graph edge root child children parent item items entry
entries record records row rows column col field fields name names id ids uid uuid url uri http
https request response req res client server api service handler handle callback event events
listener emit on off message msg log logger logging debug info warn warning trace test tests
spec mock fake stub assert expect check valid validate validator schema model models view
controller component state store cache cached buffer stream pipe reader writer input output in
out src dest source target len length size count total num max min sum avg first last next prev
current new old tmp temp result results ret data db database query sql sqlite table session
token tokens auth login logout password secret hash salt crypto encode decode encrypt decrypt
json yaml xml csv html css dom element elements window document text string str char int float
number bool date time timer timeout interval delay sleep wait async sync promise future task
tasks job jobs worker workers thread threads process pid signal lock mutex pool batch chunk
chunks block blocks page pages offset limit cursor scroll search find filter sort order group
merge split join concat slice copy clone move rename replace match pattern regex glob env
environment path paths os sys io net socket port host address ip dns proxy connect connection
disconnect retry retries attempt attempts backoff policy rate limit limiter throttle quota
status code codes exception exceptions raise throw catch fail failed failure success ok done
complete ready pending cancel cancelled abort signal progress report metric metrics stats
count counter gauge span module modules package packages lib library util utils helper helpers
common core base main app application plugin plugins extension extensions command commands cli
arg argv flag flags help usage version release build dist bundle compile compiler lint format
type types typed interface class method methods func function functions fn lambda closure scope
global local var const let static instance factory builder adapter wrapper proxy registry
manager provider context ctx scope env vec vector vectors embed embedding embeddings rank
rerank ranker score scores similarity distance cosine dot norm normalize weight weights layer
layers tensor matrix dim dims shape batch model tokenizer encode encoder decoder chunker
retriever retrieval answer question prompt chat completion llm select insert email mail
stale valid invalid invalidate expire expired expiry refresh reload reset clear flush evict
upsert migrate migration transaction commit rollback branch diff git repo repository workspace
editor document documents panel webview ui button click input form submit validate sanitize
escape quote unquote serialize deserialize marshal encoder utf8 ascii bytes byte bit bits
parser lexer token ast syntax tree visit visitor walk traverse resolve resolver import export
require include dependency dependencies install uninstall upgrade download mirror registry
timestamp now today clock duration second seconds minute hours day week month year
image images video audio font color style theme layout width height top bottom left right
center margin padding border size resize zoom scale position pos point rect box
""".split()

SUFFIXES = """
s es ed ing er ers or ors ion ions tion tions sion ly able ible ment ments ness ize ized izes
ise al ally ic ical ity ful less ive y ies ier iest en est ant ent ance ence ure age ship ism
ist ists ous ory ary ate ated ates ating ator
""".split()


# Tokens the reranker ignores when it counts which query tokens the passage contains.
STOP_WORDS = set("""
a an the is are was were be been being do does did done how what where when which who whom whose
why this that these those it its of in on at to for from by with as and or but if then than so
not no can could should would will shall may might must there here i you we they he she me my our
your their them us about into over under up down out just also too very s
""".split())


def build_vocab(size: int) -> list:
    """Deterministic WordPiece vocabulary: special tokens, every ASCII letter/digit/punctuation
    (alone and as a `##` piece, so any ASCII word tokenizes without [UNK]), then code-ish words
    (each also as a `##` piece, for identifiers like `getUserName`), suffixes, and filler pieces
    up to `size`."""
    vocab = []
    seen = set()

    def add(tok):
        if tok not in seen and len(vocab) < size:
            seen.add(tok)
            vocab.append(tok)

    for tok in SPECIAL_TOKENS:
        add(tok)
    for ch in string.ascii_lowercase + string.digits + string.punctuation:
        add(ch)
    for ch in string.ascii_lowercase + string.digits:
        add("##" + ch)
    words = []
    for w in ENGLISH + PROGRAMMING + IDENTIFIER_PIECES:
        if w not in words:
            words.append(w)
    for w in words:
        add(w)
    for s in SUFFIXES:
        add("##" + s)
    for w in words:
        if len(w) > 1:
            add("##" + w)
    # Filler: two- and three-letter continuation pieces, common letters first.
    common = "etaoinsrhldcumfpgwybvkxjqz"
    for a in common:
        for b in common:
            add("##" + a + b)
    for a in common:
        for b in common:
            add(a + b)
    for a in common:
        for b in common:
            for c in common:
                add("##" + a + b + c)
    i = 0
    while len(vocab) < size:
        add("[unused%d]" % i)
        i += 1
    return vocab


def tied_rows(vocab: list) -> list:
    """Pairs (piece_id, word_id) where `##word` should share `word`'s embedding: the listed
    words of two or more letters (`##s` is a suffix, not the letter `s`)."""
    index = {tok: i for i, tok in enumerate(vocab)}
    words = set(ENGLISH + PROGRAMMING + IDENTIFIER_PIECES)
    pairs = []
    for i, tok in enumerate(vocab):
        w = tok[2:]
        if tok.startswith("##") and len(w) > 1 and w in words and w in index:
            pairs.append((i, index[w]))
    return pairs


def is_stop(tok: str) -> bool:
    """Stop words, inflection suffixes (`##s`, `##ed`), punctuation and special tokens."""
    return (tok in STOP_WORDS or tok in SPECIAL_TOKENS or tok[2:] in SUFFIXES and
            tok.startswith("##") or (len(tok) == 1 and tok in string.punctuation))


# --------------------------------------------------------------------------------------------
# Tokenizer files
# --------------------------------------------------------------------------------------------


def tokenizer_json(vocab: list) -> dict:
    ids = {tok: i for i, tok in enumerate(vocab)}
    added = [
        dict(id=ids[t], content=t, single_word=False, lstrip=False, rstrip=False,
             normalized=False, special=True)
        for t in SPECIAL_TOKENS
    ]

    def special(tok, type_id):
        return {"SpecialToken": {"id": tok, "type_id": type_id}}

    def seq(name, type_id):
        return {"Sequence": {"id": name, "type_id": type_id}}

    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {
            "type": "BertNormalizer",
            "clean_text": True,
            "handle_chinese_chars": True,
            "strip_accents": None,
            "lowercase": True,
        },
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [special("[CLS]", 0), seq("A", 0), special("[SEP]", 0)],
            "pair": [special("[CLS]", 0), seq("A", 0), special("[SEP]", 0), seq("B", 1),
                     special("[SEP]", 1)],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [ids["[CLS]"]], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [ids["[SEP]"]], "tokens": ["[SEP]"]},
            },
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {
            "type": "WordPiece",
            "unk_token": "[UNK]",
            "continuing_subword_prefix": "##",
            "max_input_chars_per_word": 100,
            "vocab": ids,
        },
    }


def tokenizer_config() -> dict:
    return {
        "tokenizer_class": "BertTokenizer",
        "do_lower_case": True,
        "tokenize_chinese_chars": True,
        "strip_accents": None,
        "model_max_length": MAX_POSITIONS,
        "pad_token": "[PAD]",
        "unk_token": "[UNK]",
        "cls_token": "[CLS]",
        "sep_token": "[SEP]",
        "mask_token": "[MASK]",
        "clean_up_tokenization_spaces": True,
    }


def model_config(shape: dict, kind: str) -> dict:
    cfg = {
        "architectures": ["BertForSequenceClassification" if kind == "cross-encoder" else "BertModel"],
        "model_type": "bert",
        "vocab_size": shape["vocab"],
        "hidden_size": shape["hidden"],
        "num_hidden_layers": shape["layers"],
        "num_attention_heads": shape["heads"],
        "intermediate_size": shape["intermediate"],
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": MAX_POSITIONS,
        "type_vocab_size": 2,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
    }
    if kind == "cross-encoder":
        cfg.update({"id2label": {"0": "LABEL_0"}, "label2id": {"LABEL_0": 0}, "num_labels": 1})
    return cfg


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


class Layer(torch.nn.Module):
    def __init__(self, h, heads, inter, eps):
        super().__init__()
        self.heads = heads
        self.head_dim = h // heads
        self.query = torch.nn.Linear(h, h)
        self.key = torch.nn.Linear(h, h)
        self.value = torch.nn.Linear(h, h)
        self.attn_out = torch.nn.Linear(h, h)
        self.attn_norm = torch.nn.LayerNorm(h, eps=eps)
        self.inter = torch.nn.Linear(h, inter)
        self.out = torch.nn.Linear(inter, h)
        self.out_norm = torch.nn.LayerNorm(h, eps=eps)

    def split(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x, mask_bias):
        b, t, h = x.shape
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + mask_bias
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, t, h)
        x = self.attn_norm(x + self.attn_out(ctx))
        return self.out_norm(x + self.out(torch.nn.functional.gelu(self.inter(x))))


class Bert(torch.nn.Module):
    def __init__(self, shape, kind, eps=1e-12):
        super().__init__()
        h = shape["hidden"]
        self.kind = kind
        self.word = torch.nn.Embedding(shape["vocab"], h)
        self.position = torch.nn.Embedding(MAX_POSITIONS, h)
        self.token_type = torch.nn.Embedding(2, h)
        self.emb_norm = torch.nn.LayerNorm(h, eps=eps)
        self.layers = torch.nn.ModuleList(
            [Layer(h, shape["heads"], shape["intermediate"], eps) for _ in range(shape["layers"])])
        self.register_buffer("position_ids", torch.arange(MAX_POSITIONS).unsqueeze(0),
                             persistent=False)
        if kind == "cross-encoder":
            self.classifier = torch.nn.Linear(h, 1)

    def forward(self, input_ids, attention_mask, token_type_ids):
        t = input_ids.shape[1]
        x = self.word(input_ids) + self.token_type(token_type_ids) + \
            self.position(self.position_ids[:, :t])
        x = self.emb_norm(x)
        mask_bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, mask_bias)
        if self.kind == "cross-encoder":
            return self.classifier(x[:, 0])
        return x


def set_param(p, array):
    with torch.no_grad():
        p.copy_(torch.from_numpy(np.asarray(array, dtype=np.float32)))


def zero_all(model):
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        for m in model.modules():
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.fill_(1.0)


def init_embedder(model, shape, vocab, rng, content=1.5, key_content=8.0, gain=20.0):
    """Hand-set weights: a bag of content words. Every token's output is mostly the mean word
    code of the text's content tokens (stop words, punctuation and specials excluded), so mean
    pooling (and [CLS] pooling) gives vectors whose cosine grows with shared content words.

    Hidden dims: [0, H-2) random word code (`##word` equals `word`), H-2/H-1 content flag
    (+c/-c for content tokens, -c/+c for the rest). Layer 0: all heads use a constant query
    (via the bias) against keys from the content flag, so each attends uniformly to the content
    tokens (to all tokens if there are none), with the word code as value; the output projection
    multiplies by `gain`, so after the residual and LayerNorm the shared mean dominates each
    token's own vector. Every other weight is zero: FFNs and later layers pass it through.
    """
    h, heads = shape["hidden"], shape["heads"]
    d = h // heads
    n_word = h - 2
    c0, c1 = h - 2, h - 1
    zero_all(model)

    code = rng.standard_normal((shape["vocab"], n_word))
    code -= code.mean(axis=1, keepdims=True)
    code /= np.linalg.norm(code, axis=1, keepdims=True)
    word = np.zeros((shape["vocab"], h))
    word[:, :n_word] = code * math.sqrt(h - 2 * content * content)
    for piece, whole in tied_rows(vocab):
        word[piece] = word[whole]
    for i, tok in enumerate(vocab):
        sign = -1.0 if is_stop(tok) else 1.0
        word[i, c0], word[i, c1] = sign * content, -sign * content
    set_param(model.word.weight, word)

    l0 = model.layers[0]
    bq = np.zeros(h)
    wk = np.zeros((h, h))
    for head in range(heads):
        bq[head * d] = 1.0
        wk[head * d, c0] = key_content * math.sqrt(d) / content
    set_param(l0.query.bias, bq)
    set_param(l0.key.weight, wk)
    wv = np.zeros((h, h))
    wv[:n_word, :n_word] = np.eye(n_word)
    set_param(l0.value.weight, wv)
    set_param(l0.attn_out.weight, np.eye(h) * gain)


def init_cross_encoder(model, shape, vocab, rng, self_score=40.0, seg=2.5, content=1.5,
                       match_gain=1.0, key_seg=12.0, key_content=5.0, tie_weight=1.0):
    """Hand-set weights: the logit grows with the share of the question's content tokens that
    the passage contains (saturating with repeats), plus a small deterministic tie-breaker.

    Hidden dims: [0, H-7) word identity (a d-dim code, d = head size, spread over these dims by
    a fixed orthonormal basis B so int8 activations keep precision), H-7 tie-breaker, H-6/H-5
    content flag (+c/-c for content tokens, -c/+c for stop words, punctuation and specials),
    H-4/H-3 segment (+seg/-seg for the question, -seg/+seg for the passage), H-2 match signal,
    H-1 aggregate. All other weights are zero; zero FFNs pass the residual through. Every
    embedding sum has mean 0 and |x|^2 = H, so the embedding LayerNorm keeps it as it is.
    """
    h, heads = shape["hidden"], shape["heads"]
    d = h // heads
    n_word = h - 7
    tie_dim, c0, c1, t0, t1, m_dim, a_dim = range(h - 7, h)
    zero_all(model)

    basis = rng.standard_normal((n_word, d))
    basis -= basis.mean(axis=0, keepdims=True)      # zero-mean columns => zero-mean words
    basis, _ = np.linalg.qr(basis)                  # orthonormal columns, still zero-mean
    u = rng.standard_normal((shape["vocab"], d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    word_norm = math.sqrt(h - 2 * seg * seg - 2 * content * content)
    word = np.zeros((shape["vocab"], h))
    word[:, :n_word] = (u @ basis.T) * word_norm
    for piece, whole in tied_rows(vocab):
        word[piece] = word[whole]
    for i, tok in enumerate(vocab):
        sign = -1.0 if is_stop(tok) else 1.0
        word[i, c0], word[i, c1] = sign * content, -sign * content
    set_param(model.word.weight, word)
    token_type = np.zeros((2, h))
    token_type[0, t0], token_type[0, t1] = seg, -seg
    token_type[1, t0], token_type[1, t1] = -seg, seg
    set_param(model.token_type.weight, token_type)

    # Layer 0, head 0: attend to identical tokens (self score `self_score`; distinct tokens have
    # code cosine well below 1, so they get almost no weight). The value is the segment sign, so
    # a question token's output rises from -seg (only itself) towards +seg (many copies in the
    # passage). Written to the match dim.
    gamma = math.sqrt(self_score * math.sqrt(d)) / word_norm
    l0 = model.layers[0]
    wq = np.zeros((h, h))
    wq[:d, :n_word] = basis.T * gamma
    set_param(l0.query.weight, wq)
    set_param(l0.key.weight, wq)
    wv = np.zeros((h, h))
    wv[0, t1] = 1.0
    set_param(l0.value.weight, wv)
    wo = np.zeros((h, h))
    wo[m_dim, 0] = match_gain
    set_param(l0.attn_out.weight, wo)

    # Layer 1, head 0: a constant query (via the bias) against keys that are large for question
    # tokens and, among those, for content tokens: every position averages the match signal over
    # the question's content tokens (over its stop words only if it has nothing else).
    l1 = model.layers[1]
    wk = np.zeros((h, h))
    wk[0, t0] = key_seg * math.sqrt(d) / seg
    wk[0, c0] = key_content * math.sqrt(d) / content
    set_param(l1.key.weight, wk)
    bq = np.zeros(h)
    bq[0] = 1.0
    set_param(l1.query.bias, bq)
    wv = np.zeros((h, h))
    wv[0, m_dim] = 1.0
    # Head 1: uniform attention (zero query/key) over all tokens, value = a fixed random
    # projection of the word code: a small, deterministic, content-dependent term that breaks
    # ties between passages with equal coverage.
    r = rng.standard_normal(d)
    wv[d, :n_word] = basis @ (r / np.linalg.norm(r))
    set_param(l1.value.weight, wv)
    wo = np.zeros((h, h))
    wo[a_dim, 0] = 1.0
    wo[tie_dim, d] = 1.0
    set_param(l1.attn_out.weight, wo)

    wc = np.zeros((1, h))
    wc[0, a_dim] = 10.0 / (seg * match_gain)
    wc[0, tie_dim] = tie_weight
    set_param(model.classifier.weight, wc)


# --------------------------------------------------------------------------------------------
# Export and int8 quantization
# --------------------------------------------------------------------------------------------


def export_onnx(model, kind, path):
    model.eval()
    ids = torch.tensor([[2, 10, 11, 3], [2, 12, 3, 0]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    types = torch.zeros_like(ids)
    out_name = "logits" if kind == "cross-encoder" else "last_hidden_state"
    dyn = {"input_ids": {0: "batch_size", 1: "sequence_length"},
           "attention_mask": {0: "batch_size", 1: "sequence_length"},
           "token_type_ids": {0: "batch_size", 1: "sequence_length"},
           out_name: {0: "batch_size"} if kind == "cross-encoder"
           else {0: "batch_size", 1: "sequence_length"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (ids, mask, types), path, opset_version=OPSET,
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=[out_name], dynamic_axes=dyn, do_constant_folding=True)
    m = onnx.load(path)
    m.producer_name = "sift make-tiny-models.py"
    m.producer_version = ""
    onnx.checker.check_model(m)
    onnx.save(m, path)


def quantize_int8(src, dst):
    """Dynamic int8 quantization, like onnxruntime.quantization.quantize_dynamic."""
    m = onnx.load(src)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    # torch.onnx.export shares identical weights (all-zero ones here) through Identity nodes;
    # point their readers at the initializer itself.
    alias = {}
    for node in list(g.node):
        if node.op_type == "Identity" and node.input[0] in inits and \
                node.output[0] not in [o.name for o in g.output]:
            alias[node.output[0]] = node.input[0]
            g.node.remove(node)
    for node in g.node:
        for i, name in enumerate(node.input):
            if name in alias:
                node.input[i] = alias[name]
    new_nodes, new_inits, done = [], [], set()
    n_matmul = n_gather = 0

    def q_weight(name):
        if name in done:
            return
        done.add(name)
        w = numpy_helper.to_array(inits[name]).astype(np.float32)
        scale = max(float(np.abs(w).max()) / 127.0, 1e-8)
        wq = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        new_inits.append(numpy_helper.from_array(wq, name + "_quantized"))
        new_inits.append(numpy_helper.from_array(np.array(scale, dtype=np.float32), name + "_scale"))
        new_inits.append(numpy_helper.from_array(np.array(0, dtype=np.int8), name + "_zero_point"))

    for node in g.node:
        if node.op_type == "MatMul" and node.input[1] in inits and \
                len(inits[node.input[1]].dims) == 2:
            a, w, y = node.input[0], node.input[1], node.output[0]
            p = node.name or y
            q_weight(w)
            new_nodes += [
                helper.make_node("DynamicQuantizeLinear", [a],
                                 [p + "_a_q", p + "_a_scale", p + "_a_zp"], name=p + "_quant"),
                helper.make_node("MatMulInteger", [p + "_a_q", w + "_quantized", p + "_a_zp",
                                                   w + "_zero_point"], [p + "_int32"],
                                 name=p + "_matmul_int"),
                helper.make_node("Cast", [p + "_int32"], [p + "_float"], to=TensorProto.FLOAT,
                                 name=p + "_cast"),
                helper.make_node("Mul", [p + "_a_scale", w + "_scale"], [p + "_scale"],
                                 name=p + "_scale_mul"),
                helper.make_node("Mul", [p + "_float", p + "_scale"], [y], name=p + "_out"),
            ]
            n_matmul += 1
        elif node.op_type == "Gather" and node.input[0] in inits and \
                inits[node.input[0]].data_type == TensorProto.FLOAT:
            w, idx, y = node.input[0], node.input[1], node.output[0]
            p = node.name or y
            q_weight(w)
            axis = [a for a in node.attribute if a.name == "axis"]
            new_nodes += [
                helper.make_node("Gather", [w + "_quantized", idx], [p + "_q"], name=p + "_gather_q",
                                 axis=axis[0].i if axis else 0),
                helper.make_node("DequantizeLinear", [p + "_q", w + "_scale", w + "_zero_point"],
                                 [y], name=p + "_dequant"),
            ]
            n_gather += 1
        else:
            new_nodes.append(node)

    del g.node[:]
    g.node.extend(new_nodes)
    used = {name for node in g.node for name in node.input}
    kept = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(kept + new_inits)
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    return n_matmul, n_gather


# --------------------------------------------------------------------------------------------


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def init_random(model, rng):
    """BERT's own initialisation (normal, std 0.02; LayerNorm 1/0; zero biases): realistic
    size and memory for benchmarks, scores and vectors carry no meaning."""
    for name, p in model.named_parameters():
        if name.endswith("norm.weight"):
            set_param(p, np.ones(p.shape))
        elif name.endswith("bias"):
            set_param(p, np.zeros(p.shape))
        else:
            set_param(p, rng.standard_normal(p.shape) * 0.02)


def make(out_dir, shape_name, kind, seed, weights):
    shape = SHAPES[shape_name]
    folder = os.path.join(out_dir, "%s-%s" % (shape_name,
                                              "reranker" if kind == "cross-encoder" else kind))
    os.makedirs(os.path.join(folder, "onnx"), exist_ok=True)
    vocab = build_vocab(shape["vocab"])
    assert len(vocab) == shape["vocab"]

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Bert(shape, kind)
    if weights == "random":
        init_random(model, rng)
    elif kind == "cross-encoder":
        init_cross_encoder(model, shape, vocab, rng)
    else:
        init_embedder(model, shape, vocab, rng)

    write_json(os.path.join(folder, "config.json"), model_config(shape, kind))
    write_json(os.path.join(folder, "tokenizer.json"), tokenizer_json(vocab))
    write_json(os.path.join(folder, "tokenizer_config.json"), tokenizer_config())
    write_json(os.path.join(folder, "special_tokens_map.json"),
               {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]",
                "cls_token": "[CLS]", "mask_token": "[MASK]"})
    with open(os.path.join(folder, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")

    fp32 = os.path.join(folder, "onnx", "model.onnx")
    export_onnx(model, kind, fp32)
    n_matmul, n_gather = quantize_int8(fp32, os.path.join(folder, "onnx", "model_quantized.onnx"))
    sizes = {f: os.path.getsize(os.path.join(folder, "onnx", f))
             for f in ("model.onnx", "model_quantized.onnx")}
    print("%s (%s weights): vocab %d, %d int8 MatMuls, %d int8 Gathers, model.onnx %d B, "
          "model_quantized.onnx %d B" % (folder, weights, len(vocab), n_matmul, n_gather,
                                          sizes["model.onnx"], sizes["model_quantized.onnx"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", help="folder that receives <shape>-embedder/ and <shape>-reranker/")
    ap.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    ap.add_argument("--kind", choices=["embedder", "cross-encoder", "both"], default="both")
    ap.add_argument("--weights", choices=["lexical", "random"],
                    help="lexical: hand-set weights that score/embed by shared words (default for "
                         "tiny); random: BERT-style random init, all weights distinct, so file "
                         "size and memory match a real model (default for minilm)")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    weights = args.weights or ("lexical" if args.shape == "tiny" else "random")
    torch.set_num_threads(1)
    kinds = ["embedder", "cross-encoder"] if args.kind == "both" else [args.kind]
    for i, kind in enumerate(kinds):
        make(args.out_dir, args.shape, kind, args.seed + i, weights)
    return 0


if __name__ == "__main__":
    sys.exit(main())
