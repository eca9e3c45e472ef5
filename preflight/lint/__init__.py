"""Advisory findings on the training code: patterns that keep costing GPU hours on spot instances.

Parsed with `ast`, located (file:line), suppressible (`# preflight: ignore[rule]`, PREFLIGHT_LINT_IGNORE),
never failing the probe. facts.py reads each file once; rules.py judges the project as a whole.
"""
