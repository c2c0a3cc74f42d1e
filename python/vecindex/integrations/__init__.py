"""Vector stores for RAG frameworks, built on string-keyed vecindex indexes.

- :mod:`vecindex.integrations.langchain`: ``VecindexStore``, a LangChain ``VectorStore``
  (``pip install "vecindex[langchain]"``);
- :mod:`vecindex.integrations.llama_index`: ``VecindexVectorStore``, a LlamaIndex vector
  store (``pip install "vecindex[llama-index]"``).

Importing this package imports neither framework; each submodule imports its own.
"""
