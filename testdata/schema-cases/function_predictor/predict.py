from cog import Input, Path


def predict(text: str = Input(description="Text to echo"), repeat: int = Input(default=1, ge=1, le=5)) -> str:
    return text * repeat
