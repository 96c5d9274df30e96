from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(
        self,
        steps: int = Input(description="Steps", default=50, ge=1, le=500),
        scale: float = Input(default=0.5, ge=0.0, le=1.0),
        strength: float = Input(default=0.25, ge=0.1, le=0.9),
        eps: float = Input(default=1e-3, ge=1e-6, le=1e-1),
        offset: int = Input(default=-1, ge=-10),
        name: str = Input(default="abc", min_length=2, max_length=10),
        code: str = Input(default="AB12", regex=r"^[A-Z]+\d+$"),
        old: str = Input(default="x", deprecated=True, description="Deprecated input"),
        kept: str = Input(default="y", deprecated=False),
        big: int = Input(default=1000000, le=10**7),
    ) -> str:
        return name
