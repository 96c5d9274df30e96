from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def setup(self) -> None:
        self.greeting = "hello"

    def predict(
        self,
        name: str = Input(description="Who to greet", default="world"),
        excitement: int = Input(description="How many exclamation marks", ge=0, le=5, default=1),
    ) -> str:
        return f"{self.greeting}, {name}" + "!" * excitement
