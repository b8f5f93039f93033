"""Write verbs of parent evenings, one module per capability (each verb owns its transaction)."""
