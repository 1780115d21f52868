"""wirekit.http: the HTTP/1.1 layer (not yet implemented; see the project issues)."""

__all__: list[str] = []
