from typing import Optional

from cog import BasePredictor, Input, Secret


class Predictor(BasePredictor):
    def predict(
        self,
        api_key: Secret = Input(description="Optional key", default=None),
        api_key_required: Secret = Input(description="Required key"),
        token: Secret = None,
        maybe: Optional[Secret] = Input(default=None),
        seed: int = Input(description="Random seed", default=None),
    ) -> str:
        return "ok"
