#!/usr/bin/env python3
"""The PyTorch side of cotrain's image policy benchmark (issue 6): the training step of Diffusion Policy's push-T
image transformer policy on the same model definition as the parity fixture (hybrid_image_policy.py beside this file).

Model: DP's train_diffusion_transformer_hybrid_workspace with task pusht_image (cotrain's preset
pusht_image_transformer): one 96x96 camera cropped to 84x84 (ResNet18 with GroupNorm, spatial softmax, Linear(64, 64)),
agent_pos (2), horizon 10, n_obs_steps 2, action_dim 2, cond_dim 66, n_layer 8, n_head 4, n_emb 256, p_drop_emb 0.0,
p_drop_attn 0.3, causal_attn, MLP condition encoder; DDPM squaredcos_cap_v2 with 100 training steps, epsilon
prediction; AdamW lr 1e-4, betas (0.9, 0.95), DP's get_optimizer groups (transformer_weight_decay 1e-3,
obs_encoder_weight_decay 1e-6). DP's initialisation (torchvision's for the trunk, torch's defaults for the keypoint
convolution and the Linear, _init_weights for the denoiser).

  train   one training step at --batch (default 64) as DP's compute_loss does it: the uint8 frames of a fixed batch
          (B, To, 96, 96, 3) -> float / 255, a random 84x84 crop per frame (robomimic's CropRandomizer), to [-1, 1],
          the encoder, the condition (B, To, 66), noise, random timesteps, add_noise, the denoiser (training mode:
          dropout on), MSE on the noise, backward, AdamW step. Warm-up, then the median of --steps steps. With
          --profile, as many more steps under torch.autograd.profiler, and the share of the self CPU time of each op
          family (conv, norm, max pool, transformer GEMMs + attention, optimizer, other), by op name.

Prints one JSON line. Run with Debian's python3-torch, on the same threads and BLAS as cotrain:
    /usr/bin/python3 tools/pytorch/bench_dp_image.py --threads 2 \\
        --openblas target/openblas/org/bytedeco/openblas/linux-x86_64/libopenblas.so.0
(see bench_dp_lowdim.py for --openblas: it makes torch's BLAS calls (the Linear layers) use the engine's OpenBLAS;
torch's convolutions run on oneDNN (mkldnn) whatever the BLAS.) The environment's OPENBLAS_CORETYPE applies to that
OpenBLAS as to cotrain's. --blas-threads 1 keeps OpenBLAS single-threaded inside torch's two OpenMP threads: on the
2-core machine of benchmarks/RESULTS.md, two OpenBLAS threads next to torch's pool made each of the denoiser's small
GEMMs take ~16 ms instead of ~0.3 ms (batch 8), so the fair PyTorch figure is the faster of the two settings.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import resnet18_gn_encoder as enc  # noqa: E402
from bench_dp_lowdim import loaded_blas, use_openblas  # noqa: E402
from hybrid_image_policy import HybridImagePolicy  # noqa: E402
from transformer_for_diffusion import add_noise, squaredcos_cap_v2_alphas_cumprod  # noqa: E402

PUSHT_IMAGE = dict(input_dim=2, output_dim=2, horizon=10, n_obs_steps=2, cond_dim=enc.FEATURES + 2, n_layer=8,
                   n_head=4, n_emb=256, p_drop_emb=0.0, p_drop_attn=0.3, causal_attn=True, time_as_cond=True,
                   obs_as_cond=True, n_cond_layers=0)
OPTIMIZER = dict(lr=1e-4, betas=(0.9, 0.95), transformer_weight_decay=1e-3, obs_encoder_weight_decay=1e-6)
NUM_TRAIN_TIMESTEPS = 100


def family(name):
    """The op family of an aten / profiler event name."""
    n = name.lower()
    if "optimizer.step" in n or "adamw" in n or "_foreach" in n:
        return "optimizer"
    if "conv" in n:
        return "conv"
    if "group_norm" in n or "layer_norm" in n or "batch_norm" in n:
        return "norm"
    if "max_pool" in n:
        return "max pool"
    if any(k in n for k in ("addmm", "aten::mm", "aten::bmm", "baddbmm", "matmul", "linear", "softmax",
                            "scaled_dot_product", "multi_head_attention")):
        return "transformer GEMMs + attention"
    return "other"


def step(policy, optimizer, frames, obs, action, alphas_cumprod, generator):
    b, to = frames.shape[:2]
    h, w = frames.shape[2:4]
    ch, cw = enc.CROP
    x = frames.reshape(b * to, h, w, 3).permute(0, 3, 1, 2).float() / 255.0
    tops = torch.randint(0, h - ch + 1, (b * to,), generator=generator).tolist()
    lefts = torch.randint(0, w - cw + 1, (b * to,), generator=generator).tolist()
    x = torch.stack([x[i, :, t:t + ch, l:l + cw] for i, (t, l) in enumerate(zip(tops, lefts))]) * 2.0 - 1.0
    features = policy.obs_encoder(x)
    cond = torch.cat([features.reshape(b, to, -1), obs], dim=-1)
    noise = torch.randn(action.shape, generator=generator)
    timesteps = torch.randint(0, NUM_TRAIN_TIMESTEPS, (b,), generator=generator)
    noisy = add_noise(action, noise, timesteps, alphas_cumprod)
    pred = policy.model(noisy, timesteps, cond)
    loss = F.mse_loss(pred, noise)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    if not torch.isfinite(loss):
        raise RuntimeError("non-finite loss")


def main():
    ap = argparse.ArgumentParser(description="PyTorch DP-T image policy training step (one JSON line)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--batch", type=int, default=64, help="training batch (default 64)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps first (default 1)")
    ap.add_argument("--steps", type=int, default=3, help="timed steps (default 3)")
    ap.add_argument("--profile", action="store_true", help="the share of each op family, over --steps more steps")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--openblas", metavar="LIB", help="run torch's BLAS calls on this libopenblas.so")
    ap.add_argument("--blas-threads", type=int, default=None,
                    help="--openblas: OPENBLAS_NUM_THREADS (default --threads; 1 can be faster, see the docstring)")
    args = ap.parse_args()
    if args.openblas:
        use_openblas(args.openblas, args.blas_threads if args.blas_threads is not None else args.threads)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    policy = HybridImagePolicy(PUSHT_IMAGE)
    policy.train()
    groups = policy.model.get_optim_groups(weight_decay=OPTIMIZER["transformer_weight_decay"])
    groups.append({"params": list(policy.obs_encoder.parameters()),
                   "weight_decay": OPTIMIZER["obs_encoder_weight_decay"]})
    optimizer = torch.optim.AdamW(groups, lr=OPTIMIZER["lr"], betas=OPTIMIZER["betas"])
    _, alphas_cumprod = squaredcos_cap_v2_alphas_cumprod(NUM_TRAIN_TIMESTEPS)
    b, to = args.batch, PUSHT_IMAGE["n_obs_steps"]
    # one fixed batch of uint8 frames and normalised low-dim data: the data pipeline is not what is measured
    frames = torch.from_numpy(np.random.default_rng(args.seed).integers(0, 256, (b, to, enc.IMAGE[0], enc.IMAGE[1], 3),
                                                                        dtype=np.uint8))
    obs = torch.rand(b, to, 2, generator=generator) * 2 - 1
    action = torch.rand(b, PUSHT_IMAGE["horizon"], 2, generator=generator) * 2 - 1
    times = []
    for i in range(args.warmup + args.steps):
        start = time.perf_counter()
        step(policy, optimizer, frames, obs, action, alphas_cumprod, generator)
        if i >= args.warmup:
            times.append(time.perf_counter() - start)
    ms = statistics.median(times) * 1e3
    params = sum(p.numel() for n, p in policy.named_parameters() if p.requires_grad)
    out = dict(bench="train", impl="pytorch", ms_per_step=round(ms, 3), samples_per_s=round(b / ms * 1e3, 1),
               min_ms=round(min(times) * 1e3, 3), batch=b, n_obs_steps=to, cameras=["image 96x96 crop 84x84"],
               threads=torch.get_num_threads(), params=params, torch=torch.__version__,
               mkldnn=torch.backends.mkldnn.is_available(), blas=loaded_blas(),
               openblas_coretype=os.environ.get("OPENBLAS_CORETYPE", "unset"),
               openblas_threads=os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
               omp_wait_policy=os.environ.get("OMP_WAIT_POLICY", "default"))
    if args.profile:
        with torch.autograd.profiler.profile() as prof:
            start = time.perf_counter()
            for _ in range(args.steps):
                step(policy, optimizer, frames, obs, action, alphas_cumprod, generator)
            total = time.perf_counter() - start
        shares = {}
        self_total = 0.0
        for e in prof.key_averages():
            if e.key.startswith("Optimizer.") or e.key.startswith("Optimizer#"):
                continue  # a record_function range; its ops are counted as themselves
            shares[family(e.key)] = shares.get(family(e.key), 0.0) + e.self_cpu_time_total
            self_total += e.self_cpu_time_total
        # the optimizer's ops (AdamW's per-parameter arithmetic) run inside its range: attribute them by range
        opt = sum(e.cpu_time_total for e in prof.key_averages() if e.key.startswith("Optimizer.step"))
        if opt > 0:
            shares["optimizer"] = opt
            shares["other"] = max(0.0, shares.get("other", 0.0) - opt)
        out["profile"] = {k: round(v / self_total, 4) for k, v in sorted(shares.items())}
        out["profile"]["profiled_ms_per_step"] = round(total / args.steps * 1e3, 3)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
