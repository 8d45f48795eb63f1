"""The web face: one ASGI app (`monitor.web.app.create_app`) serving the probes, the REST API
and the console, over the use cases of `monitor.services`."""
