from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def setup(self) -> None:
        self.ready = True

    def predict(
        self,
        prompt: str,
        steps: int = 20,
        guidance: float = 7.5,
        enhance: bool = False,
        negative_prompt: str = Input(description="What to avoid", default=""),
        seed: int = Input(description="Random seed"),
    ) -> str:
        return prompt
