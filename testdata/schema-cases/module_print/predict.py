from typing import *
from cog import *

print("loading model code")
class Predictor(BasePredictor):
    def predict(self, a: int = 3) -> int:
        return 1
