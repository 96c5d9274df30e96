from typing import Optional

from cog import BasePredictor, File, Input, Path, Secret


class Predictor(BasePredictor):
    def predict(
        self,
        image: Path = Input(description="Input image"),
        archive: File = Input(description="Deprecated file input"),
        api_key: Secret = Input(description="API token"),
        mask: Optional[Path] = Input(description="Optional mask", default=None),
        token: Optional[Secret] = None,
    ) -> Path:
        return image
