"""Run by every kernel of a docs build before its first cell (``PYTHONSTARTUP``, which
IPython's kernel executes at start): the words the cells print are messages from the first
cell on (:mod:`lmnotes.messages`), in the execute step's kernel and in MyST-NB's alike."""

__import__("lmnotes.messages", fromlist=["register_in_docs_kernel"]).register_in_docs_kernel()
