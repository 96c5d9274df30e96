from typing import List, Optional

from cog import BasePredictor, File, Input, Path


class Predictor(BasePredictor):
    def predict(
        self,
        image: Path = Input(description="An image", accept="image/*"),
        clips: List[Path] = Input(description="Audio", accept="audio/wav,audio/mp3"),
        weights: Optional[File] = Input(default=None, accept=".safetensors,.bin"),
        plain: Path = Input(description="No accept"),
    ) -> str:
        return str(image)
