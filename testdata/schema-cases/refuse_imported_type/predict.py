from cog import BasePredictor
from mypackage import Output


class Predictor(BasePredictor):
    def predict(self, prompt: str) -> Output:
        return Output(text=prompt)
