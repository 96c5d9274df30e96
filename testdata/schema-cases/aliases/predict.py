import typing as t

import cog as c
from cog import BasePredictor as BP
from cog import Input as I
from cog import Path as P
from cog.types import Secret as S


class Predictor(BP):
    def predict(
        self,
        images: t.List[P] = I(description="Images"),
        token: t.Optional[S] = I(default=None),
        mode: t.Union[int, str] = I(default="auto"),
        scale: "float" = I(default=1),
    ) -> t.Iterator[P]:
        yield from images
