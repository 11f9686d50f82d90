"""The [data] section of a config (config.py holds the others and the whole)."""

from __future__ import annotations

from dataclasses import dataclass

from .config_limits import LIMITS, require


@dataclass
class DataConfig:
    """How reviews become id sequences, and how the data is split."""

    num_words: int = 10000  # vocabulary size, padding and out-of-vocabulary ids included
    maxlen: int = 200  # tokens kept per review
    # tokens read per review when scoring (validation, test, evaluate, predict, serve, explain); 0: maxlen. A
    # bidirectional model with pooling over time reads any length, so training can cut reviews short for speed
    # while scoring reads more of the long ones (quick: validation loss 0.2482 vs 0.2513, 3 seeds).
    eval_maxlen: int = 0
    padding: str = "pre"  # side that receives padding: "pre" (Keras default) or "post"
    # what loses tokens beyond maxlen: "pre" (the start; Keras' default), "post" (the end) or "middle" (keeps a
    # quarter from the start and the rest from the end: data/vocab.py, truncated)
    truncating: str = "pre"
    # share of the training split held out for model selection; 0 trains on all of it for the configured epochs
    # and keeps the last (a final refit, once the settings were chosen on a validation split)
    validation_split: float = 0.2
    # "movie": hold out whole movies (aclImdb archives and folders; IMDb's test split is movie-disjoint too),
    # "none": any reviews (always the case for CSV files without movie ids)
    validation_groups: str = "none"
    pool: bool = False  # pool train+test and re-split by test_fraction (what many notebooks do)
    # sentiment treebank sources only: every labelled phrase of the training trees is also a training example
    phrases: bool = False
    # sentiment treebank sources only: "binary" (SST-2: labels 0-1 negative, 3-4 positive, 2 dropped) or "graded"
    # (training examples keep label/4 as a soft target, neutral ones included; validation and test stay binary)
    treebank_labels: str = "binary"
    # sentiment treebank sources only: negated variants ("is not", "isn't", "is never") of each clear copula phrase
    # of the training trees, labelled as the mirror image pulled halfway to neutral (data/negation.py); 0-3
    negations: int = 0
    # sentiment treebank sources only: composed examples per clear opinion of the training trees (0-7): embedding
    # negation, with an aside, double negation, confirmed or denied expectation, answered question, contrast,
    # affirming negation (data/composition.py; before format 7 there were six, so 6 made other examples); 8 adds
    # an eighth, the negated limit ("couldn't have been more terrific"), and makes other examples than 7
    compositions: int = 0
    # ... and each construction given as many examples with a positive target as with a negative one (the rarer
    # side repeated in other wordings): the trees hold more positive opinions than negative ones
    balance_compositions: bool = False
    # ... the share of a clear opinion's distance from neutral that its negation keeps on the other side: 0.5
    # ("is dreadful", label 0, negated -> 0.75) reads "not bad" as "fairly good"; 1 mirrors it fully (-> 1.0).
    # A double negation keeps the same share on the opinion's own side.
    negation_strength: float = 0.5
    # ... and the wordings of the constructions: "standard", "extended" (twice as many) or "idioms" (standard,
    # with "can't ... enough" idioms among the affirming negations; data/wordings.py)
    composition_wordings: str = "standard"
    # every word the training split labels on its own (the treebank's one-word phrases) joins the vocabulary,
    # beyond the num_words most frequent: rare opinion words ("loathe") then get an embedding, not <unk>
    labelled_words: bool = False
    # sentiment treebank sources only: first-person verb opinions ("I cherished the acting") in 1-9 of nine
    # constructions per verb and object (negated, embedded, doubly negated, with an aside, contrasted, expected,
    # questioned, "can't ... enough"; data/verb_opinions.py), its verbs kept in the vocabulary; 0: none
    verb_opinions: int = 0
    # the verbs of those opinions: "standard" (24, data/verb_opinions.py's TRAINING) or "extended" (48, EXTENDED)
    verb_lexicon: str = "standard"
    # sentiment treebank sources only: the clear words of a published opinion lexicon that no training tree
    # holds, as one-word examples (data/lexicon.py; "vader": VADER's 7,500 rated words, `pip install
    # 'lstm-sentiment[lexicon]'`; "vader-calibrated": each rating's target the training trees' own for the words
    # they share; "vader+wordnet": VADER's, then unrated words whose every WordNet sense has a synonym VADER
    # rates on one side ("detest"), and the lexicon verbs' forms ("detested"), data/wordnet_lexicon.py), or
    # "none"; with labelled_words they join the vocabulary
    lexicon_words: str = "none"
    # sentiment treebank sources only: the set phrases of data/idioms.json ("I can't fault it", "it fell flat"),
    # each said about this many subjects of the training trees (1-16); 0: none
    idioms: int = 0
    # words outside the vocabulary read as a word inside it (data/aliases.py), chosen from the training and
    # unlabelled texts before any label is seen: "stems" (same Snowball stem: "disliked" -> "dislike"),
    # "neighbours" (also the nearest in meaning by PPMI+SVD vectors, for words seen 20 times: "despise" ->
    # "dislike"), "none"
    word_aliases: str = "none"
    test_fraction: float = 0.2  # used when pooling, or for a CSV without a split column
    split_seed: int = 42

    @property
    def scoring_maxlen(self) -> int:
        """Tokens kept per review when the model scores it rather than learns from it."""
        return self.eval_maxlen or self.maxlen

    def validate(self) -> None:
        require(3 <= self.num_words <= LIMITS["num_words"], f"data.num_words must be in [3, {LIMITS['num_words']:,}]")
        require(1 <= self.maxlen <= LIMITS["maxlen"], f"data.maxlen must be in [1, {LIMITS['maxlen']:,}]")
        require(0 <= self.eval_maxlen <= LIMITS["maxlen"],
                f"data.eval_maxlen must be 0 (as maxlen) or a number of tokens up to {LIMITS['maxlen']:,}")
        require(self.padding in ("pre", "post"), "data.padding must be 'pre' or 'post'")
        require(self.truncating in ("pre", "post", "middle"), "data.truncating must be 'pre', 'post' or 'middle'")
        require(0.0 <= self.validation_split < 1.0, "data.validation_split must be in [0, 1)")
        require(self.validation_groups in ("none", "movie"), "data.validation_groups must be 'none' or 'movie'")
        require(0.0 < self.test_fraction < 1.0, "data.test_fraction must be between 0 and 1")
        require(self.treebank_labels in ("binary", "graded"), "data.treebank_labels must be 'binary' or 'graded'")
        require(0 <= self.negations <= 3, "data.negations must be 0 (none) to 3 (not, n't and never)")
        require(0 <= self.compositions <= 8,
                "data.compositions must be 0 (none) to 7 (one of each of the seven constructions) or 8 (with the "
                "negated limit)")
        require(0 <= self.verb_opinions <= 9,
                "data.verb_opinions must be 0 (none) to 9 (every verb construction for every verb and object)")
        require(self.verb_lexicon in ("standard", "extended"), "data.verb_lexicon must be 'standard' or 'extended'")
        require(self.lexicon_words in ("none", "vader", "vader-calibrated", "vader+wordnet"),
                "data.lexicon_words must be 'none', 'vader', 'vader-calibrated' or 'vader+wordnet'")
        require(0 <= self.idioms <= 16, "data.idioms must be 0 (none) to 16 (subjects each idiom is said about)")
        require(self.word_aliases in ("none", "stems", "neighbours"),
                "data.word_aliases must be 'none', 'stems' or 'neighbours'")
        require(self.composition_wordings in ("standard", "extended", "idioms"),
                "data.composition_wordings must be 'standard', 'extended' or 'idioms'")
        require(0.0 < self.negation_strength <= 1.0,
                "data.negation_strength must be in (0, 1] (near 0: a negated opinion is neutral, 1: its mirror image)")
