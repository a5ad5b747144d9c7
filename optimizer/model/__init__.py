"""The CP-SAT purchase model: variables, one module per constraint family, objectives, builder."""
