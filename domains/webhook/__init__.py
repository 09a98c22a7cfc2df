"""Webhooks: what a company's endpoints receive about its events (Standard Webhooks messages)."""
