"""Publishing: the files the case systems import and people read, written atomically per as-of date."""
