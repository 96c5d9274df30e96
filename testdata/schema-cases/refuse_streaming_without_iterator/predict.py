import cog
from cog import BasePredictor


class Predictor(BasePredictor):
    @cog.streaming
    def predict(self, prompt: str) -> str:
        return prompt
