"""Preloaded by the extraction pool's forkserver before it forks a worker: trafilatura and
lxml are imported and the language models loaded there once, and every worker shares them
copy-on-write. Without it each worker loaded its own ≈ 90 MB copy of the models, again
whenever the pool was swapped. The forkserver also asks to die with the service."""

from monitor.lifetime import die_with_parent
from monitor.pipeline.language import warm_up

die_with_parent()
warm_up()
