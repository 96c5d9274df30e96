from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, name: str = Input(description="A name", accept="text/plain")) -> str:
        return name
