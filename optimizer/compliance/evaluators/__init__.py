"""One module per rule family; importing this package registers every rule kind (see ``registry``)."""

from optimizer.compliance.evaluators import adders, china, eccn, letters, notices, scope, screening

__all__ = ["adders", "china", "eccn", "letters", "notices", "scope", "screening"]
