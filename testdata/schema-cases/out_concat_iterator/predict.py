from cog import BasePredictor, ConcatenateIterator, Input


class Predictor(BasePredictor):
    def predict(self, prompt: str = Input(description="Prompt"), max_tokens: int = Input(default=128, ge=1)) -> ConcatenateIterator[str]:
        for word in prompt.split():
            yield word + " "
