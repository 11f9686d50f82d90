"""Behavioural tests of a sentiment model (CheckList-style): generated cases, failure rates, reports."""
