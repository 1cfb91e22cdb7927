"""Backups and restores of everything the platform cannot rebuild (see ``service``)."""
