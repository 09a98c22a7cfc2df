"""Notifications: who is told what about an event, and the mails that tell them."""
