"""Harvest sources and the data agent: kinds of sources, sources file, agent, API, CLI."""
