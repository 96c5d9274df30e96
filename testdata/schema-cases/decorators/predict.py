from typing import AsyncIterator

from cog import BasePredictor, concurrent, streaming


class Predictor(BasePredictor):
    @concurrent(max=4)
    @streaming
    async def predict(self, prompt: str) -> AsyncIterator[str]:
        yield prompt
