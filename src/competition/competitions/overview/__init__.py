"""Reads for overview pages: the competitions a person sees or organises, a competition's log."""
