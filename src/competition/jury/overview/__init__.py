"""Jury reads for overview pages: a person's memberships, a competition's runs and companies."""
