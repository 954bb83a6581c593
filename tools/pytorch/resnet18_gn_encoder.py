#!/usr/bin/env python3
"""Diffusion Policy's image encoder in PyTorch, and the parity fixture of cotrain's Java encoder.

The model is the obs encoder of DP's hybrid image policies for one camera, built the way DP builds it:
torchvision's resnet18 with every BatchNorm2d replaced by GroupNorm(C // 16, C) (DP's replace_bn_with_gn, through
replace_submodules), its avgpool and fc removed (robomimic's ResNet18Conv: nn.Sequential(*children[:-2]) as
"nets"), robomimic's SpatialSoftmax (a 1x1 Conv2d to 32 keypoints as "nets", a fixed temperature buffer and the
pos_x/pos_y grid buffers, softmax over H*W, expected x and y), Flatten, Linear(64, 64) (robomimic's VisualCore
"nets" 0..3), then ObservationEncoder's ReLU. Module names follow robomimic so that the state_dict has DP's keys:
obs_encoder.obs_nets.image.nets.0.nets.0.weight (conv1), ..., obs_encoder.obs_nets.image.nets.1.nets.weight,
obs_encoder.obs_nets.image.nets.3.weight. The crop randomiser (robomimic's, with DP's centre crop at evaluation)
has no parameters; images are uint8 HWC frames, /255 and mapped to [-1, 1] as DP's image normaliser does.

Run it with the Python that has torch (Debian's python3-torch 1.13 and python3-torchvision 0.14):

    /usr/bin/python3 tools/pytorch/resnet18_gn_encoder.py            # writes src/test/resources/fixtures/
    /usr/bin/python3 tools/pytorch/resnet18_gn_encoder.py --check    # regenerates in memory, compares bytes

    /usr/bin/python3 tools/pytorch/resnet18_gn_encoder.py --bench    # the encoder's speed, for benchmarks/RESULTS.md

Fixture resnet18_gn_encoder.safetensors: one forward and backward of the full-size encoder (11,197,088
parameters) on a batch of 2 uint8 96x96x3 frames cropped to 84x84 at given offsets. The 45 MB of float32 weights
are not stored: both sides fill them from the same formula (below), so the file holds only
  input.images (I32, (2, 96, 96, 3), values 0..255), input.offsets (I32, (2, 2), (top, left) per sample),
  input.cropped (2, 3, 84, 84), features (2, 512, 3, 3) the trunk's output, keypoints (2, 64), output (2, 64),
  grad_out (2, 64) the fixed g of the scalar loss sum(output * g), buffer.<name> the state_dict's buffers
  (SpatialSoftmax's temperature, pos_x, pos_y),
  for every parameter of at most FULL_GRAD_LIMIT elements: grad.<name>, its whole gradient;
  for the larger ones (the 3x3 convolutions of layers 2 to 4 and layer4's downsample): grad_index.<name> (I32,
  SAMPLES flat indices drawn from Philox), grad_sample.<name> (the gradient there), and grad_stats.<name> =
  [max |g|, ||g||_2, sum_i g_i r_i] with r_i = +1 or -1 by Philox (a random projection of the whole gradient).
Metadata: the state_dict names in order, the parameter names in order, the parameter count, and the formulas.

The fixture formulas, all float32, Philox4x32-10 as cotrain's rng.h (key = seed, counter = element index;
uniform u = (word0 >> 8) / 2^24; randint in [0, n) = (word0 * n) >> 32):
  parameter k (0-based, state_dict order), element i: u = uniform(WEIGHT_SEED + k, i), v = 2u - 1, and
    conv and Linear weights:      v * sqrt(6 / fan_in)       (kaiming-uniform scale: order-one activations)
    GroupNorm weights:            1 + v * 0.2
    biases (GroupNorm, keypoint conv, Linear): v * 0.1
  images: randint(IMAGE_SEED, i, 0, 256) over the flat (2, 96, 96, 3) array; grad_out: 2 uniform(GRAD_SEED, i) - 1;
  offsets: OFFSETS below; sampled indices: randint(INDEX_SEED + k, j, 0, numel); projection: r_i = +1 when
  uniform(PROJECTION_SEED + k, i) >= 0.5, else -1.
DP's own initialisation (kaiming-normal fan-out convolutions, GroupNorm ones and zeros) is not used here: the
formula gives non-trivial GroupNorm affines and biases, so bugs in those paths show. Everything runs on one thread
in float32, so a rerun writes the same bytes (--check verifies it).
"""
import argparse
import json
import math
import os
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

FIXTURE_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "test",
                                            "resources", "fixtures"))
FIXTURE = "resnet18_gn_encoder.safetensors"

KEY = "image"                 # DP push-T's camera key
PREFIX = "obs_encoder."       # the policy's attribute holding robomimic's ObservationEncoder
BATCH = 2
IMAGE = (96, 96)              # DP push-T's frames
CROP = (84, 84)               # DP push-T's crop_shape
OFFSETS = [[3, 10], [11, 0]]  # (top, left) per sample: off centre, one at the last row robomimic can draw (11)
NUM_KP = 32
FEATURES = 64

WEIGHT_SEED = 1000
IMAGE_SEED = 7
GRAD_SEED = 8
INDEX_SEED = 5000
PROJECTION_SEED = 6000
FULL_GRAD_LIMIT = 40000
SAMPLES = 512


# ---- Philox4x32-10, as native/include/cotrain/philox.h --------------------------------------------------------------

M32 = np.uint64(0xFFFFFFFF)


def philox_word0(seed, n):
    """Word 0 of the Philox block at counters 0 .. n-1 for key seed, as uint64 arrays."""
    ctr = np.arange(n, dtype=np.uint64)
    c0, c1 = ctr & M32, ctr >> np.uint64(32)
    c2 = np.zeros(n, dtype=np.uint64)
    c3 = np.zeros(n, dtype=np.uint64)
    k0, k1 = seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * c0
        p1 = np.uint64(0xCD9E8D57) * c2
        hi0, lo0 = p0 >> np.uint64(32), p0 & M32
        hi1, lo1 = p1 >> np.uint64(32), p1 & M32
        c0, c1, c2, c3 = hi1 ^ c1 ^ np.uint64(k0), lo1, hi0 ^ c3 ^ np.uint64(k1), lo0
        k0 = (k0 + 0x9E3779B9) & 0xFFFFFFFF
        k1 = (k1 + 0xBB67AE85) & 0xFFFFFFFF
    return c0


def philox_uniform(seed, n):
    return (philox_word0(seed, n) >> np.uint64(8)).astype(np.float32) * np.float32(1.0 / 16777216.0)


def philox_randint(seed, n, high):
    return ((philox_word0(seed, n) * np.uint64(high)) >> np.uint64(32)).astype(np.int64)


# ---- the model ------------------------------------------------------------------------------------------------------

def replace_submodules(root, predicate, func):
    """DP's replace_submodules: every module matching predicate replaced by func(module), in place."""
    for name, module in list(root.named_children()):
        if predicate(module):
            setattr(root, name, func(module))
        else:
            replace_submodules(module, predicate, func)
    return root


class ResNet18Conv(nn.Module):
    """robomimic's ResNet18Conv: torchvision's resnet18 without avgpool and fc, as "nets"."""

    def __init__(self):
        super().__init__()
        net = torchvision.models.resnet18()
        self.nets = nn.Sequential(*(list(net.children())[:-2]))

    def forward(self, x):
        return self.nets(x)


class SpatialSoftmax(nn.Module):
    """robomimic's SpatialSoftmax with DP's settings: num_kp 32, temperature 1 (a buffer), no noise, no variance."""

    def __init__(self, input_shape, num_kp):
        super().__init__()
        self._in_c, self._in_h, self._in_w = input_shape
        self.nets = nn.Conv2d(self._in_c, num_kp, kernel_size=1)
        self._num_kp = num_kp
        self.register_buffer("temperature", torch.ones(1))
        pos_x, pos_y = np.meshgrid(np.linspace(-1., 1., self._in_w), np.linspace(-1., 1., self._in_h))
        self.register_buffer("pos_x", torch.from_numpy(pos_x.reshape(1, self._in_h * self._in_w)).float())
        self.register_buffer("pos_y", torch.from_numpy(pos_y.reshape(1, self._in_h * self._in_w)).float())

    def forward(self, feature):
        feature = self.nets(feature)
        feature = feature.reshape(-1, self._in_h * self._in_w)
        attention = F.softmax(feature / self.temperature, dim=-1)
        expected_x = torch.sum(self.pos_x * attention, dim=1, keepdim=True)
        expected_y = torch.sum(self.pos_y * attention, dim=1, keepdim=True)
        return torch.cat([expected_x, expected_y], 1).view(-1, self._num_kp, 2)


class VisualCore(nn.Module):
    """robomimic's VisualCore: nets = Sequential(backbone, pool, Flatten, Linear)."""

    def __init__(self, crop):
        super().__init__()
        backbone = ResNet18Conv()
        feat_h, feat_w = feature_size(crop[0]), feature_size(crop[1])
        pool = SpatialSoftmax((512, feat_h, feat_w), NUM_KP)
        self.nets = nn.Sequential(backbone, pool, nn.Flatten(start_dim=1, end_dim=-1), nn.Linear(2 * NUM_KP, FEATURES))

    def forward(self, x):
        return self.nets(x)


class CropRandomizer(nn.Module):
    """Stands for DP's CropRandomizer in the state_dict layout: it has no parameters or buffers."""


class ObservationEncoder(nn.Module):
    """robomimic's ObservationEncoder for one camera: obs_nets, obs_randomizers, and the ReLU feature activation."""

    def __init__(self, crop):
        super().__init__()
        self.obs_nets = nn.ModuleDict({KEY: VisualCore(crop)})
        self.obs_randomizers = nn.ModuleDict({KEY: CropRandomizer()})
        self.activation = nn.ReLU()

    def forward(self, x):
        return self.activation(self.obs_nets[KEY](x))


def feature_size(size):
    """The trunk's output size: conv1 (7/2/3), max pool (3/2/1), then three stride-2 3x3 stages."""
    size = (size + 6 - 7) // 2 + 1
    size = (size + 2 - 3) // 2 + 1
    for _ in range(3):
        size = (size + 2 - 3) // 2 + 1
    return size


def make_encoder(crop=CROP):
    enc = ObservationEncoder(crop)
    # DP: obs_encoder_group_norm replaces every BatchNorm2d by GroupNorm(num_features // 16, num_features)
    replace_submodules(enc, lambda m: isinstance(m, nn.BatchNorm2d),
                       lambda m: nn.GroupNorm(num_groups=m.num_features // 16, num_channels=m.num_features))
    assert not any(isinstance(m, nn.BatchNorm2d) for m in enc.modules())
    return enc


# ---- the fixture formulas -------------------------------------------------------------------------------------------

def fixture_value(name, shape, k):
    """Parameter k's values by the formula of the module docstring."""
    n = int(np.prod(shape))
    v = philox_uniform(WEIGHT_SEED + k, n) * np.float32(2.0) - np.float32(1.0)
    leaf = name.rsplit(".", 1)[-1]
    if leaf == "bias":
        v = v * np.float32(0.1)
    elif len(shape) == 1:  # GroupNorm weight
        v = np.float32(1.0) + v * np.float32(0.2)
    else:  # conv (out, in, kh, kw) or Linear (out, in) weight
        fan_in = int(np.prod(shape[1:]))
        v = v * np.float32(math.sqrt(6.0 / fan_in))
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


def to_input(images, offsets):
    """uint8 (B, H, W, 3) frames -> float (B, 3, ch, cw) in [-1, 1], cropped at offsets: DP's x / 255, crop,
    and image normaliser (x * 2 - 1), all float32."""
    x = torch.from_numpy(images.astype(np.float32)) / 255.0
    x = x.permute(0, 3, 1, 2)
    crops = [x[b, :, t:t + CROP[0], l:l + CROP[1]] for b, (t, l) in enumerate(offsets)]
    return torch.stack(crops) * 2.0 - 1.0


# ---- safetensors (torch 1.13 has no safetensors package) ------------------------------------------------------------

def safetensors_bytes(tensors, metadata):
    """tensors: [(name, tensor)] in file order (float32 -> F32, int -> I32); 8-byte LE header length, JSON header
    padded with spaces to a multiple of 8, then the raw little-endian data."""
    header = OrderedDict()
    header["__metadata__"] = OrderedDict((k, str(v)) for k, v in metadata.items())
    chunks = []
    offset = 0
    for name, t in tensors:
        t = t.detach().contiguous().cpu()
        if t.dtype == torch.float32:
            dtype, data = "F32", t.numpy().astype("<f4").tobytes()
        elif t.dtype in (torch.int32, torch.int64):
            dtype, data = "I32", t.to(torch.int32).numpy().astype("<i4").tobytes()
        else:
            raise ValueError("%s: unsupported dtype %s" % (name, t.dtype))
        header[name] = OrderedDict([("dtype", dtype), ("shape", list(t.shape)),
                                    ("data_offsets", [offset, offset + len(data)])])
        chunks.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(chunks)


# ---- the fixture ----------------------------------------------------------------------------------------------------

def fixture():
    torch.set_num_threads(1)  # reductions in one fixed order: the same bytes on every run
    enc = make_encoder()
    params = [(PREFIX + n, p) for n, p in enc.named_parameters()]
    with torch.no_grad():
        for k, (name, p) in enumerate(params):
            p.copy_(fixture_value(name, tuple(p.shape), k))
    enc.train()  # no dropout or batch statistics: train and eval compute the same function

    n_img = BATCH * IMAGE[0] * IMAGE[1] * 3
    images = philox_randint(IMAGE_SEED, n_img, 256).reshape(BATCH, IMAGE[0], IMAGE[1], 3)
    x = to_input(images, OFFSETS)

    core = enc.obs_nets[KEY]
    features = core.nets[0](x)
    keypoints = core.nets[2](core.nets[1](features))
    out = enc.activation(core.nets[3](keypoints))
    g = torch.from_numpy(philox_uniform(GRAD_SEED, out.numel()) * np.float32(2.0) - np.float32(1.0)).reshape(
        out.shape)
    (out * g).sum().backward()

    tensors = [("input.images", torch.from_numpy(images.astype(np.int32))),
               ("input.offsets", torch.tensor(OFFSETS, dtype=torch.int32)),
               ("input.cropped", x), ("features", features), ("keypoints", keypoints), ("output", out),
               ("grad_out", g)]
    tensors += [("buffer." + PREFIX + n, b) for n, b in enc.named_buffers()]
    sampled = []
    for k, (name, p) in enumerate(params):
        grad = p.grad.detach().reshape(-1)
        if grad.numel() <= FULL_GRAD_LIMIT:
            tensors.append(("grad." + name, p.grad))
            continue
        sampled.append(name)
        idx = torch.from_numpy(philox_randint(INDEX_SEED + k, SAMPLES, grad.numel()))
        r = torch.from_numpy(np.where(philox_uniform(PROJECTION_SEED + k, grad.numel()) >= 0.5, 1.0, -1.0))
        g64 = grad.double()
        stats = torch.tensor([g64.abs().max().item(), g64.norm().item(), (g64 * r).sum().item()], dtype=torch.float64)
        tensors += [("grad_index." + name, idx), ("grad_sample." + name, grad[idx]),
                    ("grad_stats." + name, stats.float())]

    state_dict = [PREFIX + k for k in enc.state_dict().keys()]
    meta = OrderedDict([
        ("format", "pt"),
        ("writer", "tools/pytorch/resnet18_gn_encoder.py, torch %s, torchvision %s"
         % (torch.__version__, torchvision.__version__)),
        ("config", json.dumps(dict(key=KEY, batch=BATCH, image=list(IMAGE), crop=list(CROP), num_kp=NUM_KP,
                                   features=FEATURES, weight_seed=WEIGHT_SEED, image_seed=IMAGE_SEED,
                                   grad_seed=GRAD_SEED, index_seed=INDEX_SEED, projection_seed=PROJECTION_SEED,
                                   full_grad_limit=FULL_GRAD_LIMIT, samples=SAMPLES), sort_keys=True)),
        ("state_dict", ",".join(state_dict)),
        ("parameters", ",".join(n for n, _ in params)),
        ("parameter_count", str(sum(p.numel() for _, p in params))),
        ("sampled_gradients", ",".join(sampled)),
    ])
    return safetensors_bytes(tensors, meta), meta


# ---- speed, side by side with cotrain's EncoderBenchmarks -----------------------------------------------------------

def bench(threads, batch, repeat, warmup):
    """Median ms of the encoder's evaluation forward and of a training forward + backward at the size of
    EncoderBenchmarks (uint8 96x96 frames, 84x84 crops, DP's initialisation), on `threads` CPU threads."""
    import time
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    enc = make_encoder()
    frames = torch.randint(0, 256, (batch, IMAGE[0], IMAGE[1], 3), dtype=torch.uint8)
    g = torch.randn(batch, FEATURES)
    gen = torch.Generator().manual_seed(1)

    def preprocess(train):
        x = frames.permute(0, 3, 1, 2).float() / 255.0
        if train:  # robomimic's random crop per sample, then the normaliser
            tops = torch.randint(0, IMAGE[0] - CROP[0], (batch,), generator=gen).tolist()
            lefts = torch.randint(0, IMAGE[1] - CROP[1], (batch,), generator=gen).tolist()
            x = torch.stack([x[b, :, t:t + CROP[0], l:l + CROP[1]] for b, (t, l) in enumerate(zip(tops, lefts))])
        else:
            t, l = (IMAGE[0] - CROP[0]) // 2, (IMAGE[1] - CROP[1]) // 2
            x = x[:, :, t:t + CROP[0], l:l + CROP[1]]
        return x * 2.0 - 1.0

    def forward():
        with torch.no_grad():
            enc.eval()
            return enc(preprocess(False))

    def train_step():
        enc.train()
        enc.zero_grad(set_to_none=False)
        (enc(preprocess(True)) * g).sum().backward()

    results = {}
    for name, fn in (("forward", forward), ("train_step", train_step)):
        for _ in range(warmup):
            fn()
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
        times.sort()
        results[name] = times[len(times) // 2]
    print(json.dumps(dict(torch=torch.__version__, threads=threads, batch=batch, image=list(IMAGE), crop=list(CROP),
                          mkldnn=torch.backends.mkldnn.is_available(), forward_ms=round(results["forward"], 1),
                          train_step_ms=round(results["train_step"], 1))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the file on disk instead of writing")
    ap.add_argument("--out", default=FIXTURE_DIR)
    ap.add_argument("--bench", action="store_true", help="time the encoder instead (EncoderBenchmarks' sizes)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args()
    if args.bench:
        bench(args.threads, args.batch, args.repeat, args.warmup)
        return
    data, meta = fixture()
    path = os.path.join(args.out, FIXTURE)
    print("%s: %d bytes; %s parameters, %d state_dict entries, %d gradients sampled"
          % (FIXTURE, len(data), meta["parameter_count"], len(meta["state_dict"].split(",")),
             len(meta["sampled_gradients"].split(","))))
    if args.check:
        with open(path, "rb") as f:
            if f.read() != data:
                print("differs from the file on disk")
                sys.exit(1)
        print("the fixture regenerates bit-identically")
    else:
        os.makedirs(args.out, exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
