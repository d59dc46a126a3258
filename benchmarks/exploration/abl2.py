from abl import *

base = [g for g in ALL if g not in ("w2", "zh2")]
for drop, C in [
    (("header", "message-id"), 1.0),
    (("header", "message-id"), 0.3),
    (("header", "message-id", "date"), 1.0),
    (("header", "message-id", "zh2"), 1.0),
    (("header", "message-id", "to", "x-priority", "date", "defect"), 1.0),
]:
    groups = [g for g in ALL if g not in drop]
    print("drop", drop, C, fmt(run(groups, C)), flush=True)
