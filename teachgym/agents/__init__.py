"""Students: stable-baselines3 integration, Go-Explore and Adversarial Surprise (issues 4–6)."""

__all__: list[str] = []
