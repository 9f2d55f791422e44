"""Language-model item features: item text -> strings (``texts``) -> embeddings (``encoder``, the
model located by ``model``) -> a verified on-disk cache (``cache``) -> the matrix the models read
(``features``); ``build.item_features`` runs the whole chain, once per data set."""
