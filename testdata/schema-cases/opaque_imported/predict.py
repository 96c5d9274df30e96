from typing import Annotated

from cog import BasePredictor, Opaque
from mypackage import Thing


class Predictor(BasePredictor):
    def predict(self, prompt: str) -> Annotated[Thing, Opaque]:
        return Thing(text=prompt)
