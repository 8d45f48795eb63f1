"""Preloaded by the extraction pool's forkserver before it forks a worker: trafilatura and
lxml are imported and the language models loaded there once, and every worker shares them
copy-on-write. Without it each worker loaded its own ≈ 90 MB copy of the models, again
whenever the pool was swapped. The forkserver also asks to die with the service."""

import monitor.pipeline.extract  # noqa: F401 - trafilatura and lxml, imported once here
from monitor.lifetime import expect_pool_children, join_pool
from monitor.pipeline.language import warm_up

join_pool()
expect_pool_children()
warm_up()
