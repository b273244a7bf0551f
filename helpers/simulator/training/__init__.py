"""Training: everything that happens to a fine-tuning job after the API has created it.

`worker.py` runs it; `job.py` records it; `data.py`, `session.py` and `outputs.py` read its
files, train it step by step and keep what it produces. Nothing here imports the API.
"""
