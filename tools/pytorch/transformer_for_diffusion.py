#!/usr/bin/env python3
"""Diffusion Policy's transformer denoiser in PyTorch, and the parity fixtures of cotrain's Java model.

The model re-implements TransformerForDiffusion of real-stanford/diffusion_policy
(diffusion_policy/model/diffusion/transformer_for_diffusion.py) with the same modules, registered in the same order,
so that its state_dict has DP's names, shapes and order: torch's pre-norm TransformerEncoder/DecoderLayer (GELU,
dim_feedforward 4 n_emb, batch_first), SinusoidalPosEmb for the diffusion step, the token-wise MLP condition encoder
(Linear, Mish, Linear) when n_cond_layers == 0, DP's causal and memory masks, ln_f and head, DP's _init_weights and
get_optim_groups, and the zero-size "_dummy_variable" of DP's ModuleAttrMixin.

Run it with the Python that has torch (Debian's python3-torch, torch 1.13):

    /usr/bin/python3 tools/pytorch/transformer_for_diffusion.py            # writes src/test/resources/fixtures/
    /usr/bin/python3 tools/pytorch/transformer_for_diffusion.py --check    # regenerates in memory, compares bytes

Fixtures (safetensors; the format is written here by hand, torch 1.13 has no safetensors package):
  tfd_<variant>.safetensors    one forward and backward of a small model: weights under DP policy names ("model."
                               prefix, the whole state_dict: _dummy_variable and the mask buffers too), the inputs
                               (input.sample, input.timesteps as float, input.cond), output, grad_out (a fixed random
                               g), and the gradients of sum(output * g): grad.<parameter name>, grad.input.sample,
                               grad.input.cond. Metadata: the config, the state_dict names in order, the parameter
                               names in order, and the parameter count of the full-size DP-T low-dim model.
  tfd_train_step.safetensors   two training steps of variant (a): DDPM squaredcos_cap_v2 (T = 100) alphas_cumprod
                               as diffusers computes it in float32, epsilon-prediction MSE loss, torch.optim.AdamW
                               with DP's two parameter groups. Per step k = 1, 2: stepk.x0, stepk.cond, stepk.noise,
                               stepk.timesteps (int32), stepk.loss, stepk.<name> (weights after the step), and
                               stepk.ill_conditioned.<name> (int32 flat indices, present when not empty: the elements
                               whose Adam update is decided by rounding noise, see ILL_CONDITIONED_STEP1/2);
                               model.<name> are the weights before step 1.
Everything is seeded and computed on one thread, so a rerun writes the same bytes (--check verifies it).

The small config is n_layer 2, n_head 4, n_emb 16, horizon 8, n_obs_steps 2, input_dim = output_dim 2, cond_dim 6,
batch 3, no dropout (variant d: n_layer 1, n_emb 8): with n_emb 32 the fixtures would take about 1.1 MB, over the
repository's 500 KB budget for them. Variants: (a) MLP condition encoder, causal (DP's low-dim config); (b) one
transformer encoder layer for the condition, no masks; (c) BERT style (time_as_cond false, no observations), causal;
(d) time_as_cond with the step token as the only condition token, causal (no memory mask).
Fixture weights are not DP's N(0, 0.02) initialisation, which leaves attention nearly uniform and biases zero (bugs
in those paths would not show), but values of order one: Linear and attention weights N(0, 1/fan_in), biases
N(0, 0.1^2), LayerNorm weights 1 + N(0, 0.1^2), position embeddings N(0, 0.3^2).
"""
import argparse
import json
import math
import os
import struct
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

FIXTURE_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "test",
                                            "resources", "fixtures"))


# ---- the model ------------------------------------------------------------------------------------------------------

class ModuleAttrMixin(nn.Module):
    """DP's mixin: a zero-size parameter registered first, so every DP module's state_dict starts with it."""

    def __init__(self):
        super().__init__()
        self._dummy_variable = nn.Parameter()


class SinusoidalPosEmb(nn.Module):
    """DP's diffusion-step embedding: [sin(t f_j), cos(t f_j)], f_j = exp(-j ln(10000) / (dim/2 - 1))."""

    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, t):
        half = self.dim // 2
        freqs = torch.exp(torch.arange(half, device=t.device) * -(math.log(10000) / (half - 1)))
        args = t[:, None] * freqs[None, :]
        return torch.cat((args.sin(), args.cos()), dim=-1)


def _pre_norm_layer(cls, n_emb, n_head, p_drop_attn):
    return cls(d_model=n_emb, nhead=n_head, dim_feedforward=4 * n_emb, dropout=p_drop_attn, activation="gelu",
               batch_first=True, norm_first=True)


def _additive(allowed):
    """A boolean "may attend" matrix as torch.nn.Transformer's additive mask: 0 where allowed, -inf elsewhere."""
    return torch.zeros(allowed.shape).masked_fill(~allowed, float("-inf"))


class TransformerForDiffusion(ModuleAttrMixin):
    def __init__(self, input_dim, output_dim, horizon, n_obs_steps=None, cond_dim=0, n_layer=12, n_head=12,
                 n_emb=768, p_drop_emb=0.1, p_drop_attn=0.1, causal_attn=False, time_as_cond=True,
                 obs_as_cond=False, n_cond_layers=0):
        super().__init__()
        if n_obs_steps is None:
            n_obs_steps = horizon
        # DP derives obs_as_cond from cond_dim and ignores the argument
        obs_as_cond = cond_dim > 0
        assert time_as_cond or not obs_as_cond, "observation conditioning needs time_as_cond"
        tokens = horizon if time_as_cond else horizon + 1            # DP's T
        cond_tokens = (1 if time_as_cond else 0) + (n_obs_steps if obs_as_cond else 0)  # DP's T_cond

        # registration order = state_dict order: parameters (_dummy_variable, pos_emb, cond_pos_emb), buffers (mask,
        # memory_mask), then submodules (input_emb, drop, time_emb, cond_obs_emb, encoder, decoder, ln_f, head)
        self.input_emb = nn.Linear(input_dim, n_emb)
        self.pos_emb = nn.Parameter(torch.zeros(1, tokens, n_emb))
        self.drop = nn.Dropout(p_drop_emb)
        self.time_emb = SinusoidalPosEmb(n_emb)
        self.cond_obs_emb = nn.Linear(cond_dim, n_emb) if obs_as_cond else None
        self.cond_pos_emb = None
        self.decoder = None
        if cond_tokens > 0:
            self.cond_pos_emb = nn.Parameter(torch.zeros(1, cond_tokens, n_emb))
            if n_cond_layers > 0:
                self.encoder = nn.TransformerEncoder(
                    _pre_norm_layer(nn.TransformerEncoderLayer, n_emb, n_head, p_drop_attn), num_layers=n_cond_layers)
            else:
                self.encoder = nn.Sequential(nn.Linear(n_emb, 4 * n_emb), nn.Mish(), nn.Linear(4 * n_emb, n_emb))
            self.decoder = nn.TransformerDecoder(
                _pre_norm_layer(nn.TransformerDecoderLayer, n_emb, n_head, p_drop_attn), num_layers=n_layer)
        else:
            # BERT style: the step token is prepended to the sample tokens of an encoder-only trunk
            self.encoder = nn.TransformerEncoder(
                _pre_norm_layer(nn.TransformerEncoderLayer, n_emb, n_head, p_drop_attn), num_layers=n_layer)

        if causal_attn:
            i = torch.arange(tokens)
            self.register_buffer("mask", _additive(i[None, :] <= i[:, None]))  # key j visible to query i if j <= i
            if time_as_cond and obs_as_cond:
                s = torch.arange(cond_tokens)
                # sample token t sees condition token s when t >= s - 1: s = 0 is the step, s = 1 the first obs
                self.register_buffer("memory_mask", _additive(i[:, None] >= s[None, :] - 1))
            else:
                self.memory_mask = None
        else:
            self.mask = None
            self.memory_mask = None

        self.ln_f = nn.LayerNorm(n_emb)
        self.head = nn.Linear(n_emb, output_dim)

        self.T = tokens
        self.T_cond = cond_tokens
        self.horizon = horizon
        self.time_as_cond = time_as_cond
        self.obs_as_cond = obs_as_cond
        self.encoder_only = cond_tokens == 0
        self.apply(self._init_weights)

    def _init_weights(self, module):
        # DP: N(0, 0.02) for Linear and attention weights and position embeddings, zero biases, LayerNorm (1, 0);
        # cond_pos_emb is drawn only when there is an observation embedding
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.MultiheadAttention):
            for name in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight"):
                if getattr(module, name) is not None:
                    nn.init.normal_(getattr(module, name), mean=0.0, std=0.02)
            for name in ("in_proj_bias", "bias_k", "bias_v"):
                if getattr(module, name) is not None:
                    nn.init.zeros_(getattr(module, name))
        elif isinstance(module, nn.LayerNorm):
            nn.init.zeros_(module.bias)
            nn.init.ones_(module.weight)
        elif isinstance(module, TransformerForDiffusion):
            nn.init.normal_(module.pos_emb, mean=0.0, std=0.02)
            if module.cond_obs_emb is not None:
                nn.init.normal_(module.cond_pos_emb, mean=0.0, std=0.02)
        elif isinstance(module, (nn.Dropout, SinusoidalPosEmb, nn.TransformerEncoderLayer, nn.TransformerDecoderLayer,
                                 nn.TransformerEncoder, nn.TransformerDecoder, nn.ModuleList, nn.Mish,
                                 nn.Sequential)):
            pass
        else:
            raise RuntimeError("unaccounted module %s" % type(module).__name__)

    def get_optim_groups(self, weight_decay=1e-3):
        """DP's two AdamW groups: Linear and attention weights decay; biases, LayerNorm, position embeddings don't."""
        decay, no_decay = set(), set()
        for mn, m in self.named_modules():
            for pn, _ in m.named_parameters(recurse=False):
                full = "%s.%s" % (mn, pn) if mn else pn
                if pn.endswith("bias") or pn.startswith("bias"):
                    no_decay.add(full)
                elif pn.endswith("weight") and isinstance(m, (nn.Linear, nn.MultiheadAttention)):
                    decay.add(full)
                elif pn.endswith("weight") and isinstance(m, (nn.LayerNorm, nn.Embedding)):
                    no_decay.add(full)
        no_decay.update(["pos_emb", "_dummy_variable"])
        if self.cond_pos_emb is not None:
            no_decay.add("cond_pos_emb")
        params = dict(self.named_parameters())
        assert not (decay & no_decay), decay & no_decay
        assert not (params.keys() - (decay | no_decay)), params.keys() - (decay | no_decay)
        return [{"params": [params[n] for n in sorted(decay)], "weight_decay": weight_decay},
                {"params": [params[n] for n in sorted(no_decay)], "weight_decay": 0.0}]

    def forward(self, sample, timestep, cond=None):
        """sample (B, horizon, input_dim), timestep (B,) or scalar, cond (B, To, cond_dim) -> (B, horizon, out)."""
        if not torch.is_tensor(timestep):
            timestep = torch.tensor([timestep], dtype=torch.long, device=sample.device)
        elif timestep.dim() == 0:
            timestep = timestep[None].to(sample.device)
        time_emb = self.time_emb(timestep.expand(sample.shape[0])).unsqueeze(1)   # (B, 1, C)
        input_emb = self.input_emb(sample)                                         # (B, horizon, C)
        if self.encoder_only:
            tok = torch.cat([time_emb, input_emb], dim=1)                          # (B, horizon + 1, C)
            x = self.drop(tok + self.pos_emb[:, :tok.shape[1], :])
            x = self.encoder(src=x, mask=self.mask)[:, 1:, :]                      # drop the step position
        else:
            cond_tok = time_emb
            if self.obs_as_cond:
                cond_tok = torch.cat([cond_tok, self.cond_obs_emb(cond)], dim=1)   # (B, 1 + To, C)
            memory = self.encoder(self.drop(cond_tok + self.cond_pos_emb[:, :cond_tok.shape[1], :]))
            x = self.drop(input_emb + self.pos_emb[:, :input_emb.shape[1], :])
            x = self.decoder(tgt=x, memory=memory, tgt_mask=self.mask, memory_mask=self.memory_mask)
        return self.head(self.ln_f(x))


# ---- diffusers' DDPM pieces -----------------------------------------------------------------------------------------

def squaredcos_cap_v2_alphas_cumprod(num_train_timesteps=100, max_beta=0.999):
    """diffusers' betas_for_alpha_bar (float64, then a float32 tensor); alphas_cumprod = cumprod(1 - betas) in f32."""
    def alpha_bar(tau):
        return math.cos((tau + 0.008) / 1.008 * math.pi / 2) ** 2
    betas = [min(1 - alpha_bar((i + 1) / num_train_timesteps) / alpha_bar(i / num_train_timesteps), max_beta)
             for i in range(num_train_timesteps)]
    betas = torch.tensor(betas, dtype=torch.float32)
    return betas, torch.cumprod(1.0 - betas, dim=0)


def add_noise(x0, noise, timesteps, alphas_cumprod):
    """diffusers' DDPMScheduler.add_noise: sqrt(abar_t) x0 + sqrt(1 - abar_t) noise, per sample."""
    shape = (-1,) + (1,) * (x0.dim() - 1)
    sqrt_abar = (alphas_cumprod[timesteps] ** 0.5).reshape(shape)
    sqrt_one_minus = ((1 - alphas_cumprod[timesteps]) ** 0.5).reshape(shape)
    return sqrt_abar * x0 + sqrt_one_minus * noise


# ---- safetensors ----------------------------------------------------------------------------------------------------

def safetensors_bytes(tensors, metadata):
    """tensors: [(name, tensor)] in file order (float32 -> F32, int32/int64 -> I32). 8-byte LE header length, JSON
    header padded with spaces to a multiple of 8, then the raw little-endian data."""
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


# ---- fixtures -------------------------------------------------------------------------------------------------------

PREFIX = "model."
SMALL = dict(input_dim=2, output_dim=2, horizon=8, n_obs_steps=2, cond_dim=6, n_layer=2, n_head=4, n_emb=16,
             p_drop_emb=0.0, p_drop_attn=0.0, causal_attn=True, time_as_cond=True, obs_as_cond=True, n_cond_layers=0)
BATCH = 3
VARIANTS = OrderedDict([
    ("a", dict(SMALL)),                                                   # MLP condition encoder, causal
    ("b", dict(SMALL, n_cond_layers=1, causal_attn=False)),               # transformer condition encoder, no masks
    ("c", dict(SMALL, cond_dim=0, obs_as_cond=False, time_as_cond=False)),  # BERT style: step token in the trunk
    ("d", dict(SMALL, cond_dim=0, obs_as_cond=False, n_layer=1, n_emb=8)),  # the step token alone as condition
])
FULL_SIZE = dict(input_dim=2, output_dim=2, horizon=16, n_obs_steps=2, cond_dim=66, n_layer=8, n_head=4, n_emb=256,
                 p_drop_emb=0.0, p_drop_attn=0.3, causal_attn=True, time_as_cond=True, obs_as_cond=True,
                 n_cond_layers=0)


def make_model(cfg):
    return TransformerForDiffusion(**cfg)


def fill_fixture_weights(model, gen):
    """Order-one weights (see the module docstring), drawn in state_dict order from gen."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.numel() == 0:
                continue
            leaf = name.rsplit(".", 1)[-1]
            if name in ("pos_emb", "cond_pos_emb"):
                p.copy_(0.3 * torch.randn(p.shape, generator=gen))
            elif ".norm" in name or name.startswith("ln_f."):
                base = 1.0 if leaf == "weight" else 0.0
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=gen))
            elif leaf.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            else:  # (out, in) weights
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(p.shape[1]))


def state_dict_entries(model):
    """The state_dict now (copies: state_dict() shares storage with the parameters, which an optimizer updates)."""
    return [(PREFIX + k, v.detach().clone()) for k, v in model.state_dict().items()]


def parameter_names(model):
    """Parameter names in state_dict order, without DP's zero-size _dummy_variable."""
    return [PREFIX + n for n, p in model.named_parameters() if p.numel() > 0]


def base_metadata(cfg, model):
    return OrderedDict([
        ("format", "pt"),
        ("writer", "tools/pytorch/transformer_for_diffusion.py, torch " + torch.__version__),
        ("config", json.dumps(cfg, sort_keys=True)),
        ("state_dict", ",".join(PREFIX + k for k in model.state_dict().keys())),
        ("parameters", ",".join(parameter_names(model))),
        ("parameter_count", str(sum(p.numel() for p in model.parameters()))),
    ])


def forward_fixture(variant, cfg, seed):
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # DP's init (overwritten below) draws from the global generator
    model = make_model(cfg)
    fill_fixture_weights(model, gen)
    model.train()  # p = 0: training mode is the same function, and it is the mode gradients are taken in
    sample = torch.randn(BATCH, cfg["horizon"], cfg["input_dim"], generator=gen, requires_grad=True)
    timesteps = torch.tensor([3.0, 57.0, 99.0])
    cond = None
    if cfg["cond_dim"] > 0:
        cond = torch.randn(BATCH, cfg["n_obs_steps"], cfg["cond_dim"], generator=gen, requires_grad=True)
    out = model(sample, timesteps, cond)
    g = torch.randn(out.shape, generator=gen)
    (out * g).sum().backward()

    tensors = state_dict_entries(model)
    tensors += [("input.sample", sample), ("input.timesteps", timesteps)]
    if cond is not None:
        tensors.append(("input.cond", cond))
    tensors += [("output", out), ("grad_out", g)]
    tensors += [("grad." + PREFIX + n, p.grad) for n, p in model.named_parameters() if p.numel() > 0]
    tensors.append(("grad.input.sample", sample.grad))
    if cond is not None:
        tensors.append(("grad.input.cond", cond.grad))
    meta = base_metadata(cfg, model)
    meta["variant"] = variant
    full = make_model(FULL_SIZE)
    meta["full_size_config"] = json.dumps(FULL_SIZE, sort_keys=True)
    meta["full_size_parameter_count"] = str(sum(p.numel() for p in full.parameters()))
    return "tfd_%s.safetensors" % variant, safetensors_bytes(tensors, meta)


TRAIN = dict(lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=1e-3, num_train_timesteps=100)
# Adam normalises each element's gradient, so an element whose gradient is tiny next to its tensor's largest gets an
# update decided by rounding noise. Structurally: the key rows of every in_proj_bias have a gradient that is exactly
# zero in exact arithmetic (softmax ignores a constant added to all of a query's scores), ~1e-9 in float32, and so an
# update of any sign up to lr in every implementation. The fixture lists such elements so that the test compares the
# others tightly. Step 1 moves each element by lr * g / (|g| + eps): only a sign flip matters, possible where |g| is
# within rounding error of 0 (ILL_CONDITIONED_STEP1). Step 2 divides m (a mix of g1 and g2) by sqrt(v): an error d in
# the gradients moves it by about lr * d / max(|g1|, |g2|), so elements small in both steps are listed
# (ILL_CONDITIONED_STEP2; a gradient error of 1e-6 of the tensor's max then moves the others by < 1e-4 lr).
ILL_CONDITIONED_STEP1 = 1e-4
ILL_CONDITIONED_STEP2 = 1e-2


def ill_conditioned(threshold, *grads):
    """Flat indices where every one of the given gradients is below threshold times its tensor's largest |value|."""
    small = torch.ones(grads[0].numel(), dtype=torch.bool)
    for g in grads:
        g = g.reshape(-1).abs()
        small &= g < threshold * g.max()
    return torch.nonzero(small).reshape(-1).to(torch.int32)


def train_step_fixture(seed):
    cfg = VARIANTS["a"]
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = make_model(cfg)
    fill_fixture_weights(model, gen)
    model.train()
    _, alphas_cumprod = squaredcos_cap_v2_alphas_cumprod(TRAIN["num_train_timesteps"])
    optimizer = torch.optim.AdamW(model.get_optim_groups(TRAIN["weight_decay"]), lr=TRAIN["lr"], betas=TRAIN["betas"],
                                  eps=TRAIN["eps"])
    names = [n for n, p in model.named_parameters() if p.numel() > 0]
    params = dict(model.named_parameters())

    tensors = state_dict_entries(model) + [("alphas_cumprod", alphas_cumprod)]
    previous_grads = {}
    for step in (1, 2):
        x0 = torch.rand(BATCH, cfg["horizon"], cfg["input_dim"], generator=gen) * 2 - 1   # normalised actions
        cond = torch.rand(BATCH, cfg["n_obs_steps"], cfg["cond_dim"], generator=gen) * 2 - 1
        noise = torch.randn(x0.shape, generator=gen)
        timesteps = torch.randint(0, TRAIN["num_train_timesteps"], (BATCH,), generator=gen)
        noisy = add_noise(x0, noise, timesteps, alphas_cumprod)
        optimizer.zero_grad()
        pred = model(noisy, timesteps, cond)  # DP passes the int64 steps; the embedding multiplies them as floats
        loss = F.mse_loss(pred, noise)
        loss.backward()
        # step 1: g1 alone decides; step 2: m and v mix g1 and g2, so only elements small in both are noise
        ill = OrderedDict()
        for n in names:
            if step == 1:
                idx = ill_conditioned(ILL_CONDITIONED_STEP1, params[n].grad)
            else:
                idx = ill_conditioned(ILL_CONDITIONED_STEP2, params[n].grad, previous_grads[n])
            if idx.numel() > 0:
                ill["step%d.ill_conditioned.%s%s" % (step, PREFIX, n)] = idx
            previous_grads[n] = params[n].grad.clone()
        optimizer.step()
        tensors += [("step%d.x0" % step, x0), ("step%d.cond" % step, cond), ("step%d.noise" % step, noise),
                    ("step%d.timesteps" % step, timesteps), ("step%d.loss" % step, loss.detach().reshape(()))]
        tensors += [("step%d.%s%s" % (step, PREFIX, n), params[n].detach().clone()) for n in names]
        tensors += list(ill.items())
    meta = base_metadata(cfg, model)
    meta["train"] = json.dumps(dict(TRAIN, beta_schedule="squaredcos_cap_v2", prediction_type="epsilon",
                                    optimizer="torch.optim.AdamW with DP's get_optim_groups",
                                    ill_conditioned_step1=ILL_CONDITIONED_STEP1,
                                    ill_conditioned_step2=ILL_CONDITIONED_STEP2), sort_keys=True)
    return "tfd_train_step.safetensors", safetensors_bytes(tensors, meta)


def all_fixtures():
    torch.set_num_threads(1)  # one thread: reductions in a fixed order, the same bytes on every run
    files = [forward_fixture(v, cfg, seed=1000 + i) for i, (v, cfg) in enumerate(VARIANTS.items())]
    files.append(train_step_fixture(seed=2000))
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the files on disk instead of writing")
    ap.add_argument("--out", default=FIXTURE_DIR)
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
        print("%-28s %7d bytes" % (name, len(data)))
    full = make_model(FULL_SIZE)
    print("total %d bytes; full-size DP-T low-dim (H 16, To 2, Da 2, cond_dim 66, 8x4x256) parameters: %d"
          % (total, sum(p.numel() for p in full.parameters())))
    if args.check:
        if differ:
            print("differ from the files on disk:", ", ".join(differ))
            sys.exit(1)
        print("all fixtures regenerate bit-identically")


if __name__ == "__main__":
    main()
