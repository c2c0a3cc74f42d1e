"""vecindex benchmark suite: recall/QPS against hnswlib, faiss and usearch. Entry point: bench/run.py."""
