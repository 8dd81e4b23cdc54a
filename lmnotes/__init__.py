"""lmnotes: executable notes on language-model training batches and attention masks.

Each module holds one concept; the pages of the knowledge base import what
they explain from the module of that name.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
