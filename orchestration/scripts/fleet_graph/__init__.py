"""A fleet's graph, followed as its controllers follow it, from the root a person applies to every
object applied, and the checks it must pass (`make prove`, `make diff`; and the template's tests)."""
