import functools

from cog import BasePredictor, Input


def timed(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


class Predictor(BasePredictor):
    @timed
    def predict(self, prompt: str = Input(description="p")) -> str:
        return prompt
