"""One contract per action of the catalogue (DESIGN.md §5), one module per owning domain: the request and reply
models, the pattern and the default timeout, imported by the caller's client and the callee's handler alike."""
