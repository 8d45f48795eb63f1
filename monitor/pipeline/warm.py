"""Preloaded by the extraction pool's forkserver before it forks a worker: trafilatura and
lxml are imported and the language models loaded there once, and every worker shares them
copy-on-write. Without it each worker loaded its own ≈ 90 MB copy of the models, again
whenever the pool was swapped."""

from monitor.pipeline import extract  # noqa: F401 - imported for its side effect: trafilatura
from monitor.pipeline.language import warm_up

warm_up()
