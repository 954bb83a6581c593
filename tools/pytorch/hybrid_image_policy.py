#!/usr/bin/env python3
"""Diffusion Policy's image transformer policy in PyTorch, and the parity fixture of one full training step of
cotrain's ImagePolicy.

The policy is DP's DiffusionTransformerHybridImagePolicy (obs_as_cond) as its state_dict lays it out:
  _dummy_variable                          DP's ModuleAttrMixin (zero-size)
  obs_encoder.obs_nets.image.*             robomimic's encoder with DP's GroupNorm swap: torchvision resnet18 without
                                           avgpool/fc, SpatialSoftmax (32 keypoints, its temperature/pos_x/pos_y
                                           buffers), Flatten, Linear(64, 64); then ReLU (resnet18_gn_encoder.py)
  model.*                                  TransformerForDiffusion (transformer_for_diffusion.py), cond_dim 64 + 2
  mask_generator._dummy_variable           DP's LowdimMaskGenerator (a ModuleAttrMixin)
  normalizer.params_dict.<key>.*           DP's LinearNormalizer: action, agent_pos, image (the range normaliser)
Its loss is DP's compute_loss with obs_as_cond: the first To frames of each window, (B To, 96, 96, 3) uint8, /255,
cropped (robomimic's CropRandomizer; here at given offsets), to [-1, 1], through the encoder; the features (B, To, 64)
and the normalised agent_pos (B, To, 2) concatenated as the condition (B, To, 66); x_t = add_noise(x0, eps, t)
(squaredcos_cap_v2, T = 100); MSE(model(x_t, t, cond), eps). The optimizer is DP's get_optimizer: AdamW with the
denoiser's two groups (get_optim_groups(transformer_weight_decay)) and the encoder's (obs_encoder_weight_decay).

Run it with the Python that has torch (Debian's python3-torch 1.13 and python3-torchvision 0.14):

    /usr/bin/python3 tools/pytorch/hybrid_image_policy.py            # writes src/test/resources/fixtures/
    /usr/bin/python3 tools/pytorch/hybrid_image_policy.py --check    # regenerates in memory, compares bytes
    /usr/bin/python3 tools/pytorch/hybrid_image_policy.py --load runs/x/checkpoints/latest.safetensors
        # loads a cotrain image checkpoint's policy state dict into this PyTorch policy with
        # load_state_dict(strict=True) (sizes read from the tensors; --n-head if not 4) and runs predict-style forwards

Fixture image_policy_train_step.safetensors: one training step of the policy above with the full-size encoder
(96x96 frames, 84x84 crops; 11,197,088 parameters) and a small denoiser (n_layer 2, n_head 4, n_emb 16, horizon 10,
n_obs_steps 2, no dropout), batch 2, then one AdamW step (lr 1e-3, betas 0.9/0.95, eps 1e-8, transformer weight decay
0.1 and encoder weight decay 0.05: larger than DP's 1e-3 and 1e-6 so that a wrong group shows). Nothing big is
stored: the weights and frames come from formulas both sides implement (below). The file holds
  input.offsets (I32, (B To, 2): (top, left) per frame), input.obs (B, To, 2), input.x0 (B, H, 2), input.noise
  (B, H, 2), input.timesteps (I32, (B)); cond (B, To, 66), prediction (B, H, 2), loss (1);
  per parameter of at most FULL_LIMIT elements: grad.<name> and step1.<name> (the weights after the AdamW step);
  per larger one: grad_index.<name> (I32, SAMPLES flat indices by Philox), grad_sample.<name>, step1_sample.<name>
  and grad_stats.<name> = [max |g|, ||g||_2, sum_i g_i r_i] (r_i = +-1 by Philox: a random projection);
  kink.<name> (a_i of the stored elements: all, or the sampled ones) and kink_stats.<name> = [max_i a_i, ||a||_2,
  sum_i a_i] (when a is not zero), a_i = sum over the encoder's near-kink
  elements e (ReLU inputs within a margin of zero, max-pool near-ties: KINK_LAMBDA, kink_allowances) of |w_e|
  |dx_e/dtheta_i|, in float64: how far any float32 implementation's gradient may move from this one by deciding
  such an element's side the other way;
  ill_conditioned.<name> (I32 flat indices, when not empty; of the stored elements only): elements whose gradient is
  below ILL times the tensor's largest (or times 1e-3 of the policy's largest, for a tensor whose gradient is zero
  in exact arithmetic), or not above its kink allowance a_i (a flip could change its sign), where Adam's first step (about -lr sign(g)) is
  decided by rounding noise or by a kink's side.
Metadata: the config, DP's state_dict names in order with their shapes, the parameter names in order (the order of
the weight formula) and the parameter count.

Formulas, all float32, Philox4x32-10 as cotrain's rng.h (uniform u = (word0 >> 8) / 2^24, randint in [0, n) =
(word0 * n) >> 32): parameter k (0-based, in the order of metadata "parameters"), element i: v = 2 uniform(WEIGHT_SEED
+ k, i) - 1, and
  encoder conv and Linear weights:   v sqrt(6 / fan_in)   (resnet18_gn_encoder.py's formula)
  denoiser matrices:                 v sqrt(3 / fan_in)   (variance 1 / fan_in)
  position embeddings:               0.3 v
  GroupNorm and LayerNorm weights:   1 + 0.2 v
  biases:                            0.1 v
  frames: randint(IMAGE_SEED, i, 0, 256) over the flat (B, To, 96, 96, 3) array; obs, x0: 2 uniform - 1 at
  OBS_SEED, X0_SEED; noise: torch's normal from a seeded generator (stored); sampled indices: randint(INDEX_SEED + k,
  j, 0, numel); projection signs: uniform(PROJECTION_SEED + k, i) >= 0.5.
Everything runs on one thread in float32, so a rerun writes the same bytes (--check verifies it).
"""
import argparse
import json
import math
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import resnet18_gn_encoder as enc  # noqa: E402
from transformer_for_diffusion import (TransformerForDiffusion, add_noise,  # noqa: E402
                                       squaredcos_cap_v2_alphas_cumprod)

FIXTURE_DIR = enc.FIXTURE_DIR
FIXTURE = "image_policy_train_step.safetensors"

BATCH = 2
N_OBS_STEPS = 2
ACTION_DIM = 2
LOWDIM = 2                     # agent_pos
MODEL = dict(input_dim=ACTION_DIM, output_dim=ACTION_DIM, horizon=10, n_obs_steps=N_OBS_STEPS,
             cond_dim=enc.FEATURES + LOWDIM, n_layer=2, n_head=4, n_emb=16, p_drop_emb=0.0, p_drop_attn=0.0,
             causal_attn=True, time_as_cond=True, obs_as_cond=True, n_cond_layers=0)
OFFSETS = [[0, 12], [6, 6], [12, 0], [3, 9]]   # (top, left) per frame (B To = 4): corners, centre, off centre
TIMESTEPS = [7, 83]
LR = 1e-3
BETAS = (0.9, 0.95)
TRANSFORMER_WEIGHT_DECAY = 0.1
OBS_ENCODER_WEIGHT_DECAY = 0.05

WEIGHT_SEED = 2000
IMAGE_SEED = 17
OBS_SEED = 18
X0_SEED = 19
NOISE_SEED = 20
INDEX_SEED = 7000
PROJECTION_SEED = 8000
FULL_LIMIT = 5000
SAMPLES = 256
ILL = 1e-4
# Near a ReLU's or a max-pool's kink a float32 forward may land on either side (summation order decides: the BLAS
# kernel set, the thread count), and that routes an element's whole gradient: a discrete change, not rounding. How
# near: the roundings of a float32 forward are independent and zero-mean, so they add in quadrature (Higham & Mary's
# probabilistic analysis: |error| <= lambda sqrt(n) u of the scale with probability 1 - 2 exp(-lambda^2 / 2)), n the
# number of products upstream of the element, sum_l K_l over the encoder's convolutions and Linears run before the
# site (ResNet18's deepest: ~31,000, sqrt 176). The margin, relative to the site's largest |x|, is KINK_LAMBDA
# sqrt(sum_l K_l) u: 4 sigma (a miss probability of 7e-4 for an element already that close), 4e-5 at the deepest
# site, 30 times the condition's measured float32 error (1.5e-6). kink_allowances() bounds what such flips can do.
KINK_LAMBDA = 4.0
FLOAT32_UNIT_ROUNDOFF = 2.0 ** -24


# ---- the policy -----------------------------------------------------------------------------------------------------

class ModuleAttrMixin(nn.Module):
    """DP's mixin: a zero-size parameter registered first."""

    def __init__(self):
        super().__init__()
        self._dummy_variable = nn.Parameter()


def normalizer_field(scale, offset, mn, mx, mean, std):
    """DP's SingleFieldLinearNormalizer.params_dict: scale, offset, input_stats {min, max, mean, std}."""
    def p(v):
        return nn.Parameter(torch.tensor(v, dtype=torch.float32), requires_grad=False)
    return nn.ParameterDict(OrderedDict([
        ("scale", p(scale)), ("offset", p(offset)),
        ("input_stats", nn.ParameterDict(OrderedDict([("min", p(mn)), ("max", p(mx)), ("mean", p(mean)),
                                                      ("std", p(std))])))]))


class LinearNormalizer(nn.Module):
    """DP's LinearNormalizer as its state_dict lays it out: params_dict.<key>.{scale, offset, input_stats.*}."""

    def __init__(self, lowdim_keys):
        super().__init__()
        self.params_dict = nn.ParameterDict()
        ident = ([1.0] * ACTION_DIM, [0.0] * ACTION_DIM, [-1.0] * ACTION_DIM, [1.0] * ACTION_DIM, [0.0] * ACTION_DIM,
                 [0.5] * ACTION_DIM)
        self.params_dict["action"] = normalizer_field(*ident)
        for key, dim in lowdim_keys:
            self.params_dict[key] = normalizer_field([1.0] * dim, [0.0] * dim, [-1.0] * dim, [1.0] * dim, [0.0] * dim,
                                                     [0.5] * dim)
        # DP's get_image_range_normalizer
        self.params_dict[enc.KEY] = normalizer_field([2.0], [-1.0], [0.0], [1.0], [0.5], [math.sqrt(1 / 12)])


class HybridImagePolicy(ModuleAttrMixin):
    """DP's DiffusionTransformerHybridImagePolicy (obs_as_cond) with one camera ("image") and agent_pos."""

    def __init__(self, model_cfg, crop=enc.CROP, lowdim_keys=(("agent_pos", LOWDIM),)):
        super().__init__()
        self.obs_encoder = enc.make_encoder(crop)
        self.model = TransformerForDiffusion(**model_cfg)
        self.mask_generator = ModuleAttrMixin()
        self.normalizer = LinearNormalizer(lowdim_keys)

    def condition(self, frames, offsets, obs, crop=enc.CROP):
        """frames uint8 (B, To, H, W, 3), offsets (B To, 2), obs (B, To, Dl) normalised -> cond (B, To, 64 + Dl)."""
        b, to = frames.shape[:2]
        x = crop_normalise(frames.reshape(b * to, *frames.shape[2:]), offsets, crop).to(obs.dtype)
        features = self.obs_encoder(x)                      # relu(VisualCore(x)): (B To, 64)
        return torch.cat([features.reshape(b, to, -1), obs], dim=-1)


def crop_normalise(frames, offsets, crop):
    """uint8 (N, H, W, 3) -> float (N, 3, ch, cw) in [-1, 1]: / 255, crops at offsets, x * 2 - 1 (float32)."""
    x = torch.from_numpy(frames.astype(np.float32)) / 255.0
    x = x.permute(0, 3, 1, 2)
    crops = [x[i, :, t:t + crop[0], l:l + crop[1]] for i, (t, l) in enumerate(offsets)]
    return torch.stack(crops) * 2.0 - 1.0


def parameter_names(policy):
    """The learned parameters in state_dict order, without DP's zero-size dummies."""
    return [n for n, p in policy.named_parameters() if p.numel() > 0 and p.requires_grad]


def fixture_value(name, shape, k):
    """Parameter k's values by the formula of the module docstring."""
    n = int(np.prod(shape))
    v = enc.philox_uniform(WEIGHT_SEED + k, n) * np.float32(2.0) - np.float32(1.0)
    leaf = name.rsplit(".", 1)[-1]
    if leaf.endswith("bias"):
        v = v * np.float32(0.1)
    elif leaf in ("pos_emb", "cond_pos_emb"):
        v = v * np.float32(0.3)
    elif len(shape) == 1:  # GroupNorm, LayerNorm weights
        v = np.float32(1.0) + v * np.float32(0.2)
    else:
        fan_in = int(np.prod(shape[1:]))
        gain = 6.0 if name.startswith("obs_encoder.") else 3.0
        v = v * np.float32(math.sqrt(gain / fan_in))
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


def optimizer(policy):
    """DP's get_optimizer: the denoiser's groups, then every encoder parameter at the encoder's decay."""
    groups = policy.model.get_optim_groups(weight_decay=TRANSFORMER_WEIGHT_DECAY)
    groups.append({"params": list(policy.obs_encoder.parameters()), "weight_decay": OBS_ENCODER_WEIGHT_DECAY})
    return torch.optim.AdamW(groups, lr=LR, betas=BETAS)


# ---- kinks ----------------------------------------------------------------------------------------------------------

def kink_allowances(names, frames, obs, noisy, timesteps, noise):
    """Per parameter, a_i = sum over near-kink elements e of |w_e| |dx_e/dtheta_i| (module docstring), in float64 on a
    copy of the policy: e a ReLU input within its site's margin of zero (w_e = dL/dy_e, y the ReLU's output), or one
    of the two largest inputs of a max-pool window whose two are within the margin of each other (w_e = dL/d of the
    window's output: a flip moves it from one to the other)."""
    policy = HybridImagePolicy(MODEL)
    params = dict(policy.named_parameters())
    with torch.no_grad():
        for k, name in enumerate(names):
            params[name].copy_(fixture_value(name, tuple(params[name].shape), k))
    policy.double().train()
    params = dict(policy.named_parameters())
    depth = [0]        # sum of K of the encoder's products run so far
    candidates = []    # (x in the graph, (N,) flat indices into x, y in the graph, (N,) flat indices into y)

    def product_hook(mod, inp, out):
        k = mod.in_features if isinstance(mod, nn.Linear) else mod.in_channels * math.prod(mod.kernel_size)
        depth[0] += k

    def margin(x):
        return KINK_LAMBDA * math.sqrt(depth[0]) * FLOAT32_UNIT_ROUNDOFF * x.detach().abs().max()

    def relu_hook(mod, inp, out):
        near = torch.nonzero(inp[0].detach().reshape(-1).abs() < margin(inp[0])).reshape(-1)
        candidates.append((inp[0], near, out, near))

    def pool_hook(mod, inp, out):
        x = inp[0].detach()
        n, c, h, w = x.shape
        index = torch.arange(x.numel(), dtype=torch.float64).reshape(x.shape)
        win = F.pad(x, (1, 1, 1, 1), value=-math.inf).unfold(2, 3, 2).unfold(3, 3, 2).reshape(*out.shape, 9)
        win_index = F.pad(index, (1, 1, 1, 1), value=-1).unfold(2, 3, 2).unfold(3, 3, 2).reshape(*out.shape, 9)
        top2, where = win.topk(2, dim=-1)
        near = ((top2[..., 0] - top2[..., 1]) < margin(x)) & (top2[..., 1] > 0)
        windows = torch.nonzero(near.reshape(-1)).reshape(-1)
        elements = win_index.gather(-1, where).reshape(-1, 2)[windows].long()
        candidates.append((inp[0], elements[:, 0], out, windows))
        candidates.append((inp[0], elements[:, 1], out, windows))

    for n, m in policy.obs_encoder.named_modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.register_forward_hook(product_hook)
        elif isinstance(m, nn.ReLU):
            m.inplace = False  # the hook needs the pre-activation
            m.register_forward_hook(relu_hook)
        elif isinstance(m, nn.MaxPool2d):
            m.register_forward_hook(pool_hook)
    cond = policy.condition(frames, OFFSETS, obs.double())
    pred = policy.model(noisy.double(), timesteps, cond)
    loss = F.mse_loss(pred, noise.double())
    dys = torch.autograd.grad(loss, [y for _, _, y, _ in candidates], retain_graph=True)
    ordered = [params[n] for n in names]
    allowance = [torch.zeros(p.numel(), dtype=torch.float64) for p in ordered]
    count = 0
    for (x, xs, _, ys), dy in zip(candidates, dys):
        flat, weights = x.reshape(-1), dy.reshape(-1)[ys].abs()
        for e, w in zip(xs.tolist(), weights.tolist()):
            if w == 0.0:
                continue
            count += 1
            jac = torch.autograd.grad(flat[e], ordered, retain_graph=True, allow_unused=True)
            for a, j in zip(allowance, jac):
                if j is not None:
                    a += w * j.detach().reshape(-1).abs()
    print("kinks: %d near-kink elements with a gradient" % count)
    return dict(zip(names, allowance))


# ---- the fixture ----------------------------------------------------------------------------------------------------

def fixture():
    torch.set_num_threads(1)  # reductions in one fixed order: the same bytes on every run
    policy = HybridImagePolicy(MODEL)
    names = parameter_names(policy)
    params = dict(policy.named_parameters())
    with torch.no_grad():
        for k, name in enumerate(names):
            params[name].copy_(fixture_value(name, tuple(params[name].shape), k))
    policy.train()

    h, to = MODEL["horizon"], N_OBS_STEPS
    frames = enc.philox_randint(IMAGE_SEED, BATCH * to * enc.IMAGE[0] * enc.IMAGE[1] * 3, 256).reshape(
        BATCH, to, enc.IMAGE[0], enc.IMAGE[1], 3)
    obs = torch.from_numpy(enc.philox_uniform(OBS_SEED, BATCH * to * LOWDIM) * 2 - 1).reshape(BATCH, to, LOWDIM)
    x0 = torch.from_numpy(enc.philox_uniform(X0_SEED, BATCH * h * ACTION_DIM) * 2 - 1).reshape(BATCH, h, ACTION_DIM)
    noise = torch.randn(BATCH, h, ACTION_DIM, generator=torch.Generator().manual_seed(NOISE_SEED))
    timesteps = torch.tensor(TIMESTEPS, dtype=torch.long)
    _, alphas_cumprod = squaredcos_cap_v2_alphas_cumprod(100)

    opt = optimizer(policy)
    opt.zero_grad(set_to_none=False)
    cond = policy.condition(frames, OFFSETS, obs)
    noisy = add_noise(x0, noise, timesteps, alphas_cumprod)
    pred = policy.model(noisy, timesteps, cond)
    loss = F.mse_loss(pred, noise)
    loss.backward()
    grads = {n: params[n].grad.detach().clone().reshape(-1) for n in names}
    kinks = kink_allowances(names, frames, obs, noisy.detach(), timesteps, noise)
    global_max = max(g.abs().max().item() for g in grads.values())
    opt.step()

    tensors = [("input.offsets", torch.tensor(OFFSETS, dtype=torch.int32)), ("input.obs", obs), ("input.x0", x0),
               ("input.noise", noise), ("input.timesteps", timesteps.to(torch.int32)), ("cond", cond),
               ("prediction", pred), ("loss", loss.reshape(1))]
    for k, name in enumerate(names):
        g = grads[name]
        after = params[name].detach().reshape(-1)
        checked = torch.arange(g.numel())
        if g.numel() <= FULL_LIMIT:
            tensors += [("grad." + name, g.reshape(params[name].shape)), ("step1." + name, after)]
        else:
            idx = torch.from_numpy(enc.philox_randint(INDEX_SEED + k, SAMPLES, g.numel()))
            checked = idx
            r = torch.from_numpy(np.where(enc.philox_uniform(PROJECTION_SEED + k, g.numel()) >= 0.5, 1.0, -1.0))
            g64 = g.double()
            stats = torch.tensor([g64.abs().max().item(), g64.norm().item(), (g64 * r).sum().item()],
                                 dtype=torch.float64)
            tensors += [("grad_index." + name, idx), ("grad_sample." + name, g[idx]),
                        ("step1_sample." + name, after[idx]), ("grad_stats." + name, stats.float())]
        # below ILL times the tensor's largest gradient, or (a gradient zero in exact arithmetic, e.g. the keypoint
        # convolution's bias: the spatial softmax ignores a constant per map) times 1e-3 of the policy's largest
        scale = max(g.abs().max().item(), 1e-3 * global_max)
        a = kinks[name]
        if a.max().item() > 0:
            tensors += [("kink." + name, a[checked].float()),
                        ("kink_stats." + name, torch.tensor([a.max().item(), a.norm().item(), a.sum().item()]).float())]
        small = (g[checked].abs() < ILL * scale) | (g[checked].double().abs() <= a[checked])
        ill = torch.unique(checked[small])
        if ill.numel() > 0:
            tensors.append(("ill_conditioned." + name, ill))

    sd = policy.state_dict()
    meta = OrderedDict([
        ("format", "pt"),
        ("writer", "tools/pytorch/hybrid_image_policy.py, torch %s" % torch.__version__),
        ("config", json.dumps(dict(model=MODEL, batch=BATCH, image=list(enc.IMAGE), crop=list(enc.CROP),
                                   lr=LR, betas=list(BETAS), transformer_weight_decay=TRANSFORMER_WEIGHT_DECAY,
                                   obs_encoder_weight_decay=OBS_ENCODER_WEIGHT_DECAY, weight_seed=WEIGHT_SEED,
                                   image_seed=IMAGE_SEED, obs_seed=OBS_SEED, x0_seed=X0_SEED,
                                   index_seed=INDEX_SEED, projection_seed=PROJECTION_SEED, full_limit=FULL_LIMIT,
                                   samples=SAMPLES, ill=ILL, kink_lambda=KINK_LAMBDA), sort_keys=True)),
        ("state_dict", ",".join(sd.keys())),
        ("state_dict_shapes", json.dumps(OrderedDict((k, list(v.shape)) for k, v in sd.items()))),
        ("parameters", ",".join(names)),
        ("parameter_count", str(sum(params[n].numel() for n in names))),
    ])
    return enc.safetensors_bytes(tensors, meta), meta


# ---- a cotrain checkpoint in PyTorch --------------------------------------------------------------------------------

def read_safetensors(path):
    """name -> tensor (F32, I32) and the metadata, read by hand (torch 1.13 has no safetensors package)."""
    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = OrderedDict()
    for name, h in header.items():
        a, b = h["data_offsets"]
        dtype = {"F32": np.float32, "I32": np.int32}[h["dtype"]]
        raw = np.frombuffer(data[8 + n + a:8 + n + b], dtype=dtype).reshape(h["shape"])
        out[name] = torch.from_numpy(raw.copy())
    return out, meta


def load_checkpoint(path, n_head):
    """Builds the PyTorch policy with the checkpoint's sizes and loads its policy state dict strictly."""
    tensors, meta = read_safetensors(path)
    state = OrderedDict((k, v) for k, v in tensors.items()
                        if not k.startswith("ema_model.") and not k.startswith("optimizer."))
    cameras = sorted({k.split(".")[2] for k in state if k.startswith("obs_encoder.obs_nets.")})
    if cameras != [enc.KEY]:
        sys.exit("this script builds one camera named '%s'; the checkpoint has %s" % (enc.KEY, cameras))
    pos = state["obs_encoder.obs_nets.%s.nets.1.pos_x" % enc.KEY]
    side = int(round(math.sqrt(pos.shape[1])))
    crop = next(c for c in range(1, 512) if enc.feature_size(c) == side)  # the smallest crop with that map
    lowdim = [(k.split(".")[2], state[k].shape[0]) for k in state
              if k.startswith("normalizer.params_dict.") and k.endswith(".scale")
              and k.split(".")[2] not in ("action", enc.KEY)]
    cond_dim = state["model.cond_obs_emb.weight"].shape[1]
    n_layer = len({k.split(".")[3] for k in state if k.startswith("model.decoder.layers.")})
    model_cfg = dict(input_dim=state["model.input_emb.weight"].shape[1], output_dim=state["model.head.weight"].shape[0],
                     horizon=state["model.pos_emb"].shape[1], n_obs_steps=state["model.cond_pos_emb"].shape[1] - 1,
                     cond_dim=cond_dim, n_layer=n_layer, n_head=n_head, n_emb=state["model.pos_emb"].shape[2],
                     p_drop_emb=0.0, p_drop_attn=0.0, causal_attn="model.mask" in state, time_as_cond=True,
                     obs_as_cond=True, n_cond_layers=0)
    global ACTION_DIM
    ACTION_DIM = model_cfg["output_dim"]
    policy = HybridImagePolicy(model_cfg, crop=(crop, crop), lowdim_keys=lowdim)
    policy.load_state_dict(state, strict=True)  # raises on any missing, unexpected or misshapen tensor
    policy.eval()
    with torch.no_grad():
        b, to = 2, model_cfg["n_obs_steps"]
        frames = np.random.default_rng(0).integers(0, 256, (b, to, 96, 96, 3), dtype=np.uint8)
        t0 = (96 - crop) // 2
        offsets = [[t0, t0]] * (b * to)
        obs = torch.zeros(b, to, sum(d for _, d in lowdim))
        cond = policy.condition(frames, offsets, obs, crop=(crop, crop))
        out = policy.model(torch.randn(b, model_cfg["horizon"], ACTION_DIM), torch.tensor([50, 10]), cond)
    print(json.dumps(dict(loaded=len(state), strict=True, crop=crop, lowdim=lowdim, model=model_cfg,
                          output_shape=list(out.shape), finite=bool(torch.isfinite(out).all()))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the file on disk instead of writing")
    ap.add_argument("--out", default=FIXTURE_DIR)
    ap.add_argument("--load", metavar="CHECKPOINT", help="load a cotrain image checkpoint strictly instead")
    ap.add_argument("--n-head", type=int, default=4, help="--load: the denoiser's heads (not in the tensors)")
    args = ap.parse_args()
    if args.load:
        load_checkpoint(args.load, args.n_head)
        return
    data, meta = fixture()
    path = os.path.join(args.out, FIXTURE)
    print("%s: %d bytes; %s parameters, %d state_dict entries" % (FIXTURE, len(data), meta["parameter_count"],
                                                                len(meta["state_dict"].split(","))))
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
