"""IoU-Net box estimation branch (ATOM / DiMP ``AtomIoUNet``).

A reference branch turns the template features inside the target box into two modulation vectors;
a test branch multiplies the search features by them channel-wise, pools every proposal box with
precise RoI pooling and predicts its IoU with the target. Because PrRoIPool is differentiable in the
box coordinates, the tracker refines boxes by gradient ascent on the predicted IoU.

DiMP and Super DiMP (the PrDiMP box regressor) share this architecture and its parameter names;
they differ only in training (MSE on 2*IoU-1 vs. KL regression over Gaussian-sampled proposals), so
one class serves both (``IoUNet`` is an alias). Every "conv" block is Conv(bias) + BN + ReLU.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .prroi_pool import prroi_pool2d

__all__ = ["AtomIoUNet", "IoUNet", "LinearBlock", "conv_bn_relu", "xywh_to_xyxy"]


def conv_bn_relu(in_planes: int, out_planes: int, kernel_size: int = 3, stride: int = 1,
                 padding: int = 1) -> nn.Sequential:
    """Conv2d(bias) + BatchNorm2d + ReLU; state-dict names ``0.*`` (conv) and ``1.*`` (bn)."""
    return nn.Sequential(nn.Conv2d(in_planes, out_planes, kernel_size, stride=stride, padding=padding, bias=True),
                         nn.BatchNorm2d(out_planes), nn.ReLU(inplace=True))


class LinearBlock(nn.Module):
    """Linear over a flattened (C, k, k) input + BatchNorm (2d over (N, C, 1, 1)) + ReLU."""

    def __init__(self, in_planes: int, out_planes: int, input_sz: int):
        super().__init__()
        self.linear = nn.Linear(in_planes * input_sz * input_sz, out_planes, bias=True)
        self.bn = nn.BatchNorm2d(out_planes)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        x = self.linear(x.reshape(x.shape[0], -1))
        x = self.relu(self.bn(x.reshape(x.shape[0], x.shape[1], 1, 1)))
        return x.reshape(x.shape[0], -1)


def xywh_to_xyxy(b: Tensor) -> Tensor:
    """(x, y, w, h) -> (x0, y0, x1, y1), differentiable (no in-place edits)."""
    return torch.cat((b[..., :2], b[..., :2] + b[..., 2:4]), dim=-1)


class AtomIoUNet(nn.Module):
    """IoU predictor from layer2 (stride 8) and layer3 (stride 16) backbone features.

    args:
        input_dim: channels of the two backbone layers ((128, 256) for ResNet-18,
            (512, 1024) for ResNet-50).
        pred_input_dim, pred_inter_dim: widths of the prediction network (256, 256).
    """

    def __init__(self, input_dim=(128, 256), pred_input_dim=(256, 256), pred_inter_dim=(256, 256)):
        super().__init__()
        self.conv3_1r = conv_bn_relu(input_dim[0], 128)
        self.conv3_1t = conv_bn_relu(input_dim[0], 256)
        self.conv3_2t = conv_bn_relu(256, pred_input_dim[0])
        self.fc3_1r = conv_bn_relu(128, 256, kernel_size=3, padding=0)
        self.conv4_1r = conv_bn_relu(input_dim[1], 256)
        self.conv4_1t = conv_bn_relu(input_dim[1], 256)
        self.conv4_2t = conv_bn_relu(256, pred_input_dim[1])
        self.fc34_3r = conv_bn_relu(256 + 256, pred_input_dim[0], kernel_size=1, padding=0)
        self.fc34_4r = conv_bn_relu(256 + 256, pred_input_dim[1], kernel_size=1, padding=0)
        self.fc3_rt = LinearBlock(pred_input_dim[0], pred_inter_dim[0], 5)
        self.fc4_rt = LinearBlock(pred_input_dim[1], pred_inter_dim[1], 3)
        self.iou_predictor = nn.Linear(pred_inter_dim[0] + pred_inter_dim[1], 1, bias=True)
        # Pooling geometry (output bins, spatial scale) of the reference / test branches.
        self.pool3r, self.pool4r = (3, 1 / 8), (1, 1 / 16)
        self.pool3t, self.pool4t = (5, 1 / 8), (3, 1 / 16)

        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_in")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                # The reference keeps the pre-1.2 PyTorch BN init (weight ~ U(0, 1)).
                nn.init.uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, feat1: list[Tensor], feat2: list[Tensor], bb1: Tensor, proposals2: Tensor) -> Tensor:
        """Training pass.

        args:
            feat1: [layer2, layer3] template features, (I, S, C, H, W) or (I*S, C, H, W).
            feat2: [layer2, layer3] search features, same layouts.
            bb1: template boxes (I, S, 4) xywh; only the first template image is used.
            proposals2: proposals (I_test, S, P, 4) xywh on the search images.
        returns:
            predicted IoU (I_test, S, P).
        """
        if bb1.dim() != 3 or proposals2.dim() != 4:
            raise ValueError("expected bb1 (images, sequences, 4) and proposals2 (images, sequences, P, 4)")
        num_images, num_sequences = proposals2.shape[:2]
        feat1 = [f[0] if f.dim() == 5 else f.reshape(-1, num_sequences, *f.shape[-3:])[0] for f in feat1]
        modulation = self.get_modulation(feat1, bb1[0])
        iou_feat = self.get_iou_feat(feat2)
        modulation = [m.reshape(1, num_sequences, -1).expand(num_images, -1, -1).reshape(num_images * num_sequences, -1)
                      for m in modulation]
        proposals = proposals2.reshape(num_images * num_sequences, -1, 4)
        return self.predict_iou(modulation, iou_feat, proposals).reshape(num_images, num_sequences, -1)

    def get_modulation(self, feat: list[Tensor], bb: Tensor) -> tuple[Tensor, Tensor]:
        """Modulation vectors (N, 256) x 2 from template features [layer2, layer3] and boxes (N, 4) xywh."""
        feat3_r, feat4_r = feat
        boxes = xywh_to_xyxy(bb.reshape(-1, 1, 4))
        c3_r = self.conv3_1r(feat3_r)
        roi3r = prroi_pool2d(c3_r, boxes, self.pool3r[0], self.pool3r[1])[:, 0]
        c4_r = self.conv4_1r(feat4_r)
        roi4r = prroi_pool2d(c4_r, boxes, self.pool4r[0], self.pool4r[1])[:, 0]
        fc34_r = torch.cat((self.fc3_1r(roi3r), roi4r), dim=1)
        return self.fc34_3r(fc34_r), self.fc34_4r(fc34_r)

    def get_iou_feat(self, feat2: list[Tensor]) -> tuple[Tensor, Tensor]:
        """Test-branch features (layer2 -> 256 ch @ 1/8, layer3 -> 256 ch @ 1/16)."""
        feat3_t, feat4_t = [f.reshape(-1, *f.shape[-3:]) for f in feat2]
        return self.conv3_2t(self.conv3_1t(feat3_t)), self.conv4_2t(self.conv4_1t(feat4_t))

    def predict_iou(self, modulation: list[Tensor] | tuple[Tensor, Tensor], feat: list[Tensor] | tuple[Tensor, Tensor],
                    proposals: Tensor) -> Tensor:
        """IoU (N, P) of proposals (N, P, 4) xywh given modulation vectors and test features."""
        mod3, mod4 = modulation
        c3_t, c4_t = feat
        n = c3_t.shape[0]
        num_props = proposals.shape[1]
        c3_att = c3_t * mod3.reshape(n, -1, 1, 1)
        c4_att = c4_t * mod4.reshape(n, -1, 1, 1)
        boxes = xywh_to_xyxy(proposals)
        roi3t = prroi_pool2d(c3_att, boxes, self.pool3t[0], self.pool3t[1])
        roi4t = prroi_pool2d(c4_att, boxes, self.pool4t[0], self.pool4t[1])
        fc3 = self.fc3_rt(roi3t.reshape(n * num_props, *roi3t.shape[2:]))
        fc4 = self.fc4_rt(roi4t.reshape(n * num_props, *roi4t.shape[2:]))
        return self.iou_predictor(torch.cat((fc3, fc4), dim=1)).reshape(n, num_props)


IoUNet = AtomIoUNet
