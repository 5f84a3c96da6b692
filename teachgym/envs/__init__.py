"""Parameterized environments (issue 3). Every env id is registered here, in one place."""

__all__: list[str] = []
