"""Sandboxes: a copy of a live app (its published definitions and a masked sample of its data) to change and
try out, then publish to the live app as one reviewed change set, or throw away.

``access`` (who may), ``masking`` (personal data), ``sample`` (which records), ``copying`` (writing them into
the sandbox), ``making`` (the sandbox itself), ``changes`` (the change set and its publish), ``discard``
(throwing a sandbox away).
"""
