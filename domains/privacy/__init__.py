"""Personal data as the law expects: a person's erasure on four eyes (``service.py``)."""
