"""The local runtime: moto in-process, the resources of template.yaml, handlers in-process.

Lambda code never imports this package (it needs the ``local`` extra: moto, PyYAML).
"""
