#!/usr/bin/env python3
"""Diffusion Policy's 1-D convolutional U-Net denoiser (DP-C) in PyTorch, and the parity fixtures of cotrain's Java
model (org.cotrain.policy.ConditionalUnet1D).

The model re-implements ConditionalUnet1D of real-stanford/diffusion_policy
(diffusion_policy/model/diffusion/conditional_unet1d.py and conv1d_components.py) with the same modules, registered in
the same order, so that its state_dict has DP's names, shapes and order:

  mid_modules.{0,1}                     ConditionalResidualBlock1D(all[L], all[L])
  diffusion_step_encoder.{1,3}          SinusoidalPosEmb(dsed), Linear(dsed, 4 dsed), Mish, Linear(4 dsed, dsed)
  up_modules.u.{0,1,2}                  for (dim_in, dim_out) in reversed(in_out[1:]): res(2 dim_out -> dim_in),
                                        res(dim_in -> dim_in), Upsample1d(dim_in) (ConvTranspose1d(4, 2, 1)); DP's
                                        is_last test is never true there, so every up level upsamples
  down_modules.i.{0,1,2}                res(dim_in -> dim_out), res(dim_out -> dim_out), Downsample1d(dim_out)
                                        (Conv1d(3, 2, 1)) except at the last level
  final_conv.{0,1}                      Conv1dBlock(down_dims[0], down_dims[0], k) with its default 8 groups,
                                        Conv1d(down_dims[0], input_dim, 1)

with res = ConditionalResidualBlock1D: blocks.{0,1} = Conv1dBlock (Conv1d(k, padding k // 2), GroupNorm(n_groups),
Mish), cond_encoder = (Mish, Linear(cond_dim, out or 2 out)), FiLM (scale out + bias) with cond_predict_scale, else
out + bias, after blocks.0; residual_conv = Conv1d(in, out, 1) when in != out. The global condition is
[step features | global_cond], global_cond = the n_obs_steps observations flattened (DP's obs_as_global_cond).

Run it with the Python that has torch (Debian's python3-torch):

    /usr/bin/python3 tools/pytorch/conditional_unet1d.py            # writes src/test/resources/org/cotrain/policy/
    /usr/bin/python3 tools/pytorch/conditional_unet1d.py --check    # regenerates in memory, compares bytes

Fixtures unet_<variant>.safetensors (the format written by transformer_for_diffusion.safetensors_bytes): one forward
and backward of a small model: the weights under DP policy names ("model." prefix), the inputs (input.sample,
input.timesteps as float, input.cond when there is a global condition), output, grad_out (a fixed random g), and the
gradients of sum(output * g): grad.<parameter name>, grad.input.sample, grad.input.cond. The file lists the state_dict
first, in its order (the header's order is the file's). Metadata: the config (DP's argument names plus horizon,
n_obs_steps and cond_dim, the per-step observation width) and the parameter count. Seeded and computed on one thread: a rerun writes the same bytes (--check verifies it).

Weights are torch's default initialisation (DP keeps it for this model), except GroupNorm's affine parameters, drawn as
1 + N(0, 0.1^2) and N(0, 0.1^2) so that a wrong or missing affine shows. Variants (batch 3, input_dim 2):
  a  cond_predict_scale, 2 levels [8, 12], n_groups 4, kernel 3, dsed 4, horizon 8, To 2 x cond_dim 3
  b  bias-only FiLM, 3 levels [8, 8, 12] (an identity residual in a down level), n_groups 4, kernel 3, dsed 4,
     horizon 8, To 2 x cond_dim 3
  c  cond_predict_scale, 3 levels [8, 3, 5] (odd widths), n_groups 1, kernel 5 (DP's), dsed 4, horizon 12, no global
     condition (the step features alone)
unet_train_step.safetensors: two DDPM training steps of variant a (see train_step_fixture and ILL_CONDITIONED_STEP1),
the fixture of org.cotrain.policy.UnetTrainingStepParityTest; about 72 KB, as it takes its initial weights from
unet_a.safetensors and stores each step's weights as one flat vector (a header entry per tensor would add 20 KB).
Bit-identity under --check holds on the machine (CPU kernel set) that wrote the files: torch picks its conv and GEMM
kernels by CPU, so the computed tensors (outputs, gradients, stepped weights) can differ in the last bits elsewhere,
while weights, inputs and the float64-derived ill-conditioned lists do not.
The first width is a multiple of 8 (DP's final Conv1dBlock has 8 groups whatever n_groups is), so odd widths need an
odd n_groups that also divides it: 1 here, as 3 would need a first width of 24 and fixtures over the size budget
(< 300 KB for the three).
"""
import argparse
import copy
import json
import math
import os
import sys
from collections import OrderedDict

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from transformer_for_diffusion import safetensors_bytes  # noqa: E402  (the hand-written safetensors format)

FIXTURE_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "test",
                                            "resources", "org", "cotrain", "policy"))


# ---- the model ------------------------------------------------------------------------------------------------------

class StepEmbedding(nn.Module):
    """DP's SinusoidalPosEmb: [sin(t f_j), cos(t f_j)], f_j = exp(-j ln(10000) / (dim/2 - 1)), j < dim/2."""

    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, t):
        half = self.dim // 2
        f = torch.exp(torch.arange(half, dtype=torch.float32) * (-math.log(10000) / (half - 1)))
        a = t[:, None] * f[None, :]
        return torch.cat([a.sin(), a.cos()], dim=-1)


class Conv1dBlock(nn.Module):
    def __init__(self, cin, cout, k, n_groups=8):
        super().__init__()
        self.block = nn.Sequential(nn.Conv1d(cin, cout, k, padding=k // 2), nn.GroupNorm(n_groups, cout), nn.Mish())

    def forward(self, x):
        return self.block(x)


class Downsample1d(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv = nn.Conv1d(dim, dim, 3, 2, 1)

    def forward(self, x):
        return self.conv(x)


class Upsample1d(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv = nn.ConvTranspose1d(dim, dim, 4, 2, 1)

    def forward(self, x):
        return self.conv(x)


class ResBlock(nn.Module):
    """ConditionalResidualBlock1D."""

    def __init__(self, cin, cout, cond_dim, k, n_groups, predict_scale):
        super().__init__()
        self.blocks = nn.ModuleList([Conv1dBlock(cin, cout, k, n_groups), Conv1dBlock(cout, cout, k, n_groups)])
        self.cout = cout
        self.predict_scale = predict_scale
        # index 2 of DP's Sequential is a parameter-free Rearrange; the (B, C) -> (B, C, 1) is done in forward
        self.cond_encoder = nn.Sequential(nn.Mish(), nn.Linear(cond_dim, 2 * cout if predict_scale else cout))
        self.residual_conv = nn.Conv1d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, cond):
        h = self.blocks[0](x)
        e = self.cond_encoder(cond)
        if self.predict_scale:
            e = e.reshape(e.shape[0], 2, self.cout, 1)
            h = e[:, 0] * h + e[:, 1]
        else:
            h = h + e[:, :, None]
        return self.blocks[1](h) + self.residual_conv(x)


class Unet(nn.Module):
    """ConditionalUnet1D (no local condition)."""

    def __init__(self, input_dim, global_cond_dim=None, diffusion_step_embed_dim=256, down_dims=(256, 512, 1024),
                 kernel_size=3, n_groups=8, cond_predict_scale=False):
        super().__init__()
        dims = [input_dim] + list(down_dims)
        dsed = diffusion_step_embed_dim
        cond_dim = dsed + (global_cond_dim or 0)
        pairs = list(zip(dims[:-1], dims[1:]))

        def res(a, b):
            return ResBlock(a, b, cond_dim, kernel_size, n_groups, cond_predict_scale)

        # registered in DP's order: mid_modules first, then the step encoder, up, down, final
        self.mid_modules = nn.ModuleList([res(dims[-1], dims[-1]), res(dims[-1], dims[-1])])
        self.diffusion_step_encoder = nn.Sequential(StepEmbedding(dsed), nn.Linear(dsed, 4 * dsed), nn.Mish(),
                                                    nn.Linear(4 * dsed, dsed))
        self.up_modules = nn.ModuleList(
            nn.ModuleList([res(2 * b, a), res(a, a), Upsample1d(a)]) for a, b in reversed(pairs[1:]))
        self.down_modules = nn.ModuleList(
            nn.ModuleList([res(a, b), res(b, b), Downsample1d(b) if i < len(pairs) - 1 else nn.Identity()])
            for i, (a, b) in enumerate(pairs))
        self.final_conv = nn.Sequential(Conv1dBlock(dims[1], dims[1], kernel_size), nn.Conv1d(dims[1], input_dim, 1))

    def forward(self, sample, timesteps, global_cond=None):
        x = sample.transpose(1, 2)
        g = self.diffusion_step_encoder(timesteps)
        if global_cond is not None:
            g = torch.cat([g, global_cond], dim=-1)
        skips = []
        for first, second, down in self.down_modules:
            x = second(first(x, g), g)
            skips.append(x)
            x = down(x)
        for m in self.mid_modules:
            x = m(x, g)
        for first, second, up in self.up_modules:
            x = torch.cat([x, skips.pop()], dim=1)
            x = up(second(first(x, g), g))
        return self.final_conv(x).transpose(1, 2)


# ---- fixtures -------------------------------------------------------------------------------------------------------

PREFIX = "model."
BATCH = 3
VARIANTS = OrderedDict([
    ("a", dict(input_dim=2, horizon=8, n_obs_steps=2, cond_dim=3, diffusion_step_embed_dim=4, down_dims=[8, 12],
               kernel_size=3, n_groups=4, cond_predict_scale=True)),
    ("b", dict(input_dim=2, horizon=8, n_obs_steps=2, cond_dim=3, diffusion_step_embed_dim=4,
               down_dims=[8, 8, 12], kernel_size=3, n_groups=4, cond_predict_scale=False)),
    ("c", dict(input_dim=2, horizon=12, n_obs_steps=2, cond_dim=0, diffusion_step_embed_dim=4,
               down_dims=[8, 3, 5], kernel_size=5, n_groups=1, cond_predict_scale=True)),
])
# DP's push-T low-dim CNN: obs_dim 20, To 2, Da 2 (train_diffusion_unet_lowdim_workspace.yaml, task pusht_lowdim)
FULL_SIZE = dict(input_dim=2, horizon=16, n_obs_steps=2, cond_dim=20, diffusion_step_embed_dim=256,
                 down_dims=[256, 512, 1024], kernel_size=5, n_groups=8, cond_predict_scale=True)


def make_model(cfg):
    gdim = cfg["n_obs_steps"] * cfg["cond_dim"] if cfg["cond_dim"] > 0 else None
    return Unet(cfg["input_dim"], gdim, cfg["diffusion_step_embed_dim"], cfg["down_dims"], cfg["kernel_size"],
                cfg["n_groups"], cfg["cond_predict_scale"])


def perturb_group_norms(model, gen):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.GroupNorm):
                m.weight.copy_(1 + 0.1 * torch.randn(m.weight.shape, generator=gen))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))


def fixture_model(cfg, seed):
    """A variant's model with its fixture weights, and the generator that then draws its inputs."""
    torch.manual_seed(seed)  # torch's default initialisation draws from the global generator
    model = make_model(cfg)
    gen = torch.Generator().manual_seed(seed)
    perturb_group_norms(model, gen)
    return model, gen


def forward_fixture(variant, cfg, seed):
    model, gen = fixture_model(cfg, seed)
    sample = torch.randn(BATCH, cfg["horizon"], cfg["input_dim"], generator=gen, requires_grad=True)
    timesteps = torch.tensor([3.0, 57.0, 99.0])
    cond = None
    if cfg["cond_dim"] > 0:
        cond = torch.randn(BATCH, cfg["n_obs_steps"], cfg["cond_dim"], generator=gen, requires_grad=True)
    out = model(sample, timesteps, None if cond is None else cond.reshape(BATCH, -1))
    g = torch.randn(out.shape, generator=gen)
    (out * g).sum().backward()

    tensors = [(PREFIX + k, v.detach().clone()) for k, v in model.state_dict().items()]
    tensors += [("input.sample", sample), ("input.timesteps", timesteps)]
    if cond is not None:
        tensors.append(("input.cond", cond))
    tensors += [("output", out), ("grad_out", g)]
    tensors += [("grad." + PREFIX + n, p.grad) for n, p in model.named_parameters()]
    tensors.append(("grad.input.sample", sample.grad))
    if cond is not None:
        tensors.append(("grad.input.cond", cond.grad))
    meta = OrderedDict([
        ("format", "pt"),
        ("writer", "tools/pytorch/conditional_unet1d.py, torch " + torch.__version__),
        ("variant", variant),
        ("config", json.dumps(cfg, sort_keys=True)),
        ("parameter_count", str(sum(p.numel() for p in model.parameters()))),
    ])
    return "unet_%s.safetensors" % variant, safetensors_bytes(tensors, meta)


# DP's U-Net workspaces (train_diffusion_unet_*_workspace.yaml): torch.optim.AdamW on model.parameters() whole, betas
# (0.95, 0.999), eps 1e-8, one weight decay; lr and weight decay raised from DP's 1e-4 and 1e-6 so that both show.
TRAIN = dict(lr=1e-3, betas=(0.95, 0.999), eps=1e-8, weight_decay=1e-3, num_train_timesteps=100)
TRAIN_VARIANT = "a"
TRAIN_SEED = 3100
# Adam normalises each element's gradient g by its own size, so where |g| is tiny next to its tensor's largest, float32
# rounding of g (an error of about 1e-6 of the tensor's largest here, up to 5e-6 in a few GroupNorm weights) decides
# the update. Which elements are concerned is decided from a float64 copy of the same two steps (gradients exact to
# ~1e-15; the float32 ones, PyTorch's and cotrain's, are both noise there), as in transformer_for_diffusion.py:
# step 1 moves an element by lr g / (|g| + eps), so only a sign flip matters, possible where |g| is within rounding
# error of 0 (ILL_CONDITIONED_STEP1 of the tensor's max); step 2 divides m (0.49 g1 + 0.51 g2 after bias correction)
# by sqrt(v) (about sqrt((g1^2 + g2^2) / 2)), so an error d in the gradients moves it by about 1.4 lr d /
# max(|g1|, |g2|), and elements small in both steps are listed (ILL_CONDITIONED_STEP2: d = 1e-6 then moves the
# others by 1.4e-4 lr). A tensor whose float64 gradient is below STRUCTURAL_ZERO of the model's largest is zero in
# exact arithmetic, and listed whole: final_conv.0.block.0.bias (8 channels in 8 groups: GroupNorm subtracts each
# channel's mean, and with it the conv's bias). The script checks its own float32 steps against the float64 ones on
# the elements not listed (FLOAT32_CHECK, a quarter of the Java test's 1e-3) and records the worst error.
ILL_CONDITIONED_STEP1 = 1e-4
ILL_CONDITIONED_STEP2 = 1e-2
STRUCTURAL_ZERO = 1e-9
FLOAT32_CHECK = 2.5e-4


def squaredcos_cap_v2_alphas_cumprod(num_train_timesteps):
    """diffusers' betas_for_alpha_bar (float64, then a float32 tensor); alphas_cumprod = cumprod(1 - betas) in f32."""
    def alpha_bar(tau):
        return math.cos((tau + 0.008) / 1.008 * math.pi / 2) ** 2
    betas = [min(1 - alpha_bar((i + 1) / num_train_timesteps) / alpha_bar(i / num_train_timesteps), 0.999)
             for i in range(num_train_timesteps)]
    return torch.cumprod(1.0 - torch.tensor(betas, dtype=torch.float32), dim=0)


def add_noise(x0, noise, timesteps, alphas_cumprod):
    """diffusers' DDPMScheduler.add_noise: sqrt(abar_t) x0 + sqrt(1 - abar_t) noise, per sample."""
    sqrt_abar = (alphas_cumprod[timesteps] ** 0.5).reshape(-1, 1, 1)
    sqrt_one_minus = ((1 - alphas_cumprod[timesteps]) ** 0.5).reshape(-1, 1, 1)
    return sqrt_abar * x0 + sqrt_one_minus * noise


def flat(tensors):
    return torch.cat([t.detach().reshape(-1) for t in tensors])


def train_step_fixture():
    """unet_train_step.safetensors: two DDPM training steps of variant a from the weights of unet_a.safetensors (the
    same seed; not repeated here). Per step k = 1, 2: stepk.x0, stepk.cond, stepk.noise, stepk.timesteps (int32),
    stepk.loss, stepk.weights (every parameter after the step, flattened and concatenated in state_dict order) and
    stepk.ill_conditioned (int32 indices into that vector); alphas_cumprod, diffusers' float32 table."""
    cfg = VARIANTS[TRAIN_VARIANT]
    model, _ = fixture_model(cfg, seed=3000 + list(VARIANTS).index(TRAIN_VARIANT))
    exact = copy.deepcopy(model).double()
    gen = torch.Generator().manual_seed(TRAIN_SEED)
    alphas_cumprod = squaredcos_cap_v2_alphas_cumprod(TRAIN["num_train_timesteps"])

    def adamw(m):
        return torch.optim.AdamW(m.parameters(), lr=TRAIN["lr"], betas=TRAIN["betas"], eps=TRAIN["eps"],
                                 weight_decay=TRAIN["weight_decay"])
    optimizer, optimizer64 = adamw(model), adamw(exact)
    params, params64 = list(model.parameters()), list(exact.parameters())

    tensors = [("alphas_cumprod", alphas_cumprod)]
    grads64 = []
    before, before64 = flat(params).double(), flat(params64)
    worst = []
    for step in (1, 2):
        x0 = torch.rand(BATCH, cfg["horizon"], cfg["input_dim"], generator=gen) * 2 - 1   # normalised actions
        cond = torch.rand(BATCH, cfg["n_obs_steps"], cfg["cond_dim"], generator=gen) * 2 - 1
        noise = torch.randn(x0.shape, generator=gen)
        timesteps = torch.randint(0, TRAIN["num_train_timesteps"], (BATCH,), generator=gen)
        losses = []
        # DP passes int64 steps, which the embedding multiplies by its float32 frequencies; float64 steps keep the
        # copy in float64 (with the same float32-rounded frequencies)
        for m, opt, ts, dt in ((model, optimizer, timesteps, torch.float32),
                               (exact, optimizer64, timesteps.double(), torch.float64)):
            noisy = add_noise(x0.to(dt), noise.to(dt), timesteps, alphas_cumprod.to(dt))
            opt.zero_grad()
            loss = nn.functional.mse_loss(m(noisy, ts, cond.to(dt).reshape(BATCH, -1)), noise.to(dt))
            loss.backward()
            losses.append(loss)
        grads64.append([p.grad.detach().clone() for p in params64])
        model_max = max(g.abs().max() for g in grads64[0])
        ill, offset = [], 0
        for i, p in enumerate(params64):
            small = torch.ones(p.numel(), dtype=torch.bool)
            if grads64[0][i].abs().max() >= STRUCTURAL_ZERO * model_max:
                # step 1: g1 alone decides; step 2: m and v mix g1 and g2, so only elements small in both are noise
                threshold = ILL_CONDITIONED_STEP1 if step == 1 else ILL_CONDITIONED_STEP2
                for g in grads64[step - 1:] if step == 1 else [gs[i] for gs in grads64]:
                    g = (g[i] if step == 1 else g).reshape(-1).abs()
                    small &= g < threshold * g.max()
            ill.append(torch.nonzero(small).reshape(-1) + offset)
            offset += p.numel()
        ill = torch.cat(ill).to(torch.int32)
        optimizer.step()
        optimizer64.step()
        after, after64 = flat(params).double(), flat(params64)
        # this script's own float32 steps against the float64 ones, per tensor, on the elements not listed
        keep = torch.ones(after.numel(), dtype=torch.bool)
        keep[ill.long()] = False
        err, offset = 0.0, 0
        for p in params:
            sl = slice(offset, offset + p.numel())
            ref = (after64 - before64)[sl][keep[sl]]
            if ref.numel() > 0:
                err = max(err, ((after - before)[sl][keep[sl]] - ref).abs().max().item() / ref.abs().max().item())
            offset += p.numel()
        assert err < FLOAT32_CHECK, "step %d: float32 change relative error %.2e" % (step, err)
        worst.append("%.2e" % err)
        before, before64 = after, after64
        tensors += [("step%d.x0" % step, x0), ("step%d.cond" % step, cond), ("step%d.noise" % step, noise),
                    ("step%d.timesteps" % step, timesteps), ("step%d.loss" % step, losses[0].detach().reshape(())),
                    ("step%d.weights" % step, flat(params)), ("step%d.ill_conditioned" % step, ill)]
    meta = OrderedDict([
        ("format", "pt"),
        ("writer", "tools/pytorch/conditional_unet1d.py, torch " + torch.__version__),
        ("config", json.dumps(cfg, sort_keys=True)),
        ("initial_weights", "unet_%s.safetensors" % TRAIN_VARIANT),
        ("parameter_count", str(sum(p.numel() for p in params))),
        ("train", json.dumps(dict(TRAIN, beta_schedule="squaredcos_cap_v2", prediction_type="epsilon",
                                  optimizer="torch.optim.AdamW(model.parameters())",
                                  ill_conditioned_step1=ILL_CONDITIONED_STEP1,
                                  ill_conditioned_step2=ILL_CONDITIONED_STEP2, structural_zero=STRUCTURAL_ZERO,
                                  float32_vs_float64_change_error=worst), sort_keys=True)),
    ])
    return "unet_train_step.safetensors", safetensors_bytes(tensors, meta)


def all_fixtures():
    torch.set_num_threads(1)  # one thread: reductions in a fixed order, the same bytes on every run
    files = [forward_fixture(v, cfg, seed=3000 + i) for i, (v, cfg) in enumerate(VARIANTS.items())]
    files.append(train_step_fixture())
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the files on disk instead of writing")
    ap.add_argument("--out", default=FIXTURE_DIR)
    ap.add_argument("--full-size", action="store_true", help="also print the full-size DP-C low-dim parameter count")
    args = ap.parse_args()
    files = all_fixtures()
    total = 0
    differ = []
    for name, data in files:
        path = os.path.join(args.out, name)
        total += len(data)
        if args.check:
            with open(path, "rb") as f:
                if f.read() != data:
                    differ.append(name)
        else:
            os.makedirs(args.out, exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        print("%-24s %7d bytes" % (name, len(data)))
    print("total %d bytes" % total)
    if args.full_size:
        full = make_model(FULL_SIZE)
        print("full-size DP-C push-T low-dim %s: %d parameters" % (json.dumps(FULL_SIZE, sort_keys=True),
                                                                   sum(p.numel() for p in full.parameters())))
    if args.check:
        if differ:
            print("differ from the files on disk:", ", ".join(differ))
            sys.exit(1)
        print("all fixtures regenerate bit-identically")


if __name__ == "__main__":
    main()
