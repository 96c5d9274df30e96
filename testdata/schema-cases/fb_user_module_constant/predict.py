from cog import BasePredictor, Input
from config import DEFAULT_STEPS


class Predictor(BasePredictor):
    def predict(self, steps: int = Input(default=DEFAULT_STEPS)) -> str:
        return str(steps)
