from cog import BasePredictor, Input, Path


class Mixin:
    def helper(self):
        return 1


class Base(BasePredictor):
    def setup(self, weights: Path = None) -> None:
        self.weights = weights

    def predict(self, prompt: str = Input(description="From the base class")) -> str:
        return prompt


class Predictor(Mixin, Base):
    def describe(self):
        return "child"
