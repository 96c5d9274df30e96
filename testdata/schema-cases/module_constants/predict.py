from cog import BasePredictor, Input

DEFAULT_STEPS = 50
MAX_STEPS = DEFAULT_STEPS * 10
MIN_GUIDANCE, MAX_GUIDANCE = 0.0, 20.0
LR = 1e-4
NEG = -1
KIB = 2 ** 10
PREFIX = "photo of "
DEFAULT_PROMPT = PREFIX + "a dog"
DESCRIPTION: str = "Number of denoising steps"


class Predictor(BasePredictor):
    DEFAULT_SIZE = 768
    SIZES = [512, DEFAULT_SIZE, 1024]

    def predict(
        self,
        steps: int = Input(description=DESCRIPTION, default=DEFAULT_STEPS, ge=1, le=MAX_STEPS),
        lr: float = Input(default=LR, ge=LR / 100, le=1 - LR),
        seed: int = Input(default=NEG, ge=-(2 ** 31), le=2 ** 31 - 1),
        size: int = Input(default=DEFAULT_SIZE, choices=SIZES),
        buffer: int = KIB * 4,
        prompt: str = DEFAULT_PROMPT,
    ) -> str:
        return "ok"
