import os

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, steps: int = Input(default=int(os.environ.get("STEPS", "20")))) -> str:
        return str(steps)
