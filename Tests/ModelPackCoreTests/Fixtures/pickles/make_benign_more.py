"""Builds the benign artifacts make_benign.py leaves out: PyTorch checkpoints saved by torch itself
(a state dict in the zip format and the legacy format, a training checkpoint with its optimizer
state), a text pipeline (CountVectorizer, TfidfTransformer, a classifier), and pandas frames with
time-zone-aware datetimes (zoneinfo and pytz). Kept apart from make_benign.py so that the files it
writes, which are byte-stable, are not rewritten with those that are not. The scanner must report
every one of them as safe, with no finding.

    python3 make_benign_more.py    # writes benign/*; needs torch (CPU), scikit-learn, pandas, pytz
"""
import datetime
import io
import zipfile
import zoneinfo
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytz
import torch
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

OUT = Path(__file__).resolve().parent / "benign"
FIXED = (2026, 1, 1, 0, 0, 0)  # every zip member's time, so the files do not change per run


def save_torch(obj, path: Path, **kwargs) -> None:
    """torch.save, with the zip members' times fixed (torch stamps the current time)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    data = buffer.getvalue()
    if data.startswith(b"PK"):
        source = zipfile.ZipFile(io.BytesIO(data))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
            for info in source.infolist():
                fixed = zipfile.ZipInfo(info.filename, FIXED)
                target.writestr(fixed, source.read(info))
        data = out.getvalue()
    path.write_bytes(data)


def main() -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    save_torch(net.state_dict(), OUT / "torch_state_dict.pt")
    save_torch(net.state_dict(), OUT / "torch_state_dict_legacy.pt", _use_new_zipfile_serialization=False)
    optimizer = torch.optim.Adam(net.parameters())
    net(torch.randn(2, 4)).sum().backward()
    optimizer.step()
    checkpoint = {"epoch": 3, "state_dict": net.state_dict(), "optimizer": optimizer.state_dict(), "loss": 0.25}
    save_torch(checkpoint, OUT / "torch_checkpoint.pth")

    texts = ["a good film", "a bad film", "good acting", "bad acting", "a good plot", "a bad plot"]
    text = Pipeline([("counts", CountVectorizer()), ("tfidf", TfidfTransformer()), ("clf", LogisticRegression())])
    joblib.dump(text.fit(texts, [1, 0, 1, 0, 1, 0]), OUT / "text_pipeline.joblib")

    start = datetime.datetime(2026, 1, 1)
    frame = pd.DataFrame({
        "utc": pd.date_range(start, periods=5, freq="D", tz="UTC"),
        "paris": pd.date_range(start, periods=5, freq="D", tz=zoneinfo.ZoneInfo("Europe/Paris")),
        "tokyo": pd.date_range(start, periods=5, freq="D", tz=pytz.timezone("Asia/Tokyo")),
        "x": np.arange(5.0),
    })
    joblib.dump(frame, OUT / "pandas_frame_tz.joblib")
    print("wrote torch_state_dict.pt, torch_state_dict_legacy.pt, torch_checkpoint.pth, text_pipeline.joblib, "
          "pandas_frame_tz.joblib")


if __name__ == "__main__":
    main()
