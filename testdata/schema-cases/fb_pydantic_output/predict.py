from cog import BasePredictor
from pydantic import BaseModel


class Output(BaseModel):
    text: str


class Predictor(BasePredictor):
    def predict(self, x: str) -> Output:
        return Output(text=x)
