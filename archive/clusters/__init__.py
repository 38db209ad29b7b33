"""Stories across outlets: which articles tell the same story, stored at ingest.

Rules (each a symmetric test on two articles, so the clusters do not depend on the order in
which articles arrive):

``title``
    Media Cloud's same-source rule: the same normalized title (:func:`~.shingles.title_key`)
    from the same source, published within :data:`~.linking.TITLE_WINDOW` (7 days).
``text``
    near-duplicates (wire copies, rewrites, cuts), any source or language, within
    :data:`~.linking.TEXT_WINDOW`: the word shingles of title + lead + body, normalized to
    Latin letters (:func:`~.shingles.normalize`) so that a copy in another script shares
    shingles, compared by MinHash (datasketch's, computed with numpy): at least
    :data:`~.linking.TEXT_THRESHOLD` of the shorter text's shingles in the other and a
    Jaccard estimate of at least
    :data:`~.linking.MIN_JACCARD`. Candidates come from a banded LSH index
    (:mod:`.bands`) held in process (:mod:`.index`), fed from the signatures stored in the
    archive.
``entities``
    coverage of one event in different languages: at least
    :data:`~.linking.MIN_SHARED_ENTITIES` shared gazetteer entities, at least one of them a
    person or a weapon system, published within :data:`~.linking.ENTITY_WINDOW` (48 h).

Linked articles form clusters (connected components; :func:`~.linking.components`), whose
id is the smallest member id. Articles stay separate articles: a cluster links them.
"""
