"""Compiled reads: the planner that turns a declaration-only GraphQL read into a plan."""
