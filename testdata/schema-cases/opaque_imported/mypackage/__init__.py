class Thing(dict):
    pass
